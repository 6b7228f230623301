#include "train/linear_trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/testing.h"

namespace mloop::train {
namespace {

using test::ExpectError;

// A deterministic pseudo-random number in [-1, 1) for index i (a hash, no generator state).
double Noise(uint64_t i) {
  uint64_t z = (i + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / static_cast<double>(1ull << 52) - 1.0;
}

std::vector<std::string> Names(size_t n) {
  std::vector<std::string> names;
  for (size_t i = 0; i < n; ++i) {
    std::string name = "f";  // not "f" + ...: GCC 12's -Wrestrict misfires on that at -O3
    name += std::to_string(i);
    names.push_back(name);
  }
  return names;
}

LinearParams Params(std::string_view type, const std::map<std::string, std::string>& given = {}) {
  return ParseLinearParams(type, given, "train.yaml");
}

LinearFit Fit(std::string_view type, const LinearParams& p, const std::vector<float>& x,
              size_t features, const std::vector<float>& y, size_t classes,
              const std::vector<float>& w = {}) {
  return FitLinear(type, p, x, y.size(), features, Names(features), y, w, classes);
}

// A classification problem with some overlap between classes: `features` noisy features, of
// which the first two carry the class.
struct Problem {
  std::vector<float> x, y, w;
  size_t features;
};

Problem Classes(size_t rows, size_t features, size_t classes) {
  Problem p;
  p.features = features;
  for (size_t r = 0; r < rows; ++r) {
    const size_t k = r % classes;
    for (size_t f = 0; f < features; ++f) {
      double v = 1.5 * Noise(r * features + f);
      if (f == 0) v += static_cast<double>(k);
      if (f == 1) v -= 0.5 * static_cast<double>(k * k) / static_cast<double>(classes);
      p.x.push_back(static_cast<float>(v));
    }
    p.y.push_back(static_cast<float>(k));
    p.w.push_back(static_cast<float>(1 + r % 3));
  }
  return p;
}

// The gradient of the penalized logistic objective (linear_trainer.h) at the fitted model,
// computed here in double from its coefficients: all zero at the minimum.
std::vector<double> LogisticGradient(const model::LinearModel& m, const Problem& p, double c,
                                     bool weighted) {
  const size_t d = p.features, groups = m.num_groups(), rows = p.y.size();
  std::vector<double> grad(groups * (d + 1));
  for (size_t r = 0; r < rows; ++r) {
    std::vector<double> margin(groups);
    for (size_t g = 0; g < groups; ++g) {
      margin[g] = m.intercept()[g];
      for (size_t f = 0; f < d; ++f) margin[g] += m.coef()[g * d + f] * p.x[r * d + f];
    }
    std::vector<double> resid(groups);
    if (groups == 1) {
      resid[0] = 1 / (1 + std::exp(-margin[0])) - p.y[r];
    } else {
      double max = margin[0], sum = 0;
      for (double v : margin) max = std::max(max, v);
      for (double v : margin) sum += std::exp(v - max);
      for (size_t g = 0; g < groups; ++g) {
        resid[g] = std::exp(margin[g] - max) / sum - (p.y[r] == static_cast<float>(g) ? 1 : 0);
      }
    }
    const double w = c * (weighted ? p.w[r] : 1.0);
    for (size_t g = 0; g < groups; ++g) {
      for (size_t f = 0; f < d; ++f) grad[g * (d + 1) + f] += w * resid[g] * p.x[r * d + f];
      grad[g * (d + 1) + d] += w * resid[g];
    }
  }
  for (size_t g = 0; g < groups; ++g) {
    for (size_t f = 0; f < d; ++f) grad[g * (d + 1) + f] += m.coef()[g * d + f];
  }
  return grad;
}

TEST(LinearParamsTest, DefaultsAreScikitLearns) {
  LinearParams logistic = Params("logistic");
  EXPECT_EQ(logistic.C, 1.0);
  EXPECT_EQ(logistic.penalty, LogisticPenalty::kL2);
  EXPECT_EQ(logistic.max_iter, 100);
  EXPECT_EQ(logistic.tol, 1e-8);
  EXPECT_TRUE(logistic.fit_intercept);
  LinearParams enet = Params("elastic_net");
  EXPECT_EQ(enet.alpha, 1.0);
  EXPECT_EQ(enet.l1_ratio, 0.5);
  EXPECT_EQ(enet.max_iter, 1000);
  EXPECT_EQ(enet.tol, 1e-4);
  EXPECT_EQ(Params("ridge").alpha, 1.0);
  LinearParams given = Params("logistic", {{"C", "0.25"},
                                           {"penalty", "none"},
                                           {"max_iter", "7"},
                                           {"tol", "1e-6"},
                                           {"fit_intercept", "false"}});
  EXPECT_EQ(given.C, 0.25);
  EXPECT_EQ(given.penalty, LogisticPenalty::kNone);
  EXPECT_EQ(given.max_iter, 7);
  EXPECT_EQ(given.tol, 1e-6);
  EXPECT_FALSE(given.fit_intercept);
  EXPECT_EQ(Params("elastic_net", {{"l1_ratio", "1"}, {"alpha", "0"}}).l1_ratio, 1.0);
}

TEST(LinearParamsTest, NamesPerType) {
  using Names = std::vector<std::string_view>;
  EXPECT_EQ(LinearParamNames("logistic"),
            (Names{"C", "fit_intercept", "max_iter", "penalty", "tol"}));
  EXPECT_EQ(LinearParamNames("linear"), (Names{"fit_intercept"}));
  EXPECT_EQ(LinearParamNames("ridge"), (Names{"alpha", "fit_intercept"}));
  EXPECT_EQ(LinearParamNames("elastic_net"),
            (Names{"alpha", "fit_intercept", "l1_ratio", "max_iter", "tol"}));
  EXPECT_TRUE(LinearParamNames("xgboost").empty());
  EXPECT_TRUE(IsLinearEstimatorType("ridge"));
  EXPECT_FALSE(IsLinearEstimatorType("xgboost"));
}

TEST(LinearParamsTest, ErrorsNameTheKeyAndWhatIsExpected) {
  auto expect = [](std::string_view type, std::map<std::string, std::string> given,
                   std::initializer_list<std::string_view> facts) {
    ExpectError(ErrorCode::kInvalidArgument, facts, [&] { Params(type, given); });
  };
  expect("logistic", {{"C", "0"}}, {"train.yaml: estimator.params.C: 0 is not > 0", "(expected"});
  expect("logistic", {{"C", "-1"}}, {"estimator.params.C: -1 is not > 0"});
  expect("logistic", {{"C", "abc"}}, {"estimator.params.C: 'abc' is not a number"});
  expect("logistic", {{"C", "nan"}}, {"estimator.params.C: 'nan' is not a number"});
  expect("logistic", {{"C", "1x"}}, {"estimator.params.C: '1x' is not a number"});
  expect("logistic", {{"penalty", "l1"}},
         {"estimator.params.penalty: 'l1' is not supported", "expected l2 or none"});
  expect("logistic", {{"penalty", "L2"}}, {"estimator.params.penalty: 'L2' is not a penalty"});
  expect("logistic", {{"max_iter", "0"}},
         {"estimator.params.max_iter: '0' is not a positive integer", "(expected an integer"});
  expect("logistic", {{"max_iter", "2.5"}}, {"estimator.params.max_iter: '2.5'"});
  expect("logistic", {{"tol", "0"}}, {"estimator.params.tol: 0 is not > 0"});
  expect("logistic", {{"fit_intercept", "yes"}},
         {"estimator.params.fit_intercept: 'yes' is not a boolean", "(expected true or false)"});
  expect("logistic", {{"alpha", "1"}},
         {"train.yaml: estimator.params.alpha: not a parameter of the logistic estimator",
          "expected one of C, fit_intercept, max_iter, penalty, tol"});
  expect("ridge", {{"l1_ratio", "0.5"}},
         {"estimator.params.l1_ratio: not a parameter of the ridge estimator",
          "expected one of alpha, fit_intercept"});
  expect("ridge", {{"alpha", "-0.5"}}, {"estimator.params.alpha: -0.5 is negative"});
  expect("linear", {{"n_jobs", "4"}},
         {"estimator.params.n_jobs: unknown parameter", "expected one of fit_intercept"});
  expect("elastic_net", {{"l1_ratio", "1.5"}},
         {"estimator.params.l1_ratio: 1.5 is outside [0, 1]", "from 0 to 1"});
  expect("lasso", {}, {"train.yaml: estimator.type: unknown linear estimator 'lasso'"});
}

TEST(LinearTrainerTest, LinearRecoversAPerfectLine) {
  std::vector<float> x, y;
  for (int r = 0; r < 20; ++r) {
    const float a = static_cast<float>(r % 7) - 3, b = static_cast<float>(r * r % 11) / 4;
    x.insert(x.end(), {a, b});
    y.push_back(3 + 2 * a - b);
  }
  for (std::string_view type : {"linear", "ridge"}) {
    LinearParams p =
        Params(type, type == "ridge" ? std::map<std::string, std::string>{{"alpha", "0"}}
                                     : std::map<std::string, std::string>{});
    LinearFit fit = Fit(type, p, x, 2, y, 0);
    EXPECT_TRUE(fit.converged);
    EXPECT_EQ(fit.iterations, 1);
    EXPECT_EQ(fit.model.link(), model::LinearLink::kIdentity);
    EXPECT_NEAR(fit.model.coef()[0], 2, 1e-12) << type;
    EXPECT_NEAR(fit.model.coef()[1], -1, 1e-12) << type;
    EXPECT_NEAR(fit.model.intercept()[0], 3, 1e-12) << type;
    std::vector<float> pred(y.size());
    fit.model.Predict(x, y.size(), pred);
    for (size_t r = 0; r < y.size(); ++r) EXPECT_NEAR(pred[r], y[r], 1e-5);
  }
}

TEST(LinearTrainerTest, LinearOnARankDeficientMatrixGivesTheLeastNormSolution) {
  // The two columns are equal: every coef with a + b = 2 fits; the least-norm one is (1, 1).
  std::vector<float> x, y;
  for (int r = 0; r < 6; ++r) {
    x.insert(x.end(), {static_cast<float>(r), static_cast<float>(r)});
    y.push_back(2.0f * static_cast<float>(r) + 1);
  }
  LinearFit fit = Fit("linear", Params("linear"), x, 2, y, 0);
  EXPECT_NEAR(fit.model.coef()[0], 1, 1e-10);
  EXPECT_NEAR(fit.model.coef()[1], 1, 1e-10);
  EXPECT_NEAR(fit.model.intercept()[0], 1, 1e-10);
}

TEST(LinearTrainerTest, RidgeMatchesItsClosedFormOnATinyMatrix) {
  // x = (1, 2, 3), y = (1, 3, 2). Centered: x - 2 = (-1, 0, 1), y - 2 = (-1, 1, 0), so
  // coef = sum(xc * yc) / (sum(xc^2) + alpha) = 1 / (2 + 1) and b = 2 - 2 / 3.
  const std::vector<float> x = {1, 2, 3}, y = {1, 3, 2};
  LinearFit fit = Fit("ridge", Params("ridge"), x, 1, y, 0);
  EXPECT_NEAR(fit.model.coef()[0], 1.0 / 3, 1e-15);
  EXPECT_NEAR(fit.model.intercept()[0], 4.0 / 3, 1e-15);
  // Without an intercept: coef = sum(x * y) / (sum(x^2) + alpha) = 13 / 15.
  LinearFit origin = Fit("ridge", Params("ridge", {{"fit_intercept", "false"}}), x, 1, y, 0);
  EXPECT_NEAR(origin.model.coef()[0], 13.0 / 15, 1e-15);
  EXPECT_EQ(origin.model.intercept()[0], 0.0);
  // alpha = 2 with weights (1, 2, 1): weighted means x = 2, y = 2.25; centered x (-1, 0, 1),
  // y (-1.25, 0.75, -0.25): coef = (1.25 - 0.25) / (2 + 2) = 0.25, b = 2.25 - 0.5.
  LinearFit weighted = Fit("ridge", Params("ridge", {{"alpha", "2"}}), x, 1, y, 0, {1, 2, 1});
  EXPECT_NEAR(weighted.model.coef()[0], 0.25, 1e-15);
  EXPECT_NEAR(weighted.model.intercept()[0], 1.75, 1e-15);
}

TEST(LinearTrainerTest, ElasticNetMatchesItsClosedFormInOneDimension) {
  // x = (1, 2, 3), y = 2x. With n = 3, alpha = 1, l1_ratio = 0.5, the minimum of
  // 1/6 * ||yc - coef * xc||^2 + 0.5 |coef| + 0.25 coef^2 has
  // coef = (xc.yc / n - 0.5) / (xc.xc / n + 0.5) = (4/3 - 1/2) / (2/3 + 1/2) = 5/7.
  const std::vector<float> x = {1, 2, 3}, y = {2, 4, 6};
  LinearFit fit = Fit("elastic_net", Params("elastic_net"), x, 1, y, 0);
  EXPECT_TRUE(fit.converged);
  EXPECT_NEAR(fit.model.coef()[0], 5.0 / 7, 1e-12);
  EXPECT_NEAR(fit.model.intercept()[0], 4 - 10.0 / 7, 1e-12);
  // A penalty of alpha * l1_ratio >= xc.yc / n = 4/3 zeroes the coefficient.
  LinearFit zero = Fit("elastic_net", Params("elastic_net", {{"alpha", "3"}}), x, 1, y, 0);
  EXPECT_EQ(zero.model.coef()[0], 0.0);
  EXPECT_NEAR(zero.model.intercept()[0], 4, 1e-12);
}

TEST(LinearTrainerTest, ElasticNetZeroesAUselessFeature) {
  std::vector<float> x, y;
  for (int r = 0; r < 200; ++r) {
    const double a = Noise(2 * r), noise = Noise(2 * r + 1);
    x.insert(x.end(), {static_cast<float>(a), static_cast<float>(noise)});
    y.push_back(static_cast<float>(4 * a + 0.1 * Noise(1000 + r)));
  }
  LinearFit fit = Fit("elastic_net", Params("elastic_net", {{"alpha", "0.1"}, {"l1_ratio", "0.9"}}),
                      x, 2, y, 0);
  EXPECT_TRUE(fit.converged);
  EXPECT_GT(fit.model.coef()[0], 3.0);
  EXPECT_EQ(fit.model.coef()[1], 0.0);
  // Without a penalty it is an ordinary least squares fit, which keeps both.
  LinearFit ols =
      Fit("elastic_net",
          Params("elastic_net", {{"alpha", "0"}, {"tol", "1e-12"}, {"max_iter", "100000"}}), x, 2,
          y, 0);
  LinearFit linear = Fit("linear", Params("linear"), x, 2, y, 0);
  EXPECT_NE(ols.model.coef()[1], 0.0);
  EXPECT_NEAR(ols.model.coef()[0], linear.model.coef()[0], 1e-9);
  EXPECT_NEAR(ols.model.coef()[1], linear.model.coef()[1], 1e-9);
}

TEST(LinearTrainerTest, LogisticSolvesItsStationaryEquation) {
  // x = (1, -1), y = (1, 0), no intercept: f(w) = 2 log(1 + exp(-w)) + w^2 / 2, minimal where
  // w = 2 / (1 + exp(w)).
  LinearFit fit =
      Fit("logistic", Params("logistic", {{"fit_intercept", "false"}}), {1, -1}, 1, {1, 0}, 2);
  EXPECT_TRUE(fit.converged);
  EXPECT_EQ(fit.model.link(), model::LinearLink::kLogistic);
  const double w = fit.model.coef()[0];
  EXPECT_NEAR(w, 2 / (1 + std::exp(w)), 1e-14);
  EXPECT_NEAR(w, 0.6748, 1e-4);
}

TEST(LinearTrainerTest, BinaryLogisticReachesTheMinimum) {
  Problem p = Classes(300, 3, 2);
  for (bool weighted : {false, true}) {
    LinearFit fit = Fit("logistic", Params("logistic", {{"C", "0.5"}}), p.x, 3, p.y, 2,
                        weighted ? p.w : std::vector<float>{});
    EXPECT_TRUE(fit.converged);
    EXPECT_LE(fit.iterations, 10);
    EXPECT_GT(fit.model.coef()[0], 0.5);  // class 1 has the larger first feature
    for (double g : LogisticGradient(fit.model, p, 0.5, weighted)) EXPECT_NEAR(g, 0, 1e-9);
  }
}

TEST(LinearTrainerTest, MultinomialLogisticReachesTheMinimum) {
  Problem p = Classes(400, 3, 4);
  LinearFit fit = Fit("logistic", Params("logistic"), p.x, 3, p.y, 4, p.w);
  EXPECT_TRUE(fit.converged);
  EXPECT_EQ(fit.model.link(), model::LinearLink::kSoftmax);
  EXPECT_EQ(fit.model.num_groups(), 4u);
  for (double g : LogisticGradient(fit.model, p, 1.0, true)) EXPECT_NEAR(g, 0, 1e-9);
  // Of the equivalent intercepts, the ones summing to 0; with l2, the coefficients of each
  // feature sum to 0 too.
  double sum = 0;
  for (double b : fit.model.intercept()) sum += b;
  EXPECT_NEAR(sum, 0, 1e-12);
  for (size_t f = 0; f < 3; ++f) {
    double s = 0;
    for (size_t g = 0; g < 4; ++g) s += fit.model.coef()[g * 3 + f];
    EXPECT_NEAR(s, 0, 1e-12);
  }
  std::vector<float> probs(p.y.size() * 4);
  fit.model.Predict(p.x, p.y.size(), probs);
  size_t right = 0;
  for (size_t r = 0; r < p.y.size(); ++r) {
    size_t best = 0;
    for (size_t k = 1; k < 4; ++k) best = probs[r * 4 + k] > probs[r * 4 + best] ? k : best;
    right += best == static_cast<size_t>(p.y[r]);
  }
  EXPECT_GT(right, p.y.size() / 2);
}

TEST(LinearTrainerTest, MultinomialWithoutPenaltyReachesTheMinimum) {
  Problem p = Classes(400, 2, 3);
  LinearFit fit = Fit("logistic", Params("logistic", {{"penalty", "none"}}), p.x, 2, p.y, 3);
  EXPECT_TRUE(fit.converged);
  // Without the penalty the gradient has no coefficient term: remove the one LogisticGradient
  // adds.
  std::vector<double> grad = LogisticGradient(fit.model, p, 1.0, false);
  for (size_t g = 0; g < 3; ++g) {
    for (size_t f = 0; f < 2; ++f) grad[g * 3 + f] -= fit.model.coef()[g * 2 + f];
  }
  for (double g : grad) EXPECT_NEAR(g, 0, 1e-9);
}

TEST(LinearTrainerTest, SeparableClassesWithoutPenaltyDoNotConverge) {
  const std::vector<float> x = {-2, -1, -0.5f, 0.5f, 1, 2}, y = {0, 0, 0, 1, 1, 1};
  // However many iterations it is given: the loss saturates (probabilities of exactly 0 and 1)
  // and the fit stops there, still not converged, and still with finite coefficients.
  for (int64_t max_iter : {50, 100000}) {
    LinearFit fit =
        Fit("logistic",
            Params("logistic", {{"penalty", "none"}, {"max_iter", std::to_string(max_iter)}}), x, 1,
            y, 2);
    EXPECT_FALSE(fit.converged) << max_iter;
    EXPECT_LE(fit.iterations, max_iter);
    EXPECT_GT(fit.model.coef()[0], 10);
    EXPECT_TRUE(std::isfinite(fit.model.coef()[0]));
  }
  // With the l2 penalty the same data has a minimum.
  LinearFit l2 = Fit("logistic", Params("logistic"), x, 1, y, 2);
  EXPECT_TRUE(l2.converged);
  EXPECT_LT(l2.model.coef()[0], 10);
}

TEST(LinearTrainerTest, WeightsEqualRepeatedRows) {
  Problem p = Classes(60, 2, 3);
  std::vector<float> xr, yr, reg, regr;
  for (size_t r = 0; r < p.y.size(); ++r) {
    reg.push_back(static_cast<float>(p.x[r * 2] * 2 - p.x[r * 2 + 1] + Noise(77 + r)));
    for (int copy = 0; copy < static_cast<int>(p.w[r]); ++copy) {
      xr.insert(xr.end(), {p.x[r * 2], p.x[r * 2 + 1]});
      yr.push_back(p.y[r]);
      regr.push_back(reg.back());
    }
  }
  std::vector<float> bin, binr;  // binary: class 2 against the others
  for (float v : p.y) bin.push_back(v == 2 ? 1 : 0);
  for (float v : yr) binr.push_back(v == 2 ? 1 : 0);
  struct Case {
    std::string_view type;
    std::map<std::string, std::string> params;
    size_t classes;
  };
  for (const Case& c : {Case{"logistic", {}, 3}, Case{"logistic", {}, 0}, Case{"linear", {}, 0},
                        Case{"ridge", {{"alpha", "3"}}, 0},
                        Case{"elastic_net", {{"alpha", "0.05"}, {"tol", "1e-12"}}, 0}}) {
    LinearParams params = Params(c.type, c.params);
    size_t classes = c.classes;
    const std::vector<float>* y = &reg;
    const std::vector<float>* y_repeated = &regr;
    if (c.type == "logistic") {
      if (classes == 0) {
        classes = 2;
        y = &bin;
        y_repeated = &binr;
      } else {
        y = &p.y;
        y_repeated = &yr;
      }
    }
    LinearFit weighted = Fit(c.type, params, p.x, 2, *y, classes, p.w);
    LinearFit repeated = Fit(c.type, params, xr, 2, *y_repeated, classes);
    ASSERT_EQ(weighted.model.coef().size(), repeated.model.coef().size());
    for (size_t i = 0; i < weighted.model.coef().size(); ++i) {
      EXPECT_NEAR(weighted.model.coef()[i], repeated.model.coef()[i], 1e-9) << c.type;
    }
    for (size_t i = 0; i < weighted.model.intercept().size(); ++i) {
      EXPECT_NEAR(weighted.model.intercept()[i], repeated.model.intercept()[i], 1e-9) << c.type;
    }
  }
}

TEST(LinearTrainerTest, FitsAreBitIdenticalRunToRun) {
  Problem p = Classes(500, 4, 3);
  for (std::string_view type : {"logistic", "linear", "ridge", "elastic_net"}) {
    const size_t classes = type == "logistic" ? 3 : 0;
    LinearFit a = Fit(type, Params(type), p.x, 4, p.y, classes, p.w);
    LinearFit b = Fit(type, Params(type), p.x, 4, p.y, classes, p.w);
    ASSERT_EQ(a.model.coef().size(), b.model.coef().size());
    EXPECT_EQ(std::memcmp(a.model.coef().data(), b.model.coef().data(),
                          a.model.coef().size() * sizeof(double)),
              0)
        << type;
    EXPECT_EQ(a.model.intercept(), b.model.intercept()) << type;
  }
}

TEST(LinearTrainerTest, MissingValuesNameTheFeature) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {1, nan, 2, 3, 3, nan, 4, 1};
  const std::vector<float> y = {0, 1, 0, 1};
  const std::vector<std::string> names = {"age", "hours_per_week"};
  for (std::string_view type : {"logistic", "ridge"}) {
    ExpectError(
        ErrorCode::kInvalidArgument,
        {"feature 'hours_per_week' has missing values in 2 training rows",
         "linear estimators need complete rows (add an impute step to the feature "
         "pipeline)"},
        [&] { FitLinear(type, Params(type), x, 4, 2, names, y, {}, type == "logistic" ? 2 : 0); });
  }
  const std::vector<float> inf = {1, 2, std::numeric_limits<float>::infinity(), 3};
  ExpectError(
      ErrorCode::kInvalidArgument, {"feature 'age' has infinite values in 1 training rows"}, [&] {
        FitLinear("linear", Params("linear"), inf, 2, 2, names, std::vector<float>{1, 2}, {}, 0);
      });
}

TEST(LinearTrainerTest, BadInputsThrow) {
  const std::vector<float> x = {1, 2, 3, 4}, y = {0, 1, 1, 0};
  auto fit = [&](std::string_view type, std::vector<float> labels, size_t classes,
                 std::vector<float> w = {}) {
    return FitLinear(type, Params(type), x, labels.size(), 1, Names(1), labels, w, classes);
  };
  ExpectError(ErrorCode::kInvalidArgument, {"logistic regression needs a class label"},
              [&] { fit("logistic", y, 0); });
  ExpectError(ErrorCode::kInvalidArgument, {"a regression estimator needs a numeric label"},
              [&] { fit("ridge", y, 2); });
  ExpectError(ErrorCode::kInvalidArgument, {"label of training row 2 is 2", "class index 0 to 1"},
              [&] {
                fit("logistic", {0, 1, 2, 0}, 2);
              });
  ExpectError(ErrorCode::kInvalidArgument, {"label of training row 0 is 0.5"}, [&] {
    fit("logistic", {0.5, 1, 0, 0}, 2);
  });
  ExpectError(ErrorCode::kInvalidArgument, {"class 2 has no training row of positive weight"}, [&] {
    fit("logistic", {0, 1, 1, 0}, 3);
  });
  ExpectError(ErrorCode::kInvalidArgument, {"class 1 has no training row of positive weight"}, [&] {
    fit("logistic", y, 2, {1, 0, 0, 1});
  });
  ExpectError(ErrorCode::kInvalidArgument, {"weight of training row 1 is -1"}, [&] {
    fit("ridge", y, 0, {1, -1, 1, 1});
  });
  ExpectError(ErrorCode::kInvalidArgument, {"every training row has weight 0"}, [&] {
    fit("ridge", y, 0, {0, 0, 0, 0});
  });
  ExpectError(ErrorCode::kInvalidArgument, {"3 weights for 4 rows"}, [&] {
    fit("ridge", y, 0, {1, 1, 1});
  });
  ExpectError(ErrorCode::kInvalidArgument, {"label of training row 1 is not a finite number"}, [&] {
    fit("linear", {0, std::numeric_limits<float>::quiet_NaN(), 1, 1}, 0);
  });
  ExpectError(ErrorCode::kInvalidArgument, {"3 input values for 1 rows x 2 features"}, [&] {
    FitLinear("linear", Params("linear"), std::span<const float>(x).first(3), 1, 2, Names(2),
              std::vector<float>{1}, {}, 0);
  });
  ExpectError(ErrorCode::kInvalidArgument, {"no training rows"},
              [&] { FitLinear("linear", Params("linear"), {}, 0, 1, Names(1), {}, {}, 0); });
  ExpectError(ErrorCode::kInvalidArgument, {"linear estimator: unknown type 'lasso'"},
              [&] { FitLinear("lasso", LinearParams{}, x, 4, 1, Names(1), y, {}, 0); });
  // 1000 features x 5 classes (+ intercepts) is more than the direct solve takes.
  const std::vector<float> wide(1000, 1.0f);
  ExpectError(ErrorCode::kInvalidArgument,
              {"5005 parameters (5 classes x 1001 coefficients)", "more than the 4000"}, [&] {
                FitLinear("logistic", Params("logistic"), wide, 1, 1000, Names(1000),
                          std::vector<float>{0}, {}, 5);
              });
}

}  // namespace
}  // namespace mloop::train
