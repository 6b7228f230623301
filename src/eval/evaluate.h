// `mloop evaluate`: a model on one or more evaluation sets, against the champion, through the
// gates. For each set: the metrics of eval/metrics.h under scikit-learn's names, slices by
// named columns, fairness for each column with role `sensitive` (binary tasks), and, with a
// champion, the champion's metrics on the same rows, per-metric deltas with paired bootstrap
// intervals, and paired tests (DeLong on roc_auc, McNemar on accuracy, paired t-tests on
// per-row losses; stats/significance.h). Once per call: single-row latency (p50, p95, p99)
// and batch throughput through the inference runtime, the CPU cost per 1,000 predictions, and
// global importance as mean |SHAP| (TreeSHAP for trees, exact for linear models). Then the
// gates (gates.h) decide PROMOTE or REJECT.
//
// What is kept: the report (JSON, format mloop-evaluation 1) and the HTML model card
// (model_card.h), as the artifacts of an evaluation run in the candidate's experiment (tags
// mloop.run_type=evaluation, mloop.evaluated_run, mloop.decision; the first set's metrics as
// its metrics), so evaluations are listed and searched like any run. When the candidate is a
// registered version (NAME@VERSION or NAME@ALIAS) and gates were given, the decision is
// recorded on it (registry: ready_for_deployment, gate.report, an audit entry), which is
// what `mloop models promote` reads.
//
// Errors (mloop::Error): not_found for a model, champion or data set that does not exist;
// invalid_argument for a champion of another task or other classes, an evaluation set without
// the label column or with a label value that is not one of the model's classes (naming the
// value and its line), a slice column that is not in the data, bad options; what loading and
// transforming throw.
#ifndef MLOOP_EVAL_EVALUATE_H_
#define MLOOP_EVAL_EVALUATE_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "store/workspace.h"

namespace mloop::eval {

struct EvaluateRequest {
  std::string model;              // A run id (or prefix), NAME@VERSION or NAME@ALIAS.
  std::vector<std::string> data;  // Dataset versions (NAME@VERSION) or CSV / JSON Lines files.
  // The model to compare with: a ref as `model`, or "none". Unset: NAME@champion when the
  // candidate is a registered model's version and NAME has a champion other than it.
  std::optional<std::string> against;
  std::optional<std::filesystem::path> gates;
  // Columns to slice by: "sex" (one group per value) or "age:4" (4 quantile buckets of a
  // number column).
  std::vector<std::string> slices;
  // Columns for fairness; empty: the columns with role sensitive in the data's schema.
  std::vector<std::string> sensitive;
  // AIF360's privileged group per sensitive column (column -> value); default: the largest.
  std::map<std::string, std::string> privileged;
  double threshold = 0.5;                       // Binary: predicted 1 when p >= threshold,
  std::optional<std::string> threshold_metric;  // unless chosen to maximize this metric.
  int64_t bootstrap = 1000;                     // Paired bootstrap resamples; 0: no intervals.
  double confidence = 0.95;
  uint64_t seed = 0;
  int64_t latency_rows = 500;            // Rows timed one at a time; 0: no latency.
  double price_per_cpu_hour = 0.0;       // For cost per 1,000 predictions; 0: not priced.
  int64_t explain_rows = 2000;           // Rows explained for mean |SHAP|; 0: none.
  std::string intended_use;              // Model card text.
  std::vector<std::string> limitations;  // Model card text, added to the measured ones.
  std::string actor;                     // Who; empty: the current user.
};

struct EvaluateOutcome {
  Json report;                // The whole report (format mloop-evaluation, version 1).
  std::string report_digest;  // The report artifact.
  std::string card_digest;    // The model card artifact (HTML).
  std::string card_html;
  std::string run_id;                   // The evaluation run.
  std::optional<std::string> decision;  // "PROMOTE" or "REJECT" with gates.
};

// Called as stages finish, for a progress line ("metrics adult_test@1", "bootstrap", ...).
using EvaluateProgress = std::function<void(const std::string& stage)>;

EvaluateOutcome Evaluate(store::Workspace& workspace, const EvaluateRequest& request,
                         const EvaluateProgress& progress = nullptr);

}  // namespace mloop::eval

#endif  // MLOOP_EVAL_EVALUATE_H_
