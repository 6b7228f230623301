// Welford: running count, mean and sum of squared deviations (M2) of a stream of
// finite doubles, from which the variance and standard deviation follow, plus the
// minimum, maximum and exact sum. Two Welfords merge with the parallel formula of Chan,
// Golub and LeVeque (1979), so partitions can be summarised separately and combined.
//
// Count, min, max and sum are exact and do not depend on the order of the values or of
// merges. Mean and M2 are floating point: a different grouping changes their last
// bits (relative differences around 1e-15 in practice). Values are added one at a time
// (Add, Welford's update) or a block at a time (AddBlock/AddIntBlock: a two-pass
// mean and M2 within the block, merged with Chan's formula, which is faster than a
// division per value). Both work on deviations from the running mean, so a large
// offset (timestamps, 1e9 + noise) costs no precision.
//
// Non-finite values must not be added: callers count NaN and infinities separately. A
// Welford is a value type; concurrent const use is safe, mutation is not.
#ifndef MLOOP_STATS_WELFORD_H_
#define MLOOP_STATS_WELFORD_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "core/json.h"
#include "stats/exact_sum.h"

namespace mloop::stats {

class Welford {
 public:
  void Add(double x) {
    ++count_;
    double delta = (x - mean_) - mean_low_;
    AddToMean(delta / static_cast<double>(count_));
    m2_ += delta * ((x - mean_) - mean_low_);
    if (x < min_) min_ = x;
    if (x > max_) max_ = x;
    sum_.Add(x);
  }

  void AddBlock(const double* values, size_t n);

  // int64 values (also dates and timestamps). The sum stays exact beyond 2^53, where
  // a double cannot hold every int64.
  void AddIntBlock(const int64_t* values, size_t n);

  // As AddBlock / AddIntBlock with values[i] counted counts[i] times.
  void AddCounts(const double* values, const uint64_t* counts, size_t n);
  void AddIntCounts(const int64_t* values, const uint64_t* counts, size_t n);

  void Merge(const Welford& other);

  uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  // Each of these is NaN when there are no values.
  double mean() const { return empty() ? kNaN : mean_; }
  double min() const { return empty() ? kNaN : min_; }
  double max() const { return empty() ? kNaN : max_; }
  // Sum of squared deviations from the mean; 0 when empty.
  double m2() const { return m2_; }
  double sum() const { return sum_.Value(); }
  const ExactSum& exact_sum() const { return sum_; }

  // Divides M2 by n. NaN when empty.
  double population_variance() const;
  // Divides M2 by n - 1 (as pandas and numpy with ddof=1). NaN with fewer than 2
  // values.
  double sample_variance() const;
  double population_std() const;
  double sample_std() const;

  // {"count", "mean", "mean_low", "m2", "min", "max", "sum"}: the mean is mean +
  // mean_low, min and max are null when empty, and "sum" is ExactSum's lossless text.
  Json ToJson() const;
  // Throws Error invalid_argument naming `path` and the key when `j` is not what
  // ToJson writes (a missing key, a wrong type, a negative M2, min above max).
  static Welford FromJson(const Json& j, std::string_view path = "moments");

 private:
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

  // mean += step, keeping mean_ + mean_low_ exact (Knuth's TwoSum).
  void AddToMean(double step) {
    double low = mean_low_ + step;
    double sum = mean_ + low;
    double low_part = sum - mean_;
    mean_low_ = (mean_ - (sum - low_part)) + (low - low_part);
    mean_ = sum;
  }
  // Chan's combination with a summary of `n` values whose mean is shift +
  // shifted_mean.
  void MergeShifted(uint64_t n, double shift, double shifted_mean, double m2);

  uint64_t count_ = 0;
  // The mean is held as the unevaluated sum mean_ + mean_low_ (mean_low_ below half an
  // ulp of mean_), so that updates of 1e9 + noise keep the noise's digits: a plain
  // double mean would round each small step to the ulp of 1e9.
  double mean_ = 0;
  double mean_low_ = 0;
  double m2_ = 0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
  ExactSum sum_;
};

}  // namespace mloop::stats

#endif  // MLOOP_STATS_WELFORD_H_
