// Batch prediction: `mloop predict --model REF --input FILE --output FILE`. Loads a run's model
// bundle (docs/training.md), reads the input (a CSV or JSON Lines file, or a dataset version
// NAME@VERSION), applies the bundle's fitted feature pipeline (the same code as in training)
// and the estimator, and writes one row of predictions per input row.
//
// Engines: "mloop" (the default) evaluates the trees with the compiled evaluator of
// model/tree_ensemble.h, multi-threaded over blocks of rows; "xgboost" through XGBoost's own
// library. Both give the same values (tested).
//
// Errors (mloop::Error): not_found for a run without a bundle or a missing input; invalid_argument
// for an input that lacks a column the model reads or has it with another type (naming the
// column), an output whose extension is not .csv, .tsv, .jsonl or .ndjson, an unknown engine;
// data_loss when a stored artifact does not match its digest.
#ifndef MLOOP_TRAIN_PREDICT_H_
#define MLOOP_TRAIN_PREDICT_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "core/json.h"
#include "model/bundle.h"
#include "store/workspace.h"
#include "table/table.h"

namespace mloop::train {

struct PredictRequest {
  std::string model;  // A run id (or a unique prefix of 6 or more characters).
  std::string input;  // A file, or NAME@VERSION of a dataset in the workspace.
  std::filesystem::path output;
  std::string engine = "mloop";
  // Also write the model's input features (the pipeline's output, one column per feature,
  // missing as empty), to see what the model saw or to check it with other tools.
  bool include_features = false;
  // Called as blocks of rows are predicted (from worker threads, concurrently; for a progress
  // bar): rows done so far, and the total.
  std::function<void(int64_t done, int64_t total)> on_progress;
};

struct PredictOutcome {
  std::string run_id;
  int64_t rows = 0;
  double seconds = 0;
  Json ToJson() const;  // {run_id, rows, output, seconds}
  std::string output;
};

// A run's model bundle, loaded: the run's id, the bundle manifest's digest and the model.
struct RunModel {
  std::string run_id;
  std::string bundle_digest;
  model::LoadedModel model;
};
// Loads the bundle of run `run` (an id or a unique prefix of 6+ characters). Errors: not_found
// for an unknown run or one without a bundle; data_loss for an artifact that does not match
// its digest; what LoadedModel::Load throws.
RunModel LoadRunModel(store::Workspace& workspace, const std::string& run);

// The rows a model is applied to: a CSV or JSON Lines file, or a dataset version NAME@VERSION
// of the workspace. Errors: not_found when it is neither; what the readers throw.
table::Table ReadModelInput(store::Workspace& workspace, const std::string& input);

// Writes `table` as CSV (.csv), TSV (.tsv) or JSON Lines (.jsonl, .ndjson), by the path's
// extension; another extension is invalid_argument (CheckOutputExtension checks it first).
void CheckOutputExtension(const std::filesystem::path& output);
void WriteByExtension(const table::Table& table, const std::filesystem::path& output);

PredictOutcome PredictToFile(store::Workspace& workspace, const PredictRequest& request);

}  // namespace mloop::train

#endif  // MLOOP_TRAIN_PREDICT_H_
