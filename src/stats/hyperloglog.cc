#include "stats/hyperloglog.h"

#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"
#include "stats/internal/base64.h"
#include "stats/internal/json_fields.h"

namespace mloop::stats {

HyperLogLog::HyperLogLog(int precision) : precision_(precision) {
  if (precision < kMinPrecision || precision > kMaxPrecision) {
    ThrowInvalidArgument("hyperloglog: precision must be from " + std::to_string(kMinPrecision) +
                         " to " + std::to_string(kMaxPrecision) + ", not " +
                         std::to_string(precision));
  }
  registers_.assign(size_t{1} << precision, 0);
}

void HyperLogLog::Merge(const HyperLogLog& other) {
  if (other.precision_ != precision_) {
    ThrowInvalidArgument("cannot merge hyperloglogs of precision " + std::to_string(precision_) +
                         " and " + std::to_string(other.precision_));
  }
  for (size_t i = 0; i < registers_.size(); ++i) {
    if (other.registers_[i] > registers_[i]) registers_[i] = other.registers_[i];
  }
}

namespace {

// sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1), for the registers still empty.
double Sigma(double x) {
  if (x == 1) return std::numeric_limits<double>::infinity();
  double y = 1;
  double z = x;
  double previous;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (z != previous);
  return z;
}

// tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3, for the saturated registers.
double Tau(double x) {
  if (x == 0 || x == 1) return 0;
  double y = 1;
  double z = 1 - x;
  double previous;
  do {
    x = std::sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
  } while (z != previous);
  return z / 3;
}

}  // namespace

double HyperLogLog::Estimate() const {
  const int q = 64 - precision_;
  const double m = static_cast<double>(registers_.size());
  // How many registers hold each value 0 .. q + 1.
  std::vector<uint64_t> histogram(static_cast<size_t>(q) + 2);
  for (uint8_t r : registers_) ++histogram[r];
  double z = m * Tau(1 - static_cast<double>(histogram[q + 1]) / m);
  for (int k = q; k >= 1; --k) {
    z += static_cast<double>(histogram[k]);
    z *= 0.5;
  }
  z += m * Sigma(static_cast<double>(histogram[0]) / m);
  return m * m / (2 * std::log(2.0) * z);
}

Json HyperLogLog::ToJson() const {
  Json j = Json::object();
  j["precision"] = precision_;
  j["registers"] = internal::Base64Encode(registers_.data(), registers_.size());
  return j;
}

HyperLogLog HyperLogLog::FromJson(const Json& j, std::string_view path) {
  using internal::KeyPath;
  uint64_t precision = internal::GetUint(j, path, "precision");
  if (precision < kMinPrecision || precision > kMaxPrecision) {
    internal::ThrowBadKey(
        KeyPath(path, "precision"),
        "must be from " + std::to_string(kMinPrecision) + " to " + std::to_string(kMaxPrecision));
  }
  HyperLogLog h(static_cast<int>(precision));
  std::optional<std::vector<uint8_t>> registers =
      internal::Base64Decode(internal::GetString(j, path, "registers"));
  if (!registers || registers->size() != h.registers_.size()) {
    internal::ThrowBadKey(KeyPath(path, "registers"),
                          "must be base64 of " + std::to_string(h.registers_.size()) + " bytes");
  }
  for (uint8_t r : *registers) {
    if (r > 65 - precision) {
      internal::ThrowBadKey(KeyPath(path, "registers"), "hold a register out of range");
    }
  }
  h.registers_ = std::move(*registers);
  return h;
}

}  // namespace mloop::stats
