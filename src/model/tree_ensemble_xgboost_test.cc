// Cross-check of two modules: mloop's compiled evaluator (model) against XGBoost's own
// predictions (through train's wrapper of its C API), on models XGBoost trains here. Every
// prediction, margins and transformed values, must agree within 1e-6.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "model/tree_ensemble.h"
#include "table/csv_reader.h"
#include "train/xgboost_booster.h"

namespace mloop::model {
namespace {

using train::XgbBooster;
using train::XgbMatrix;

constexpr double kTolerance = 1e-6;

struct Data {
  std::vector<float> x;
  std::vector<float> y;
  size_t rows = 0;
  size_t cols = 0;
};

// Seeded synthetic data: `cols` normal features, 8% of values missing; the label is binary,
// a positive count, a real value or one of three classes, from a mix of the features.
enum class Label { kBinary, kReal, kCount, kPositive, kThreeClasses };

Data Synthetic(size_t rows, size_t cols, Label label, uint64_t seed) {
  Data d;
  d.rows = rows;
  d.cols = cols;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::bernoulli_distribution missing(0.08);
  for (size_t r = 0; r < rows; ++r) {
    float s = 0;
    for (size_t c = 0; c < cols; ++c) {
      float v = normal(rng);
      s += (c % 3 == 0 ? 1.0f : c % 3 == 1 ? -0.5f : 0.25f) * v * (c < 6 ? 1.0f : 0.1f);
      d.x.push_back(missing(rng) ? std::nanf("") : v);
    }
    s += 0.3f * normal(rng);
    switch (label) {
      case Label::kBinary:
        d.y.push_back(s > 0 ? 1.0f : 0.0f);
        break;
      case Label::kReal:
        d.y.push_back(3.0f * s + 10.0f);
        break;
      case Label::kCount:
        d.y.push_back(std::floor(std::exp(0.5f * s)));
        break;
      case Label::kPositive:
        d.y.push_back(std::exp(0.5f * s) + 0.01f);
        break;
      case Label::kThreeClasses:
        d.y.push_back(s < -0.5f ? 0.0f : s < 0.5f ? 1.0f : 2.0f);
        break;
    }
  }
  return d;
}

XgbBooster Train(const Data& d, const std::vector<std::pair<std::string, std::string>>& params,
                 int rounds) {
  XgbMatrix m(d.x, d.rows, d.cols);
  m.SetLabels(d.y);
  XgbBooster b({&m});
  b.SetParam("seed", "11");
  // One thread: OpenMP threads that spin-wait make this test crawl on a busy machine.
  b.SetParam("nthread", "1");
  for (const auto& [k, v] : params) b.SetParam(k, v);
  for (int i = 0; i < rounds; ++i) b.UpdateOneIter(i, m);
  return b;
}

double MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])));
  return worst;
}

