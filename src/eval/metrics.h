// Evaluation metrics over labels and predictions held in memory, each equal to a
// scikit-learn function (python3-sklearn 1.2, Debian 12) within 1e-9 and named after it minus
// `_score`: the numbers `mloop evaluate` reports under `metrics`. Training's own metrics under
// XGBoost's names are in stats/metrics.h; this module builds on them where they agree.
//
// Inputs: labels and predictions are float, as models produce them and XGBoost holds labels;
// every sum is taken in double. Binary labels are 0 or 1 and predictions are probabilities
// of class 1; multiclass labels are a class index 0..k-1 with k probabilities per row
// (row-major); regression predictions are values. `weights` are optional per-row sample
// weights (empty: every row weighs 1), scikit-learn's `sample_weight`; counts in confusion
// matrices are then sums of weights.
//
// Undefined values follow scikit-learn's defaults: a precision, recall or F1 whose
// denominator is 0 is 0 and sets its `undefined` flag (scikit-learn's zero_division="warn":
// 0 with an UndefinedMetricWarning). ROC AUC with one class only and average precision with
// no positive row are NaN in the reports (written as null in JSON) with a warning; the single
// functions throw instead.
//
// Errors (mloop::Error invalid_argument): sizes that disagree, no rows, a label outside its
// range, a negative or NaN weight, weights that sum to 0, a probability outside [0, 1] where
// one is required. Pure functions, safe from any thread.
#ifndef MLOOP_EVAL_METRICS_H_
#define MLOOP_EVAL_METRICS_H_

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace mloop::eval {

// ---------------------------------------------------------------------------------------------
// Binary classification

// Weighted counts at a threshold: a row is predicted 1 when p >= threshold (as XGBoost's
// `error` and stats::BinaryError; scikit-learn takes hard predictions, which the comparison
// script makes with the same rule). Rows 0/1 = true class, n/p = predicted class; this is
// scikit-learn's confusion_matrix(y, p >= t).ravel() order (tn, fp, fn, tp).
struct BinaryConfusion {
  double tn = 0, fp = 0, fn = 0, tp = 0;
  double total() const { return tn + fp + fn + tp; }
};

BinaryConfusion ConfusionAt(std::span<const float> labels, std::span<const float> p,
                            std::span<const float> weights = {}, double threshold = 0.5);

// The metrics of hard predictions at one threshold, all from one BinaryConfusion:
//   accuracy          = (tp + tn) / total                       accuracy_score
//   balanced_accuracy = mean of the recalls of the classes present in the labels,
//                       (tp/(tp+fn) + tn/(tn+fp)) / 2 when both are; a class without rows is
//                       left out (scikit-learn warns "y_pred contains classes not in y_true")
//                                                               balanced_accuracy_score
//   precision         = tp / (tp + fp), 0 when tp + fp = 0      precision_score
//   recall            = tp / (tp + fn), 0 when tp + fn = 0      recall_score
//   f1                = 2 * precision * recall / (precision + recall), 0 when that sum is 0
//                                                               f1_score
// The flags say which denominators were 0 (scikit-learn's UndefinedMetricWarning); f1 is
// undefined when tp + fp + fn = 0, as scikit-learn warns only then.
struct ThresholdMetrics {
  double threshold = 0.5;
  BinaryConfusion confusion;
  double accuracy = 0, balanced_accuracy = 0, precision = 0, recall = 0, f1 = 0;
  bool precision_undefined = false, recall_undefined = false, f1_undefined = false;
};

ThresholdMetrics MetricsFromConfusion(const BinaryConfusion& confusion, double threshold = 0.5);
ThresholdMetrics MetricsAt(std::span<const float> labels, std::span<const float> p,
                           std::span<const float> weights = {}, double threshold = 0.5);

// roc_auc_score: stats::RocAuc (the Mann-Whitney statistic, ties counting one half, which is
// the trapezoidal area under scikit-learn's ROC curve). Throws with one class only.
double RocAuc(std::span<const float> labels, std::span<const float> p,
              std::span<const float> weights = {});

// average_precision_score: the step-wise area under the precision-recall curve,
// sum over distinct thresholds t (descending) of (R(t) - R(t_prev)) * P(t), where P and R are
// precision and recall of predicting 1 for p >= t; not the trapezoidal area. Throws when no
// row is positive (scikit-learn then returns -0.0 with a warning).
double AveragePrecision(std::span<const float> labels, std::span<const float> p,
                        std::span<const float> weights = {});

// log_loss with eps = 1e-15: mean of -(y log q + (1 - y) log(1 - q)), q = p clipped to
// [eps, 1 - eps] (stats::LogLoss). scikit-learn 1.2's default eps="auto" clips at the
// dtype's machine epsilon (2.2e-16 for float64) instead; the two differ only for
// p within 1e-15 of 0 or 1, and the comparison passes eps=1e-15.
double LogLoss(std::span<const float> labels, std::span<const float> p,
               std::span<const float> weights = {});

// brier_score_loss: weighted mean of (p - y)^2.
double Brier(std::span<const float> labels, std::span<const float> p,
             std::span<const float> weights = {});

// The reliability curve of sklearn.calibration.calibration_curve(strategy="uniform"):
// `bins` equal-width bins with inner edges e_k = k * (1.0 / bins), k = 1..bins-1, exactly as
// np.linspace makes them; a row falls in the bin b = #{k : e_k < p} (np.searchsorted, left),
// so p = 0.1 is in the first bin. Per bin: count (rows), weight (sum of weights), mean
// predicted probability and fraction of positives (weighted means). Bins without rows are
// listed with count 0 and NaN means; calibration_curve drops them, and takes no weights
// (with weights these are the weighted means).
//   expected_calibration_error = sum over bins of weight/total * |fraction_positive -
//   mean_predicted| (scikit-learn has no function for it).
// Throws when a probability is outside [0, 1] (as calibration_curve) or bins is 0.
struct CalibrationBin {
  double lower = 0, upper = 0;  // The bin's edges; the lowest bin includes 0.
  size_t count = 0;
  double weight = 0;
  double mean_predicted = 0, fraction_positive = 0;
};
struct Calibration {
  std::vector<CalibrationBin> bins;
  double expected_calibration_error = 0;
};
Calibration CalibrationCurve(std::span<const float> labels, std::span<const float> p,
                             std::span<const float> weights = {}, size_t bins = 10);

// The threshold-dependent metrics the chooser can maximize, by their report names.
enum class ThresholdObjective {
  kAccuracy,          // "accuracy"
  kBalancedAccuracy,  // "balanced_accuracy"
  kPrecision,         // "precision"
  kRecall,            // "recall"
  kF1,                // "f1"
};
// Parses a report name; throws invalid_argument listing the names for any other.
ThresholdObjective ParseThresholdObjective(std::string_view name);
std::string_view ThresholdObjectiveName(ThresholdObjective objective);

// The threshold among the distinct predicted probabilities that maximizes `objective`
// (rows with p >= threshold predicted 1), and the metrics there. Of thresholds with the same
// maximal value the smallest wins. O(n log n).
ThresholdMetrics ChooseThreshold(std::span<const float> labels, std::span<const float> p,
                                 ThresholdObjective objective, std::span<const float> weights = {});

// ---------------------------------------------------------------------------------------------
// Multiclass classification (k >= 2 classes, `p` holds k probabilities per row)

// The predicted class of each row: the most probable, the first of equal ones (np.argmax,
// stats::MultiError).
std::vector<size_t> PredictedClasses(std::span<const float> p, size_t classes);

// Per class c (over all k classes): support = weighted count of rows labelled c, tp, predicted
// (weighted count of rows predicted c), precision = tp / predicted, recall = tp / support,
// f1 from them, with 0 and an undefined flag on 0/0 as in the binary case.
struct ClassMetrics {
  double support = 0, predicted = 0, tp = 0;
  double precision = 0, recall = 0, f1 = 0;
  bool present = false;  // Some row is labelled or predicted c (scikit-learn's unique_labels).
  bool precision_undefined = false, recall_undefined = false;
};

// precision/recall/f1 averaged as precision_recall_fscore_support(average=...):
//   macro:    unweighted mean over the classes present in the labels or the predictions
//             (scikit-learn's default labels; a class seen in neither is left out).
//   micro:    from the summed tp, predicted and support: for single-label data all three are
//             the accuracy.
//   weighted: mean weighted by support.
struct Averaged {
  double precision = 0, recall = 0, f1 = 0;
};
struct MulticlassMetrics {
  size_t classes = 0;
  double accuracy = 0;                         // accuracy_score
  double log_loss = 0;                         // log_loss(eps=1e-15), see MultiLogLoss
  double roc_auc = 0;                          // roc_auc_score(multi_class="ovr", average="macro")
  bool roc_auc_defined = true;                 // false (roc_auc NaN) when a class has no row
  std::vector<std::vector<double>> confusion;  // [true][predicted], confusion_matrix
  std::vector<ClassMetrics> per_class;         // precision_recall_fscore_support(average=None)
  Averaged macro, micro, weighted;
};

// log_loss on k columns: each probability clipped to [1e-15, 1 - 1e-15], each row then
// divided by its sum (scikit-learn renormalizes; float probabilities rarely sum to exactly 1),
// mean of -log of the label's column. Differs from stats::MultiLogLoss, which does not
// renormalize.
double MultiLogLoss(std::span<const float> labels, std::span<const float> p, size_t classes,
                    std::span<const float> weights = {});

// roc_auc_score(multi_class="ovr", average="macro"): the mean over classes c of the binary
// ROC AUC of (label == c) scored by p[:, c]. Throws when a class has no row (scikit-learn
// requires every column's class in y_true).
double MultiRocAucOvr(std::span<const float> labels, std::span<const float> p, size_t classes,
                      std::span<const float> weights = {});

MulticlassMetrics ComputeMulticlass(std::span<const float> labels, std::span<const float> p,
                                    size_t classes, std::span<const float> weights = {});

// ---------------------------------------------------------------------------------------------
// Regression (all weighted means use `weights` when given)
//   mse                   = mean (y - f)^2                           mean_squared_error
//   rmse                  = sqrt(mse)                 mean_squared_error(squared=False)
//   mae                   = mean |y - f|                             mean_absolute_error
//   r2                    = 1 - sum w (y - f)^2 / sum w (y - ybar)^2, ybar the weighted mean;
//                           when the denominator is 0: 1 if the numerator is 0, else 0
//                           (force_finite=True)                      r2_score
//   mape                  = mean |y - f| / max(|y|, 2.220446049250313e-16)
//                                                    mean_absolute_percentage_error
//   median_absolute_error = median |y - f| (the mean of the two middle values for an even
//                           count); with weights, scikit-learn's lower weighted percentile:
//                           the first |y - f| in ascending order whose cumulative weight
//                           reaches half the total                   median_absolute_error
//   max_error             = max |y - f| (weights are ignored, as scikit-learn takes none)
//                                                                    max_error
//   explained_variance    = 1 - var(y - f) / var(y), weighted variances; 0-denominator as r2
//                                                                    explained_variance_score
struct RegressionMetrics {
  double mse = 0, rmse = 0, mae = 0, r2 = 0, mape = 0, median_absolute_error = 0, max_error = 0,
         explained_variance = 0;
};
RegressionMetrics ComputeRegression(std::span<const float> labels,
                                    std::span<const float> predictions,
                                    std::span<const float> weights = {});

// ---------------------------------------------------------------------------------------------
// Reports: one JSON object per evaluation set, metrics under `metrics` with scikit-learn's
// names; NaN values (undefined metrics) are written as null and explained in `warnings`.
//
// Binary:
//   {"task": "binary", "rows": N, "weighted": bool, "threshold": t,
//    "threshold_objective": "f1" | null,
//    "metrics": {accuracy, balanced_accuracy, precision, recall, f1, roc_auc,
//                average_precision, log_loss, brier, expected_calibration_error},
//    "confusion_matrix": {"tn","fp","fn","tp"},
//    "calibration": [{"lower","upper","count","weight","mean_predicted","fraction_positive"}],
//    "warnings": ["precision is 0/0 (no row predicted 1); reported as 0", ...]}
struct BinaryReportOptions {
  double threshold = 0.5;
  // When set, the threshold is chosen to maximize this objective and `threshold` is ignored.
  std::optional<ThresholdObjective> choose_threshold;
  size_t calibration_bins = 10;
};
Json BinaryReport(std::span<const float> labels, std::span<const float> p,
                  std::span<const float> weights = {}, const BinaryReportOptions& options = {});

// Multiclass: metrics {accuracy, log_loss, roc_auc (ovr macro), precision_macro, recall_macro,
// f1_macro, precision_micro, recall_micro, f1_micro, precision_weighted, recall_weighted,
// f1_weighted}, plus "confusion_matrix" ([true][predicted]) and "per_class"
// ([{class, name, support, precision, recall, f1}]). `class_names` (optional, k names) label
// the classes.
Json MulticlassReport(std::span<const float> labels, std::span<const float> p, size_t classes,
                      std::span<const float> weights = {},
                      std::span<const std::string> class_names = {});

// Regression: metrics {rmse, mse, mae, r2, mape, median_absolute_error, max_error,
// explained_variance}.
Json RegressionReport(std::span<const float> labels, std::span<const float> predictions,
                      std::span<const float> weights = {});

}  // namespace mloop::eval

#endif  // MLOOP_EVAL_METRICS_H_
