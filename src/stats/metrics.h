// Prediction metrics over labels and predictions held in memory: what training reports for
// models whose library does not report them itself (the linear baselines, held-out folds of
// cross-validation), under XGBoost's metric names (`auc`, `logloss`, `mlogloss`, `merror`,
// `rmse`, `mae`) so that runs of different estimators compare on one scale. The eval module
// builds its scikit-learn-named report on these.
//
// Every function takes optional per-row weights (empty: each row weighs 1), as XGBoost
// weighs its evaluation metrics by the DMatrix's weights and scikit-learn by sample_weight.
// Computed in double; the sums are plain left-to-right sums.
//
// Labels: binary metrics take 0 or 1; multiclass ones a class index 0..k-1 (as float, as
// XGBoost holds labels). Errors (mloop::Error invalid_argument): sizes that disagree, empty
// input, a label outside its range, a negative weight, ROC AUC with one class only (the
// message says which class is missing). Pure functions, safe from any thread.
#ifndef MLOOP_STATS_METRICS_H_
#define MLOOP_STATS_METRICS_H_

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace mloop::stats {

// Area under the ROC curve of `score` for the positive class (label 1): the probability
// that a random positive scores above a random negative, ties counting one half
// (the Mann-Whitney statistic; scikit-learn's roc_auc_score, XGBoost's `auc`).
double RocAuc(std::span<const float> labels, std::span<const float> scores,
              std::span<const float> weights = {});

// Mean negative log-likelihood of binary labels under probabilities `p` of class 1, each p
// clipped to [eps, 1 - eps] (scikit-learn's log_loss with eps 1e-15).
double LogLoss(std::span<const float> labels, std::span<const float> p,
               std::span<const float> weights = {}, double eps = 1e-15);

// Multiclass log loss: `p` holds `classes` probabilities per row (row-major).
double MultiLogLoss(std::span<const float> labels, std::span<const float> p, size_t classes,
                    std::span<const float> weights = {}, double eps = 1e-15);

// Share of rows whose most probable class (the first of equal ones) is not the label.
double MultiError(std::span<const float> labels, std::span<const float> p, size_t classes,
                  std::span<const float> weights = {});

// Share of rows where (p >= threshold) disagrees with the binary label (XGBoost's `error`).
double BinaryError(std::span<const float> labels, std::span<const float> p,
                   std::span<const float> weights = {}, double threshold = 0.5);

// Root mean squared error and mean absolute error of regression predictions.
double Rmse(std::span<const float> labels, std::span<const float> predictions,
            std::span<const float> weights = {});
double Mae(std::span<const float> labels, std::span<const float> predictions,
           std::span<const float> weights = {});

// The default metrics of a task under XGBoost's names: binary {logloss, auc}, multiclass
// (`classes` > 2) {mlogloss, merror}, regression (`classes` == 0) {rmse, mae}. `predictions`
// are probabilities of class 1 (binary), `classes` probabilities per row (multiclass) or
// values (regression).
// The names TaskMetrics gives for `classes`, in its order.
std::vector<std::string> TaskMetricNames(size_t classes);

std::map<std::string, double> TaskMetrics(size_t classes, std::span<const float> labels,
                                          std::span<const float> predictions,
                                          std::span<const float> weights = {});

}  // namespace mloop::stats

#endif  // MLOOP_STATS_METRICS_H_
