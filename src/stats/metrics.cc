#include "stats/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/error.h"

namespace mloop::stats {
namespace {

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
  if (!(w >= 0)) ThrowInvalidArgument("weight " + std::to_string(i) + " is negative or NaN");
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

double Divide(const char* what, double sum, double weight) {
  if (!(weight > 0)) ThrowInvalidArgument(std::string(what) + ": the weights sum to 0");
  return sum / weight;
}

}  // namespace

double RocAuc(std::span<const float> labels, std::span<const float> scores,
              std::span<const float> weights) {
  CheckSizes("roc_auc", labels, scores.size(), 1, weights);
  std::vector<size_t> order(labels.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Walk up the scores a group of equal scores at a time: each positive in a group beats the
  // negatives below the group and ties with half of those in it.
  double negatives_below = 0, positives = 0, negatives = 0, area = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    double group_pos = 0, group_neg = 0;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) {
      size_t r = order[j];
      double w = WeightAt(weights, r);
      if (ClassOf("roc_auc", labels[r], 2, r) == 1) {
        group_pos += w;
      } else {
        group_neg += w;
      }
      ++j;
    }
    area += group_pos * (negatives_below + 0.5 * group_neg);
    negatives_below += group_neg;
    positives += group_pos;
    negatives += group_neg;
    i = j;
  }
  if (!(positives > 0) || !(negatives > 0)) {
    ThrowInvalidArgument(std::string("roc_auc: undefined with only one class (no ") +
                         (positives > 0 ? "negative" : "positive") + " rows)");
  }
  return area / (positives * negatives);
}

double LogLoss(std::span<const float> labels, std::span<const float> p,
               std::span<const float> weights, double eps) {
  CheckSizes("log_loss", labels, p.size(), 1, weights);
  double sum = 0, total = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    double w = WeightAt(weights, i);
    double q = std::clamp(static_cast<double>(p[i]), eps, 1 - eps);
    sum += w * (ClassOf("log_loss", labels[i], 2, i) == 1 ? -std::log(q) : -std::log1p(-q));
    total += w;
  }
  return Divide("log_loss", sum, total);
}

double MultiLogLoss(std::span<const float> labels, std::span<const float> p, size_t classes,
                    std::span<const float> weights, double eps) {
  CheckSizes("mlogloss", labels, p.size(), classes, weights);
  double sum = 0, total = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    double w = WeightAt(weights, i);
    size_t c = ClassOf("mlogloss", labels[i], classes, i);
    double q = std::clamp(static_cast<double>(p[i * classes + c]), eps, 1 - eps);
    sum += -w * std::log(q);
    total += w;
  }
  return Divide("mlogloss", sum, total);
}

double MultiError(std::span<const float> labels, std::span<const float> p, size_t classes,
                  std::span<const float> weights) {
  CheckSizes("merror", labels, p.size(), classes, weights);
  double wrong = 0, total = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    double w = WeightAt(weights, i);
    const float* row = p.data() + i * classes;
    size_t best = static_cast<size_t>(std::max_element(row, row + classes) - row);
    if (best != ClassOf("merror", labels[i], classes, i)) wrong += w;
    total += w;
  }
  return Divide("merror", wrong, total);
}

double BinaryError(std::span<const float> labels, std::span<const float> p,
                   std::span<const float> weights, double threshold) {
  CheckSizes("error", labels, p.size(), 1, weights);
  double wrong = 0, total = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    double w = WeightAt(weights, i);
    bool predicted = p[i] >= threshold;
    if (predicted != (ClassOf("error", labels[i], 2, i) == 1)) wrong += w;
    total += w;
  }
  return Divide("error", wrong, total);
}

double Rmse(std::span<const float> labels, std::span<const float> predictions,
            std::span<const float> weights) {
  CheckSizes("rmse", labels, predictions.size(), 1, weights);
  double sum = 0, total = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    double w = WeightAt(weights, i);
    double d = static_cast<double>(labels[i]) - predictions[i];
    sum += w * d * d;
    total += w;
  }
  return std::sqrt(Divide("rmse", sum, total));
}

double Mae(std::span<const float> labels, std::span<const float> predictions,
           std::span<const float> weights) {
  CheckSizes("mae", labels, predictions.size(), 1, weights);
  double sum = 0, total = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    double w = WeightAt(weights, i);
    sum += w * std::fabs(static_cast<double>(labels[i]) - predictions[i]);
    total += w;
  }
  return Divide("mae", sum, total);
}

std::vector<std::string> TaskMetricNames(size_t classes) {
  if (classes == 0) return {"rmse", "mae"};
  if (classes == 2) return {"logloss", "auc"};
  return {"mlogloss", "merror"};
}

std::map<std::string, double> TaskMetrics(size_t classes, std::span<const float> labels,
                                          std::span<const float> predictions,
                                          std::span<const float> weights) {
  std::map<std::string, double> m;
  if (classes == 0) {
    m["rmse"] = Rmse(labels, predictions, weights);
    m["mae"] = Mae(labels, predictions, weights);
  } else if (classes == 2) {
    m["logloss"] = LogLoss(labels, predictions, weights);
    m["auc"] = RocAuc(labels, predictions, weights);
  } else {
    m["mlogloss"] = MultiLogLoss(labels, predictions, classes, weights);
    m["merror"] = MultiError(labels, predictions, classes, weights);
  }
  return m;
}

}  // namespace mloop::stats