// Compares every margin and prediction of the evaluator built from `booster`'s JSON with
// XGBoost's on `test`, in one batch and row by row (the evaluator's two paths).
void ExpectSamePredictions(const XgbBooster& booster, const Data& test, const std::string& what) {
  SCOPED_TRACE(what);
  TreeEnsemble e = TreeEnsemble::FromXgboostJson(booster.Save("json"));
  ASSERT_EQ(e.num_features(), test.cols);
  // The UBJSON model is the same document: the same evaluator, to the bit.
  TreeEnsemble from_ubjson = TreeEnsemble::FromXgboostUbjson(booster.Save("ubj"));
  XgbMatrix m(test.x, test.rows, test.cols);
  for (bool margin : {true, false}) {
    SCOPED_TRACE(margin ? "margins" : "predictions");
    std::vector<float> want = booster.Predict(m, margin);
    size_t per_row = margin ? e.num_groups() : e.num_outputs();
    ASSERT_EQ(want.size(), test.rows * per_row);
    std::vector<float> got(want.size());
    if (margin) {
      e.PredictMargin(test.x, test.rows, got);
    } else {
      e.Predict(test.x, test.rows, got);
    }
    size_t bad = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      if (!(std::fabs(double(got[i]) - double(want[i])) <= kTolerance) && ++bad <= 5) {
        ADD_FAILURE() << "value " << i << ": mloop " << got[i] << ", xgboost " << want[i];
      }
    }
    EXPECT_EQ(bad, 0u) << "max |diff| " << MaxAbsDiff(got, want);
    std::vector<float> from_ubjson_got(want.size());
    if (margin) {
      from_ubjson.PredictMargin(test.x, test.rows, from_ubjson_got);
    } else {
      from_ubjson.Predict(test.x, test.rows, from_ubjson_got);
    }
    EXPECT_EQ(from_ubjson_got, got) << "UBJSON model";
    // Row by row through the few-rows path.
    std::vector<float> one(per_row);
    for (size_t r = 0; r < std::min<size_t>(test.rows, 300); ++r) {
      std::span<const float> row(test.x.data() + r * test.cols, test.cols);
      if (margin) {
        e.PredictMargin(row, 1, one);
      } else {
        e.Predict(row, 1, one);
      }
      for (size_t k = 0; k < per_row; ++k) {
        ASSERT_NEAR(one[k], want[r * per_row + k], kTolerance) << "row " << r;
      }
    }
  }
}

struct Case {
  std::string name;
  Label label;
  std::vector<std::pair<std::string, std::string>> params;
};

class SyntheticObjective : public ::testing::TestWithParam<Case> {};

TEST_P(SyntheticObjective, SamePredictionsWithMissingValues) {
  const Case& c = GetParam();
  Data train = Synthetic(2000, 12, c.label, 1);
  Data test = Synthetic(1000, 12, c.label, 2);
  XgbBooster b = Train(train, c.params, 30);
  ExpectSamePredictions(b, test, c.name);
  if (c.name.find("deep") != std::string::npos) {
    // Trees too deep to store complete take the evaluator's other path.
    EXPECT_GT(TreeEnsemble::FromXgboostJson(b.Save("json")).max_depth(),
              TreeEnsemble::kMaxCompleteDepth);
  }
}

