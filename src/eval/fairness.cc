#include "eval/fairness.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace mloop::eval {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// a / b with the documented 0/0 = NaN and x/0 = +inf.
double RatioOf(double a, double b) {
  if (b == 0) return a == 0 ? kNaN : kInf;
  return a / b;
}

struct Spread {
  double difference = 0, ratio = 0;
};

Spread SpreadOf(const std::vector<GroupFairness>& groups, double GroupFairness::*rate) {
  double lo = kInf, hi = -kInf;
  for (const GroupFairness& g : groups) {
    if (g.empty) continue;
    lo = std::min(lo, g.*rate);
    hi = std::max(hi, g.*rate);
  }
  if (lo > hi) return {kNaN, kNaN};
  return {hi - lo, hi == 0 ? kNaN : lo / hi};
}

Json Number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

}  // namespace

FairnessResult ComputeFairness(const Groups& groups, std::span<const float> labels,
                               std::span<const float> p, std::span<const float> weights,
                               const FairnessOptions& options) {
  if (groups.of_row.size() != labels.size() || p.size() != labels.size() ||
      (!weights.empty() && weights.size() != labels.size())) {
    ThrowInvalidArgument("fairness: " + std::to_string(groups.of_row.size()) + " grouped rows, " +
                         std::to_string(labels.size()) + " labels, " + std::to_string(p.size()) +
                         " predictions and " + std::to_string(weights.size()) +
                         " weights do not match");
  }
  const size_t k = groups.names.size();
  std::vector<size_t> counts = GroupCounts(groups);
  // Weighted confusion counts per group.
  std::vector<BinaryConfusion> confusion(k);
  for (size_t i = 0; i < labels.size(); ++i) {
    uint32_t g = groups.of_row[i];
    if (g == Groups::kNoGroup) continue;
    double w = weights.empty() ? 1.0 : weights[i];
    if (!(w >= 0) || std::isinf(w)) {
      ThrowInvalidArgument("fairness: weight of row " + std::to_string(i) +
                           " is negative or not finite");
    }
    if (labels[i] != 0 && labels[i] != 1) {
      ThrowInvalidArgument("fairness: label of row " + std::to_string(i) + " is " +
                           std::to_string(labels[i]) + ", not 0 or 1");
    }
    bool predicted = p[i] >= options.threshold;
    BinaryConfusion& c = confusion[g];
    (labels[i] == 1 ? (predicted ? c.tp : c.fn) : (predicted ? c.fp : c.tn)) += w;
  }

  FairnessResult r;
  r.column = groups.column;
  r.threshold = options.threshold;
  r.groups.resize(k);
  bool any = false;
  for (size_t g = 0; g < k; ++g) {
    GroupFairness& out = r.groups[g];
    const BinaryConfusion& c = confusion[g];
    out.name = groups.names[g];
    out.count = counts[g];
    out.weight = c.total();
    out.empty = !(out.weight > 0);
    if (out.empty) {
      out.selection_rate = out.true_positive_rate = out.false_positive_rate = out.accuracy = kNaN;
      continue;
    }
    any = true;
    out.selection_rate = (c.tp + c.fp) / out.weight;
    out.accuracy = (c.tp + c.tn) / out.weight;
    out.no_positives = !(c.tp + c.fn > 0);
    out.no_negatives = !(c.tn + c.fp > 0);
    out.true_positive_rate = out.no_positives ? 0 : c.tp / (c.tp + c.fn);
    out.false_positive_rate = out.no_negatives ? 0 : c.fp / (c.fp + c.tn);
  }
  if (!any) ThrowInvalidArgument("fairness: no group of " + groups.column + " has rows");

  Spread dp = SpreadOf(r.groups, &GroupFairness::selection_rate);
  Spread tpr = SpreadOf(r.groups, &GroupFairness::true_positive_rate);
  Spread fpr = SpreadOf(r.groups, &GroupFairness::false_positive_rate);
  r.demographic_parity_difference = dp.difference;
  r.demographic_parity_ratio = dp.ratio;
  r.equal_opportunity_difference = tpr.difference;
  r.equal_opportunity_ratio = tpr.ratio;
  r.equalized_odds_difference = std::max(tpr.difference, fpr.difference);
  r.equalized_odds_ratio =
      std::isnan(tpr.ratio) || std::isnan(fpr.ratio) ? kNaN : std::min(tpr.ratio, fpr.ratio);

  std::vector<size_t> privileged = options.privileged;
  if (privileged.empty()) {
    privileged.push_back(
        static_cast<size_t>(std::max_element(counts.begin(), counts.end()) - counts.begin()));
  }
  std::vector<bool> is_privileged(k, false);
  for (size_t g : privileged) {
    if (g >= k) {
      ThrowInvalidArgument("fairness: privileged group " + std::to_string(g) + " of " +
                           groups.column + " does not exist (" + std::to_string(k) + " groups)");
    }
    is_privileged[g] = true;
  }
  double priv_selected = 0, priv_weight = 0, unpriv_selected = 0, unpriv_weight = 0;
  for (size_t g = 0; g < k; ++g) {
    const BinaryConfusion& c = confusion[g];
    (is_privileged[g] ? priv_selected : unpriv_selected) += c.tp + c.fp;
    (is_privileged[g] ? priv_weight : unpriv_weight) += c.total();
  }
  DisparateImpact& di = r.disparate_impact;
  for (size_t g : privileged) di.privileged.push_back(groups.names[g]);
  const double priv_rate = priv_weight > 0 ? priv_selected / priv_weight : kNaN;
  di.min = kNaN;
  for (size_t g = 0; g < k; ++g) {
    if (is_privileged[g] || r.groups[g].empty) continue;
    double ratio = std::isnan(priv_rate) ? kNaN : RatioOf(r.groups[g].selection_rate, priv_rate);
    di.by_group.emplace_back(groups.names[g], ratio);
    if (std::isnan(di.min) || ratio < di.min) di.min = ratio;
  }
  di.pooled = unpriv_weight > 0 && !std::isnan(priv_rate)
                  ? RatioOf(unpriv_selected / unpriv_weight, priv_rate)
                  : kNaN;
  return r;
}

Json FairnessToJson(const FairnessResult& r) {
  Json out;
  out["column"] = r.column;
  out["threshold"] = r.threshold;
  Json& groups = out["groups"] = Json::array();
  for (const GroupFairness& g : r.groups) {
    groups.push_back({{"group", g.name},
                      {"count", g.count},
                      {"weight", g.weight},
                      {"selection_rate", Number(g.selection_rate)},
                      {"true_positive_rate", Number(g.true_positive_rate)},
                      {"false_positive_rate", Number(g.false_positive_rate)},
                      {"accuracy", Number(g.accuracy)}});
  }
  out["demographic_parity_difference"] = Number(r.demographic_parity_difference);
  out["demographic_parity_ratio"] = Number(r.demographic_parity_ratio);
  out["equal_opportunity_difference"] = Number(r.equal_opportunity_difference);
  out["equal_opportunity_ratio"] = Number(r.equal_opportunity_ratio);
  out["equalized_odds_difference"] = Number(r.equalized_odds_difference);
  out["equalized_odds_ratio"] = Number(r.equalized_odds_ratio);
  Json by_group = Json::object();
  for (const auto& [name, ratio] : r.disparate_impact.by_group) by_group[name] = Number(ratio);
  out["disparate_impact"] = {{"privileged", r.disparate_impact.privileged},
                             {"by_group", std::move(by_group)},
                             {"min", Number(r.disparate_impact.min)},
                             {"pooled", Number(r.disparate_impact.pooled)}};
  return out;
}

}  // namespace mloop::eval
