#include "eval/metrics.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "stats/metrics.h"

namespace mloop::eval {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kLogLossEps = 1e-15;

void CheckSizes(const char* what, std::span<const float> labels, size_t predictions, size_t per_row,
                std::span<const float> weights) {
  if (labels.empty()) ThrowInvalidArgument(std::string(what) + ": no rows");
  if (predictions != labels.size() * per_row) {
    ThrowInvalidArgument(
        std::string(what) + ": " + std::to_string(labels.size()) + " labels but " +
        std::to_string(predictions) + " predictions" +
        (per_row > 1 ? " (expected " + std::to_string(per_row) + " per row)" : std::string()));
  }
  if (!weights.empty() && weights.size() != labels.size()) {
    ThrowInvalidArgument(std::string(what) + ": " + std::to_string(labels.size()) + " labels but " +
                         std::to_string(weights.size()) + " weights");
  }
}

double WeightAt(std::span<const float> weights, size_t i) {
  if (weights.empty()) return 1.0;
  double w = weights[i];
  if (!(w >= 0) || std::isinf(w)) {
    ThrowInvalidArgument("weight of row " + std::to_string(i) + " is negative or not finite");
  }
  return w;
}

size_t ClassOf(const char* what, float label, size_t classes, size_t row) {
  double c = label;
  if (!(c >= 0) || c >= static_cast<double>(classes) || c != std::floor(c)) {
    ThrowInvalidArgument(std::string(what) + ": label of row " + std::to_string(row) + " is " +
                         std::to_string(c) + ", not a class in 0.." + std::to_string(classes - 1));
  }
  return static_cast<size_t>(c);
}

bool IsPositive(const char* what, float label, size_t row) {
  return ClassOf(what, label, 2, row) == 1;
}

double Divide(const char* what, double sum, double weight) {
  if (!(weight > 0)) ThrowInvalidArgument(std::string(what) + ": the weights sum to 0");
  return sum / weight;
}

// scikit-learn's zero_division="warn": 0 (and a flag) when the denominator is 0.
double Ratio(double num, double den, bool* undefined) {
  if (den == 0) {
    *undefined = true;
    return 0;
  }
  return num / den;
}

// F-score from precision and recall as scikit-learn computes it (denominator 0 -> 0).
double F1(double precision, double recall) {
  double denom = precision + recall;
  return denom == 0 ? 0 : 2 * precision * recall / denom;
}

// Row order by descending score, ties in row order.
std::vector<size_t> DescendingOrder(std::span<const float> scores) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  return order;
}

double ObjectiveValue(const ThresholdMetrics& m, ThresholdObjective objective) {
  switch (objective) {
    case ThresholdObjective::kAccuracy:
      return m.accuracy;
    case ThresholdObjective::kBalancedAccuracy:
      return m.balanced_accuracy;
    case ThresholdObjective::kPrecision:
      return m.precision;
    case ThresholdObjective::kRecall:
      return m.recall;
    case ThresholdObjective::kF1:
      return m.f1;
  }
  return 0;
}

Json Number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

}  // namespace

BinaryConfusion ConfusionAt(std::span<const float> labels, std::span<const float> p,
                            std::span<const float> weights, double threshold) {
  CheckSizes("confusion_matrix", labels, p.size(), 1, weights);
  BinaryConfusion c;
  for (size_t i = 0; i < labels.size(); ++i) {
    double w = WeightAt(weights, i);
    bool truth = IsPositive("confusion_matrix", labels[i], i);
    bool predicted = p[i] >= threshold;
    (truth ? (predicted ? c.tp : c.fn) : (predicted ? c.fp : c.tn)) += w;
  }
  return c;
}

ThresholdMetrics MetricsFromConfusion(const BinaryConfusion& c, double threshold) {
  ThresholdMetrics m;
  m.threshold = threshold;
  m.confusion = c;
  m.accuracy = Divide("accuracy", c.tp + c.tn, c.total());
  double positives = c.tp + c.fn, negatives = c.tn + c.fp;
  // balanced_accuracy_score: the mean of the per-class recalls of the classes in y_true.
  double recall_sum = 0;
  int present = 0;
  if (positives > 0) recall_sum += c.tp / positives, ++present;
  if (negatives > 0) recall_sum += c.tn / negatives, ++present;
  m.balanced_accuracy = present > 0 ? recall_sum / present : 0;
  m.precision = Ratio(c.tp, c.tp + c.fp, &m.precision_undefined);
  m.recall = Ratio(c.tp, positives, &m.recall_undefined);
  m.f1 = F1(m.precision, m.recall);
  m.f1_undefined = c.tp + c.fp + c.fn == 0;
  return m;
}

