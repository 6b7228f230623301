#include "stats/hyperloglog.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"
#include "core/testing.h"
#include "stats/hash.h"

namespace mloop::stats {
namespace {

using test::ExpectError;

double RelativeError(double estimate, double truth) { return std::fabs(estimate - truth) / truth; }

TEST(HyperLogLogTest, WithinFivePercentOnDistinctIntegers) {
  for (int64_t n : {100000, 1000000}) {
    HyperLogLog h;
    for (int64_t i = 0; i < n; ++i) h.AddHash(HashInt64(i));
    EXPECT_LE(RelativeError(h.Estimate(), static_cast<double>(n)), 0.05) << n;
  }
}

TEST(HyperLogLogTest, WithinFivePercentOnDistinctStrings) {
  HyperLogLog h;
  for (int i = 0; i < 100000; ++i) h.AddHash(HashBytes("user-" + std::to_string(i)));
  EXPECT_LE(RelativeError(h.Estimate(), 100000), 0.05);
}

TEST(HyperLogLogTest, AccurateAcrossTheSmallAndMiddleRange) {
  // Linear counting covers the small range; around 2.5 m (10240) the estimator switches.
  for (int n : {1, 10, 100, 1000, 5000, 10000, 12000, 20000, 40000}) {
    HyperLogLog h;
    for (int i = 0; i < n; ++i) h.AddHash(HashDouble(i * 0.37 + 1e6));
    double tolerance = n <= 1000 ? 0.02 : 0.05;
    EXPECT_LE(RelativeError(h.Estimate(), n), tolerance) << n;
  }
  EXPECT_EQ(HyperLogLog().Estimate(), 0);
}

TEST(HyperLogLogTest, RepeatsDoNotCount) {
  HyperLogLog h;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 3000; ++i) h.AddHash(HashInt64(i));
  }
  EXPECT_LE(RelativeError(h.Estimate(), 3000), 0.03);
}

TEST(HyperLogLogTest, MergeEqualsTheSketchOfTheUnion) {
  HyperLogLog a;
  HyperLogLog b;
  HyperLogLog whole;
  for (int i = 0; i < 60000; ++i) {
    uint64_t hash = HashBytes("k" + std::to_string(i));
    (i < 40000 ? a : b).AddHash(hash);
    if (i >= 30000 && i < 35000) b.AddHash(hash);  // Overlap.
    whole.AddHash(hash);
  }
  HyperLogLog merged = a;
  merged.Merge(b);
  EXPECT_EQ(merged.registers(), whole.registers());
  HyperLogLog other_order = b;
  other_order.Merge(a);
  EXPECT_EQ(other_order, whole);
  EXPECT_THROW(a.Merge(HyperLogLog(10)), Error);
}

TEST(HyperLogLogTest, HashesTreatEqualValuesAlike) {
  EXPECT_EQ(HashDouble(0.0), HashDouble(-0.0));
  EXPECT_EQ(HashDouble(std::numeric_limits<double>::quiet_NaN()),
            HashDouble(-std::numeric_limits<double>::quiet_NaN()));
  EXPECT_NE(HashDouble(1.0), HashDouble(2.0));
  EXPECT_NE(HashBytes(""), HashBytes(std::string(1, '\0')));
  EXPECT_NE(HashBytes("ab"), HashBytes("ba"));
  EXPECT_NE(HashBytes(std::string(17, 'a')), HashBytes(std::string(18, 'a')));
  // Fixed values: the hashes are part of the stored profile format.
  EXPECT_EQ(HashBytes("mloop"), HashBytes("mloop"));
}

TEST(HyperLogLogTest, JsonRoundTrip) {
  HyperLogLog h;
  for (int i = 0; i < 1000; ++i) h.AddHash(HashInt64(i));
  Json j = h.ToJson();
  EXPECT_EQ(j["precision"], 12);
  EXPECT_EQ(j["registers"].get<std::string>().size(), 4096u / 3 * 4 + 4);
  EXPECT_EQ(HyperLogLog::FromJson(ParseJson(j.dump(), "test")), h);
}

TEST(HyperLogLogTest, FromJsonNamesTheBadKey) {
  Json good = HyperLogLog().ToJson();
  Json j = good;
  auto from_json = [&] { HyperLogLog::FromJson(j, "d"); };
  j["precision"] = 30;
  ExpectError(ErrorCode::kInvalidArgument, {"'d.precision'"}, from_json);
  j = good;
  j["registers"] = "AAAA";
  ExpectError(ErrorCode::kInvalidArgument, {"'d.registers'"}, from_json);
  j = good;
  j["registers"] = "!" + good["registers"].get<std::string>().substr(1);
  ExpectError(ErrorCode::kInvalidArgument, {"'d.registers'"}, from_json);
  j = good;
  j.erase("registers");
  ExpectError(ErrorCode::kInvalidArgument, {"'d.registers' is missing"}, from_json);
}

}  // namespace
}  // namespace mloop::stats
