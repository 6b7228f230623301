#include "model/shap.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "core/testing.h"
#include "model/linear_model.h"
#include "model/tree_ensemble.h"

namespace mloop::model {
namespace {

using test::ExpectError;

const float kNaN = std::nanf("");

// One tree in XGBoost's JSON arrays, with node covers. Leaves have left = right = -1 and keep
// their value in split_conditions, as XGBoost writes them.
struct TreeSpec {
  std::vector<int> left, right, feature, default_left;
  std::vector<float> condition, cover;

  int Add(int f, float c, bool dl, float h) {
    left.push_back(-1);
    right.push_back(-1);
    feature.push_back(f);
    condition.push_back(c);
    default_left.push_back(dl ? 1 : 0);
    cover.push_back(h);
    return static_cast<int>(left.size()) - 1;
  }
  int Leaf(float value, float h) { return Add(0, value, false, h); }
  // A split added before its children; Link sets them.
  int Split(int f, float threshold, bool dl, float h) { return Add(f, threshold, dl, h); }
  void Link(int node, int l, int r) {
    left[node] = l;
    right[node] = r;
  }
};

Json TreeJson(const TreeSpec& t, int id) {
  Json j;
  j["tree_param"] = {{"num_nodes", std::to_string(t.left.size())},
                     {"num_feature", "0"},
                     {"num_deleted", "0"},
                     {"size_leaf_vector", "0"}};
  j["id"] = id;
  j["left_children"] = t.left;
  j["right_children"] = t.right;
  j["split_indices"] = t.feature;
  j["split_conditions"] = t.condition;
  j["default_left"] = t.default_left;
  j["split_type"] = std::vector<int>(t.left.size(), 0);
  j["sum_hessian"] = t.cover;
  return j;
}

Json ModelJson(const std::vector<TreeSpec>& trees, const std::vector<int>& tree_info,
               const std::string& objective, const std::string& base_score, size_t features,
               size_t num_class = 0) {
  Json trees_json = Json::array();
  for (size_t i = 0; i < trees.size(); ++i)
    trees_json.push_back(TreeJson(trees[i], static_cast<int>(i)));
  Json m;
  m["version"] = {1, 7, 4};
  m["learner"]["gradient_booster"] = {
      {"name", "gbtree"},
      {"model",
       {{"gbtree_model_param",
         {{"num_parallel_tree", "1"}, {"num_trees", std::to_string(trees.size())}}},
        {"trees", trees_json},
        {"tree_info", tree_info}}}};
  m["learner"]["learner_model_param"] = {{"base_score", base_score},
                                         {"num_class", std::to_string(num_class)},
                                         {"num_feature", std::to_string(features)},
                                         {"num_target", "1"}};
  m["learner"]["objective"] = {{"name", objective}};
  return m;
}

// x0 < 0.5 ? 1 : -1 with covers 30 and 70 (mean -0.4); missing goes right.
TreeSpec Stump() {
  TreeSpec t;
  int root = t.Split(0, 0.5f, false, 100);
  int l = t.Leaf(1.0f, 30);
  int r = t.Leaf(-1.0f, 70);
  t.Link(root, l, r);
  return t;
}

// x0 < 0.5 ? (x1 < 1 ? 2 : 4) : (x1 < 2 ? -1 : 3), covers 100 / 40, 60 / 10, 30, 20, 40;
// missing x0 goes right, missing x1 left. The mean is 0.4 * 3.5 + 0.6 * 5/3 = 2.4.
TreeSpec TwoLevels() {
  TreeSpec t;
  int root = t.Split(0, 0.5f, false, 100);
  int a = t.Split(1, 1.0f, true, 40);
  int a_l = t.Leaf(2.0f, 10);
  int a_r = t.Leaf(4.0f, 30);
  t.Link(a, a_l, a_r);
  int b = t.Split(1, 2.0f, true, 60);
  int b_l = t.Leaf(-1.0f, 20);
  int b_r = t.Leaf(3.0f, 40);
  t.Link(b, b_l, b_r);
  t.Link(root, a, b);
  return t;
}

// The path-dependent value function TreeSHAP explains, by brute force: a feature in `known`
// follows the row (NaN to the default side), any other splits the background by cover.
double Value(const TreeSpec& t, int node, const float* row, uint32_t known) {
  if (t.left[node] == -1) return t.condition[node];
  int l = t.left[node], r = t.right[node];
  int f = t.feature[node];
  if (known & (1u << f)) {
    float v = row[f];
    bool go_left = std::isnan(v) ? t.default_left[node] != 0 : v < t.condition[node];
    return Value(t, go_left ? l : r, row, known);
  }
  return (t.cover[l] * Value(t, l, row, known) + t.cover[r] * Value(t, r, row, known)) /
         t.cover[node];
}

// Shapley values of Value over `features` features by enumeration of every subset.
std::vector<double> BruteForceShap(const TreeSpec& t, const float* row, size_t features) {
  std::vector<double> phi(features + 1, 0.0);
  std::vector<double> factorial(features + 1, 1.0);
  for (size_t i = 1; i <= features; ++i) factorial[i] = factorial[i - 1] * i;
  for (size_t i = 0; i < features; ++i) {
    for (uint32_t s = 0; s < (1u << features); ++s) {
      if (s & (1u << i)) continue;
      size_t size = std::popcount(s);
      double w = factorial[size] * factorial[features - size - 1] / factorial[features];
      phi[i] += w * (Value(t, 0, row, s | (1u << i)) - Value(t, 0, row, s));
    }
  }
  phi[features] = Value(t, 0, row, 0);
  return phi;
}

TEST(TreeShap, OneSplitByHand) {
  TreeShap s =
      TreeShap::FromXgboostDocument(ModelJson({Stump()}, {0}, "reg:squarederror", "5E-1", 2));
  EXPECT_EQ(s.num_features(), 2u);
  EXPECT_EQ(s.num_groups(), 1u);
  EXPECT_EQ(s.values_per_row(), 3u);
  // bias = base 0.5 + mean -0.4.
  ASSERT_EQ(s.expected_values().size(), 1u);
  EXPECT_NEAR(s.expected_values()[0], 0.1, 1e-12);
  std::vector<float> x = {0.2f, 7.0f, 0.9f, 7.0f, kNaN, 7.0f};
  std::vector<double> out(9);
  s.Explain(x, 3, out);
  const std::vector<double> want = {1.4, 0.0, 0.1, -0.6, 0.0, 0.1, -0.6, 0.0, 0.1};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(out[i], want[i], 1e-12) << i;
}

TEST(TreeShap, TwoFeaturesByHand) {
  TreeShap s =
      TreeShap::FromXgboostDocument(ModelJson({TwoLevels()}, {0}, "reg:squarederror", "0", 2));
  EXPECT_NEAR(s.expected_values()[0], 2.4, 1e-12);
  // (0.2, 1.5) reaches 4: v({}) = 2.4, v({0}) = 3.5, v({1}) = 0.4 * 4 + 0.6 * -1 = 1.0,
  // v({0,1}) = 4; phi0 = ((3.5 - 2.4) + (4 - 1)) / 2, phi1 = ((1 - 2.4) + (4 - 3.5)) / 2.
  // (NaN, 1.5): x0 missing goes right, to -1: v({0}) = 5/3, v({0,1}) = -1.
  std::vector<float> x = {0.2f, 1.5f, kNaN, 1.5f};
  std::vector<double> out(6);
  s.Explain(x, 2, out);
  EXPECT_NEAR(out[0], 2.05, 1e-12);
  EXPECT_NEAR(out[1], -0.45, 1e-12);
  EXPECT_NEAR(out[2], 2.4, 1e-12);
  EXPECT_NEAR(out[3], ((5.0 / 3 - 2.4) + (-1 - 1.0)) / 2, 1e-12);
  EXPECT_NEAR(out[4], ((1.0 - 2.4) + (-1 - 5.0 / 3)) / 2, 1e-12);
  EXPECT_NEAR(out[5], 2.4, 1e-12);
}

TEST(TreeShap, TwoTreesAddUp) {
  TreeShap s = TreeShap::FromXgboostDocument(
      ModelJson({Stump(), TwoLevels()}, {0, 0}, "reg:squarederror", "1", 2));
  EXPECT_NEAR(s.expected_values()[0], 1 - 0.4 + 2.4, 1e-12);
  std::vector<float> x = {0.2f, 1.5f};
  std::vector<double> out(3);
  s.Explain(x, 1, out);
  EXPECT_NEAR(out[0], 1.4 + 2.05, 1e-12);
  EXPECT_NEAR(out[1], -0.45, 1e-12);
}

// A random tree of up to `depth` levels over `features` features (the same feature may come
// back on a path), covers adding up, some leaves with cover 0; preorder, so children come after
// their parent as in XGBoost.
TreeSpec RandomTree(std::mt19937_64& rng, size_t features, int depth) {
  std::uniform_int_distribution<int> feature(0, static_cast<int>(features) - 1);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::bernoulli_distribution coin(0.5), empty(0.1), stop(0.2);
  for (;;) {
    TreeSpec t;
    bool ok = true;
    std::function<int(int)> grow = [&](int level) -> int {
      if (level == depth || (level > 0 && stop(rng))) {
        float cover = empty(rng) ? 0.0f : static_cast<float>(1 + rng() % 20);
        return t.Leaf(uniform(rng), cover);
      }
      int node = t.Split(feature(rng), uniform(rng), coin(rng), 0);
      int l = grow(level + 1);
      int r = grow(level + 1);
      t.Link(node, l, r);
      t.cover[node] = t.cover[l] + t.cover[r];
      if (t.cover[node] == 0) ok = false;
      return node;
    };
    grow(0);
    if (ok) return t;
  }
}

TEST(TreeShap, MatchesBruteForceShapleyValuesOnRandomTrees) {
  std::mt19937_64 rng(7);
  constexpr size_t kFeatures = 4;
  std::uniform_real_distribution<float> uniform(-1.2f, 1.2f);
  std::bernoulli_distribution missing(0.2);
  for (int trial = 0; trial < 200; ++trial) {
    TreeSpec t = RandomTree(rng, kFeatures, 1 + trial % 7);
    TreeShap s =
        TreeShap::FromXgboostDocument(ModelJson({t}, {0}, "reg:squarederror", "0", kFeatures));
    TreeEnsemble e =
        TreeEnsemble::FromXgboostDocument(ModelJson({t}, {0}, "reg:squarederror", "0", kFeatures));
    for (int r = 0; r < 5; ++r) {
      std::vector<float> row(kFeatures);
      for (float& v : row) v = missing(rng) ? kNaN : uniform(rng);
      std::vector<double> got(kFeatures + 1);
      s.Explain(row, 1, got);
      std::vector<double> want = BruteForceShap(t, row.data(), kFeatures);
      double sum = 0;
      for (size_t j = 0; j <= kFeatures; ++j) {
        EXPECT_NEAR(got[j], want[j], 1e-9) << "trial " << trial << " row " << r << " value " << j;
        sum += got[j];
      }
      float margin = 0;
      e.PredictMargin(row, 1, std::span<float>(&margin, 1));
      EXPECT_NEAR(sum, margin, 1e-6) << "trial " << trial;
    }
  }
}

TEST(TreeShap, GroupsOfAMulticlassModel) {
  // Tree 0 adds to class 1, tree 1 to class 0, tree 2 to class 2.
  TreeShap s = TreeShap::FromXgboostDocument(
      ModelJson({Stump(), TwoLevels(), Stump()}, {1, 0, 2}, "multi:softprob", "0.5", 2, 3));
  EXPECT_EQ(s.num_groups(), 3u);
  EXPECT_EQ(s.values_per_row(), 9u);
  std::vector<float> x = {0.2f, 1.5f};
  std::vector<double> out(9);
  s.Explain(x, 1, out);
  const std::vector<double> want = {2.05, -0.45, 2.9, 1.4, 0.0, 0.1, 1.4, 0.0, 0.1};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(out[i], want[i], 1e-12) << i;
}

TEST(TreeShap, BinaryLogisticBiasIsAMargin) {
  // base_score 0.5 is a probability: margin 0.
  TreeShap s =
      TreeShap::FromXgboostDocument(ModelJson({Stump()}, {0}, "binary:logistic", "5E-1", 1));
  EXPECT_NEAR(s.expected_values()[0], -0.4, 1e-7);
}

TEST(TreeShap, MeanAbsShap) {
  TreeShap s =
      TreeShap::FromXgboostDocument(ModelJson({TwoLevels()}, {0}, "reg:squarederror", "0", 2));
  std::vector<float> x = {0.2f, 1.5f, kNaN, 1.5f};
  std::vector<double> explained(6);
  s.Explain(x, 2, explained);
  std::vector<double> importance = s.MeanAbsShap(x, 2);
  ASSERT_EQ(importance.size(), 2u);
  EXPECT_NEAR(importance[0], (std::fabs(explained[0]) + std::fabs(explained[3])) / 2, 1e-12);
  EXPECT_NEAR(importance[1], (std::fabs(explained[1]) + std::fabs(explained[4])) / 2, 1e-12);
  EXPECT_EQ(MeanAbsShap(explained, 2, 1, 2), importance);
  // More rows than one block of the blocked computation.
  std::vector<float> many;
  for (int r = 0; r < 600; ++r) many.insert(many.end(), {r % 3 ? 0.2f : 0.9f, r % 5 * 0.6f});
  std::vector<double> all(600 * 3);
  s.Explain(many, 600, all);
  std::vector<double> blocked = s.MeanAbsShap(many, 600);
  std::vector<double> direct = MeanAbsShap(all, 600, 1, 2);
  for (size_t j = 0; j < 2; ++j) EXPECT_NEAR(blocked[j], direct[j], 1e-12);
  EXPECT_TRUE(std::isnan(s.MeanAbsShap({}, 0)[0]));
}

TEST(TreeShap, RefusesWhatTreeEnsembleRefusesAndModelsWithoutCovers) {
  Json good = ModelJson({Stump()}, {0}, "binary:logistic", "5E-1", 1);

  Json linear = good;
  linear["learner"]["gradient_booster"]["name"] = "gblinear";
  ExpectError(ErrorCode::kInvalidArgument, {"gblinear", "only gbtree"},
              [&] { TreeShap::FromXgboostDocument(linear); });
  Json dart = good;
  dart["learner"]["gradient_booster"]["name"] = "dart";
  ExpectError(ErrorCode::kInvalidArgument, {"dart", "only gbtree"},
              [&] { TreeShap::FromXgboostDocument(dart); });
  Json categorical = good;
  categorical["learner"]["gradient_booster"]["model"]["trees"][0]["split_type"][0] = 1;
  ExpectError(ErrorCode::kInvalidArgument, {"trees[0]", "categorical"},
              [&] { TreeShap::FromXgboostDocument(categorical); });

  Json no_cover = good;
  no_cover["learner"]["gradient_booster"]["model"]["trees"][0].erase("sum_hessian");
  ExpectError(ErrorCode::kInvalidArgument, {"missing key", "trees[0].sum_hessian"},
              [&] { TreeShap::FromXgboostDocument(no_cover); });
  Json short_cover = good;
  short_cover["learner"]["gradient_booster"]["model"]["trees"][0]["sum_hessian"].erase(2);
  ExpectError(ErrorCode::kInvalidArgument, {"trees[0].sum_hessian", "3 node covers"},
              [&] { TreeShap::FromXgboostDocument(short_cover); });
  Json negative = good;
  negative["learner"]["gradient_booster"]["model"]["trees"][0]["sum_hessian"][1] = -1.0;
  ExpectError(ErrorCode::kInvalidArgument, {"trees[0] node 1", "non-negative"},
              [&] { TreeShap::FromXgboostDocument(negative); });
  Json empty_split = good;
  empty_split["learner"]["gradient_booster"]["model"]["trees"][0]["sum_hessian"][0] = 0.0;
  ExpectError(ErrorCode::kInvalidArgument, {"trees[0] node 0", "cover (sum_hessian) 0"},
              [&] { TreeShap::FromXgboostDocument(empty_split); });

  ExpectError(ErrorCode::kInvalidArgument, {"xgboost model"},
              [&] { TreeShap::FromXgboostJson("{not json"); });
  ExpectError(ErrorCode::kInvalidArgument, {"xgboost model", "not UBJSON"},
              [&] { TreeShap::FromXgboostUbjson("{\x01"); });
}

TEST(TreeShap, JsonTextAndUbjsonGiveTheSameExplainer) {
  Json doc = ModelJson({Stump(), TwoLevels()}, {0, 0}, "reg:squarederror", "1", 2);
  std::vector<uint8_t> ubj = Json::to_ubjson(doc);
  TreeShap a = TreeShap::FromXgboostJson(doc.dump());
  TreeShap b = TreeShap::FromXgboostUbjson(
      std::string_view(reinterpret_cast<const char*>(ubj.data()), ubj.size()));
  std::vector<float> x = {0.2f, 1.5f, kNaN, 3.0f};
  std::vector<double> out_a(6), out_b(6);
  a.Explain(x, 2, out_a);
  b.Explain(x, 2, out_b);
  EXPECT_EQ(out_a, out_b);
}

TEST(TreeShap, SizeMismatchesAreErrors) {
  TreeShap s = TreeShap::FromXgboostDocument(ModelJson({Stump()}, {0}, "reg:squarederror", "0", 2));
  std::vector<float> x = {1.0f, 2.0f, 3.0f, 4.0f};
  std::vector<double> out(5);
  ExpectError(ErrorCode::kInvalidArgument, {"output of 5", "2 rows x 3"},
              [&] { s.Explain(x, 2, out); });
  ExpectError(ErrorCode::kInvalidArgument, {"4 input values", "3 rows"},
              [&] { s.Explain(x, 3, std::span<double>(out).first(3)); });
  ExpectError(ErrorCode::kInvalidArgument, {"4 input values", "1 rows"},
              [&] { s.MeanAbsShap(x, 1); });
}

// --- Linear models --------------------------------------------------------------------------

TEST(LinearShap, ByHandAndSumsToMargins) {
  // Two groups (softmax) over three features.
  LinearModel m(LinearLink::kSoftmax, 3, {1.0, -2.0, 0.5, 0.0, 3.0, -1.0}, {0.25, -0.5});
  std::vector<double> means = {1.0, 0.5, -2.0};
  std::vector<float> x = {2.0f, 0.0f, 4.0f, -1.0f, 1.5f, kNaN};
  std::vector<double> out(2 * 2 * 4);
  ExplainLinear(m, means, x, 2, out);
  // Row 0, group 0: 1 * (2 - 1), -2 * (0 - 0.5), 0.5 * (4 + 2); bias 0.25 + 1 - 1 - 1.
  // Group 1: 0, 3 * (0 - 0.5), -1 * (4 + 2); bias -0.5 + 0 + 1.5 + 2.
  const std::vector<double> row0 = {1.0, 1.0, 3.0, -0.75, 0.0, -1.5, -6.0, 3.0};
  for (size_t i = 0; i < row0.size(); ++i) EXPECT_DOUBLE_EQ(out[i], row0[i]) << i;
  // Row 1 has a NaN: every value NaN, bias included.
  for (size_t i = 8; i < 16; ++i) EXPECT_TRUE(std::isnan(out[i])) << i;

  std::vector<float> margins(4);
  m.PredictMargin(x, 2, margins);
  for (size_t g = 0; g < 2; ++g) {
    double sum = 0;
    for (size_t j = 0; j < 4; ++j) sum += out[g * 4 + j];
    EXPECT_NEAR(sum, margins[g], 1e-6) << g;
  }
  // Importance leaves the incomplete row out.
  std::vector<double> importance = MeanAbsShap(out, 2, 2, 3);
  EXPECT_EQ(importance, (std::vector<double>{1.0, 1.0, 3.0, 0.0, 1.5, 6.0}));
}

TEST(LinearShap, Errors) {
  LinearModel m(LinearLink::kIdentity, 2, {1.0, 2.0}, {0.0});
  std::vector<float> x = {1.0f, 2.0f};
  std::vector<double> out(3);
  ExpectError(ErrorCode::kInvalidArgument, {"1 feature means", "2 features"},
              [&] { ExplainLinear(m, std::vector<double>{1.0}, x, 1, out); });
  ExpectError(ErrorCode::kInvalidArgument, {"feature 1", "not finite"}, [&] {
    ExplainLinear(m, std::vector<double>{1.0, std::nan("")}, x, 1, out);
  });
  std::vector<float> two_rows = {1.0f, 2.0f, 3.0f, 4.0f};
  ExpectError(ErrorCode::kInvalidArgument, {"output of 3", "2 rows"}, [&] {
    ExplainLinear(m, std::vector<double>{1.0, 1.0}, two_rows, 2, out);
  });
  ExpectError(ErrorCode::kInvalidArgument, {"mean |shap|", "4 values per row"},
              [&] { MeanAbsShap(out, 1, 1, 3); });
}

}  // namespace
}  // namespace mloop::model
