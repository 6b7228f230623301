#include "model/tree_ensemble.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include "core/testing.h"

namespace mloop::model {
namespace {

using test::ExpectError;

const float kNaN = std::nanf("");

// One tree in XGBoost's JSON arrays. Leaves have left = right = -1 and keep their value in
// split_conditions, as XGBoost writes them.
struct TreeSpec {
  std::vector<int> left, right, feature, default_left;
  std::vector<float> condition;

  // Appends a node and returns its index.
  int Add(int f, float c, bool dl) {
    left.push_back(-1);
    right.push_back(-1);
    feature.push_back(f);
    condition.push_back(c);
    default_left.push_back(dl ? 1 : 0);
    return static_cast<int>(left.size()) - 1;
  }
  int Leaf(float value) { return Add(0, value, false); }
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
  m["learner"]["attributes"] = Json::object();
  m["learner"]["feature_names"] = Json::array();
  m["learner"]["gradient_booster"] = {
      {"name", "gbtree"},
      {"model",
       {{"gbtree_model_param",
         {{"num_parallel_tree", "1"}, {"num_trees", std::to_string(trees.size())}}},
        {"trees", trees_json},
        {"tree_info", tree_info}}}};
  m["learner"]["learner_model_param"] = {{"base_score", base_score},
                                         {"boost_from_average", "1"},
                                         {"num_class", std::to_string(num_class)},
                                         {"num_feature", std::to_string(features)},
                                         {"num_target", "1"}};
  m["learner"]["objective"] = {{"name", objective}};
  return m;
}

// x0 < 0.5 ? -1 : 2, missing to `default_left`'s side.
TreeSpec Stump(bool default_left, int feature = 0) {
  TreeSpec t;
  int root = t.Add(feature, 0.5f, default_left);
  t.left[root] = t.Leaf(-1.0f);
  t.right[root] = t.Leaf(2.0f);
  return t;
}

std::vector<float> Margins(const TreeEnsemble& e, const std::vector<float>& x) {
  size_t rows = x.size() / e.num_features();
  std::vector<float> out(rows * e.num_groups());
  e.PredictMargin(x, rows, out);
  return out;
}

std::vector<float> Predictions(const TreeEnsemble& e, const std::vector<float>& x) {
  size_t rows = x.size() / e.num_features();
  std::vector<float> out(rows * e.num_outputs());
  e.Predict(x, rows, out);
  return out;
}

TEST(TreeEnsemble, SplitRuleAndMissingValues) {
  auto e = TreeEnsemble::FromXgboostDocument(
      ModelJson({Stump(true)}, {0}, "reg:squarederror", "5E-1", 1));
  EXPECT_EQ(e.num_trees(), 1u);
  EXPECT_EQ(e.num_features(), 1u);
  EXPECT_FLOAT_EQ(e.base_margin(), 0.5f);
  // value < threshold goes left; equal goes right; NaN takes the default (left) side.
  EXPECT_EQ(Margins(e, {0.0f, 0.5f, 0.49999997f, 7.0f, kNaN, -INFINITY, INFINITY}),
            (std::vector<float>{-0.5f, 2.5f, -0.5f, 2.5f, -0.5f, -0.5f, 2.5f}));

  // The same model as UBJSON bytes.
  std::vector<uint8_t> ubjson =
      Json::to_ubjson(ModelJson({Stump(true)}, {0}, "reg:squarederror", "5E-1", 1));
  auto from_ubjson = TreeEnsemble::FromXgboostUbjson(
      std::string_view(reinterpret_cast<const char*>(ubjson.data()), ubjson.size()));
  EXPECT_EQ(Margins(from_ubjson, {0.0f, 0.5f, kNaN}), (std::vector<float>{-0.5f, 2.5f, -0.5f}));

  auto right =
      TreeEnsemble::FromXgboostDocument(ModelJson({Stump(false)}, {0}, "reg:squarederror", "0", 1));
  EXPECT_EQ(Margins(right, {0.0f, kNaN}), (std::vector<float>{-1.0f, 2.0f}));
}

TEST(TreeEnsemble, BinaryLogisticBaseScoreIsAProbability) {
  auto e = TreeEnsemble::FromXgboostDocument(
      ModelJson({Stump(true), Stump(false, 1)}, {0, 0}, "binary:logistic", "2E-1", 2));
  EXPECT_NEAR(e.base_margin(), std::log(0.2 / 0.8), 1e-6);
  std::vector<float> x = {0.0f, 0.0f, 1.0f, kNaN};
  std::vector<float> m = Margins(e, x);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_NEAR(m[0], std::log(0.25) - 2.0, 1e-6);
  EXPECT_NEAR(m[1], std::log(0.25) + 4.0, 1e-6);
  std::vector<float> p = Predictions(e, x);
  for (size_t i = 0; i < 2; ++i) EXPECT_NEAR(p[i], 1.0 / (1.0 + std::exp(-m[i])), 1e-7);
}

TEST(TreeEnsemble, CountPoissonBaseScoreIsARate) {
  auto e =
      TreeEnsemble::FromXgboostDocument(ModelJson({Stump(true)}, {0}, "count:poisson", "2", 1));
  EXPECT_NEAR(e.base_margin(), std::log(2.0), 1e-6);
  EXPECT_NEAR(Predictions(e, {0.0f})[0], 2.0 * std::exp(-1.0), 1e-6);
}

TEST(TreeEnsemble, MulticlassSoftprobAndSoftmax) {
  // Three classes, two rounds: tree i adds to class i % 3.
  std::vector<TreeSpec> trees;
  for (int i = 0; i < 6; ++i) trees.push_back(Stump(i % 2 == 0, i % 2));
  std::vector<int> info = {0, 1, 2, 0, 1, 2};
  std::vector<float> x = {0.0f, 1.0f, 1.0f, 0.0f, kNaN, kNaN};

  auto prob =
      TreeEnsemble::FromXgboostDocument(ModelJson(trees, info, "multi:softprob", "5E-1", 2, 3));
  EXPECT_EQ(prob.num_groups(), 3u);
  EXPECT_EQ(prob.num_outputs(), 3u);
  std::vector<float> m = Margins(prob, x);
  // Row 0 (x0=0, x1=1): trees on x0 (0, 2, 4) give -1, trees on x1 (1, 3, 5) give 2.
  EXPECT_EQ(std::vector<float>(m.begin(), m.begin() + 3),
            (std::vector<float>{0.5f - 1 + 2, 0.5f + 2 - 1, 0.5f - 1 + 2}));
  std::vector<float> p = Predictions(prob, x);
  for (size_t r = 0; r < 3; ++r) {
    double sum = 0, z = 0;
    for (size_t c = 0; c < 3; ++c) z += std::exp(m[r * 3 + c]);
    for (size_t c = 0; c < 3; ++c) {
      EXPECT_NEAR(p[r * 3 + c], std::exp(m[r * 3 + c]) / z, 1e-6);
      sum += p[r * 3 + c];
    }
    EXPECT_NEAR(sum, 1.0, 1e-6);
  }

  auto argmax =
      TreeEnsemble::FromXgboostDocument(ModelJson(trees, info, "multi:softmax", "5E-1", 2, 3));
  EXPECT_EQ(argmax.num_outputs(), 1u);
  std::vector<float> cls = Predictions(argmax, x);
  ASSERT_EQ(cls.size(), 3u);
  for (size_t r = 0; r < 3; ++r) {
    size_t best = 0;
    for (size_t c = 1; c < 3; ++c) {
      if (m[r * 3 + c] > m[r * 3 + best]) best = c;
    }
    EXPECT_EQ(cls[r], static_cast<float>(best)) << "row " << r;
  }
}

// A random tree of up to `max_depth` levels, unbalanced, with random default sides.
void Grow(TreeSpec* t, int node, int depth, int max_depth, size_t features, std::mt19937_64* rng) {
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::bernoulli_distribution split(depth == 0 ? 1.0 : depth < 6 ? 0.8 : 0.6);
  if (depth >= max_depth || !split(*rng)) {
    t->condition[node] = unit(*rng);
    return;
  }
  t->feature[node] = static_cast<int>((*rng)() % features);
  t->condition[node] = unit(*rng);
  t->default_left[node] = static_cast<int>((*rng)() % 2);
  int l = t->Leaf(0), r = t->Leaf(0);
  t->left[node] = l;
  t->right[node] = r;
  Grow(t, l, depth + 1, max_depth, features, rng);
  Grow(t, r, depth + 1, max_depth, features, rng);
}

int Depth(const TreeSpec& t, int i = 0) {
  return t.left[i] == -1 ? 0 : 1 + std::max(Depth(t, t.left[i]), Depth(t, t.right[i]));
}

// The plain walk of XGBoost's predictor, one row and one tree at a time.
float Walk(const TreeSpec& t, const float* row) {
  int i = 0;
  while (t.left[i] != -1) {
    float v = row[t.feature[i]];
    if (std::isnan(v)) {
      i = t.default_left[i] ? t.left[i] : t.right[i];
    } else {
      i = v < t.condition[i] ? t.left[i] : t.right[i];
    }
  }
  return t.condition[i];
}

TEST(TreeEnsemble, RandomForestsMatchAPlainWalkAtEveryBatchSize) {
  std::mt19937_64 rng(42);
  const size_t features = 7, groups = 3;
  // Depths 0 to 13: trees stored complete (up to kMaxCompleteDepth) and deeper ones kept in
  // their own shape, mixed; runs of 8 trees of one depth (walked in lockstep for one row) and
  // runs of mixed depths; 45 trees, not a multiple of the lanes.
  std::vector<TreeSpec> trees(45);
  std::vector<int> info;
  for (size_t i = 0; i < trees.size(); ++i) {
    trees[i].Leaf(0);
    int max_depth = i < 16 ? 6 : static_cast<int>(i % 14);
    Grow(&trees[i], 0, 0, max_depth, features, &rng);
    info.push_back(static_cast<int>(i % groups));
  }
  int deep = 0;
  for (const TreeSpec& t : trees)
    deep += Depth(t) > static_cast<int>(TreeEnsemble::kMaxCompleteDepth);
  ASSERT_GE(deep, 2);
  auto e = TreeEnsemble::FromXgboostDocument(
      ModelJson(trees, info, "multi:softprob", "2.5E-1", features, groups));

  std::uniform_real_distribution<float> unit(-1.2f, 1.2f);
  std::bernoulli_distribution missing(0.15);
  for (size_t rows : {0, 1, 2, 3, 4, 5, 63, 64, 65, 200}) {
    std::vector<float> x(rows * features);
    for (float& v : x) v = missing(rng) ? kNaN : unit(rng);
    std::vector<float> want(rows * groups, 0.25f);
    for (size_t r = 0; r < rows; ++r) {
      for (size_t t = 0; t < trees.size(); ++t) {
        want[r * groups + info[t]] += Walk(trees[t], &x[r * features]);
      }
    }
    // Same float32 sums in the same order: equal, not just close.
    EXPECT_EQ(Margins(e, x), want) << rows << " rows";
  }
}

TEST(TreeEnsemble, ConstEvaluationFromManyThreads) {
  std::mt19937_64 rng(3);
  std::vector<TreeSpec> trees(20);
  std::vector<int> info(20, 0);
  for (auto& t : trees) {
    t.Leaf(0);
    Grow(&t, 0, 0, 6, 5, &rng);
  }
  const auto e =
      TreeEnsemble::FromXgboostDocument(ModelJson(trees, info, "binary:logistic", "5E-1", 5));
  std::vector<float> x(1000 * 5);
  std::normal_distribution<float> normal;
  for (float& v : x) v = normal(rng);
  const std::vector<float> want = Predictions(e, x);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int round = 0; round < 20; ++round) {
        if (Predictions(e, x) != want) ++mismatches[k];
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST(TreeEnsemble, RefusesWhatItCannotEvaluate) {
  Json good = ModelJson({Stump(true)}, {0}, "binary:logistic", "5E-1", 1);

  Json rank = good;
  rank["learner"]["objective"]["name"] = "rank:pairwise";
  ExpectError(ErrorCode::kInvalidArgument, {"rank:pairwise", "not supported"},
              [&] { TreeEnsemble::FromXgboostDocument(rank); });

  Json linear = good;
  linear["learner"]["gradient_booster"]["name"] = "gblinear";
  ExpectError(ErrorCode::kInvalidArgument, {"gblinear", "only gbtree"},
              [&] { TreeEnsemble::FromXgboostDocument(linear); });

  Json categorical = good;
  categorical["learner"]["gradient_booster"]["model"]["trees"][0]["split_type"][0] = 1;
  ExpectError(ErrorCode::kInvalidArgument, {"trees[0]", "categorical"},
              [&] { TreeEnsemble::FromXgboostDocument(categorical); });

  Json no_trees = good;
  no_trees["learner"]["gradient_booster"]["model"].erase("trees");
  ExpectError(ErrorCode::kInvalidArgument, {"missing key", "model.trees"},
              [&] { TreeEnsemble::FromXgboostDocument(no_trees); });

  Json bad_feature = good;
  bad_feature["learner"]["gradient_booster"]["model"]["trees"][0]["split_indices"][0] = 3;
  ExpectError(ErrorCode::kInvalidArgument, {"trees[0] node 0", "feature 3 of 1"},
              [&] { TreeEnsemble::FromXgboostDocument(bad_feature); });

  Json bad_child = good;
  bad_child["learner"]["gradient_booster"]["model"]["trees"][0]["left_children"][0] = 9;
  ExpectError(ErrorCode::kInvalidArgument, {"trees[0] node 0", "outside the tree"},
              [&] { TreeEnsemble::FromXgboostDocument(bad_child); });

  Json bad_base = good;
  bad_base["learner"]["learner_model_param"]["base_score"] = "1.5";
  ExpectError(ErrorCode::kInvalidArgument, {"base_score", "(0, 1)"},
              [&] { TreeEnsemble::FromXgboostDocument(bad_base); });

  ExpectError(ErrorCode::kInvalidArgument, {"xgboost model"},
              [&] { TreeEnsemble::FromXgboostJson("{not json"); });
  ExpectError(ErrorCode::kInvalidArgument, {"xgboost model", "not UBJSON"},
              [&] { TreeEnsemble::FromXgboostUbjson("{\x01"); });
}

TEST(TreeEnsemble, SizeMismatchesAreErrors) {
  auto e = TreeEnsemble::FromXgboostDocument(
      ModelJson({Stump(true)}, {0}, "binary:logistic", "5E-1", 1));
  std::vector<float> x = {1.0f, 2.0f};
  std::vector<float> out(3);
  ExpectError(ErrorCode::kInvalidArgument, {"output of 3", "2 rows"},
              [&] { e.Predict(x, 2, out); });
  ExpectError(ErrorCode::kInvalidArgument, {"2 input values", "3 rows"},
              [&] { e.PredictMargin(x, 3, std::span<float>(out).first(3)); });
}

}  // namespace
}  // namespace mloop::model
