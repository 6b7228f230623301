#include "stats/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"

namespace mloop::stats {
namespace {

TEST(RocAucTest, CountsPairsAndHalfTies) {
  // Positives score 0.8, 0.4, 0.4; negatives 0.1, 0.4. Pairs (pos, neg): (0.8, 0.1) 1,
  // (0.8, 0.4) 1, (0.4, 0.1) 1 twice, (0.4, 0.4) 0.5 twice: 5 of 6.
  std::vector<float> y = {1, 0, 1, 1, 0};
  std::vector<float> s = {0.8f, 0.1f, 0.4f, 0.4f, 0.4f};
  EXPECT_DOUBLE_EQ(RocAuc(y, s), 5.0 / 6.0);
}

TEST(RocAucTest, WeightsActAsRepeatedRows) {
  std::vector<float> y = {1, 0, 1, 0};
  std::vector<float> s = {0.9f, 0.7f, 0.3f, 0.2f};
  std::vector<float> w = {1, 3, 2, 1};
  std::vector<float> y2 = {1, 0, 0, 0, 1, 1, 0};
  std::vector<float> s2 = {0.9f, 0.7f, 0.7f, 0.7f, 0.3f, 0.3f, 0.2f};
  EXPECT_DOUBLE_EQ(RocAuc(y, s, w), RocAuc(y2, s2));
}

TEST(RocAucTest, OneClassIsAnError) {
  std::vector<float> y = {1, 1};
  std::vector<float> s = {0.2f, 0.3f};
  try {
    RocAuc(y, s);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no negative rows"), std::string::npos) << e.what();
  }
}

TEST(LogLossTest, MatchesTheFormulaAndClips) {
  std::vector<float> y = {1, 0, 1};
  std::vector<float> p = {0.9f, 0.2f, 0.0f};
  double expected = -(std::log(static_cast<double>(0.9f)) + std::log1p(-static_cast<double>(0.2f)) +
                      std::log(1e-15)) /
                    3;
  EXPECT_NEAR(LogLoss(y, p), expected, 1e-12);
}

TEST(MultiClassTest, LogLossAndError) {
  std::vector<float> y = {0, 2};
  std::vector<float> p = {0.5f, 0.3f, 0.2f, 0.6f, 0.3f, 0.1f};
  EXPECT_NEAR(MultiLogLoss(y, p, 3),
              -(std::log(static_cast<double>(0.5f)) + std::log(static_cast<double>(0.1f))) / 2,
              1e-12);
  EXPECT_DOUBLE_EQ(MultiError(y, p, 3), 0.5);
  std::vector<float> bad = {3, 0};
  EXPECT_THROW(MultiError(bad, p, 3), Error);
}

TEST(RegressionTest, RmseAndMaeWeighted) {
  std::vector<float> y = {1, 2, 3};
  std::vector<float> p = {1, 4, 2};
  std::vector<float> w = {1, 1, 2};
  EXPECT_DOUBLE_EQ(Rmse(y, p), std::sqrt(5.0 / 3));
  EXPECT_DOUBLE_EQ(Mae(y, p, w), (0 + 2 + 2) / 4.0);
}

TEST(TaskMetricsTest, NamesFollowXgboost) {
  std::vector<float> y = {0, 1};
  std::vector<float> p = {0.3f, 0.6f};
  auto m = TaskMetrics(2, y, p);
  EXPECT_EQ(m.size(), 2u);
  EXPECT_DOUBLE_EQ(m.at("auc"), 1.0);
  EXPECT_TRUE(m.count("logloss"));
  EXPECT_TRUE(TaskMetrics(0, y, p).count("rmse"));
}

TEST(MetricsErrorsTest, SizesMustAgree) {
  std::vector<float> y = {0, 1};
  std::vector<float> p = {0.3f};
  EXPECT_THROW(LogLoss(y, p), Error);
  EXPECT_THROW(Rmse({}, {}), Error);
  std::vector<float> w = {1, -1};
  std::vector<float> p2 = {0.3f, 0.4f};
  EXPECT_THROW(Mae(y, p2, w), Error);
}

}  // namespace
}  // namespace mloop::stats
