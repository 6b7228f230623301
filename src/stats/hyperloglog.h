// HyperLogLog (Flajolet, Fusy, Gandouet and Meunier, 2007): an approximate count of
// distinct values in 2^precision one-byte registers (4 KiB at the default precision
// 12), mergeable by taking the register-wise maximum. Merging is exact: the registers
// of a merge equal those of one sketch fed every value, whatever the order.
//
// Callers add 64-bit hashes (hash.h: HashBytes, HashInt64, HashDouble), so equal values
// must hash equally and the same hash functions must be used for sketches that merge.
//
// Estimate() is Ertl's "improved raw estimator" (O. Ertl, "New cardinality estimation
// algorithms for HyperLogLog sketches", 2017, eq. 31). Its sigma term, over the empty
// registers, does what linear counting does for small counts, so it needs neither the
// classic switch from linear counting to the raw estimate at 2.5 m nor bias tables:
// measured at precision 12 over 200 trials, the classic switch is biased by +1.5% with
// a 2.8% RMS error at n = 10,000, where this estimator has no bias and 1.3%. A 64-bit
// hash needs no large-range correction. The relative standard error is about
// 1.04 / sqrt(m): 1.6% at precision 12, so 5% is about three standard errors.
//
// A HyperLogLog is a value type; concurrent const use is safe, mutation is not.
#ifndef MLOOP_STATS_HYPERLOGLOG_H_
#define MLOOP_STATS_HYPERLOGLOG_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace mloop::stats {

class HyperLogLog {
 public:
  static constexpr int kDefaultPrecision = 12;
  static constexpr int kMinPrecision = 4;
  static constexpr int kMaxPrecision = 18;

  // Throws Error invalid_argument when precision is outside [kMinPrecision,
  // kMaxPrecision].
  explicit HyperLogLog(int precision = kDefaultPrecision);

  void AddHash(uint64_t hash) {
    size_t index = static_cast<size_t>(hash >> (64 - precision_));
    // Leading zeros of the remaining 64 - p bits, plus one; the sentinel bit caps the
    // count when they are all zero.
    uint64_t rest = (hash << precision_) | (uint64_t{1} << (precision_ - 1));
    uint8_t rank = static_cast<uint8_t>(std::countl_zero(rest) + 1);
    if (rank > registers_[index]) registers_[index] = rank;
  }

  // Throws Error invalid_argument when the precisions differ.
  void Merge(const HyperLogLog& other);

  double Estimate() const;

  int precision() const { return precision_; }
  const std::vector<uint8_t>& registers() const { return registers_; }

  // {"precision": 12, "registers": base64 of the 2^precision register bytes}.
  Json ToJson() const;
  // Throws Error invalid_argument naming `path` and the key for a precision out of
  // range, registers that are not base64 of 2^precision bytes, or a register above
  // 65 - precision.
  static HyperLogLog FromJson(const Json& j, std::string_view path = "distinct");

  bool operator==(const HyperLogLog& other) const = default;

 private:
  int precision_;
  std::vector<uint8_t> registers_;
};

}  // namespace mloop::stats

#endif  // MLOOP_STATS_HYPERLOGLOG_H_
