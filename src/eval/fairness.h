// Group fairness of a binary classifier for one sensitive column: per-group rates and the
// between-group disparities of Fairlearn (fairlearn.metrics, method="between_groups") and
// AIF360's disparate impact, over labels and probabilities held in memory. Predictions are
// hard: a row is predicted 1 when p >= threshold, as in eval/metrics.h.
//
// The groups are those of eval/slices.h (Groups, one per value of the sensitive column; rows
// with kNoGroup are left out). With optional sample weights every rate is a weighted share,
// as Fairlearn's metrics take sample_weight. Pure functions, safe from any thread. Errors
// (mloop::Error invalid_argument): sizes that disagree, labels other than 0/1, a negative
// weight, a privileged group index out of range, no row in any group.
#ifndef MLOOP_EVAL_FAIRNESS_H_
#define MLOOP_EVAL_FAIRNESS_H_

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "core/json.h"
#include "eval/slices.h"

namespace mloop::eval {

// The rates of one group (Fairlearn's metric functions of the same names):
//   selection_rate      = predicted 1 / all rows of the group            selection_rate
//   true_positive_rate  = tp / (tp + fn)                                 true_positive_rate
//   false_positive_rate = fp / (fp + tn)                                 false_positive_rate
//   accuracy            = (tp + tn) / all rows                           accuracy_score
// A group without positive rows has true_positive_rate 0, one without negative rows
// false_positive_rate 0: Fairlearn computes them with scikit-learn's
// confusion_matrix(normalize="true"), which turns 0/0 into 0. The flags record it.
// A group with no rows (or all weights 0) is `empty`: its rates are NaN and it takes no part
// in the disparities below.
struct GroupFairness {
  std::string name;
  size_t count = 0;   // Rows (unweighted), Fairlearn's `count`.
  double weight = 0;  // Sum of the rows' weights (= count without weights).
  double selection_rate = 0, true_positive_rate = 0, false_positive_rate = 0, accuracy = 0;
  bool empty = false, no_positives = false, no_negatives = false;
};

struct FairnessOptions {
  double threshold = 0.5;
  // AIF360's privileged group(s), as indexes into Groups::names: their rows together form the
  // privileged side. Empty: the group with the most rows (the first of equal ones).
  std::vector<size_t> privileged;
};

// Disparities over the non-empty groups, M(g) one group's rate:
//   *_difference = max_g M(g) - min_g M(g)
//   *_ratio      = min_g M(g) / max_g M(g); NaN when the max is 0 (0/0, as in Fairlearn)
//   demographic_parity_{difference,ratio}   on selection_rate
//   equal_opportunity_{difference,ratio}    on true_positive_rate
//   equalized_odds_difference = max(TPR difference, FPR difference)
//   equalized_odds_ratio      = min(TPR ratio, FPR ratio); NaN if either ratio is NaN
// With a single non-empty group the differences are 0 and the ratios 1 (or NaN on 0).
//
// AIF360's disparate_impact = P(predicted 1 | unprivileged) / P(predicted 1 | privileged):
//   by_group: each non-empty unprivileged group g against the privileged side;
//   min:      the smallest of those (NaN when there is none);
//   pooled:   all unprivileged rows together against the privileged side (AIF360's value
//             when every other group is listed as unprivileged).
// x/0 is +inf for x > 0 and NaN for x = 0; JSON writes both as null.
struct DisparateImpact {
  std::vector<std::string> privileged;
  std::vector<std::pair<std::string, double>> by_group;
  double min = 0, pooled = 0;
};

struct FairnessResult {
  std::string column;
  double threshold = 0.5;
  std::vector<GroupFairness> groups;
  double demographic_parity_difference = 0, demographic_parity_ratio = 0;
  double equal_opportunity_difference = 0, equal_opportunity_ratio = 0;
  double equalized_odds_difference = 0, equalized_odds_ratio = 0;
  DisparateImpact disparate_impact;
};

FairnessResult ComputeFairness(const Groups& groups, std::span<const float> labels,
                               std::span<const float> p, std::span<const float> weights = {},
                               const FairnessOptions& options = {});

// {"column", "threshold",
//  "groups": [{"group", "count", "weight", "selection_rate", "true_positive_rate",
//              "false_positive_rate", "accuracy"}],
//  "demographic_parity_difference", "demographic_parity_ratio",
//  "equal_opportunity_difference", "equal_opportunity_ratio",
//  "equalized_odds_difference", "equalized_odds_ratio",
//  "disparate_impact": {"privileged": [names], "by_group": {name: ratio}, "min", "pooled"}}
// NaN and infinite values are null.
Json FairnessToJson(const FairnessResult& result);

}  // namespace mloop::eval

#endif  // MLOOP_EVAL_FAIRNESS_H_
