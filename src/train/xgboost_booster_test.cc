#include "train/xgboost_booster.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>

#include "core/digest.h"
#include "core/file.h"
#include "core/testing.h"

namespace mloop::train {
namespace {

using test::ExpectError;

// A seeded binary problem: y = 1 when x0 + 0.5 x1 - x2 + noise > 0; x3 is noise and some
// values are missing (NaN).
struct Problem {
  std::vector<float> x;
  std::vector<float> y;
  size_t rows = 0;
  size_t cols = 4;
};

Problem MakeProblem(size_t rows, uint64_t seed) {
  Problem p;
  p.rows = rows;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> unit;
  for (size_t r = 0; r < rows; ++r) {
    float x[4];
    for (float& v : x) v = normal(rng);
    float score = x[0] + 0.5f * x[1] - x[2] + 0.3f * normal(rng);
    if (unit(rng) < 0.05f) x[3] = std::nanf("");
    p.x.insert(p.x.end(), x, x + 4);
    p.y.push_back(score > 0 ? 1.0f : 0.0f);
  }
  return p;
}

XgbBooster Train(const XgbMatrix& train, const XgbMatrix* valid, int rounds,
                 std::vector<EvalResult>* history = nullptr) {
  std::vector<const XgbMatrix*> cache = {&train};
  if (valid != nullptr) cache.push_back(valid);
  XgbBooster b(cache);
  b.SetParam("objective", "binary:logistic");
  b.SetParam("eval_metric", "logloss");
  b.SetParam("eval_metric", "auc");
  b.SetParam("max_depth", "3");
  b.SetParam("eta", "0.3");
  b.SetParam("tree_method", "hist");
  b.SetParam("seed", "7");
  b.SetParam("nthread", "2");
  for (int i = 0; i < rounds; ++i) {
    b.UpdateOneIter(i, train);
    if (history != nullptr && valid != nullptr) {
      history->push_back(b.EvalOneIter(i, {{"train", &train}, {"valid", valid}}));
    }
  }
  return b;
}

TEST(XgbBoosterTest, LearnsAndReportsMetricsPerRound) {
  Problem tr = MakeProblem(4000, 1), va = MakeProblem(1000, 2);
  XgbMatrix train(tr.x, tr.rows, tr.cols), valid(va.x, va.rows, va.cols);
  train.SetLabels(tr.y);
  valid.SetLabels(va.y);
  std::vector<EvalResult> history;
  XgbBooster b = Train(train, &valid, 20, &history);
  ASSERT_EQ(history.size(), 20u);
  EXPECT_TRUE(history[0].count("train-logloss"));
  EXPECT_TRUE(history[0].count("valid-auc"));
  EXPECT_LT(history.back().at("valid-logloss"), history.front().at("valid-logloss"));
  EXPECT_GT(history.back().at("valid-auc"), 0.9);
  EXPECT_EQ(b.BoostedRounds(), 20);
  EXPECT_EQ(b.NumFeatures(), 4u);
  std::vector<float> p = b.Predict(valid);
  ASSERT_EQ(p.size(), va.rows);
  for (float v : p) {
    EXPECT_GE(v, 0.0f);
    EXPECT_LE(v, 1.0f);
  }
  // Margins are the logits of the probabilities.
  std::vector<float> m = b.Predict(valid, /*margin=*/true);
  EXPECT_NEAR(1.0 / (1.0 + std::exp(-m[0])), p[0], 1e-6);
  // The first 5 rounds only.
  EXPECT_NE(b.Predict(valid, false, 5)[0], p[0]);
}

TEST(XgbBoosterTest, TheSameSeedAndDataGiveTheSameModelBytes) {
  Problem tr = MakeProblem(3000, 3);
  XgbMatrix train(tr.x, tr.rows, tr.cols);
  train.SetLabels(tr.y);
  std::string a = Train(train, nullptr, 10).Save();
  XgbMatrix again(tr.x, tr.rows, tr.cols);
  again.SetLabels(tr.y);
  std::string b = Train(again, nullptr, 10).Save();
  EXPECT_EQ(Sha256Hex(a), Sha256Hex(b));
}

TEST(XgbBoosterTest, SavedModelsLoadBackAndPredictTheSame) {
  Problem tr = MakeProblem(2000, 4);
  XgbMatrix train(tr.x, tr.rows, tr.cols);
  train.SetLabels(tr.y);
  XgbBooster b = Train(train, nullptr, 8);
  std::vector<float> want = b.Predict(train);
  for (std::string_view format : {"ubj", "json"}) {
    XgbBooster loaded = XgbBooster::Load(b.Save(format));
    EXPECT_EQ(loaded.Predict(train), want) << format;
  }
  EXPECT_NE(b.Save("json").find("\"learner\""), std::string::npos);
  EXPECT_NE(b.Config().find("\"max_depth\":\"3\""), std::string::npos);
}

TEST(XgbBoosterTest, BadInputIsAnErrorNamingIt) {
  ExpectError(ErrorCode::kInvalidArgument, {"7 values", "2 rows x 4 columns"},
              [] { XgbMatrix m(std::vector<float>(7), 2, 4); });
  XgbMatrix m(std::vector<float>(8, 1.0f), 2, 4);
  ExpectError(ErrorCode::kInvalidArgument, {"3 labels", "2 rows"},
              [&] { m.SetLabels(std::vector<float>(3)); });
  ExpectError(ErrorCode::kInvalidArgument, {"loading a model of 11 bytes", "wrong model format"},
              [] { XgbBooster::Load("not a model"); });
  ExpectError(ErrorCode::kInvalidArgument, {"'max_dept'"}, [] {
    CheckKnownParameters({{"max_depth", "3"}, {"max_dept", "3"}});
  });
  CheckKnownParameters({{"max_depth", "3"}, {"objective", "binary:logistic"}});
  // A value XGBoost refuses surfaces when the first round configures the learner.
  m.SetLabels(std::vector<float>{0, 1});
  XgbBooster b({&m});
  b.SetParam("max_depth", "deep");
  ExpectError(ErrorCode::kInvalidArgument, {"boosting round 0"}, [&] { b.UpdateOneIter(0, m); });
  ExpectError(ErrorCode::kInvalidArgument, {"'xml'"}, [&] { b.Save("xml"); });
}

TEST(XgbBoosterTest, ParsesEvalLines) {
  EvalResult r = ParseEvalLine("[3]\ttrain-logloss:0.52\tvalid-auc:0.91");
  EXPECT_DOUBLE_EQ(r.at("train-logloss"), 0.52);
  EXPECT_DOUBLE_EQ(r.at("valid-auc"), 0.91);
  ExpectError(ErrorCode::kInternal, {}, [] { ParseEvalLine("garbage"); });
}

TEST(XgbBoosterTest, PythonXgboostLoadsTheModelAndPredictsTheSame) {
  // Debian's python3-xgboost, run by Debian's python3: the bundle's booster must be usable by
  // the field's own tools.
  test::TempDir dir;
  Problem tr = MakeProblem(1500, 5);
  XgbMatrix train(tr.x, tr.rows, tr.cols);
  train.SetLabels(tr.y);
  XgbBooster b = Train(train, nullptr, 12);
  std::vector<float> want = b.Predict(train);
  std::string model = b.Save("ubj");
  test::WriteBytes(dir.path() / "model.ubj", model);
  std::string x;
  for (float v : tr.x) x.append(reinterpret_cast<const char*>(&v), sizeof v);
  test::WriteBytes(dir.path() / "x.f32", x);
  std::string script =
      "import sys, numpy as np, xgboost as xgb\n"
      "d = sys.argv[1]\n"
      "b = xgb.Booster(model_file=d + '/model.ubj')\n"
      "x = np.fromfile(d + '/x.f32', dtype=np.float32).reshape(-1, 4)\n"
      "p = b.predict(xgb.DMatrix(x, missing=np.nan))\n"
      "p.astype(np.float32).tofile(d + '/p.f32')\n";
  test::WriteBytes(dir.path() / "predict.py", script);
  std::string cmd = "/usr/bin/python3 " + (dir.path() / "predict.py").string() + " " +
                    dir.path().string() + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::string got = ReadFile(dir.path() / "p.f32");
  ASSERT_EQ(got.size(), want.size() * sizeof(float));
  for (size_t i = 0; i < want.size(); ++i) {
    float v;
    std::memcpy(&v, got.data() + i * sizeof v, sizeof v);
    ASSERT_NEAR(v, want[i], 1e-6) << "row " << i;
  }
}

}  // namespace
}  // namespace mloop::train
