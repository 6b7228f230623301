#include "model/linear_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/testing.h"

namespace mloop::model {
namespace {

using test::ExpectError;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(LinearModelTest, RegressionMarginsAreHandChecked) {
  LinearModel m(LinearLink::kIdentity, 3, {1.0, -2.0, 0.5}, {10.0});
  EXPECT_EQ(m.num_features(), 3u);
  EXPECT_EQ(m.num_groups(), 1u);
  EXPECT_EQ(m.num_outputs(), 1u);
  std::vector<float> x = {1, 2, 4, 0, 0, 0, -1, 0.5f, 2};
  std::vector<float> out(3);
  m.Predict(x, 3, out);
  EXPECT_FLOAT_EQ(out[0], 10 + 1 - 4 + 2);
  EXPECT_FLOAT_EQ(out[1], 10);
  EXPECT_FLOAT_EQ(out[2], 10 - 1 - 1 + 1);
  std::vector<float> margins(3);
  m.PredictMargin(x, 3, margins);
  EXPECT_EQ(margins, out);
}

TEST(LinearModelTest, SumsInDouble) {
  // In float, 1e8 + 1 - 1e8 is 0; in double it is 1.
  LinearModel m(LinearLink::kIdentity, 3, {1.0, 1.0, -1.0}, {0.0});
  std::vector<float> x = {1e8f, 1.0f, 1e8f};
  std::vector<float> out(1);
  m.Predict(x, 1, out);
  EXPECT_EQ(out[0], 1.0f);
}

TEST(LinearModelTest, LogisticIsTheSigmoidOfTheMargin) {
  LinearModel m(LinearLink::kLogistic, 2, {2.0, -1.0}, {0.5});
  std::vector<float> x = {0, 0, 1, 1, 1000, 0, -1000, 0};
  std::vector<float> out(4);
  m.Predict(x, 4, out);
  EXPECT_FLOAT_EQ(out[0], static_cast<float>(1 / (1 + std::exp(-0.5))));
  EXPECT_FLOAT_EQ(out[1], static_cast<float>(1 / (1 + std::exp(-1.5))));
  // Far margins saturate without overflow.
  EXPECT_EQ(out[2], 1.0f);
  EXPECT_EQ(out[3], 0.0f);
  std::vector<float> margins(4);
  m.PredictMargin(x, 4, margins);
  EXPECT_FLOAT_EQ(margins[1], 1.5f);
}

TEST(LinearModelTest, SoftmaxIsHandCheckedAndSumsToOne) {
  // Three classes over two features.
  LinearModel m(LinearLink::kSoftmax, 2, {1, 0, 0, 1, -1, -1}, {0, 0.5, 0});
  EXPECT_EQ(m.num_groups(), 3u);
  EXPECT_EQ(m.num_outputs(), 3u);
  std::vector<float> x = {1, 2, 0, 0, 800, -800, -3.25f, 7.5f};
  std::vector<float> out(12);
  m.Predict(x, 4, out);
  // Row 0: margins 1, 2.5, -3.
  const double e0 = std::exp(1.0), e1 = std::exp(2.5), e2 = std::exp(-3.0);
  EXPECT_FLOAT_EQ(out[0], static_cast<float>(e0 / (e0 + e1 + e2)));
  EXPECT_FLOAT_EQ(out[1], static_cast<float>(e1 / (e0 + e1 + e2)));
  EXPECT_FLOAT_EQ(out[2], static_cast<float>(e2 / (e0 + e1 + e2)));
  // Row 2: margins 800, -799.5, 0: no overflow.
  EXPECT_EQ(out[6], 1.0f);
  EXPECT_EQ(out[7], 0.0f);
  for (size_t r = 0; r < 4; ++r) {
    double sum = 0;
    for (size_t k = 0; k < 3; ++k) {
      EXPECT_TRUE(std::isfinite(out[r * 3 + k]));
      sum += out[r * 3 + k];
    }
    EXPECT_NEAR(sum, 1.0, 1e-6) << "row " << r;
  }
  std::vector<float> margins(12);
  m.PredictMargin(x, 4, margins);
  EXPECT_EQ(margins[0], 1.0f);
  EXPECT_EQ(margins[1], 2.5f);
  EXPECT_EQ(margins[2], -3.0f);
}

TEST(LinearModelTest, RowsWithMissingValuesGiveNaN) {
  LinearModel reg(LinearLink::kIdentity, 2, {0.0, 1.0}, {1.0});
  LinearModel bin(LinearLink::kLogistic, 2, {0.0, 1.0}, {1.0});
  LinearModel multi(LinearLink::kSoftmax, 2, {0, 1, 1, 0}, {0, 0});
  // The NaN of row 0 has coefficient 0 in reg and bin: the row is still NaN.
  std::vector<float> x = {kNaN, 1, 1, 1, 2, kNaN};
  std::vector<float> out(3);
  reg.Predict(x, 3, out);
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_EQ(out[1], 2.0f);
  EXPECT_TRUE(std::isnan(out[2]));
  bin.Predict(x, 3, out);
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_FALSE(std::isnan(out[1]));
  EXPECT_TRUE(std::isnan(out[2]));
  std::vector<float> probs(6);
  multi.Predict(x, 3, probs);
  EXPECT_TRUE(std::isnan(probs[0]) && std::isnan(probs[1]));
  EXPECT_FLOAT_EQ(probs[2] + probs[3], 1.0f);
  EXPECT_TRUE(std::isnan(probs[4]) && std::isnan(probs[5]));
}

TEST(LinearModelTest, SizeMismatchesThrow) {
  LinearModel m(LinearLink::kSoftmax, 2, {1, 0, 0, 1, -1, -1}, {0, 0.5, 0});
  std::vector<float> x(4), out(6);
  ExpectError(ErrorCode::kInvalidArgument, {"linear model", "3 input values", "2 rows x 2"},
              [&] { m.Predict(std::span<const float>(x).first(3), 2, out); });
  ExpectError(ErrorCode::kInvalidArgument, {"output of 5 values", "2 rows x 3 outputs"},
              [&] { m.Predict(x, 2, std::span<float>(out).first(5)); });
  ExpectError(ErrorCode::kInvalidArgument, {"output of 5 values", "2 rows x 3 outputs"},
              [&] { m.PredictMargin(x, 2, std::span<float>(out).first(5)); });
  std::vector<float> none;
  m.Predict(none, 0, std::span<float>());  // no rows: nothing to do, no error.
}

TEST(LinearModelTest, ConstructorRefusesInconsistentModels) {
  ExpectError(ErrorCode::kInvalidArgument, {"3 coefficients", "1 groups x 2 features"}, [] {
    LinearModel(LinearLink::kIdentity, 2, {1, 2, 3}, {0});
  });
  ExpectError(ErrorCode::kInvalidArgument, {"1 groups for link softmax", "at least 2"},
              [] { LinearModel(LinearLink::kSoftmax, 1, {1}, {0}); });
  ExpectError(ErrorCode::kInvalidArgument, {"2 groups for link logistic"}, [] {
    LinearModel(LinearLink::kLogistic, 1, {1, 2}, {0, 0});
  });
  // 2 groups x 2^63 features wraps around to 0 coefficients in size_t.
  ExpectError(ErrorCode::kInvalidArgument, {"0 coefficients for 2 groups"}, [] {
    LinearModel(LinearLink::kSoftmax, size_t{1} << 63, {}, {0, 0});
  });
  ExpectError(ErrorCode::kInvalidArgument, {"not finite"}, [] {
    LinearModel(LinearLink::kIdentity, 1, {std::numeric_limits<double>::infinity()}, {0});
  });
}

TEST(LinearModelTest, JsonRoundTripIsExact) {
  LinearModel m(LinearLink::kSoftmax, 2, {0.1, 1.0 / 3, -2e-300, 7, 1e300, -0.0}, {0.2, 0, -5});
  Json doc = m.ToJson();
  EXPECT_EQ(doc["format"], "mloop-linear-model");
  EXPECT_EQ(doc["format_version"], 1);
  EXPECT_EQ(doc["link"], "softmax");
  EXPECT_EQ(doc["num_features"], 2);
  EXPECT_EQ(doc["coef"].size(), 3u);
  LinearModel back = LinearModel::FromJson(ParseJson(doc.dump(), "m.json"), "m.json");
  EXPECT_EQ(back.link(), LinearLink::kSoftmax);
  EXPECT_EQ(back.num_features(), 2u);
  EXPECT_EQ(back.coef(), m.coef());
  EXPECT_EQ(back.intercept(), m.intercept());
  for (LinearLink link : {LinearLink::kIdentity, LinearLink::kLogistic}) {
    LinearModel one(link, 3, {1, 2, 3}, {4});
    LinearModel again = LinearModel::FromJson(ParseJson(one.ToJson().dump(), "m"), "m");
    EXPECT_EQ(again.link(), link);
    EXPECT_EQ(again.coef(), one.coef());
    EXPECT_EQ(again.intercept(), one.intercept());
  }
}

TEST(LinearModelTest, FromJsonNamesTheSourceAndKeyAtFault) {
  const Json good = LinearModel(LinearLink::kSoftmax, 2, {1, 2, 3, 4}, {0, 1}).ToJson();
  auto broken = [&](auto edit) {
    Json doc = good;
    edit(doc);
    return doc;
  };
  auto expect = [](const Json& doc, std::initializer_list<std::string_view> facts) {
    ExpectError(ErrorCode::kInvalidArgument, facts,
                [&] { LinearModel::FromJson(doc, "model.json"); });
  };
  expect(Json::array(), {"model.json", "expected a JSON object"});
  expect(broken([](Json& d) { d.erase("coef"); }), {"model.json: coef: missing"});
  expect(broken([](Json& d) { d["format"] = "xgboost"; }), {"model.json: format:", "xgboost"});
  expect(broken([](Json& d) { d["format_version"] = 2; }),
         {"model.json: format_version: unsupported version 2"});
  expect(broken([](Json& d) { d["link"] = "probit"; }),
         {"model.json: link: unknown link \"probit\"", "identity, logistic or softmax"});
  expect(broken([](Json& d) { d["num_features"] = -1; }),
         {"model.json: num_features:", "non-negative integer"});
  // A huge num_features is refused by the sizes of coef, not by running out of memory.
  expect(broken([](Json& d) { d["num_features"] = int64_t{1} << 62; }),
         {"model.json: coef[0]: expected 4611686018427387904 numbers, got 2"});
  expect(broken([](Json& d) { d["num_features"] = 3; }),
         {"model.json: coef[0]: expected 3 numbers, got 2"});
  expect(broken([](Json& d) { d["coef"][1] = Json::array({1.0}); }),
         {"model.json: coef[1]: expected 2 numbers, got 1"});
  expect(broken([](Json& d) { d["coef"][1][0] = "1"; }),
         {"model.json: coef[1][0]: expected a number"});
  expect(broken([](Json& d) { d["coef"][0][1] = std::numeric_limits<double>::infinity(); }),
         {"model.json: coef[0][1]: expected a finite number"});
  expect(broken([](Json& d) { d["coef"][0][1] = nullptr; }),
         {"model.json: coef[0][1]: expected a number, got null"});
  expect(broken([](Json& d) { d["coef"].erase(1); }),
         {"model.json: coef: expected an array of 2 arrays", "got 1"});
  expect(broken([](Json& d) { d["intercept"] = Json::array({0.0}); }),
         {"model.json: intercept: 1 values for link \"softmax\""});
  expect(broken([](Json& d) { d["intercept"][1] = true; }),
         {"model.json: intercept[1]: expected a number, got true"});
  expect(broken([](Json& d) { d["link"] = "logistic"; }),
         {"model.json: intercept: 2 values for link \"logistic\"", "expected 1"});
}

}  // namespace
}  // namespace mloop::model