ThresholdMetrics MetricsAt(std::span<const float> labels, std::span<const float> p,
                           std::span<const float> weights, double threshold) {
  return MetricsFromConfusion(ConfusionAt(labels, p, weights, threshold), threshold);
}

double RocAuc(std::span<const float> labels, std::span<const float> p,
              std::span<const float> weights) {
  return stats::RocAuc(labels, p, weights);
}

double AveragePrecision(std::span<const float> labels, std::span<const float> p,
                        std::span<const float> weights) {
  CheckSizes("average_precision", labels, p.size(), 1, weights);
  double positives = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (IsPositive("average_precision", labels[i], i)) positives += WeightAt(weights, i);
  }
  if (!(positives > 0)) {
    ThrowInvalidArgument("average_precision: undefined without positive rows");
  }
  std::vector<size_t> order = DescendingOrder(p);
  double tp = 0, fp = 0, previous_recall = 0, area = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && p[order[j]] == p[order[i]]) {
      size_t r = order[j];
      (labels[r] == 1 ? tp : fp) += WeightAt(weights, r);
      ++j;
    }
    double recall = tp / positives;
    double precision = tp + fp > 0 ? tp / (tp + fp) : 0;
    area += (recall - previous_recall) * precision;
    previous_recall = recall;
    i = j;
  }
  return area;
}

double LogLoss(std::span<const float> labels, std::span<const float> p,
               std::span<const float> weights) {
  return stats::LogLoss(labels, p, weights, kLogLossEps);
}

double Brier(std::span<const float> labels, std::span<const float> p,
             std::span<const float> weights) {
  CheckSizes("brier", labels, p.size(), 1, weights);
  double sum = 0, total = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    double w = WeightAt(weights, i);
    double d = static_cast<double>(p[i]) - (IsPositive("brier", labels[i], i) ? 1.0 : 0.0);
    sum += w * d * d;
    total += w;
  }
  return Divide("brier", sum, total);
}

Calibration CalibrationCurve(std::span<const float> labels, std::span<const float> p,
                             std::span<const float> weights, size_t bins) {
  CheckSizes("calibration", labels, p.size(), 1, weights);
  if (bins == 0) ThrowInvalidArgument("calibration: the number of bins must be at least 1");
  // np.linspace(0, 1, bins + 1): k * step, the last edge exactly 1.
  const double step = 1.0 / static_cast<double>(bins);
  std::vector<double> edges(bins + 1);
  for (size_t k = 0; k <= bins; ++k) edges[k] = static_cast<double>(k) * step;
  edges[bins] = 1.0;
  Calibration out;
  out.bins.resize(bins);
  std::vector<double> sum_p(bins, 0), sum_pos(bins, 0);
  double total = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    double w = WeightAt(weights, i);
    double q = p[i];
    if (!(q >= 0 && q <= 1)) {
      ThrowInvalidArgument("calibration: probability of row " + std::to_string(i) + " is " +
                           std::to_string(q) + ", outside [0, 1]");
    }
    // np.searchsorted(edges[1:-1], q, side="left"): the inner edges strictly below q.
    size_t b = static_cast<size_t>(std::lower_bound(edges.begin() + 1, edges.end() - 1, q) -
                                   (edges.begin() + 1));
    CalibrationBin& bin = out.bins[b];
    ++bin.count;
    bin.weight += w;
    sum_p[b] += w * q;
    if (IsPositive("calibration", labels[i], i)) sum_pos[b] += w;
    total += w;
  }
  if (!(total > 0)) ThrowInvalidArgument("calibration: the weights sum to 0");
  for (size_t b = 0; b < bins; ++b) {
    CalibrationBin& bin = out.bins[b];
    bin.lower = edges[b];
    bin.upper = edges[b + 1];
    if (bin.weight > 0) {
      bin.mean_predicted = sum_p[b] / bin.weight;
      bin.fraction_positive = sum_pos[b] / bin.weight;
      out.expected_calibration_error +=
          bin.weight / total * std::fabs(bin.fraction_positive - bin.mean_predicted);
    } else {
      bin.mean_predicted = bin.fraction_positive = kNaN;
    }
  }
  return out;
}

