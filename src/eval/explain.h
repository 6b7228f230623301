// `mloop explain --model REF --input FILE|NAME@VERSION --output FILE`: per-row SHAP values.
// For each input row: `line`, then for each feature the SHAP value `shap.FEATURE` (multiclass:
// `shap.CLASS.FEATURE` for each class), `bias` (`bias.CLASS`) and `margin` (`margin.CLASS`),
// the model's raw output before its link (log-odds for binary, class scores for multiclass,
// the value for regression). Each row's SHAP values plus its bias sum to its margin.
// Trees are explained by TreeSHAP (model/shap.h, XGBoost's pred_contribs values); linear
// models exactly, with the training means (the bundle's feature_means) as the background.
//
// Errors: those of ResolveModel (resolve.h), reading the input and transforming it; an output
// whose extension is not .csv, .tsv, .jsonl or .ndjson is invalid_argument.
#ifndef MLOOP_EVAL_EXPLAIN_H_
#define MLOOP_EVAL_EXPLAIN_H_

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/json.h"
#include "store/workspace.h"

namespace mloop::eval {

struct ExplainRequest {
  std::string model;
  std::string input;
  std::filesystem::path output;
};

struct ExplainOutcome {
  std::string run_id;
  int64_t rows = 0;
  int64_t features = 0;
  double max_sum_error = 0;  // max over rows of |sum of SHAP values + bias - margin|.
  double seconds = 0;
  Json ToJson() const;  // {run_id, rows, features, output, max_sum_error, seconds}
  std::string output;
};

ExplainOutcome ExplainToFile(store::Workspace& workspace, const ExplainRequest& request);

}  // namespace mloop::eval

#endif  // MLOOP_EVAL_EXPLAIN_H_
