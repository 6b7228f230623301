// Histogram: a mergeable equal-width histogram of numbers with at most 64 bins, whose
// width is a power of two, 2^exponent, and whose edges are multiples of the width: bin
// i holds the values in [i * 2^exponent, (i + 1) * 2^exponent).
//
// The width starts at 2^min_exponent: 1 for integers (ForIntegers, also dates and
// timestamps), the smallest normal power of two, 2^-1022, for floats. When a value
// falls outside what 64 bins can cover, the width doubles (each pair of bins merges)
// until it fits. Merging brings both histograms to the larger width and doubles again
// if needed. Because the width only grows when the range of the values demands it, the
// final state (width, first bin, counts) depends only on the multiset of values, not
// on their order or on how they were split and merged: merge(A, B) equals the
// histogram of A and B's values exactly. The width is also kept large enough that bin
// indices of huge values stay below 2^61.
//
// Non-finite values (NaN, infinities) are not binned; skipped() counts them. A
// Histogram is a value type; concurrent const use is safe, mutation is not.
#ifndef MLOOP_STATS_HISTOGRAM_H_
#define MLOOP_STATS_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace mloop::stats {

class Histogram {
 public:
  static constexpr size_t kMaxBins = 64;
  static constexpr int kIntegerMinExponent = 0;
  static constexpr int kFloatMinExponent = -1022;
  static constexpr int kMaxExponent = 1023;

  // Throws Error invalid_argument when min_exponent is outside [kFloatMinExponent,
  // kMaxExponent].
  explicit Histogram(int min_exponent = kFloatMinExponent);
  static Histogram ForIntegers() { return Histogram(kIntegerMinExponent); }

  void Add(double x);
  void AddInt(int64_t v);
  // As Add / AddInt for each value, growing the range once per call.
  void AddBlock(std::span<const double> values);
  void AddIntBlock(std::span<const int64_t> values);
  // values[i] counted counts[i] times; the spans must have one size.
  void AddCounts(std::span<const double> values, std::span<const uint64_t> counts);
  void AddIntCounts(std::span<const int64_t> values, std::span<const uint64_t> counts);

  // Throws Error invalid_argument when the min_exponents differ.
  void Merge(const Histogram& other);

  int min_exponent() const { return min_exponent_; }
  int exponent() const { return exponent_; }
  double width() const;
  // Values binned (finite ones).
  uint64_t total() const { return total_; }
  uint64_t skipped() const { return skipped_; }
  bool empty() const { return counts_.empty(); }
  // Index of the first bin: its lower edge is first_index() * width().
  int64_t first_index() const { return first_; }
  // From the first to the last occupied bin; both ends are non-zero when not empty.
  const std::vector<uint64_t>& counts() const { return counts_; }

  struct Bin {
    double lower;  // Inclusive.
    double upper;  // Exclusive.
    uint64_t count;
  };
  // The bins from the first to the last occupied one, empty ones between included.
  // Edges beyond the range of doubles (only at widths near 2^1020) are clamped to the
  // largest finite double.
  std::vector<Bin> Bins() const;

  // {"min_exponent", "exponent", "first", "counts": [...], "skipped"}.
  Json ToJson() const;
  // Throws Error invalid_argument naming `path` and the key for exponents out of range,
  // more than 64 counts, a zero count at either end, or bin indices out of range.
  static Histogram FromJson(const Json& j, std::string_view path = "histogram");

  bool operator==(const Histogram& other) const = default;

 private:
  int64_t last() const { return first_ + static_cast<int64_t>(counts_.size()) - 1; }
  // Grows the width and the range so that bins [lo, hi] at exponent `e` (and the
  // current bins) fit: the width of the result is the smallest that holds them.
  void CoverIndices(int e, int64_t lo, int64_t hi);
  void CoverDoubles(double lo, double hi);
  void CoverInts(int64_t lo, int64_t hi);
  // Coarsens to `exponent` (>= exponent_), merging bins.
  void Rebin(int exponent);

  int min_exponent_;
  int exponent_;
  int64_t first_ = 0;
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  uint64_t skipped_ = 0;
};

}  // namespace mloop::stats

#endif  // MLOOP_STATS_HISTOGRAM_H_
