// Anomaly checks on the history of a metric (the row count of each dataset version, a
// column's null fraction, a model's daily accuracy), in the manner of Deequ's
// OnlineNormalStrategy: a new value is an outlier when it lies outside mean ± k·stddev
// of the earlier values, with the sample standard deviation (n - 1).
//
// Unlike Deequ, the history is used as given: a caller that wants earlier outliers left
// out of the mean and stddev passes the history without them. Values are in the metric's
// own units. Errors are mloop::Error invalid_argument, as the function states. A pure
// function: safe to call from several threads.
#ifndef MLOOP_STATS_ANOMALY_H_
#define MLOOP_STATS_ANOMALY_H_

#include <cstddef>
#include <span>

namespace mloop::stats {

struct AnomalyOptions {
  // Bounds are mean ± k·stddev; finite and above 0.
  double k = 3.0;
  // Fewer earlier values than this and the value is not evaluated; at least 2 (the
  // sample stddev needs two values).
  size_t min_history = 3;
};

struct AnomalyCheck {
  // False when the history has fewer than min_history values; is_outlier is false then.
  bool evaluated = false;
  // value < lower or value > upper (a value on a bound is not an outlier). With a
  // stddev of 0 (a constant history), any value other than that constant is one.
  bool is_outlier = false;
  // Of the history: mean is NaN when it is empty, stddev NaN with fewer than 2 values.
  double mean;
  double stddev;
  // mean ∓ k·stddev; NaN when not evaluated.
  double lower;
  double upper;
  size_t history_size = 0;
};

// Checks `value` against `history` (the earlier values, in any order). Throws Error
// invalid_argument when a value of the history (naming its index) or `value` is not
// finite, or the options are out of range.
AnomalyCheck CheckAnomaly(std::span<const double> history, double value,
                          const AnomalyOptions& options = {});

}  // namespace mloop::stats

#endif  // MLOOP_STATS_ANOMALY_H_
