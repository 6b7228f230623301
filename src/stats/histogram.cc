#include "stats/histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"
#include "stats/internal/json_fields.h"

namespace mloop::stats {
namespace {

// floor(v / 2^shift) for shift >= 0; an int64 shifted by 63 is already 0 or -1.
int64_t ShiftDown(int64_t v, int shift) { return v >> std::min(shift, 63); }

// floor(x * scale), scale = 2^-e, for a finite x with |x * scale| < 2^61. The product is
// exact unless it falls below the normal range, where only its sign matters, except
// that it can underflow to -0.0 when the true floor is -1.
int64_t FloorIndex(double x, double scale) {
  double scaled = x * scale;
  auto index = static_cast<int64_t>(std::floor(scaled));
  if (index == 0 && x < 0 && scaled == 0) index = -1;
  return index;
}

double Scale(int exponent) { return std::ldexp(1.0, -exponent); }

double Edge(int64_t index, int exponent) {
  double edge = std::ldexp(static_cast<double>(index), exponent);
  constexpr double kMax = std::numeric_limits<double>::max();
  return std::clamp(edge, -kMax, kMax);
}

}  // namespace

Histogram::Histogram(int min_exponent) : min_exponent_(min_exponent), exponent_(min_exponent) {
  if (min_exponent < kFloatMinExponent || min_exponent > kMaxExponent) {
    ThrowInvalidArgument("histogram: min_exponent must be from " +
                         std::to_string(kFloatMinExponent) + " to " + std::to_string(kMaxExponent) +
                         ", not " + std::to_string(min_exponent));
  }
}

double Histogram::width() const { return std::ldexp(1.0, exponent_); }

void Histogram::Rebin(int exponent) {
  if (exponent == exponent_) return;
  int shift = exponent - exponent_;
  exponent_ = exponent;
  if (counts_.empty()) return;
  int64_t first = ShiftDown(first_, shift);
  std::vector<uint64_t> counts(static_cast<size_t>(ShiftDown(last(), shift) - first + 1));
  for (size_t j = 0; j < counts_.size(); ++j) {
    counts[static_cast<size_t>(ShiftDown(first_ + static_cast<int64_t>(j), shift) - first)] +=
        counts_[j];
  }
  first_ = first;
  counts_ = std::move(counts);
}

void Histogram::CoverIndices(int e, int64_t lo, int64_t hi) {
  for (;;) {
    int64_t a = lo;
    int64_t b = hi;
    if (!counts_.empty()) {
      a = std::min(a, ShiftDown(first_, e - exponent_));
      b = std::max(b, ShiftDown(last(), e - exponent_));
    }
    if (b - a < static_cast<int64_t>(kMaxBins)) {
      if (counts_.empty()) {
        exponent_ = e;
        first_ = a;
        counts_.assign(static_cast<size_t>(b - a + 1), 0);
        return;
      }
      Rebin(e);
      if (a < first_ || b > last()) {
        std::vector<uint64_t> counts(static_cast<size_t>(b - a + 1));
        std::copy(counts_.begin(), counts_.end(), counts.begin() + (first_ - a));
        counts_ = std::move(counts);
        first_ = a;
      }
      return;
    }
    // floor(floor(x / 2^e) / 2) == floor(x / 2^(e+1)).
    ++e;
    lo = ShiftDown(lo, 1);
    hi = ShiftDown(hi, 1);
  }
}

void Histogram::CoverDoubles(double lo, double hi) {
  int e = counts_.empty() ? min_exponent_ : exponent_;
  double magnitude = std::max(std::fabs(lo), std::fabs(hi));
  // Keep |x| / 2^e below 2^61 so that indices fit an int64 with room to spare.
  if (magnitude > 0) e = std::max(e, std::ilogb(magnitude) - 60);
  double scale = Scale(e);
  CoverIndices(e, FloorIndex(lo, scale), FloorIndex(hi, scale));
}

void Histogram::CoverInts(int64_t lo, int64_t hi) {
  int e = counts_.empty() ? min_exponent_ : exponent_;
  CoverIndices(e, ShiftDown(lo, e), ShiftDown(hi, e));
}

void Histogram::Add(double x) { AddBlock(std::span<const double>(&x, 1)); }

void Histogram::AddInt(int64_t v) { AddIntBlock(std::span<const int64_t>(&v, 1)); }

void Histogram::AddBlock(std::span<const double> values) {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -lo;
  size_t finite = 0;
  for (double x : values) {
    if (!std::isfinite(x)) continue;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    ++finite;
  }
  skipped_ += values.size() - finite;
  if (finite == 0) return;
  CoverDoubles(lo, hi);
  double scale = Scale(exponent_);
  uint64_t* counts = counts_.data();
  for (double x : values) {
    if (std::isfinite(x)) ++counts[FloorIndex(x, scale) - first_];
  }
  total_ += finite;
}

void Histogram::AddIntBlock(std::span<const int64_t> values) {
  if (values.empty()) return;
  if (min_exponent_ < 0) {
    // Bins narrower than 1: the float path, on the values as doubles.
    std::vector<double> doubles(values.begin(), values.end());
    AddBlock(doubles);
    return;
  }
  // std::min and std::max compile to conditional moves; minmax_element's branches are
  // mispredicted on values in no order.
  int64_t lo = values[0];
  int64_t hi = values[0];
  for (int64_t v : values) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  CoverInts(lo, hi);
  int shift = std::min(exponent_, 63);
  uint64_t* counts = counts_.data();
  for (int64_t v : values) ++counts[(v >> shift) - first_];
  total_ += values.size();
}

void Histogram::AddCounts(std::span<const double> values, std::span<const uint64_t> counts) {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -lo;
  uint64_t finite = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      skipped_ += counts[i];
      continue;
    }
    if (counts[i] == 0) continue;
    lo = std::min(lo, values[i]);
    hi = std::max(hi, values[i]);
    finite += counts[i];
  }
  if (finite == 0) return;
  CoverDoubles(lo, hi);
  double scale = Scale(exponent_);
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isfinite(values[i])) counts_[FloorIndex(values[i], scale) - first_] += counts[i];
  }
  total_ += finite;
}