ThresholdObjective ParseThresholdObjective(std::string_view name) {
  for (ThresholdObjective o :
       {ThresholdObjective::kAccuracy, ThresholdObjective::kBalancedAccuracy,
        ThresholdObjective::kPrecision, ThresholdObjective::kRecall, ThresholdObjective::kF1}) {
    if (ThresholdObjectiveName(o) == name) return o;
  }
  ThrowInvalidArgument("cannot choose a threshold by \"" + std::string(name) +
                       "\": use one of accuracy, balanced_accuracy, precision, recall, f1");
}

std::string_view ThresholdObjectiveName(ThresholdObjective objective) {
  switch (objective) {
    case ThresholdObjective::kAccuracy:
      return "accuracy";
    case ThresholdObjective::kBalancedAccuracy:
      return "balanced_accuracy";
    case ThresholdObjective::kPrecision:
      return "precision";
    case ThresholdObjective::kRecall:
      return "recall";
    case ThresholdObjective::kF1:
      return "f1";
  }
  return "?";
}

ThresholdMetrics ChooseThreshold(std::span<const float> labels, std::span<const float> p,
                                 ThresholdObjective objective, std::span<const float> weights) {
  CheckSizes("choose_threshold", labels, p.size(), 1, weights);
  double positives = 0, negatives = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    (IsPositive("choose_threshold", labels[i], i) ? positives : negatives) += WeightAt(weights, i);
  }
  if (!(positives + negatives > 0)) ThrowInvalidArgument("choose_threshold: the weights sum to 0");
  // Lower the threshold one distinct probability at a time; rows at or above it are predicted
  // 1. Scanning from high to low with >= keeps the smallest of equally good thresholds.
  std::vector<size_t> order = DescendingOrder(p);
  ThresholdMetrics best;
  bool have = false;
  BinaryConfusion c{negatives, 0, positives, 0};
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && p[order[j]] == p[order[i]]) {
      size_t r = order[j];
      double w = WeightAt(weights, r);
      if (labels[r] == 1) {
        c.tp += w, c.fn -= w;
      } else {
        c.fp += w, c.tn -= w;
      }
      ++j;
    }
    // Recount the complements so that rounding cannot leave them slightly negative.
    c.fn = std::max(0.0, c.fn);
    c.tn = std::max(0.0, c.tn);
    ThresholdMetrics m = MetricsFromConfusion(c, p[order[i]]);
    if (!have || ObjectiveValue(m, objective) >= ObjectiveValue(best, objective)) {
      best = m;
      have = true;
    }
    i = j;
  }
  // Report the confusion counted afresh at the chosen threshold, free of running-sum rounding.
  return MetricsAt(labels, p, weights, best.threshold);
}

// ---------------------------------------------------------------------------------------------

std::vector<size_t> PredictedClasses(std::span<const float> p, size_t classes) {
  if (classes == 0 || p.size() % classes != 0) {
    ThrowInvalidArgument("predicted classes: " + std::to_string(p.size()) +
                         " probabilities are not rows of " + std::to_string(classes));
  }
  std::vector<size_t> out(p.size() / classes);
  for (size_t i = 0; i < out.size(); ++i) {
    const float* row = p.data() + i * classes;
    out[i] = static_cast<size_t>(std::max_element(row, row + classes) - row);
  }
  return out;
}

double MultiLogLoss(std::span<const float> labels, std::span<const float> p, size_t classes,
                    std::span<const float> weights) {
  if (classes < 2) ThrowInvalidArgument("log_loss: needs at least 2 classes");
  CheckSizes("log_loss", labels, p.size(), classes, weights);
  double sum = 0, total = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    double w = WeightAt(weights, i);
    size_t c = ClassOf("log_loss", labels[i], classes, i);
    double row_sum = 0;
    for (size_t k = 0; k < classes; ++k) {
      row_sum += std::clamp(static_cast<double>(p[i * classes + k]), kLogLossEps, 1 - kLogLossEps);
    }
    double q = std::clamp(static_cast<double>(p[i * classes + c]), kLogLossEps, 1 - kLogLossEps);
    sum += -w * std::log(q / row_sum);
    total += w;
  }
  return Divide("log_loss", sum, total);
}

