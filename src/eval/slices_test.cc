#include "eval/slices.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "core/testing.h"

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

table::Column Texts(const std::vector<std::optional<std::string>>& values,
                    table::DataType type = table::DataType::kString) {
  table::Column c("c", type);
  for (const auto& v : values) v ? c.AppendString(*v) : c.AppendNull();
  return c;
}

TEST(SlicesTest, GroupsByValueWithNullsLast) {
  Groups g = GroupsByValue(Texts({"b", std::nullopt, "a", "b"}));
  EXPECT_EQ(g.column, "c");
  EXPECT_EQ(g.names, (std::vector<std::string>{"b", "a", "(null)"}));
  EXPECT_EQ(g.of_row, (std::vector<uint32_t>{0, 2, 1, 0}));
  EXPECT_EQ(GroupCounts(g), (std::vector<size_t>{2, 1, 1}));
}

TEST(SlicesTest, GroupsByEdgesAndQuantiles) {
  table::Column c("x", table::DataType::kFloat64);
  for (double v : {1.0, 2.0, 3.0, 4.0, 5.0}) c.AppendDouble(v);
  c.AppendNull();
  std::vector<double> edges = {2, 4};
  Groups g = GroupsByEdges(c, edges);
  EXPECT_EQ(g.names, (std::vector<std::string>{"(-inf, 2)", "[2, 4)", "[4, inf)", "(null)"}));
  EXPECT_EQ(g.of_row, (std::vector<uint32_t>{0, 1, 1, 2, 2, 3}));
  // Quartiles of 1..5 (linear): 2, 3, 4.
  Groups q = GroupsByQuantiles(c, 4);
  EXPECT_EQ(q.names,
            (std::vector<std::string>{"(-inf, 2)", "[2, 3)", "[3, 4)", "[4, inf)", "(null)"}));
  EXPECT_EQ(q.of_row, (std::vector<uint32_t>{0, 1, 2, 3, 3, 4}));
  ExpectError(ErrorCode::kInvalidArgument, {"column c", "not numeric"},
              [] { GroupsByQuantiles(Texts({"a"}), 2); });
  std::vector<double> bad = {3, 3};
  ExpectError(ErrorCode::kInvalidArgument, {"strictly ascending"}, [&] { GroupsByEdges(c, bad); });
}

TEST(SlicesTest, SliceReportsComputeEachGroupAlone) {
  Json slices = SliceReports(ThreeGroups(), 2, kLabels, kScores);
  ASSERT_EQ(slices.size(), 4u);
  EXPECT_EQ(slices[0]["slice"], "A");
  EXPECT_EQ(slices[0]["rows"], 4);
  EXPECT_DOUBLE_EQ(slices[0]["metrics"]["accuracy"].get<double>(), 0.5);
  // C has no positive row: its ROC AUC is null with a warning.
  EXPECT_TRUE(slices[2]["metrics"]["roc_auc"].is_null());
  EXPECT_FALSE(slices[3].contains("metrics"));
  EXPECT_EQ(slices[3]["rows"], 0);
  // All of a slice's weights 0: reported as an error of that slice only.
  std::vector<float> w = {1, 1, 1, 1, 0, 0, 0, 1, 1};
  Json weighted = SliceReports(ThreeGroups(), 2, kLabels, kScores, w);
  EXPECT_TRUE(test::Contains(weighted[1]["error"].get<std::string>(), "weights sum to 0"));
  EXPECT_TRUE(weighted[0].contains("metrics"));
}

}  // namespace
}  // namespace mloop::eval
