// QuantileSketch: a KLL sketch (Karnin, Lang and Liberty, "Optimal Quantile
// Approximation in Streams", 2016) of a stream of doubles, answering approximate
// quantile and rank queries in O(k) memory, and mergeable across partitions.
//
// The sketch keeps items in levels; an item at level h stands for 2^h input values.
// When the sketch is full, the lowest level at its capacity is sorted and halved: every
// other item, starting at a random offset, moves up a level. Level capacities shrink
// by a factor 2/3 per level below the top (never below 8), and compaction is lazy (only
// when the whole sketch is full), the variant Apache DataSketches implements. The
// sketch holds at most about 3k items (600 at the default k = 200) however long the
// stream.
//
// Once the sketch has more than kCompactorLevels levels, the lowest ones are replaced
// by a sampler, as the KLL paper proposes: of each group of 2^s incoming values one,
// chosen uniformly (reservoir sampling), enters level s. Those bottom levels hold
// little weight, but compacting them meant sorting a handful of items every few
// values; sampling makes an update a counter increment for most values. The sampler
// adds a rank error with a standard deviation of about sqrt(n 2^s) / 2 / n, a small
// fraction of what the top levels already contribute.
//
// Error bound: the normalized rank error, NormalizedRankError(k), is the one Apache
// DataSketches states for this algorithm with 99% confidence: 2.446 / k^0.9433, which
// is 1.65% at k = 200. For any x, |Rank(x) - true rank of x| <= that, and the value
// Quantile(q) returns has a true rank within that of q. Min, max and n are exact. A
// sketch that has never compacted (n at most k) answers exactly.
//
// Determinism: the coin flips come from a generator with a fixed seed, stored in the
// sketch, so the same values in the same order give the same sketch (and the same
// serialized text), and merging the same sketches in the same order gives the same
// result.
//
// Non-finite values (NaN, infinities) are ignored: callers count them separately. A
// QuantileSketch is a value type; concurrent const use is safe, mutation is not.
#ifndef MLOOP_STATS_QUANTILE_SKETCH_H_
#define MLOOP_STATS_QUANTILE_SKETCH_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"

namespace mloop::stats {

class QuantileSketch {
 public:
  static constexpr uint32_t kDefaultK = 200;
  static constexpr uint32_t kMinK = 8;
  static constexpr uint32_t kMaxK = 65535;
  // Levels kept as compactors before the lowest ones give way to the sampler.
  static constexpr uint32_t kCompactorLevels = 8;

  // Throws Error invalid_argument when k is outside [kMinK, kMaxK].
  explicit QuantileSketch(uint32_t k = kDefaultK);

  void Update(double x);
  void Update(std::span<const double> values);
  // Adds weights[i] copies of values[i] (the spans must have one size). A weight is
  // split into powers of two and each part placed at the level of that weight: an
  // exact representation, so this adds no error and is much cheaper than Update per
  // copy when values repeat.
  void UpdateWeighted(std::span<const double> values, std::span<const uint64_t> weights);

  // Adds `other`'s values. Throws Error invalid_argument when the k differ.
  void Merge(const QuantileSketch& other);

  uint32_t k() const { return k_; }
  // How many values the sketch has seen.
  uint64_t n() const { return n_; }
  bool empty() const { return n_ == 0; }
  // How many items it keeps.
  size_t num_retained() const { return size_; }
  // Exact; NaN when empty.
  double min() const;
  double max() const;

  // The value whose rank is about q: the smallest retained item whose cumulative
  // weight (items <= it) reaches q * n. Quantile(0) is min(), Quantile(1) is max().
  // NaN when empty; throws Error invalid_argument when q is outside [0, 1] or NaN.
  double Quantile(double q) const;
  // Quantile for each q, sharing one sorted view (cheaper than one call each).
  std::vector<double> Quantiles(std::span<const double> qs) const;

  // The estimated fraction of values <= x, in [0, 1]; NaN when empty.
  double Rank(double x) const;
  // The estimated fraction of values <= each split point, for split points in
  // ascending order (a cumulative distribution, for PSI and the like). Throws Error
  // invalid_argument when they are not ascending or one is NaN; NaNs when empty.
  std::vector<double> Cdf(std::span<const double> split_points) const;

