#include "stats/welford.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/testing.h"

namespace mloop::stats {
namespace {

using test::ExpectError;

struct TwoPass {
  double mean;
  double m2;
};

TwoPass Reference(const std::vector<double>& v) {
  long double sum = 0;
  for (double x : v) sum += x;
  long double mean = sum / v.size();
  long double m2 = 0;
  for (double x : v) m2 += (x - mean) * (x - mean);
  return {static_cast<double>(mean), static_cast<double>(m2)};
}

std::vector<double> Normal(size_t n, double mean, double sd, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(mean, sd);
  std::vector<double> v(n);
  for (double& x : v) x = d(rng);
  return v;
}

void ExpectRelativeNear(double actual, double expected, double tolerance) {
  EXPECT_LE(std::fabs(actual - expected), tolerance * std::fabs(expected))
      << actual << " vs " << expected;
}

TEST(WelfordTest, MatchesTwoPassComputation) {
  // A large offset with a small spread is where the textbook sum-of-squares formula
  // loses every digit.
  std::vector<double> v = Normal(100000, 1e9, 3.0, 1);
  TwoPass ref = Reference(v);
  Welford one_by_one;
  for (double x : v) one_by_one.Add(x);
  Welford blocks;
  for (size_t i = 0; i < v.size(); i += 1000) blocks.AddBlock(v.data() + i, 1000);
  for (const Welford* w : {&one_by_one, &blocks}) {
    EXPECT_EQ(w->count(), v.size());
    ExpectRelativeNear(w->mean(), ref.mean, 1e-12);
    ExpectRelativeNear(w->m2(), ref.m2, 1e-12);
    ExpectRelativeNear(w->sample_variance(), ref.m2 / (v.size() - 1), 1e-12);
    ExpectRelativeNear(w->population_std(), std::sqrt(ref.m2 / v.size()), 1e-12);
    EXPECT_EQ(w->min(), *std::min_element(v.begin(), v.end()));
    EXPECT_EQ(w->max(), *std::max_element(v.begin(), v.end()));
  }
}

TEST(WelfordTest, MergeOfPartsMatchesWhole) {
  std::vector<double> v = Normal(50000, -20, 100, 2);
  Welford whole;
  whole.AddBlock(v.data(), v.size());
  Welford merged;
  size_t cuts[] = {0, 7, 1000, 1001, 30000, v.size()};
  for (size_t c = 0; c + 1 < std::size(cuts); ++c) {
    Welford part;
    for (size_t i = cuts[c]; i < cuts[c + 1]; ++i) part.Add(v[i]);
    merged.Merge(part);
  }
  EXPECT_EQ(merged.count(), whole.count());
  EXPECT_EQ(merged.min(), whole.min());
  EXPECT_EQ(merged.max(), whole.max());
  EXPECT_EQ(merged.exact_sum(), whole.exact_sum());
  EXPECT_EQ(merged.sum(), whole.sum());
  ExpectRelativeNear(merged.mean(), whole.mean(), 1e-12);
  ExpectRelativeNear(merged.sample_variance(), whole.sample_variance(), 1e-12);
}

TEST(WelfordTest, IntegerBlocksKeepSumsExact) {
  std::vector<int64_t> v = {int64_t{1} << 60, 3, -(int64_t{1} << 60), 5, 1};
  Welford w;
  w.AddIntBlock(v.data(), v.size());
  EXPECT_EQ(w.exact_sum().ToInt64(), 9);
  EXPECT_EQ(w.count(), 5u);
  EXPECT_EQ(w.min(), -std::ldexp(1.0, 60));

  std::vector<int64_t> small = {1, 2, 3, 4};
  Welford s;
  s.AddIntBlock(small.data(), small.size());
  EXPECT_DOUBLE_EQ(s.mean(), 2.5);
  EXPECT_DOUBLE_EQ(s.sample_variance(), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.population_variance(), 1.25);
}

TEST(WelfordTest, EmptyAndSingleValue) {
  Welford w;
  EXPECT_TRUE(std::isnan(w.mean()));
  EXPECT_TRUE(std::isnan(w.min()));
  EXPECT_TRUE(std::isnan(w.population_variance()));
  EXPECT_EQ(w.sum(), 0.0);
  w.Add(4);
  EXPECT_EQ(w.mean(), 4);
  EXPECT_EQ(w.population_variance(), 0);
  EXPECT_TRUE(std::isnan(w.sample_variance()));
  Welford empty;
  w.Merge(empty);
  EXPECT_EQ(w.count(), 1u);
  empty.Merge(w);
  EXPECT_EQ(empty.mean(), 4);
  EXPECT_EQ(empty.min(), 4);
}

TEST(WelfordTest, JsonRoundTripIsExact) {
  std::vector<double> v = Normal(1000, 0.1, 2, 3);
  Welford w;
  w.AddBlock(v.data(), v.size());
  Welford back = Welford::FromJson(ParseJson(w.ToJson().dump(), "test"));
  EXPECT_EQ(back.count(), w.count());
  EXPECT_EQ(back.mean(), w.mean());
  EXPECT_EQ(back.m2(), w.m2());
  EXPECT_EQ(back.min(), w.min());
  EXPECT_EQ(back.exact_sum(), w.exact_sum());
  Welford empty = Welford::FromJson(Welford().ToJson());
  EXPECT_TRUE(empty.empty());
}

TEST(WelfordTest, FromJsonNamesTheBadKey) {
  Welford w;
  w.Add(1);
  w.Add(2);
  Json j = w.ToJson();
  j["m2"] = -1;
  ExpectError(ErrorCode::kInvalidArgument, {"'columns[0].sketches.moments.m2'"},
              [&] { Welford::FromJson(j, "columns[0].sketches.moments"); });
  Json no_sum = w.ToJson();
  no_sum.erase("sum");
  EXPECT_THROW(Welford::FromJson(no_sum), Error);
  Json bad_sum = w.ToJson();
  bad_sum["sum"] = "3";
  EXPECT_THROW(Welford::FromJson(bad_sum), Error);
}

}  // namespace
}  // namespace mloop::stats
