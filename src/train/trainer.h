// Training: `mloop train --config FILE`. Takes a TrainConfig (config.h), reads the named dataset
// versions from the workspace, maps the label, splits when asked, fits the feature pipeline on
// the training rows (features/pipeline.h) and applies it to both sides, trains the estimator,
// and records everything as a tracked run (tracking/tracking_store.h): params, metrics per
// round, final metrics, feature importances, the input dataset versions, and the model bundle
// (bundle.h) with the booster in XGBoost's own format.
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

struct TrainOutcome {
  std::string run_id;
  std::string experiment;
  std::string bundle_digest;          // The bundle manifest artifact.
  std::string model_digest;           // The estimator's own file (XGBoost UBJSON).
  int64_t rounds = 0;                 // Boosting rounds kept (the best ones with early stopping).
  std::optional<int64_t> best_round;  // With early stopping: the best round (0-based).
  std::map<std::string, double> metrics;  // Final metrics: "train-auc", "valid-auc", ...
  int64_t train_rows = 0;
  int64_t validation_rows = 0;
  int64_t features = 0;
  double seconds = 0;
  // {run_id, experiment, bundle, model, rounds, best_round, metrics, train_rows,
  //  validation_rows, features, seconds}
  Json ToJson() const;
};

// Called after each boosting round with the round's metrics (for a progress bar).
using RoundCallback = std::function<void(int64_t round, int64_t rounds,
                                         const std::map<std::string, double>& metrics)>;

TrainOutcome Train(store::Workspace& workspace, const TrainConfig& config,
                   const RoundCallback& on_round = nullptr);

}  // namespace mloop::train

#endif  // MLOOP_TRAIN_TRAINER_H_
