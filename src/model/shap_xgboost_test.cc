// Cross-check of two modules: mloop's TreeSHAP (model) against XGBoost's own contributions
// (predict type 2, pred_contribs, through train's wrapper of its C API) on models XGBoost
// trains here on Adult and Bike Sharing. Every value must agree within 1e-5 (XGBoost computes
// in float32, mloop in double) and every row's values of a group must sum to its margin within
// 1e-4, both relative to the largest |value| of the row's group when that is above 1: float32
// rounding is relative, and Bike's squared-error model has biases near 190, whose float32
// spacing alone is 1.5e-5. Each case prints its largest absolute difference.
//
// With MLOOP_SHAP_REFERENCE_DIR set, each case also writes its model and mloop's explanations
// there, for tests/reference/shap_xgboost.py to compare with Python's xgboost.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "model/shap.h"
#include "model/tree_ensemble.h"
#include "table/csv_reader.h"
#include "train/xgboost_booster.h"

namespace mloop::model {
namespace {

using train::XgbBooster;
using train::XgbMatrix;

constexpr double kTolerance = 1e-5;
constexpr double kSumTolerance = 1e-4;

struct Data {
  std::vector<float> x;
  std::vector<float> y;
  size_t rows = 0;
  size_t cols = 0;
};

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

// CPU time of this process: the machine may be busy, and both explainers run on one thread
// (XGBoost's nthread is 1).
double CpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

void WriteBytes(const std::filesystem::path& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  ASSERT_TRUE(out.good()) << path;
}

// Every `step`-th row of `d`, at most `max_rows`: the explained rows span the whole data set
// while the test stays quick (under sanitizers too).
Data Sample(const Data& d, size_t max_rows) {
  Data s;
  s.cols = d.cols;
  const size_t step = std::max<size_t>(1, d.rows / max_rows);
  for (size_t r = 0; r < d.rows && s.rows < max_rows; r += step) {
    s.x.insert(s.x.end(), d.x.begin() + static_cast<std::ptrdiff_t>(r * d.cols),
               d.x.begin() + static_cast<std::ptrdiff_t>((r + 1) * d.cols));
    s.y.push_back(d.y[r]);
    ++s.rows;
  }
  return s;
}

// Explains rows of `data` (a sample of 3,000) with mloop's TreeSHAP built from `booster`'s
// model and compares every value with XGBoost's contributions, and every row's sum with the
// margins of both.
void ExpectSameContributions(const XgbBooster& booster, const Data& data, const std::string& name) {
  SCOPED_TRACE(name);
  const Data test = Sample(data, 3000);
  const std::string json = booster.Save("json");
  TreeShap shap = TreeShap::FromXgboostJson(json);
  TreeEnsemble ensemble = TreeEnsemble::FromXgboostJson(json);
  ASSERT_EQ(shap.num_features(), test.cols);
  const size_t groups = shap.num_groups();
  const size_t per_group = test.cols + 1;

  std::vector<double> got(test.rows * shap.values_per_row());
  double start = CpuSeconds();
  shap.Explain(test.x, test.rows, got);
  double seconds = CpuSeconds() - start;
  std::cout << "[ shap     ] " << name << ": mloop " << test.rows << " rows in " << seconds
            << " s of CPU, " << static_cast<double>(test.rows) / seconds << " rows/s\n";

  // The UBJSON model is the same document: the same explanations, to the bit.
  TreeShap from_ubjson = TreeShap::FromXgboostUbjson(booster.Save("ubj"));
  std::vector<double> from_ubjson_got(std::min<size_t>(test.rows, 200) * shap.values_per_row());
  from_ubjson.Explain(
      std::span<const float>(test.x).first(std::min<size_t>(test.rows, 200) * test.cols),
      std::min<size_t>(test.rows, 200), from_ubjson_got);
  EXPECT_TRUE(std::equal(from_ubjson_got.begin(), from_ubjson_got.end(), got.begin()));

  XgbMatrix m(test.x, test.rows, test.cols);
  start = CpuSeconds();
  std::vector<float> want = booster.PredictContributions(m);
  seconds = CpuSeconds() - start;
  std::cout << "[ shap     ] " << name << ": xgboost (1 thread) " << seconds << " s of CPU, "
            << static_cast<double>(test.rows) / seconds << " rows/s\n";
  ASSERT_EQ(want.size(), got.size());
  std::vector<float> margins(test.rows * groups);
  ensemble.PredictMargin(test.x, test.rows, margins);
  std::vector<float> xgb_margins = booster.Predict(m, /*margin=*/true);
  ASSERT_EQ(xgb_margins.size(), margins.size());
  double worst = 0, worst_scaled = 0, worst_sum = 0;
  size_t bad = 0;
  for (size_t r = 0; r < test.rows; ++r) {
    for (size_t g = 0; g < groups; ++g) {
      const size_t at = (r * groups + g) * per_group;
      const double* o = got.data() + at;
      // XGBoost's float32 rounding grows with the magnitude of what it sums.
      double scale = 1.0;
      for (size_t j = 0; j < per_group; ++j)
        scale = std::max(scale, std::fabs(double(want[at + j])));
      double sum = 0;
      for (size_t j = 0; j < per_group; ++j) {
        double diff = std::fabs(o[j] - static_cast<double>(want[at + j]));
        worst = std::max(worst, diff);
        worst_scaled = std::max(worst_scaled, diff / scale);
        if (!(diff <= kTolerance * scale) && ++bad <= 5) {
          ADD_FAILURE() << "row " << r << " group " << g << " value " << j << ": mloop " << o[j]
                        << ", xgboost " << want[at + j];
        }
        sum += o[j];
      }
      double diff = std::max(std::fabs(sum - margins[r * groups + g]),
                             std::fabs(sum - xgb_margins[r * groups + g]));
      worst_sum = std::max(worst_sum, diff);
      ASSERT_LE(diff, kSumTolerance * scale) << "row " << r << " group " << g;
    }
  }
  EXPECT_EQ(bad, 0u);
  std::cout << "[ shap     ] " << name << ": max |mloop - xgboost| " << worst << " ("
            << worst_scaled << " of the row's largest |value|), max |sum - margin| " << worst_sum
            << "\n";
  ::testing::Test::RecordProperty(name + "_max_diff", std::to_string(worst));

  if (const char* dir = std::getenv("MLOOP_SHAP_REFERENCE_DIR")) {
    std::filesystem::path base = std::filesystem::path(dir) / name;
    std::ofstream(base.string() + ".model.json") << json;
    std::ofstream(base.string() + ".shape")
        << test.rows << " " << test.cols << " " << groups << "\n";
    WriteBytes(base.string() + ".x.f32", test.x.data(), test.x.size() * sizeof(float));
    WriteBytes(base.string() + ".shap.f64", got.data(), got.size() * sizeof(double));
  }
}

// A file of the shared public datasets (MLOOP_DATASETS_DIR, set by CMake).
std::filesystem::path Dataset(const std::string& relative) {
  return std::filesystem::path(MLOOP_DATASETS_DIR) / relative;
}

// Adult's six numeric columns with 5% of the values made missing (so that default sides are
// learnt) and the label income > 50K.
Data Adult() {
  auto path = Dataset("adult/adult.data");
  // The shared datasets are part of the test set-up: missing, the test fails, not skips.
  EXPECT_TRUE(std::filesystem::exists(path)) << path << " not found";
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
  EXPECT_NE(income, nullptr);
  std::vector<const table::Column*> features;
  for (const table::Column& c : t.columns()) {
    if (c.type() == table::DataType::kInt64 || c.type() == table::DataType::kFloat64) {
      features.push_back(&c);
    }
  }
  EXPECT_EQ(features.size(), 6u);
  Data d;
  d.rows = t.num_rows();
  d.cols = features.size();
  std::mt19937_64 rng(5);
  std::bernoulli_distribution missing(0.05);
  for (size_t r = 0; r < d.rows; ++r) {
    for (const table::Column* c : features) {
      d.x.push_back(c->IsNull(r) || missing(rng) ? std::nanf("")
                                                 : static_cast<float>(c->NumberAt(r)));
    }
    d.y.push_back(income->ValueToString(r).find(">50K") != std::string::npos ? 1.0f : 0.0f);
  }
  return d;
}

// Bike Sharing's hourly rows: twelve numeric features and the count of rentals.
Data Bike() {
  auto path = Dataset("bike_sharing/hour.csv");
  EXPECT_TRUE(std::filesystem::exists(path)) << path << " not found";
  table::Table t = table::ReadCsv(path).table;
  const char* names[] = {"season",     "yr",         "mnth", "hr",    "holiday", "weekday",
                         "workingday", "weathersit", "temp", "atemp", "hum",     "windspeed"};
  std::vector<const table::Column*> features;
  for (const char* n : names) {
    features.push_back(t.FindColumn(n));
    EXPECT_NE(features.back(), nullptr) << n;
  }
  const table::Column* cnt = t.FindColumn("cnt");
  EXPECT_NE(cnt, nullptr);
  Data d;
  d.rows = t.num_rows();
  d.cols = features.size();
  for (size_t r = 0; r < d.rows; ++r) {
    for (const table::Column* c : features) d.x.push_back(static_cast<float>(c->NumberAt(r)));
    d.y.push_back(static_cast<float>(cnt->NumberAt(r)));
  }
  return d;
}

TEST(TreeShapVsXgboost, AdultBinaryLogistic) {
  Data d = Adult();
  ASSERT_EQ(d.cols, 6u);
  XgbBooster b = Train(d,
                       {{"objective", "binary:logistic"},
                        {"max_depth", "6"},
                        {"tree_method", "hist"},
                        {"eta", "0.3"}},
                       100);
  ExpectSameContributions(b, d, "adult_binary_logistic");
}

TEST(TreeShapVsXgboost, AdultLossguideDeepTrees) {
  Data d = Adult();
  XgbBooster b = Train(d,
                       {{"objective", "binary:logistic"},
                        {"tree_method", "hist"},
                        {"grow_policy", "lossguide"},
                        {"max_depth", "0"},
                        {"max_leaves", "64"}},
                       20);
  ExpectSameContributions(b, d, "adult_lossguide");
}

TEST(TreeShapVsXgboost, BikeRegression) {
  Data d = Bike();
  for (const char* objective : {"reg:squarederror", "count:poisson"}) {
    XgbBooster b =
        Train(d, {{"objective", objective}, {"max_depth", "6"}, {"tree_method", "hist"}}, 100);
    std::string name = std::string("bike_") + objective;
    std::replace(name.begin(), name.end(), ':', '_');
    ExpectSameContributions(b, d, name);
  }
}

TEST(TreeShapVsXgboost, BikeMulticlassSoftprob) {
  Data d = Bike();
  // Four classes of demand: the count's quartiles.
  std::vector<float> sorted = d.y;
  std::sort(sorted.begin(), sorted.end());
  const float q1 = sorted[sorted.size() / 4], q2 = sorted[sorted.size() / 2],
              q3 = sorted[3 * sorted.size() / 4];
  for (float& y : d.y) y = y < q1 ? 0.0f : y < q2 ? 1.0f : y < q3 ? 2.0f : 3.0f;
  XgbBooster b = Train(d,
                       {{"objective", "multi:softprob"},
                        {"num_class", "4"},
                        {"max_depth", "6"},
                        {"tree_method", "hist"}},
                       30);
  ExpectSameContributions(b, d, "bike_multi_softprob");
}

}  // namespace
}  // namespace mloop::model
