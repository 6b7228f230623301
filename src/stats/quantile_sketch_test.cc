#include "stats/quantile_sketch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <span>
#include <vector>

#include "core/digest.h"
#include "core/error.h"
#include "core/testing.h"

namespace mloop::stats {
namespace {

using test::ExpectError;

const double kEpsilon = QuantileSketch::NormalizedRankError(QuantileSketch::kDefaultK);

// The largest rank error of the sketch over 1000 points spread over the data: the
// estimated fraction of values <= x against the true one.
double MaxRankError(const QuantileSketch& sketch, std::vector<double> data) {
  std::sort(data.begin(), data.end());
  std::vector<double> points;
  for (int i = 0; i <= 1000; ++i) {
    points.push_back(data[static_cast<size_t>(i / 1000.0 * (data.size() - 1))]);
  }
  std::vector<double> estimated = sketch.Cdf(points);
  double worst = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    double truth =
        static_cast<double>(std::upper_bound(data.begin(), data.end(), points[i]) - data.begin()) /
        data.size();
    worst = std::max(worst, std::fabs(estimated[i] - truth));
  }
  return worst;
}

// The largest distance between q and the true rank of Quantile(q). A value that
// occurs several times has a range of ranks; the distance is to the nearest of them.
double MaxQuantileError(const QuantileSketch& sketch, std::vector<double> data) {
  std::sort(data.begin(), data.end());
  std::vector<double> qs;
  for (int i = 0; i <= 200; ++i) qs.push_back(i / 200.0);
  std::vector<double> values = sketch.Quantiles(qs);
  double worst = 0;
  double n = static_cast<double>(data.size());
  for (size_t i = 0; i < qs.size(); ++i) {
    double below = std::lower_bound(data.begin(), data.end(), values[i]) - data.begin();
    double upto = std::upper_bound(data.begin(), data.end(), values[i]) - data.begin();
    double q = qs[i];
    double error = q < below / n ? below / n - q : q > upto / n ? q - upto / n : 0;
    worst = std::max(worst, error);
  }
  return worst;
}

std::vector<double> Uniform(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> d(-1000, 1000);
  std::vector<double> v(n);
  for (double& x : v) x = d(rng);
  return v;
}

TEST(QuantileSketchTest, StatedBoundIsDataSketchesFigure) { EXPECT_NEAR(kEpsilon, 0.0165, 0.0002); }

TEST(QuantileSketchTest, ExactWhileSmall) {
  QuantileSketch s;
  for (int i = 100; i >= 1; --i) s.Update(i);
  EXPECT_EQ(s.n(), 100u);
  EXPECT_EQ(s.Quantile(0), 1);
  EXPECT_EQ(s.Quantile(1), 100);
  EXPECT_EQ(s.Quantile(0.5), 50);
  EXPECT_EQ(s.Quantile(0.25), 25);
  EXPECT_EQ(s.Quantile(0.251), 26);
  EXPECT_DOUBLE_EQ(s.Rank(10), 0.1);
  EXPECT_EQ(s.Rank(0), 0);
  EXPECT_EQ(s.Rank(100), 1);
  EXPECT_EQ(s.min(), 1);
  EXPECT_EQ(s.max(), 100);
}

TEST(QuantileSketchTest, RankErrorWithinBoundOnRandomInput) {
  for (uint64_t seed : {1, 2, 3}) {
    std::vector<double> data = Uniform(seed == 1 ? 1000000 : 200000, seed);
    QuantileSketch s;
    for (double x : data) s.Update(x);
    EXPECT_EQ(s.n(), data.size());
    EXPECT_LT(s.num_retained(), 3 * QuantileSketch::kDefaultK + 200);
    EXPECT_LE(MaxRankError(s, data), kEpsilon) << "seed " << seed;
    EXPECT_LE(MaxQuantileError(s, data), kEpsilon) << "seed " << seed;
    EXPECT_EQ(s.min(), *std::min_element(data.begin(), data.end()));
    EXPECT_EQ(s.max(), *std::max_element(data.begin(), data.end()));
  }
}

TEST(QuantileSketchTest, RankErrorWithinBoundOnSortedAndReversedInput) {
  std::vector<double> data(500000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<double>(i);
  QuantileSketch ascending;
  ascending.Update(data);
  EXPECT_LE(MaxRankError(ascending, data), kEpsilon);
  EXPECT_LE(MaxQuantileError(ascending, data), kEpsilon);
  QuantileSketch descending;
  for (size_t i = data.size(); i-- > 0;) descending.Update(data[i]);
  EXPECT_LE(MaxRankError(descending, data), kEpsilon);
  EXPECT_LE(MaxQuantileError(descending, data), kEpsilon);
}

TEST(QuantileSketchTest, ManyDuplicates) {
  std::mt19937_64 rng(9);
  std::uniform_int_distribution<int> d(0, 9);
  std::vector<double> data(300000);
  for (double& x : data) x = d(rng);
  QuantileSketch s;
  s.Update(data);
  EXPECT_LE(MaxRankError(s, data), kEpsilon);
  EXPECT_LE(MaxQuantileError(s, data), kEpsilon);
}

TEST(QuantileSketchTest, MergedPartitionsStayWithinBound) {
  std::vector<double> data = Uniform(600000, 4);
  QuantileSketch merged;
  for (size_t part = 0; part < 12; ++part) {
    QuantileSketch s;
    // Unequal parts: the last ones are much smaller than the first.
    size_t begin = data.size() * part * (24 - part) / 144;
    size_t end = data.size() * (part + 1) * (23 - part) / 144;
    s.Update(std::span<const double>(data).subspan(begin, end - begin));
    merged.Merge(s);
  }
  EXPECT_EQ(merged.n(), data.size());
  EXPECT_LT(merged.num_retained(), 3 * QuantileSketch::kDefaultK + 200);
  EXPECT_LE(MaxRankError(merged, data), kEpsilon);
  EXPECT_LE(MaxQuantileError(merged, data), kEpsilon);
  EXPECT_EQ(merged.min(), *std::min_element(data.begin(), data.end()));
}

TEST(QuantileSketchTest, DeterministicForTheSameInput) {
  std::vector<double> data = Uniform(100000, 5);
  QuantileSketch a;
  QuantileSketch b;
  for (double x : data) a.Update(x);
  b.Update(data);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.ToJson().dump(), b.ToJson().dump());
}

TEST(QuantileSketchTest, IgnoresNonFinite) {
  QuantileSketch s;
  s.Update(std::numeric_limits<double>::quiet_NaN());
  s.Update(std::numeric_limits<double>::infinity());
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(std::isnan(s.Quantile(0.5)));
  EXPECT_TRUE(std::isnan(s.Rank(0)));
  s.Update(3);
  EXPECT_EQ(s.Quantile(0.5), 3);
}

TEST(QuantileSketchTest, RejectsBadArguments) {
  QuantileSketch s;
  s.Update(1);
  EXPECT_THROW(s.Quantile(1.5), Error);
  EXPECT_THROW(s.Quantile(std::numeric_limits<double>::quiet_NaN()), Error);
  std::vector<double> descending = {2, 1};
  EXPECT_THROW(s.Cdf(descending), Error);
  EXPECT_THROW(QuantileSketch(4), Error);
  QuantileSketch other(100);
  other.Update(1);
  EXPECT_THROW(s.Merge(other), Error);
}

TEST(QuantileSketchTest, JsonRoundTripContinuesIdentically) {
  std::vector<double> data = Uniform(50000, 6);
  QuantileSketch s;
  s.Update(std::span<const double>(data).first(30000));
  QuantileSketch back = QuantileSketch::FromJson(ParseJson(s.ToJson().dump(), "test"));
  EXPECT_EQ(back, s);
  s.Update(std::span<const double>(data).subspan(30000));
  back.Update(std::span<const double>(data).subspan(30000));
  EXPECT_EQ(back, s);
  EXPECT_EQ(QuantileSketch::FromJson(QuantileSketch().ToJson()), QuantileSketch());
}

TEST(QuantileSketchTest, SamplerStateRoundTripsAndMerges) {
  std::vector<double> data = Uniform(400001, 8);
  QuantileSketch s;
  s.Update(data);
  Json j = s.ToJson();
  // At this size the bottom levels have given way to the sampler, mid-group.
  ASSERT_GT(j["sample_level"].get<int>(), 0);
  ASSERT_GT(j["group_count"].get<int>(), 0);
  QuantileSketch back = QuantileSketch::FromJson(ParseJson(j.dump(), "test"));
  EXPECT_EQ(back, s);
  std::vector<double> more = Uniform(12345, 9);
  s.Update(more);
  back.Update(more);
  EXPECT_EQ(back, s);

  // Merging sketches with partial groups keeps every value's weight.
  QuantileSketch other;
  std::vector<double> tail = Uniform(250003, 10);
  other.Update(tail);
  s.Merge(other);
  std::vector<double> all = data;
  all.insert(all.end(), more.begin(), more.end());
  all.insert(all.end(), tail.begin(), tail.end());
  EXPECT_EQ(s.n(), all.size());
  EXPECT_LE(MaxRankError(s, all), kEpsilon);
  EXPECT_LE(MaxQuantileError(s, all), kEpsilon);
}

TEST(QuantileSketchTest, BlockUpdatesEqualUpdatesOneByOne) {
  // The block update takes the sampler's groups whole; it must leave the state (levels,
  // sample, generator) that updating value by value leaves, whatever the blocks' sizes,
  // with and without non-finite values among them.
  std::vector<double> data = Uniform(300007, 12);
  for (bool with_non_finite : {false, true}) {
    if (with_non_finite) {
      for (size_t i = 1000; i < data.size(); i += 9973) {
        data[i] = i % 2 ? std::nan("") : -std::numeric_limits<double>::infinity();
      }
    }
    QuantileSketch one_by_one;
    for (double x : data) one_by_one.Update(x);
    for (size_t block : {size_t{1}, size_t{7}, size_t{1024}, size_t{65536}, data.size()}) {
      QuantileSketch blocks;
      for (size_t i = 0; i < data.size(); i += block) {
        size_t n = std::min(block, data.size() - i);
        blocks.Update(std::span<const double>(data.data() + i, n));
      }
      EXPECT_EQ(blocks, one_by_one) << "blocks of " << block << ", non-finite " << with_non_finite;
      EXPECT_EQ(blocks.ToJson().dump(), one_by_one.ToJson().dump());
    }
  }
}

TEST(QuantileSketchTest, SamplerStateIsPinned) {
  // Stored profiles hold the sketch's state, so a faster sampler or compactor must leave the
  // very same state: these digests were taken before the sampler's search of its level and
  // its draw of the next replacement were made cheaper. k = 2000 makes the sampled level
  // longer than 64 items, which is searched another way.
  const std::pair<uint32_t, const char*> cases[] = {
      {200, "b5e27c7781bc4bd6c811a851ab2519315f09694b98687bcdbb4dde3e3a3e48ec"},
      {2000, "2227482ec2f42e0f45247891685cd436d21b005f0ca0ee4ee1c873c7a7a12c53"}};
  for (const auto& [k, digest] : cases) {
    QuantileSketch s(k);
    uint64_t x = 42;
    std::vector<double> block;
    for (int i = 0; i < 1'000'000; ++i) {
      x += 0x9e3779b97f4a7c15;  // splitmix64
      uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
      z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
      z ^= z >> 31;
      block.push_back(static_cast<double>(z % 100000) / 8);
      if (block.size() == 1000) {
        s.Update(block);
        block.clear();
      }
    }
    for (int i = 0; i < 999; ++i) s.Update(static_cast<double>(i % 37));
    EXPECT_GT(s.ToJson()["sample_level"].get<int>(), 0) << k;
    EXPECT_EQ(Sha256Hex(s.ToJson().dump()), digest) << k;
  }
}

TEST(QuantileSketchTest, WeightedUpdatesAreExactRepresentations) {
  QuantileSketch s;
  std::vector<double> values = {2, 1, 3};
  std::vector<uint64_t> weights = {5, 3, 1000};
  s.UpdateWeighted(values, weights);
  EXPECT_EQ(s.n(), 1008u);
  EXPECT_EQ(s.Quantile(0.002), 1);
  EXPECT_EQ(s.Quantile(0.005), 2);
  EXPECT_DOUBLE_EQ(s.Rank(2), 8.0 / 1008);
  EXPECT_EQ(s.Quantile(0.5), 3);

  // Many repeated values: within the bound of the expanded stream.
  std::mt19937_64 rng(11);
  std::vector<double> expanded;
  QuantileSketch weighted;
  for (int block = 0; block < 300; ++block) {
    std::vector<double> v;
    std::vector<uint64_t> w;
    for (int i = 0; i < 50; ++i) {
      v.push_back(static_cast<double>(rng() % 1000));
      w.push_back(1 + rng() % 40);
      expanded.insert(expanded.end(), w.back(), v.back());
    }
    weighted.UpdateWeighted(v, w);
  }
  EXPECT_EQ(weighted.n(), expanded.size());
  EXPECT_LE(MaxRankError(weighted, expanded), kEpsilon);
  EXPECT_LE(MaxQuantileError(weighted, expanded), kEpsilon);
}

TEST(QuantileSketchTest, WeightedUpdatesKeepTheirState) {
  // Stored profiles hold the sketch's state, so the same weighted updates must keep giving the
  // same state: blocks of distinct values in order of first appearance (as a profile feeds
  // them), and some with repeats and with both zeros, which compare equal but print
  // differently. The digest is of the state this sequence gave when it was written.
  std::mt19937_64 rng(20261127);
  QuantileSketch s;
  for (int block = 0; block < 400; ++block) {
    std::vector<double> v;
    std::vector<uint64_t> w;
    const bool repeats = block % 7 == 3;
    std::vector<bool> used(200, false);
    for (int i = 0; i < 60; ++i) {
      const auto x = static_cast<size_t>(rng() % 200);
      if (!repeats && used[x]) continue;
      used[x] = true;
      v.push_back(x == 0 && rng() % 2 ? -0.0 : static_cast<double>(x) - 100);
      w.push_back(1 + rng() % 64);
    }
    if (repeats) {
      v.push_back(0.0);
      w.push_back(6);
      v.push_back(-0.0);
      w.push_back(10);
    }
    s.UpdateWeighted(v, w);
  }
  EXPECT_EQ(Sha256Hex(s.ToJson().dump()),
            "e01a9012e0c76d2d2891498c6d4f7df84ad97d1ac774853970312f2c723e0da2");
}

TEST(QuantileSketchTest, LongMergesKeepTheirState) {
  // Stored profiles hold the sketch's state: merges of long levels (k = 2000 makes them so) of
  // weighted and plain updates, with ties and both zeros, must keep giving the state this
  // sequence gave when it was written.
  const std::pair<uint32_t, const char*> cases[] = {
      {200, "7d4005d0afbe086ce186e5b5af5ac4332d985f48e75218a6c97f0573d1ed0970"},
      {2000, "db1a86446410ff22af603d019300b6a281a4469dbe0e72c17937e8cab8e5d638"}};
  for (const auto& [k, digest] : cases) {
    std::mt19937_64 rng(k);
    QuantileSketch merged(k);
    for (int part = 0; part < 6; ++part) {
      QuantileSketch s(k);
      for (int block = 0; block < 300; ++block) {
        std::vector<double> v;
        std::vector<uint64_t> w;
        for (int i = 0; i < 80; ++i) {
          const auto x = static_cast<int>(rng() % 300);
          v.push_back(x == 150 ? (rng() % 2 ? -0.0 : 0.0) : static_cast<double>(x - 150));
          w.push_back(1 + rng() % 200);
        }
        s.UpdateWeighted(v, w);
        std::vector<double> u;
        for (int i = 0; i < 500; ++i) {
          const auto x = static_cast<int>(rng() % 5000);
          u.push_back(x == 0 ? (rng() % 2 ? -0.0 : 0.0) : static_cast<double>(x % 400) - 200);
        }
        s.Update(u);
      }
      merged.Merge(s);
    }
    EXPECT_EQ(Sha256Hex(merged.ToJson().dump()), digest) << k;
  }
}

TEST(QuantileSketchTest, FromJsonNamesTheBadKey) {
  QuantileSketch s;
  s.Update(Uniform(5000, 7));
  Json good = s.ToJson();
  Json j = good;
  auto from_json = [&] { QuantileSketch::FromJson(j, "q"); };
  j["k"] = 3;
  ExpectError(ErrorCode::kInvalidArgument, {"'q.k'"}, from_json);
  j = good;
  j["n"] = 4999;
  ExpectError(ErrorCode::kInvalidArgument, {"'q.n'"}, from_json);
  j = good;
  size_t level = 1;
  while (level < j["levels"].size() && j["levels"][level].size() < 2) ++level;
  ASSERT_LT(level, j["levels"].size());
  std::reverse(j["levels"][level].begin(), j["levels"][level].end());
  std::string key = "'q.levels[" + std::to_string(level) + "]' must be sorted";
  ExpectError(ErrorCode::kInvalidArgument, {key}, from_json);
  j = good;
  j["levels"][0][0] = "x";
  ExpectError(ErrorCode::kInvalidArgument, {"'q.levels[0][0]'"}, from_json);
  j = good;
  j["min"] = 0;
  ExpectError(ErrorCode::kInvalidArgument, {"outside [min, max]"}, from_json);
  j = good;
  j["group_count"] = 3;
  ExpectError(ErrorCode::kInvalidArgument, {"'q.group_count'"}, from_json);
  j = good;
  j["sample_level"] = 99;
  ExpectError(ErrorCode::kInvalidArgument, {"'q.sample_level'"}, from_json);
  j = good;
  j.erase("coin_state");
  ExpectError(ErrorCode::kInvalidArgument, {"'q.coin_state' is missing"}, from_json);
}

}  // namespace
}  // namespace mloop::stats
