#include "stats/anomaly.h"

#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"
#include "stats/welford.h"

namespace mloop::stats {

AnomalyCheck CheckAnomaly(std::span<const double> history, double value,
                          const AnomalyOptions& options) {
  if (!(std::isfinite(options.k) && options.k > 0)) {
    ThrowInvalidArgument("anomaly check: k must be finite and above 0, not " +
                         std::to_string(options.k));
  }
  if (options.min_history < 2) {
    ThrowInvalidArgument("anomaly check: min_history must be at least 2, not " +
                         std::to_string(options.min_history));
  }
  if (!std::isfinite(value)) {
    ThrowInvalidArgument("anomaly check: the new value is not finite");
  }
  // Welford keeps the mean of a constant history exactly that constant and its M2 at 0,
  // so a constant history gives a stddev of exactly 0.
  Welford moments;
  for (size_t i = 0; i < history.size(); ++i) {
    if (!std::isfinite(history[i])) {
      ThrowInvalidArgument("anomaly check: history value " + std::to_string(i) + " is not finite");
    }
    moments.Add(history[i]);
  }

  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  AnomalyCheck check;
  check.history_size = history.size();
  check.mean = moments.mean();
  check.stddev = moments.sample_std();
  check.lower = kNaN;
  check.upper = kNaN;
  if (history.size() < options.min_history) return check;
  check.evaluated = true;
  check.lower = check.mean - options.k * check.stddev;
  check.upper = check.mean + options.k * check.stddev;
  check.is_outlier = value < check.lower || value > check.upper;
  return check;
}

}  // namespace mloop::stats
