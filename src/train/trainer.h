// Training: `mloop train --config FILE`. Takes a TrainConfig (config.h), reads the named dataset
// versions from the workspace, maps the label, splits when asked, fits the feature pipeline on
// the training rows (features/pipeline.h) and applies it to both sides, trains the estimator
// (XGBoost, or a linear one: linear_trainer.h), and records everything as a tracked run
// (tracking/tracking_store.h): params, metrics per round, final metrics, feature importances,
// the input dataset versions, and the model bundle (docs/training.md) with the estimator in
// its own format.
//
// With `cv`, k folds of the training rows are each held out once while the pipeline and the
// estimator are fitted on the rest, and the run adds cv-M (mean) and cv-M-std metrics. With
// `search`, each trial is a child run (MLflow's mlflow.parentRunId tag) and the parent run
// ends up with the best trial's params, metrics and artifacts; a failing trial ends FAILED and
// the search goes on.
//
// The same config, dataset versions and seed give the same model bytes (tested): every random
// choice (splits, XGBoost's sampling) is seeded from the config's seed.
//
// ARCHITECTURE.md lists tracking after train; training logs its own run as it goes (round by
// round, as MLflow's autologging does), so here tracking comes first. Tracking depends only on
// the stores, so the order change adds no cycle.
//
// Errors (mloop::Error): invalid_argument for a config that does not fit the data (an unknown
// column, a label that does not fit the task, a class the label map does not name), naming the
// key and the column; not_found for a dataset version that does not exist; what the features,
// XGBoost and the stores throw. A run that fails after it started is ended FAILED, with the
// error in its `mloop.error` tag, and the error is rethrown.
#ifndef MLOOP_TRAIN_TRAINER_H_
#define MLOOP_TRAIN_TRAINER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "store/workspace.h"
#include "train/config.h"

namespace mloop::train {

// One trial of a hyperparameter search: a child run.
struct TrialOutcome {
  std::string run_id;
  std::map<std::string, std::string> params;  // The searched parameters' values.
  std::string status;                         // "FINISHED" or "FAILED".
  std::optional<double> score;                // The search metric; none when it failed.
  std::string error;                          // Why it failed.
};

struct TrainOutcome {
  std::string run_id;  // The run; with a search, the parent run.
  std::string experiment;
  std::string estimator;              // "xgboost", "logistic", ...
  std::string bundle_digest;          // The bundle manifest artifact.
  std::string model_digest;           // The estimator's own file (XGBoost UBJSON, linear JSON).
  int64_t rounds = 0;                 // Boosting rounds kept, or the linear solver's iterations.
  std::optional<int64_t> best_round;  // With early stopping: the best round (0-based).
  // Final metrics: "train-auc", "valid-auc", ...; with cross-validation also "cv-auc" (the
  // mean over folds) and "cv-auc-std".
  std::map<std::string, double> metrics;
  int64_t train_rows = 0;
  int64_t validation_rows = 0;
  int64_t features = 0;
  double seconds = 0;
  // With a search: every trial in order, and the run id of the best one (whose model the
  // parent run carries).
  std::vector<TrialOutcome> trials;
  std::string best_trial;
  // {run_id, experiment, estimator, bundle, model, rounds, best_round, metrics, train_rows,
  //  validation_rows, features, seconds[, trials, best_trial]}
  Json ToJson() const;
};

// Progress as training goes: boosting rounds of the model being trained, folds of a
// cross-validation, or trials of a search (for a progress bar). `metrics` are the round's
// metrics for rounds, else null.
struct TrainProgress {
  const char* unit;  // "rounds", "folds" or "trials".
  int64_t done;
  int64_t total;
  const std::map<std::string, double>* metrics;
};
using ProgressCallback = std::function<void(const TrainProgress&)>;

TrainOutcome Train(store::Workspace& workspace, const TrainConfig& config,
                   const ProgressCallback& on_progress = nullptr);

}  // namespace mloop::train

#endif  // MLOOP_TRAIN_TRAINER_H_
