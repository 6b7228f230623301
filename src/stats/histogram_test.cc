#include "stats/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/testing.h"

namespace mloop::stats {
namespace {

using test::ExpectError;

Histogram Build(const std::vector<double>& values, int min_exponent) {
  Histogram h(min_exponent);
  for (double v : values) h.Add(v);
  return h;
}

TEST(HistogramTest, IntegersStartAtWidthOneAndDouble) {
  Histogram h = Histogram::ForIntegers();
  for (int64_t v = 0; v < 64; ++v) h.AddInt(v);
  EXPECT_EQ(h.width(), 1);
  EXPECT_EQ(h.counts().size(), 64u);
  h.AddInt(64);  // 65 bins of width 1 would be needed: the width doubles.
  EXPECT_EQ(h.width(), 2);
  EXPECT_EQ(h.first_index(), 0);
  ASSERT_EQ(h.counts().size(), 33u);
  EXPECT_EQ(h.counts()[0], 2u);
  EXPECT_EQ(h.counts()[32], 1u);
  std::vector<Histogram::Bin> bins = h.Bins();
  EXPECT_EQ(bins[1].lower, 2);
  EXPECT_EQ(bins[1].upper, 4);
  EXPECT_EQ(h.total(), 65u);
  h.AddInt(-1000);
  EXPECT_EQ(h.width(), 32);  // [-1000, 64] takes 35 bins of 32.
  EXPECT_EQ(h.Bins().front().lower, -1024);
  EXPECT_EQ(h.Bins().back().upper, 96);
}

TEST(HistogramTest, NegativeValuesFloorTowardsMinusInfinity) {
  Histogram h = Histogram::ForIntegers();
  h.AddInt(-1);
  EXPECT_EQ(h.Bins()[0].lower, -1);
  EXPECT_EQ(h.Bins()[0].upper, 0);
  Histogram f;
  f.Add(-0.3);
  f.Add(0.3);
  for (const Histogram::Bin& b : f.Bins()) {
    EXPECT_LE(b.lower, b.upper);
    EXPECT_EQ(std::fmod(b.lower, f.width()), 0.0);  // Edges are multiples of the width.
  }
  EXPECT_LE(f.Bins().front().lower, -0.3);
  EXPECT_GT(f.Bins().back().upper, 0.3);
}

TEST(HistogramTest, FloatsNarrowToTheRangeOfTheData) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> d(0, 1);
  Histogram h;
  for (int i = 0; i < 10000; ++i) h.Add(d(rng));
  EXPECT_EQ(h.width(), 1.0 / 64);  // [0, 1) in 64 bins.
  EXPECT_EQ(h.counts().size(), 64u);
  EXPECT_EQ(h.Bins().front().lower, 0);
  EXPECT_EQ(h.Bins().back().upper, 1);
  EXPECT_EQ(h.total(), 10000u);
}

TEST(HistogramTest, SkipsNonFiniteValues) {
  Histogram h;
  h.Add(std::numeric_limits<double>::quiet_NaN());
  h.Add(std::numeric_limits<double>::infinity());
  h.Add(1.5);
  EXPECT_EQ(h.skipped(), 2u);
  EXPECT_EQ(h.total(), 1u);
}

// Values of many magnitudes, with the awkward cases: huge, tiny, negative zero and tiny
// negative values far from the rest.
std::vector<double> Awkward(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> kind(0, 6);
  std::uniform_real_distribution<double> unit(-1, 1);
  std::vector<double> v;
  for (size_t i = 0; i < n; ++i) {
    switch (kind(rng)) {
      case 0:
        v.push_back(unit(rng) * 1e300);
        break;
      case 1:
        v.push_back(unit(rng) * 1e-300);
        break;
      case 2:
        v.push_back(-0.0);
        break;
      case 3:
        v.push_back(std::round(unit(rng) * 1000));
        break;
      case 4:
        v.push_back(std::numeric_limits<double>::max() * (i % 2 ? 1 : -1));
        break;
      default:
        v.push_back(unit(rng) * 7);
        break;
    }
  }
  return v;
}

TEST(HistogramTest, OrderAndSplitDoNotMatter) {
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<double> spread(0, 10);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<double> values;
    double scale = std::pow(10.0, spread(rng) * (trial % 2 ? 1 : -1));
    std::uniform_real_distribution<double> d(-scale, scale * spread(rng));
    size_t n = 1 + trial * 7;
    for (size_t i = 0; i < n; ++i) values.push_back(d(rng));
    if (trial % 10 == 0) values = Awkward(n, trial);
    int min_exponent =
        trial % 3 == 0 ? Histogram::kIntegerMinExponent : Histogram::kFloatMinExponent;
    if (min_exponent == 0) {
      for (double& v : values) v = std::floor(std::fmod(v, 1e15));
    }
    Histogram whole = Build(values, min_exponent);
    std::vector<double> shuffled = values;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    EXPECT_EQ(Build(shuffled, min_exponent), whole) << trial;
    size_t cut = n / 3;
    Histogram a(min_exponent);
    a.AddBlock(std::span<const double>(shuffled).first(cut));
    Histogram b = Build(std::vector<double>(shuffled.begin() + cut, shuffled.end()), min_exponent);
    Histogram ab = a;
    ab.Merge(b);
    EXPECT_EQ(ab, whole) << trial;
    b.Merge(a);
    EXPECT_EQ(b, whole) << trial;
    uint64_t total = 0;
    for (const Histogram::Bin& bin : whole.Bins()) {
      total += bin.count;
      EXPECT_LT(bin.lower, bin.upper);
    }
    EXPECT_EQ(total, n);
    EXPECT_LE(whole.counts().size(), Histogram::kMaxBins);
  }
}