double MultiRocAucOvr(std::span<const float> labels, std::span<const float> p, size_t classes,
                      std::span<const float> weights) {
  if (classes < 2) ThrowInvalidArgument("roc_auc: needs at least 2 classes");
  CheckSizes("roc_auc", labels, p.size(), classes, weights);
  std::vector<float> is_class(labels.size()), score(labels.size());
  double sum = 0;
  for (size_t c = 0; c < classes; ++c) {
    bool seen = false;
    for (size_t i = 0; i < labels.size(); ++i) {
      bool match = ClassOf("roc_auc", labels[i], classes, i) == c;
      seen = seen || match;
      is_class[i] = match ? 1.0f : 0.0f;
      score[i] = p[i * classes + c];
    }
    if (!seen) {
      ThrowInvalidArgument("roc_auc: undefined one-vs-rest: no row of class " + std::to_string(c));
    }
    sum += stats::RocAuc(is_class, score, weights);
  }
  return sum / static_cast<double>(classes);
}

MulticlassMetrics ComputeMulticlass(std::span<const float> labels, std::span<const float> p,
                                    size_t classes, std::span<const float> weights) {
  if (classes < 2) ThrowInvalidArgument("multiclass metrics: needs at least 2 classes");
  CheckSizes("multiclass metrics", labels, p.size(), classes, weights);
  MulticlassMetrics m;
  m.classes = classes;
  m.confusion.assign(classes, std::vector<double>(classes, 0.0));
  m.per_class.resize(classes);
  std::vector<size_t> predicted = PredictedClasses(p, classes);
  double correct = 0, total = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    double w = WeightAt(weights, i);
    size_t truth = ClassOf("multiclass metrics", labels[i], classes, i);
    m.confusion[truth][predicted[i]] += w;
    m.per_class[truth].present = m.per_class[predicted[i]].present = true;
    if (truth == predicted[i]) correct += w;
    total += w;
  }
  m.accuracy = Divide("accuracy", correct, total);
  m.log_loss = MultiLogLoss(labels, p, classes, weights);
  // roc_auc_score needs every class among the labels; a weight-0 class still counts as seen.
  try {
    m.roc_auc = MultiRocAucOvr(labels, p, classes, weights);
  } catch (const Error&) {
    // Expected when a class has no row, or no row outside it; reported as undefined.
    m.roc_auc = kNaN;
    m.roc_auc_defined = false;
  }
  double tp_sum = 0, predicted_sum = 0, support_sum = 0;
  size_t present = 0;
  for (size_t c = 0; c < classes; ++c) {
    ClassMetrics& k = m.per_class[c];
    k.tp = m.confusion[c][c];
    for (size_t j = 0; j < classes; ++j) {
      k.support += m.confusion[c][j];
      k.predicted += m.confusion[j][c];
    }
    k.precision = Ratio(k.tp, k.predicted, &k.precision_undefined);
    k.recall = Ratio(k.tp, k.support, &k.recall_undefined);
    k.f1 = F1(k.precision, k.recall);
    tp_sum += k.tp;
    predicted_sum += k.predicted;
    support_sum += k.support;
    if (!k.present) continue;
    ++present;
    m.macro.precision += k.precision;
    m.macro.recall += k.recall;
    m.macro.f1 += k.f1;
    m.weighted.precision += k.support * k.precision;
    m.weighted.recall += k.support * k.recall;
    m.weighted.f1 += k.support * k.f1;
  }
  m.macro.precision /= static_cast<double>(present);
  m.macro.recall /= static_cast<double>(present);
  m.macro.f1 /= static_cast<double>(present);
  m.weighted.precision /= support_sum;
  m.weighted.recall /= support_sum;
  m.weighted.f1 /= support_sum;
  bool unused = false;
  m.micro.precision = Ratio(tp_sum, predicted_sum, &unused);
  m.micro.recall = Ratio(tp_sum, support_sum, &unused);
  m.micro.f1 = F1(m.micro.precision, m.micro.recall);
  return m;
}

// ---------------------------------------------------------------------------------------------

