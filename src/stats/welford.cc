#include "stats/welford.h"

#include <algorithm>
#include <cmath>

#include "stats/internal/json_fields.h"

namespace mloop::stats {

void Welford::MergeShifted(uint64_t n, double shift, double shifted_mean, double m2) {
  if (n == 0) return;
  if (count_ == 0) {
    count_ = n;
    mean_ = shift;
    mean_low_ = 0;
    AddToMean(shifted_mean);
    m2_ = m2;
    return;
  }
  double na = static_cast<double>(count_);
  double nb = static_cast<double>(n);
  double total = na + nb;
  // The difference of the means, without rounding either mean to one double first.
  double delta = ((shift - mean_) + shifted_mean) - mean_low_;
  AddToMean(delta * (nb / total));
  m2_ += m2 + delta * delta * (na * nb / total);
  count_ += n;
}

void Welford::AddBlock(const double* values, size_t n) {
  if (n == 0) return;
  // Deviations from a value close to the data (the running mean, or the first value)
  // are small and nearly exact, so the block's mean and M2 keep their digits.
  const double shift = count_ > 0 ? mean_ : values[0];
  double sum = 0;
  double lo = values[0];
  double hi = values[0];
  for (size_t i = 0; i < n; ++i) {
    sum += values[i] - shift;
    lo = std::min(lo, values[i]);
    hi = std::max(hi, values[i]);
    sum_.Add(values[i]);
  }
  const double shifted_mean = sum / static_cast<double>(n);
  double m2 = 0;
  for (size_t i = 0; i < n; ++i) {
    double d = (values[i] - shift) - shifted_mean;
    m2 += d * d;
  }
  min_ = std::min(min_, lo);
  max_ = std::max(max_, hi);
  MergeShifted(n, shift, shifted_mean, m2);
}

void Welford::AddIntBlock(const int64_t* values, size_t n) {
  if (n == 0) return;
  const double shift = count_ > 0 ? mean_ : static_cast<double>(values[0]);
  __int128 exact = 0;
  double sum = 0;
  int64_t lo = values[0];
  int64_t hi = values[0];
  for (size_t i = 0; i < n; ++i) {
    exact += values[i];
    sum += static_cast<double>(values[i]) - shift;
    lo = std::min(lo, values[i]);
    hi = std::max(hi, values[i]);
  }
  sum_.AddInt128(exact);
  const double shifted_mean = sum / static_cast<double>(n);
  double m2 = 0;
  for (size_t i = 0; i < n; ++i) {
    double d = (static_cast<double>(values[i]) - shift) - shifted_mean;
    m2 += d * d;
  }
  min_ = std::min(min_, static_cast<double>(lo));
  max_ = std::max(max_, static_cast<double>(hi));
  MergeShifted(n, shift, shifted_mean, m2);
}

void Welford::AddCounts(const double* values, const uint64_t* counts, size_t n) {
  if (n == 0) return;
  const double shift = count_ > 0 ? mean_ : values[0];
  uint64_t total = 0;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    total += counts[i];
    sum += static_cast<double>(counts[i]) * (values[i] - shift);
    min_ = std::min(min_, values[i]);
    max_ = std::max(max_, values[i]);
    sum_.Add(values[i], counts[i]);
  }
  if (total == 0) return;
  const double shifted_mean = sum / static_cast<double>(total);
  double m2 = 0;
  for (size_t i = 0; i < n; ++i) {
    double d = (values[i] - shift) - shifted_mean;
    m2 += static_cast<double>(counts[i]) * d * d;
  }
  MergeShifted(total, shift, shifted_mean, m2);
}

void Welford::AddIntCounts(const int64_t* values, const uint64_t* counts, size_t n) {
  if (n == 0) return;
  const double shift = count_ > 0 ? mean_ : static_cast<double>(values[0]);
  uint64_t total = 0;
  __int128 exact = 0;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    total += counts[i];
    exact += static_cast<__int128>(values[i]) * static_cast<__int128>(counts[i]);
    sum += static_cast<double>(counts[i]) * (static_cast<double>(values[i]) - shift);
    min_ = std::min(min_, static_cast<double>(values[i]));
    max_ = std::max(max_, static_cast<double>(values[i]));
  }
  if (total == 0) return;
  sum_.AddInt128(exact);
  const double shifted_mean = sum / static_cast<double>(total);
  double m2 = 0;
  for (size_t i = 0; i < n; ++i) {
    double d = (static_cast<double>(values[i]) - shift) - shifted_mean;
    m2 += static_cast<double>(counts[i]) * d * d;
  }
  MergeShifted(total, shift, shifted_mean, m2);
}

void Welford::Merge(const Welford& other) {
  MergeShifted(other.count_, other.mean_, other.mean_low_, other.m2_);
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_.Merge(other.sum_);
}

double Welford::population_variance() const {
  return empty() ? kNaN : m2_ / static_cast<double>(count_);
}

double Welford::sample_variance() const {
  return count_ < 2 ? kNaN : m2_ / static_cast<double>(count_ - 1);
}

double Welford::population_std() const { return std::sqrt(population_variance()); }

double Welford::sample_std() const { return std::sqrt(sample_variance()); }

Json Welford::ToJson() const {
  Json j = Json::object();
  j["count"] = count_;
  j["mean"] = mean_;
  j["mean_low"] = mean_low_;
  j["m2"] = m2_;
  j["min"] = empty() ? Json(nullptr) : Json(min_);
  j["max"] = empty() ? Json(nullptr) : Json(max_);
  j["sum"] = sum_.ToString();
  return j;
}

Welford Welford::FromJson(const Json& j, std::string_view path) {
  using internal::GetDouble;
  using internal::KeyPath;
  using internal::ThrowBadKey;
  Welford w;
  w.count_ = internal::GetUint(j, path, "count");
  w.mean_ = GetDouble(j, path, "mean");
  w.mean_low_ = GetDouble(j, path, "mean_low");
  w.m2_ = GetDouble(j, path, "m2");
  if (w.m2_ < 0) ThrowBadKey(KeyPath(path, "m2"), "must not be negative");
  std::string sum = internal::GetString(j, path, "sum");
  std::optional<ExactSum> exact = ExactSum::FromString(sum);
  if (!exact) ThrowBadKey(KeyPath(path, "sum"), "must be a hexadecimal float such as 0x1p+0");
  w.sum_ = *exact;
  if (w.count_ == 0) {
    if (!internal::Field(j, path, "min").is_null() || !internal::Field(j, path, "max").is_null() ||
        w.mean_ != 0 || w.mean_low_ != 0 || w.m2_ != 0 || !w.sum_.IsZero()) {
      ThrowBadKey(path, "has statistics but a count of 0");
    }
    return w;
  }
  w.min_ = GetDouble(j, path, "min");
  w.max_ = GetDouble(j, path, "max");
  if (w.min_ > w.max_) ThrowBadKey(KeyPath(path, "min"), "must not exceed max");
  return w;
}

}  // namespace mloop::stats