TEST(HistogramTest, EveryValueFallsInItsBin) {
  std::vector<double> values = Awkward(2000, 3);
  Histogram h = Build(values, Histogram::kFloatMinExponent);
  std::vector<Histogram::Bin> bins = h.Bins();
  std::vector<uint64_t> counted(bins.size());
  for (double v : values) {
    auto it = std::upper_bound(bins.begin(), bins.end(), v,
                               [](double x, const Histogram::Bin& b) { return x < b.lower; });
    ASSERT_NE(it, bins.begin()) << v;
    --it;
    bool last = it + 1 == bins.end();
    // The top edge of the last bin can be clamped to the largest double.
    EXPECT_TRUE(v < it->upper || (last && v <= it->upper)) << v;
    ++counted[static_cast<size_t>(it - bins.begin())];
  }
  for (size_t i = 0; i < bins.size(); ++i) EXPECT_EQ(counted[i], bins[i].count) << i;
}

TEST(HistogramTest, IntegerMergeBringsBothToTheLargerWidth) {
  Histogram a = Histogram::ForIntegers();
  Histogram b = Histogram::ForIntegers();
  Histogram whole = Histogram::ForIntegers();
  std::vector<int64_t> small = {1, 2, 3, 3, 5};
  std::vector<int64_t> large = {1000000, 2000000, -7};
  a.AddIntBlock(small);
  b.AddIntBlock(large);
  whole.AddIntBlock(small);
  whole.AddIntBlock(large);
  EXPECT_EQ(a.width(), 1);
  a.Merge(b);
  EXPECT_EQ(a, whole);
  EXPECT_EQ(a.width(), 32768);  // [-7, 2000000] takes 63 bins of 2^15.
  EXPECT_THROW(a.Merge(Histogram()), Error);
}

TEST(HistogramTest, JsonRoundTrip) {
  Histogram h = Build(Awkward(500, 4), Histogram::kFloatMinExponent);
  EXPECT_EQ(Histogram::FromJson(ParseJson(h.ToJson().dump(), "test")), h);
  Histogram i = Histogram::ForIntegers();
  i.AddInt(-5);
  i.AddInt(90);
  EXPECT_EQ(Histogram::FromJson(i.ToJson()), i);
  EXPECT_EQ(Histogram::FromJson(Histogram().ToJson()), Histogram());
}

TEST(HistogramTest, FromJsonNamesTheBadKey) {
  Histogram h = Histogram::ForIntegers();
  h.AddInt(1);
  h.AddInt(9);
  Json good = h.ToJson();
  Json j = good;
  auto from_json = [&] { Histogram::FromJson(j, "h"); };
  j["counts"] = Json::array();
  for (int i = 0; i < 65; ++i) j["counts"].push_back(1);
  ExpectError(ErrorCode::kInvalidArgument, {"'h.counts'"}, from_json);
  j = good;
  j["counts"].back() = 0;
  ExpectError(ErrorCode::kInvalidArgument, {"'h.counts'"}, from_json);
  j = good;
  j["exponent"] = -1;
  ExpectError(ErrorCode::kInvalidArgument, {"'h.exponent'"}, from_json);
  j = good;
  j["first"] = "0";
  ExpectError(ErrorCode::kInvalidArgument, {"'h.first'"}, from_json);
}

}  // namespace
}  // namespace mloop::stats