RegressionMetrics ComputeRegression(std::span<const float> labels,
                                    std::span<const float> predictions,
                                    std::span<const float> weights) {
  CheckSizes("regression metrics", labels, predictions.size(), 1, weights);
  const size_t n = labels.size();
  RegressionMetrics m;
  double total = 0, sum_y = 0, sum_diff = 0, sum_sq = 0, sum_pct = 0;
  std::vector<double> abs_error(n);
  for (size_t i = 0; i < n; ++i) {
    double w = WeightAt(weights, i);
    double y = labels[i], d = y - static_cast<double>(predictions[i]);
    if (!std::isfinite(y) || !std::isfinite(d)) {
      ThrowInvalidArgument("regression metrics: row " + std::to_string(i) +
                           " has a label or prediction that is not a finite number");
    }
    total += w;
    sum_y += w * y;
    sum_diff += w * d;
    sum_sq += w * d * d;
    abs_error[i] = std::fabs(d);
    sum_pct += w * abs_error[i] / std::max(std::fabs(y), DBL_EPSILON);
    m.max_error = std::max(m.max_error, abs_error[i]);
  }
  if (!(total > 0)) ThrowInvalidArgument("regression metrics: the weights sum to 0");
  m.mse = sum_sq / total;
  m.rmse = stats::Rmse(labels, predictions, weights);
  m.mae = stats::Mae(labels, predictions, weights);
  m.mape = sum_pct / total;
  const double mean_y = sum_y / total, mean_diff = sum_diff / total;
  double ss_tot = 0, ss_diff = 0;
  for (size_t i = 0; i < n; ++i) {
    double w = WeightAt(weights, i);
    double y = labels[i], d = y - static_cast<double>(predictions[i]);
    ss_tot += w * (y - mean_y) * (y - mean_y);
    ss_diff += w * (d - mean_diff) * (d - mean_diff);
  }
  // _assemble_r2_explained_variance with force_finite=True.
  auto assemble = [](double numerator, double denominator) {
    if (denominator != 0) return numerator != 0 ? 1 - numerator / denominator : 1.0;
    return numerator != 0 ? 0.0 : 1.0;
  };
  m.r2 = assemble(sum_sq, ss_tot);
  m.explained_variance = assemble(ss_diff / total, ss_tot / total);
  if (weights.empty()) {
    // np.median: the middle value, or the mean of the two middle values.
    std::vector<double> sorted = abs_error;
    size_t mid = n / 2;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<ptrdiff_t>(mid), sorted.end());
    double upper = sorted[mid];
    if (n % 2 == 1) {
      m.median_absolute_error = upper;
    } else {
      double lower =
          *std::max_element(sorted.begin(), sorted.begin() + static_cast<ptrdiff_t>(mid));
      m.median_absolute_error = (lower + upper) / 2;
    }
  } else {
    // sklearn.utils.stats._weighted_percentile(percentile=50): the first value in ascending
    // order whose cumulative weight reaches half the total.
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return abs_error[a] < abs_error[b]; });
    double cumulative = 0, half = 0.5 * total;
    size_t at = n - 1;
    for (size_t k = 0; k < n; ++k) {
      cumulative += weights[order[k]];
      if (cumulative >= half) {
        at = k;
        break;
      }
    }
    m.median_absolute_error = abs_error[order[at]];
  }
  return m;
}

// ---------------------------------------------------------------------------------------------

Json BinaryReport(std::span<const float> labels, std::span<const float> p,
                  std::span<const float> weights, const BinaryReportOptions& options) {
  CheckSizes("binary metrics", labels, p.size(), 1, weights);
  Json warnings = Json::array();
  ThresholdMetrics t = options.choose_threshold
                           ? ChooseThreshold(labels, p, *options.choose_threshold, weights)
                           : MetricsAt(labels, p, weights, options.threshold);
  if (t.precision_undefined) {
    warnings.push_back("precision is 0/0 (no row predicted 1); reported as 0");
  }
  if (t.recall_undefined) warnings.push_back("recall is 0/0 (no positive row); reported as 0");
  if (t.f1_undefined) {
    warnings.push_back("f1 is 0/0 (no row positive or predicted 1); reported as 0");
  }
  bool positives = t.confusion.tp + t.confusion.fn > 0;
  bool negatives = t.confusion.tn + t.confusion.fp > 0;
  double roc_auc = kNaN, average_precision = kNaN;
  if (positives && negatives) {
    roc_auc = RocAuc(labels, p, weights);
  } else {
    warnings.push_back(std::string("roc_auc is undefined with one class only (no ") +
                       (positives ? "negative" : "positive") + " rows); reported as null");
  }
  if (positives) {
    average_precision = AveragePrecision(labels, p, weights);
  } else {
    warnings.push_back("average_precision is undefined without positive rows; reported as null");
  }
  Calibration calibration = CalibrationCurve(labels, p, weights, options.calibration_bins);

  Json report;
  report["task"] = "binary";
  report["rows"] = labels.size();
  report["weighted"] = !weights.empty();
  report["threshold"] = t.threshold;
  report["threshold_objective"] = options.choose_threshold
                                      ? Json(ThresholdObjectiveName(*options.choose_threshold))
                                      : Json(nullptr);
  Json& metrics = report["metrics"];
  metrics["accuracy"] = t.accuracy;
  metrics["balanced_accuracy"] = t.balanced_accuracy;
  metrics["precision"] = t.precision;
  metrics["recall"] = t.recall;
  metrics["f1"] = t.f1;
  metrics["roc_auc"] = Number(roc_auc);
  metrics["average_precision"] = Number(average_precision);
  metrics["log_loss"] = LogLoss(labels, p, weights);
  metrics["brier"] = Brier(labels, p, weights);
  metrics["expected_calibration_error"] = calibration.expected_calibration_error;
  report["confusion_matrix"] = {{"tn", t.confusion.tn},
                                {"fp", t.confusion.fp},
                                {"fn", t.confusion.fn},
                                {"tp", t.confusion.tp}};
  Json& bins = report["calibration"] = Json::array();
  for (const CalibrationBin& b : calibration.bins) {
    bins.push_back({{"lower", b.lower},
                    {"upper", b.upper},
                    {"count", b.count},
                    {"weight", b.weight},
                    {"mean_predicted", Number(b.mean_predicted)},
                    {"fraction_positive", Number(b.fraction_positive)}});
  }
  report["warnings"] = std::move(warnings);
  return report;
}