  // The stated bound on the normalized rank error, see above.
  static double NormalizedRankError(uint32_t k);

  // {"k", "n", "min", "max", "coin_state", "sample_level", "group_count",
  // "group_item", "group_next", "levels": [[level 0 items], [level 1 items], ...]}:
  // the sampler's state is the current group's size, its sample (null when the group
  // is empty) and the position of the next value that replaces the sample. Doubles are
  // written so that they read back exactly.
  Json ToJson() const;
  // Throws Error invalid_argument naming `path` and the key when `j` is not a sketch
  // ToJson could have written (k out of range, items outside [min, max], a level
  // above 0 not sorted, weights that do not add up to n, more items than fit, a
  // sampler state out of range).
  static QuantileSketch FromJson(const Json& j, std::string_view path = "quantiles");

  // Same k, n, min, max, generator state and items at each level (level 0 compared as
  // stored, so this is equality of state, not of the distributions they estimate).
  bool operator==(const QuantileSketch& other) const;

 private:
  // Items with their weights, sorted by item, with cumulative weights.
  struct SortedView {
    std::vector<double> items;
    std::vector<uint64_t> cumulative;  // Weight of items[0..i].
  };
  SortedView MakeSortedView() const;
  double QuantileFromView(const SortedView& view, double q) const;

  void AddLevel();
  // Adds parts_[h] to level h (weight 2^h each) for h < num_parts, empties them and
  // compresses as needed; n_ is the caller's business. `sorted`: the parts above 0 are sorted
  // already.
  void InsertParts(size_t num_parts, bool sorted);
  void ClearParts(size_t num_parts);
  void UpdateSampled(double x);
  // UpdateSampled on each of values[0, n), all finite, in order (n_, min_ and max_ are the
  // caller's business): a group's values are skipped but for the one that replaces its sample.
  void UpdateSampled(const double* values, size_t n);
  // Draws group_next_, the position in the current group of the next value that replaces the
  // sample, when the sample was just replaced by the group's count-th value.
  void NextReplacement(uint64_t count);
  // Puts the sample of the full current group into its level and starts an empty group.
  void CloseGroup();
  // Merge for an `other` without a partial group.
  void MergeLevels(const QuantileSketch& other);
  // Moves the sampler up while there are more than kCompactorLevels levels above it.
  void MaybeRaiseSampleLevel();
  // Puts the current group's sample into the levels with the group's size as its
  // weight, and starts an empty group.
  void FlushGroup();
  uint64_t NextRandom();
  // Compacts the lowest level at its capacity; called when the sketch is full.
  void Compress();
  void CompactLevel(size_t level);
  bool NextCoin();

  uint32_t k_;
  uint64_t n_ = 0;
  double min_;
  double max_;
  uint64_t rng_;
  // levels_[0] is unsorted; levels above 0 are sorted ascending.
  std::vector<std::vector<double>> levels_;
  std::vector<uint32_t> capacities_;  // Per level, for the current number of levels.
  size_t capacity_ = 0;               // Sum of capacities_.
  size_t size_ = 0;                   // Items retained.
  // Reused by UpdateWeighted and FlushGroup: parts_[h] holds the items going to level h.
  // Empty between calls; not part of the state.
  std::vector<std::vector<double>> parts_;
  // Reused by UpdateWeighted: its values of weight above 1, sorted. Empty between calls.
  std::vector<std::pair<double, uint64_t>> sorted_;
  // The sampler: values enter level sample_level_ and up. The current group has seen
  // group_count_ < 2^sample_level_ values; group_item_ is a uniform sample of them, and
  // the group_next_-th value of the group will replace it.
  uint32_t sample_level_ = 0;
  uint64_t group_count_ = 0;
  double group_item_ = 0;
  uint64_t group_next_ = 1;
};

}  // namespace mloop::stats

#endif  // MLOOP_STATS_QUANTILE_SKETCH_H_
