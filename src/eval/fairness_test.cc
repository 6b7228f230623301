#include "eval/fairness.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/testing.h"
#include "eval/slices.h"

namespace mloop::eval {
namespace {

using test::ExpectError;

// Group A: labels 1,1,0,0 predicted 1,0,1,0 (rates all 1/2). Group B: labels 1,0,0 predicted
// 1,1,0 (selection 2/3, TPR 1, FPR 1/2). Group C: labels 0,0 predicted 0,0 (no positives).
// Group D has no rows.
Groups ThreeGroups() {
  Groups g;
  g.column = "group";
  g.names = {"A", "B", "C", "D"};
  g.of_row = {0, 0, 0, 0, 1, 1, 1, 2, 2};
  return g;
}
const std::vector<float> kLabels = {1, 1, 0, 0, 1, 0, 0, 0, 0};
const std::vector<float> kScores = {0.9f, 0.2f, 0.7f, 0.1f, 0.8f, 0.6f, 0.3f, 0.1f, 0.2f};

TEST(FairnessTest, TwoGroups) {
  Groups g = ThreeGroups();
  g.of_row[7] = g.of_row[8] = Groups::kNoGroup;  // Leave C out.
  FairnessResult r = ComputeFairness(g, kLabels, kScores);
  ASSERT_EQ(r.groups.size(), 4u);
  EXPECT_EQ(r.groups[0].count, 4u);
  EXPECT_DOUBLE_EQ(r.groups[0].selection_rate, 0.5);
  EXPECT_DOUBLE_EQ(r.groups[1].selection_rate, 2.0 / 3);
  EXPECT_DOUBLE_EQ(r.groups[1].true_positive_rate, 1.0);
  EXPECT_DOUBLE_EQ(r.groups[1].false_positive_rate, 0.5);
  EXPECT_DOUBLE_EQ(r.groups[1].accuracy, 2.0 / 3);
  EXPECT_TRUE(r.groups[2].empty);
  EXPECT_TRUE(std::isnan(r.groups[3].selection_rate));
  EXPECT_DOUBLE_EQ(r.demographic_parity_difference, 2.0 / 3 - 0.5);
  EXPECT_DOUBLE_EQ(r.demographic_parity_ratio, 0.75);
  EXPECT_DOUBLE_EQ(r.equal_opportunity_difference, 0.5);
  EXPECT_DOUBLE_EQ(r.equal_opportunity_ratio, 0.5);
  EXPECT_DOUBLE_EQ(r.equalized_odds_difference, 0.5);  // FPR difference 0.
  EXPECT_DOUBLE_EQ(r.equalized_odds_ratio, 0.5);       // FPR ratio 1.
  // The largest group (A) is privileged by default.
  EXPECT_EQ(r.disparate_impact.privileged, std::vector<std::string>{"A"});
  ASSERT_EQ(r.disparate_impact.by_group.size(), 1u);
  EXPECT_EQ(r.disparate_impact.by_group[0].first, "B");
  EXPECT_DOUBLE_EQ(r.disparate_impact.min, 4.0 / 3);
  EXPECT_DOUBLE_EQ(r.disparate_impact.pooled, 4.0 / 3);
}

TEST(FairnessTest, GroupWithoutPositivesHasRateZeroAsFairlearn) {
  FairnessOptions options;
  options.privileged = {1};
  FairnessResult r = ComputeFairness(ThreeGroups(), kLabels, kScores, {}, options);
  EXPECT_TRUE(r.groups[2].no_positives);
  EXPECT_EQ(r.groups[2].true_positive_rate, 0.0);
  EXPECT_EQ(r.groups[2].selection_rate, 0.0);
  EXPECT_DOUBLE_EQ(r.demographic_parity_difference, 2.0 / 3);
  EXPECT_EQ(r.demographic_parity_ratio, 0.0);
  EXPECT_EQ(r.equal_opportunity_difference, 1.0);
  EXPECT_EQ(r.equalized_odds_difference, 1.0);
  EXPECT_EQ(r.equalized_odds_ratio, 0.0);
  // A against B: 0.5 / (2/3); C: 0; A and C together: 2 of 6 selected.
  ASSERT_EQ(r.disparate_impact.by_group.size(), 2u);
  EXPECT_DOUBLE_EQ(r.disparate_impact.by_group[0].second, 0.75);
  EXPECT_EQ(r.disparate_impact.by_group[1].second, 0.0);
  EXPECT_EQ(r.disparate_impact.min, 0.0);
  EXPECT_DOUBLE_EQ(r.disparate_impact.pooled, 0.5);
  Json j = FairnessToJson(r);
  EXPECT_EQ(j["groups"][3]["selection_rate"], nullptr);  // D: empty.
  EXPECT_EQ(j["disparate_impact"]["privileged"][0], "B");
  EXPECT_DOUBLE_EQ(j["disparate_impact"]["by_group"]["A"].get<double>(), 0.75);
}

TEST(FairnessTest, ZeroOverZeroIsNaN) {
  // At threshold 1 nobody is selected: the selection-rate ratio is 0/0; disparate impact too.
  FairnessOptions options;
  options.threshold = 1.0;
  FairnessResult r = ComputeFairness(ThreeGroups(), kLabels, kScores, {}, options);
  EXPECT_EQ(r.demographic_parity_difference, 0.0);
  EXPECT_TRUE(std::isnan(r.demographic_parity_ratio));
  EXPECT_TRUE(std::isnan(r.equalized_odds_ratio));
  EXPECT_TRUE(std::isnan(r.disparate_impact.min));
  Json j = FairnessToJson(r);
  EXPECT_TRUE(j["demographic_parity_ratio"].is_null());
}

TEST(FairnessTest, WeightsMakeRatesWeightedShares) {
  Groups g = ThreeGroups();
  // Weight 3 on A's selected negative: A selects 1 + 3 of 1 + 1 + 3 + 1.
  std::vector<float> w = {1, 1, 3, 1, 1, 1, 1, 1, 1};
  FairnessResult r = ComputeFairness(g, kLabels, kScores, w);
  EXPECT_EQ(r.groups[0].count, 4u);
  EXPECT_EQ(r.groups[0].weight, 6.0);
  EXPECT_DOUBLE_EQ(r.groups[0].selection_rate, 4.0 / 6);
  EXPECT_DOUBLE_EQ(r.groups[0].false_positive_rate, 0.75);
}

TEST(FairnessTest, RejectsBadInput) {
  FairnessOptions options;
  options.privileged = {7};
  ExpectError(ErrorCode::kInvalidArgument, {"privileged group 7", "4 groups"},
              [&] { ComputeFairness(ThreeGroups(), kLabels, kScores, {}, options); });
  ExpectError(ErrorCode::kInvalidArgument, {"label of row 0"}, [] {
    std::vector<float> y = {2, 0, 0, 0, 0, 0, 0, 0, 0};
    ComputeFairness(ThreeGroups(), y, kScores);
  });
  ExpectError(ErrorCode::kInvalidArgument, {"do not match"}, [] {
    std::vector<float> y = {1};
    ComputeFairness(ThreeGroups(), y, y);
  });
}

}  // namespace
}  // namespace mloop::eval