Json MulticlassReport(std::span<const float> labels, std::span<const float> p, size_t classes,
                      std::span<const float> weights, std::span<const std::string> class_names) {
  if (!class_names.empty() && class_names.size() != classes) {
    ThrowInvalidArgument("multiclass report: " + std::to_string(class_names.size()) +
                         " class names for " + std::to_string(classes) + " classes");
  }
  MulticlassMetrics m = ComputeMulticlass(labels, p, classes, weights);
  Json warnings = Json::array();
  Json report;
  report["task"] = "multiclass";
  report["rows"] = labels.size();
  report["weighted"] = !weights.empty();
  report["classes"] = classes;
  Json& metrics = report["metrics"];
  metrics["accuracy"] = m.accuracy;
  metrics["log_loss"] = m.log_loss;
  metrics["roc_auc"] = Number(m.roc_auc);
  if (!m.roc_auc_defined) {
    warnings.push_back(
        "roc_auc (one-vs-rest) is undefined: some class has no row; "
        "reported as null");
  }
  metrics["precision_macro"] = m.macro.precision;
  metrics["recall_macro"] = m.macro.recall;
  metrics["f1_macro"] = m.macro.f1;
  metrics["precision_micro"] = m.micro.precision;
  metrics["recall_micro"] = m.micro.recall;
  metrics["f1_micro"] = m.micro.f1;
  metrics["precision_weighted"] = m.weighted.precision;
  metrics["recall_weighted"] = m.weighted.recall;
  metrics["f1_weighted"] = m.weighted.f1;
  report["confusion_matrix"] = m.confusion;
  Json& per_class = report["per_class"] = Json::array();
  for (size_t c = 0; c < classes; ++c) {
    const ClassMetrics& k = m.per_class[c];
    std::string name = class_names.empty() ? std::to_string(c) : class_names[c];
    per_class.push_back({{"class", c},
                         {"name", name},
                         {"support", k.support},
                         {"precision", k.precision},
                         {"recall", k.recall},
                         {"f1", k.f1}});
    if (k.present && k.precision_undefined) {
      warnings.push_back("precision of class " + name + " is 0/0 (never predicted); reported as 0");
    }
    if (k.present && k.recall_undefined) {
      warnings.push_back("recall of class " + name + " is 0/0 (no row); reported as 0");
    }
  }
  report["warnings"] = std::move(warnings);
  return report;
}

Json RegressionReport(std::span<const float> labels, std::span<const float> predictions,
                      std::span<const float> weights) {
  RegressionMetrics m = ComputeRegression(labels, predictions, weights);
  Json report;
  report["task"] = "regression";
  report["rows"] = labels.size();
  report["weighted"] = !weights.empty();
  report["metrics"] = {{"rmse", m.rmse},
                       {"mse", m.mse},
                       {"mae", m.mae},
                       {"r2", m.r2},
                       {"mape", m.mape},
                       {"median_absolute_error", m.median_absolute_error},
                       {"max_error", m.max_error},
                       {"explained_variance", m.explained_variance}};
  report["warnings"] = Json::array();
  return report;
}

}  // namespace mloop::eval