INSTANTIATE_TEST_SUITE_P(
    TreeEnsembleVsXgboost, SyntheticObjective,
    ::testing::Values(
        Case{"binary_logistic",
             Label::kBinary,
             {{"objective", "binary:logistic"}, {"max_depth", "6"}, {"tree_method", "hist"}}},
        Case{"binary_logistic_base_score_exact",
             Label::kBinary,
             {{"objective", "binary:logistic"}, {"base_score", "0.3"}, {"tree_method", "exact"}}},
        Case{"binary_logitraw",
             Label::kBinary,
             {{"objective", "binary:logitraw"}, {"max_depth", "4"}, {"base_score", "0.2"}}},
        Case{"reg_logistic", Label::kBinary, {{"objective", "reg:logistic"}, {"max_depth", "4"}}},
        Case{"reg_squarederror",
             Label::kReal,
             {{"objective", "reg:squarederror"}, {"max_depth", "6"}, {"base_score", "10"}}},
        Case{"reg_squarederror_lossguide_deep",
             Label::kReal,
             {{"objective", "reg:squarederror"},
              {"tree_method", "hist"},
              {"grow_policy", "lossguide"},
              {"max_depth", "0"},
              {"max_leaves", "100"}}},
        Case{"count_poisson", Label::kCount, {{"objective", "count:poisson"}, {"max_depth", "5"}}},
        Case{"reg_gamma", Label::kPositive, {{"objective", "reg:gamma"}, {"max_depth", "5"}}},
        Case{"reg_tweedie", Label::kPositive, {{"objective", "reg:tweedie"}, {"max_depth", "5"}}},
        Case{"multi_softprob",
             Label::kThreeClasses,
             {{"objective", "multi:softprob"}, {"num_class", "3"}, {"max_depth", "6"}}},
        Case{"multi_softmax",
             Label::kThreeClasses,
             {{"objective", "multi:softmax"}, {"num_class", "3"}, {"max_depth", "6"}}},
        Case{"random_forest",
             Label::kBinary,
             {{"objective", "binary:logistic"},
              {"num_parallel_tree", "4"},
              {"subsample", "0.8"},
              {"colsample_bynode", "0.8"},
              {"eta", "1"}}}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// A file of the shared public datasets (MLOOP_DATASETS_DIR, set by CMake).
std::filesystem::path Dataset(const std::string& relative) {
  return std::filesystem::path(MLOOP_DATASETS_DIR) / relative;
}

TEST(TreeEnsembleVsXgboost, AdultNumericColumns) {
  auto path = Dataset("adult/adult.data");
  // The shared datasets are part of the test set-up: missing, the test fails, not skips.
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " not found";
  table::CsvOptions options;
  options.header = false;
  options.skip_initial_space = true;
  options.names = {"age",
                   "workclass",
                   "fnlwgt",
                   "education",
                   "education_num",
                   "marital_status",
                   "occupation",
                   "relationship",
                   "race",
                   "sex",
                   "capital_gain",
                   "capital_loss",
                   "hours_per_week",
                   "native_country",
                   "income"};
  table::Table t = table::ReadCsv(path, options).table;
  const table::Column* income = t.FindColumn("income");
  ASSERT_NE(income, nullptr);
  std::vector<const table::Column*> features;
  for (const table::Column& c : t.columns()) {
    if (c.type() == table::DataType::kInt64 || c.type() == table::DataType::kFloat64) {
      features.push_back(&c);
    }
  }
  ASSERT_EQ(features.size(), 6u);
  Data d;
  d.rows = t.num_rows();
  d.cols = features.size();
  std::mt19937_64 rng(5);
  std::bernoulli_distribution missing(0.05);  // Missing values, so default sides are learnt.
  for (size_t r = 0; r < d.rows; ++r) {
    for (const table::Column* c : features) {
      d.x.push_back(c->IsNull(r) || missing(rng) ? std::nanf("")
                                                 : static_cast<float>(c->NumberAt(r)));
    }
    d.y.push_back(income->ValueToString(r).find(">50K") != std::string::npos ? 1.0f : 0.0f);
  }
  XgbBooster b = Train(d,
                       {{"objective", "binary:logistic"},
                        {"max_depth", "6"},
                        {"tree_method", "hist"},
                        {"eta", "0.3"}},
                       100);
  ExpectSamePredictions(b, d, "adult binary:logistic, 100 trees of depth 6");
}

TEST(TreeEnsembleVsXgboost, BikeRegression) {
  auto path = Dataset("bike_sharing/hour.csv");
  // The shared datasets are part of the test set-up: missing, the test fails, not skips.
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " not found";
  table::Table t = table::ReadCsv(path).table;
  const char* names[] = {"season",     "yr",         "mnth", "hr",    "holiday", "weekday",
                         "workingday", "weathersit", "temp", "atemp", "hum",     "windspeed"};
  std::vector<const table::Column*> features;
  for (const char* n : names) {
    features.push_back(t.FindColumn(n));
    ASSERT_NE(features.back(), nullptr) << n;
  }
  const table::Column* cnt = t.FindColumn("cnt");
  ASSERT_NE(cnt, nullptr);
  Data d;
  d.rows = t.num_rows();
  d.cols = features.size();
  for (size_t r = 0; r < d.rows; ++r) {
    for (const table::Column* c : features) d.x.push_back(static_cast<float>(c->NumberAt(r)));
    d.y.push_back(static_cast<float>(cnt->NumberAt(r)));
  }
  for (const char* objective : {"reg:squarederror", "count:poisson"}) {
    XgbBooster b =
        Train(d, {{"objective", objective}, {"max_depth", "6"}, {"tree_method", "hist"}}, 100);
    ExpectSamePredictions(b, d, std::string("bike ") + objective);
  }
}

}  // namespace
}  // namespace mloop::model
