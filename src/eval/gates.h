// Promotion gates: the conditions a candidate model must meet to be promoted, read from YAML
// (docs/evaluation.md, "Gates"), and their verdict on an evaluation report (evaluate.h).
//
//   data: adult_test@1            # the evaluation set the gates read (default: the first)
//   gates:
//     - metric: roc_auc            # MLflow's MetricThreshold
//       threshold: 0.85
//       min_absolute_change: 0.002
//       min_relative_change: 0.0
//       greater_is_better: true    # default from the name: losses and errors are lower-better
//     - better_than_champion: {metric: roc_auc, alpha: 0.05}
//     - fairness: {column: sex, metric: demographic_parity_ratio, min: 0.8}
//     - latency: {p95_ms: 2}
//     - slice: {column: sex, metric: roc_auc, min: 0.8}
//
// Semantics, per condition:
// - metric: with MLflow's MetricThreshold rules: the candidate's value must be >= threshold
//   (<= when lower is better); against the champion it must improve by at least
//   min_absolute_change (candidate - champion, sign flipped when lower is better) and by at
//   least min_relative_change of |champion|. A change condition with no champion to compare
//   with is recorded as not evaluated and does not fail (the first model of a name has
//   nothing to beat).
// - better_than_champion: the candidate's metric is better than the champion's and the
//   paired test on it (DeLong for roc_auc, McNemar for accuracy, a paired t-test on per-row
//   losses for log_loss, brier, rmse, mae) gives p < alpha. Without a champion: not evaluated.
// - fairness: a fairness measure of a sensitive column within [min, max].
// - latency: p50_ms, p95_ms, p99_ms upper bounds on single-row latency.
// - slice: a metric on every group of a slice column within [min, max].
// The decision is PROMOTE when no condition failed, else REJECT, with every failed condition
// and its observed value.
//
// Errors: invalid_argument naming the file and key path (`gates.yaml: gates[2].fairness.mn:
// unknown key ...`) for a malformed file; at evaluation, a metric, column or set the report
// does not have is a failed condition that says so (not an exception), so a report is always
// produced.
#ifndef MLOOP_EVAL_GATES_H_
#define MLOOP_EVAL_GATES_H_

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace mloop::eval {

struct Gate {
  enum class Kind { kMetric, kBetterThanChampion, kFairness, kLatency, kSlice };
  Kind kind = Kind::kMetric;
  std::string metric;  // metric, better_than_champion, fairness, slice.
  std::string column;  // fairness, slice.
  std::optional<double> threshold, min_absolute_change, min_relative_change;
  std::optional<bool> greater_is_better;
  double alpha = 0.05;                           // better_than_champion.
  std::optional<double> min, max;                // fairness, slice.
  std::optional<double> p50_ms, p95_ms, p99_ms;  // latency.
  std::string text;  // The condition as written, for reports ("roc_auc >= 0.85").
};

struct GatesConfig {
  std::string source;
  std::string digest;  // SHA-256 of the parsed document.
  std::optional<std::string> data;
  std::vector<Gate> gates;
};

GatesConfig ParseGates(const Json& doc, std::string_view source);
GatesConfig LoadGates(const std::filesystem::path& path);

// Whether a larger value of metric `name` is better: false for losses, errors and latencies
// (log_loss, brier, rmse, mse, mae, mape, median_absolute_error, max_error,
// expected_calibration_error, anything ending in _loss or _error), true otherwise.
bool GreaterIsBetter(std::string_view name);

// The verdict of `gates` on an evaluation report (evaluate.h's format): {decision, passed,
// failed: [...], conditions: [{gate, kind, passed, evaluated, observed, expected, message}]}.
Json ApplyGates(const GatesConfig& gates, const Json& report);

}  // namespace mloop::eval

#endif  // MLOOP_EVAL_GATES_H_