void Histogram::AddIntCounts(std::span<const int64_t> values, std::span<const uint64_t> counts) {
  if (min_exponent_ < 0) {
    std::vector<double> doubles(values.begin(), values.end());
    AddCounts(doubles, counts);
    return;
  }
  int64_t lo = std::numeric_limits<int64_t>::max();
  int64_t hi = std::numeric_limits<int64_t>::min();
  uint64_t total = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (counts[i] == 0) continue;
    lo = std::min(lo, values[i]);
    hi = std::max(hi, values[i]);
    total += counts[i];
  }
  if (total == 0) return;
  CoverInts(lo, hi);
  int shift = std::min(exponent_, 63);
  for (size_t i = 0; i < values.size(); ++i) {
    counts_[static_cast<size_t>((values[i] >> shift) - first_)] += counts[i];
  }
  total_ += total;
}

void Histogram::Merge(const Histogram& other) {
  if (other.min_exponent_ != min_exponent_) {
    ThrowInvalidArgument("cannot merge histograms with different starting widths (2^" +
                         std::to_string(min_exponent_) + " and 2^" +
                         std::to_string(other.min_exponent_) + ")");
  }
  skipped_ += other.skipped_;
  if (other.counts_.empty()) return;
  if (counts_.empty()) {
    exponent_ = other.exponent_;
    first_ = other.first_;
    counts_ = other.counts_;
    total_ = other.total_;
    return;
  }
  Histogram theirs = other;
  int e = std::max(exponent_, other.exponent_);
  theirs.Rebin(e);
  CoverIndices(e, theirs.first_, theirs.last());
  theirs.Rebin(exponent_);
  for (size_t j = 0; j < theirs.counts_.size(); ++j) {
    counts_[static_cast<size_t>(theirs.first_ - first_) + j] += theirs.counts_[j];
  }
  total_ += theirs.total_;
}

std::vector<Histogram::Bin> Histogram::Bins() const {
  std::vector<Bin> bins;
  bins.reserve(counts_.size());
  for (size_t j = 0; j < counts_.size(); ++j) {
    int64_t index = first_ + static_cast<int64_t>(j);
    bins.push_back(Bin{Edge(index, exponent_), Edge(index + 1, exponent_), counts_[j]});
  }
  return bins;
}

Json Histogram::ToJson() const {
  Json j = Json::object();
  j["min_exponent"] = min_exponent_;
  j["exponent"] = exponent_;
  j["first"] = first_;
  j["counts"] = counts_;
  j["skipped"] = skipped_;
  return j;
}

Histogram Histogram::FromJson(const Json& j, std::string_view path) {
  using internal::KeyPath;
  using internal::ThrowBadKey;
  int64_t min_exponent = internal::GetInt(j, path, "min_exponent");
  if (min_exponent < kFloatMinExponent || min_exponent > kMaxExponent) {
    ThrowBadKey(KeyPath(path, "min_exponent"), "must be from " + std::to_string(kFloatMinExponent) +
                                                   " to " + std::to_string(kMaxExponent));
  }
  Histogram h(static_cast<int>(min_exponent));
  int64_t exponent = internal::GetInt(j, path, "exponent");
  if (exponent < min_exponent || exponent > kMaxExponent) {
    ThrowBadKey(KeyPath(path, "exponent"),
                "must be from min_exponent to " + std::to_string(kMaxExponent));
  }
  h.exponent_ = static_cast<int>(exponent);
  h.first_ = internal::GetInt(j, path, "first");
  h.skipped_ = internal::GetUint(j, path, "skipped");
  std::string counts_path = KeyPath(path, "counts");
  const Json& counts = internal::GetArray(j, path, "counts");
  if (counts.size() > kMaxBins) ThrowBadKey(counts_path, "must hold at most 64 bins");
  for (size_t i = 0; i < counts.size(); ++i) {
    h.counts_.push_back(
        internal::ElementUint(counts[i], counts_path + "[" + std::to_string(i) + "]"));
    h.total_ += h.counts_.back();
  }
  if (h.counts_.empty()) {
    if (h.first_ != 0 || h.exponent_ != h.min_exponent_) {
      ThrowBadKey(path, "is empty but has a first bin or a grown width");
    }
    return h;
  }
  if (h.counts_.front() == 0 || h.counts_.back() == 0) {
    ThrowBadKey(counts_path, "must start and end with an occupied bin");
  }
  constexpr int64_t kLimit = std::numeric_limits<int64_t>::max() - 64;
  if (h.first_ < -kLimit || h.first_ > kLimit) {
    ThrowBadKey(KeyPath(path, "first"), "is out of range");
  }
  return h;
}

}  // namespace mloop::stats
