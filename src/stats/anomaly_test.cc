#include "stats/anomaly.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/testing.h"

namespace mloop::stats {
namespace {

using test::ExpectError;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(CheckAnomalyTest, BoundsAreMeanPlusMinusKSampleStddev) {
  // Mean 5, sample variance 32 / 7 (n - 1), as numpy.std(ddof=1).
  std::vector<double> history = {2, 4, 4, 4, 5, 5, 7, 9};
  const double sd = std::sqrt(32.0 / 7.0);
  AnomalyCheck c = CheckAnomaly(history, 6);
  EXPECT_TRUE(c.evaluated);
  EXPECT_FALSE(c.is_outlier);
  EXPECT_EQ(c.history_size, 8u);
  EXPECT_DOUBLE_EQ(c.mean, 5);
  EXPECT_DOUBLE_EQ(c.stddev, sd);
  EXPECT_DOUBLE_EQ(c.lower, 5 - 3 * sd);
  EXPECT_DOUBLE_EQ(c.upper, 5 + 3 * sd);

  EXPECT_TRUE(CheckAnomaly(history, 5 + 3 * sd + 0.01).is_outlier);
  EXPECT_TRUE(CheckAnomaly(history, 5 - 3 * sd - 0.01).is_outlier);
  EXPECT_FALSE(CheckAnomaly(history, 5 + 3 * sd - 0.01).is_outlier);
  // A value on a bound is not an outlier.
  EXPECT_FALSE(CheckAnomaly(history, c.upper).is_outlier);
  EXPECT_FALSE(CheckAnomaly(history, c.lower).is_outlier);
}

TEST(CheckAnomalyTest, KIsConfigurable) {
  std::vector<double> history = {2, 4, 4, 4, 5, 5, 7, 9};
  const double sd = std::sqrt(32.0 / 7.0);
  AnomalyCheck c = CheckAnomaly(history, 9, {.k = 1.5});
  EXPECT_DOUBLE_EQ(c.upper, 5 + 1.5 * sd);
  EXPECT_TRUE(c.is_outlier);
  EXPECT_FALSE(CheckAnomaly(history, 9).is_outlier);
}

TEST(CheckAnomalyTest, RowCountsOfDatasetVersions) {
  std::vector<double> rows = {10120, 10090, 10210, 10150, 10080, 10170};
  EXPECT_FALSE(CheckAnomaly(rows, 10200).is_outlier);
  EXPECT_TRUE(CheckAnomaly(rows, 5000).is_outlier);
  EXPECT_TRUE(CheckAnomaly(rows, 20000).is_outlier);
}

TEST(CheckAnomalyTest, ShortHistoryIsNotEvaluated) {
  AnomalyCheck none = CheckAnomaly({}, 1e9);
  EXPECT_FALSE(none.evaluated);
  EXPECT_FALSE(none.is_outlier);
  EXPECT_EQ(none.history_size, 0u);
  EXPECT_TRUE(std::isnan(none.mean));
  EXPECT_TRUE(std::isnan(none.stddev));
  EXPECT_TRUE(std::isnan(none.lower));
  EXPECT_TRUE(std::isnan(none.upper));

  std::vector<double> one = {7};
  AnomalyCheck c1 = CheckAnomaly(one, 1e9);
  EXPECT_FALSE(c1.evaluated);
  EXPECT_EQ(c1.mean, 7);
  EXPECT_TRUE(std::isnan(c1.stddev));

  // Two values: below the default minimum of 3, enough with a minimum of 2.
  std::vector<double> two = {1, 3};
  AnomalyCheck c2 = CheckAnomaly(two, 1e9);
  EXPECT_FALSE(c2.evaluated);
  EXPECT_FALSE(c2.is_outlier);
  EXPECT_EQ(c2.history_size, 2u);
  EXPECT_EQ(c2.mean, 2);
  EXPECT_DOUBLE_EQ(c2.stddev, std::sqrt(2.0));
  EXPECT_TRUE(std::isnan(c2.upper));
  AnomalyCheck c2_min2 = CheckAnomaly(two, 1e9, {.min_history = 2});
  EXPECT_TRUE(c2_min2.evaluated);
  EXPECT_TRUE(c2_min2.is_outlier);

  // A larger minimum leaves a longer history unevaluated.
  std::vector<double> five = {1, 2, 3, 4, 5};
  EXPECT_FALSE(CheckAnomaly(five, 100, {.min_history = 6}).evaluated);
  EXPECT_TRUE(CheckAnomaly(five, 100, {.min_history = 5}).is_outlier);
}

TEST(CheckAnomalyTest, ConstantHistoryFlagsAnyOtherValue) {
  std::vector<double> history = {0.1, 0.1, 0.1, 0.1};
  AnomalyCheck same = CheckAnomaly(history, 0.1);
  EXPECT_TRUE(same.evaluated);
  EXPECT_EQ(same.stddev, 0);
  EXPECT_EQ(same.lower, 0.1);
  EXPECT_EQ(same.upper, 0.1);
  EXPECT_FALSE(same.is_outlier);
  EXPECT_TRUE(CheckAnomaly(history, std::nextafter(0.1, 1.0)).is_outlier);
  EXPECT_TRUE(CheckAnomaly(history, 0.0).is_outlier);
}

TEST(CheckAnomalyTest, RejectsNonFiniteValuesAndBadOptions) {
  std::vector<double> history = {1, 2, kNaN, 4};
  ExpectError(ErrorCode::kInvalidArgument, {"history value 2", "not finite"},
              [&] { CheckAnomaly(history, 1); });
  std::vector<double> good = {1, 2, 3};
  ExpectError(ErrorCode::kInvalidArgument, {"new value"}, [&] { CheckAnomaly(good, kInf); });
  ExpectError(ErrorCode::kInvalidArgument, {"new value"}, [&] { CheckAnomaly(good, kNaN); });
  for (double k : {0.0, -1.0, kInf, kNaN}) {
    ExpectError(ErrorCode::kInvalidArgument, {"k must be"},
                [&] { CheckAnomaly(good, 1, {.k = k}); });
  }
  ExpectError(ErrorCode::kInvalidArgument, {"min_history"},
              [&] { CheckAnomaly(good, 1, {.min_history = 1}); });
}

}  // namespace
}  // namespace mloop::stats
