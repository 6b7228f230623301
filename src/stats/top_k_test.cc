#include "stats/top_k.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/testing.h"

namespace mloop::stats {
namespace {

using test::ExpectError;

// Draws from a Zipf distribution over `distinct` values, exponent 1.1.
std::vector<std::string> Zipf(size_t n, size_t distinct, uint64_t seed) {
  std::vector<double> weights;
  for (size_t i = 1; i <= distinct; ++i) weights.push_back(1 / std::pow(i, 1.1));
  std::discrete_distribution<size_t> d(weights.begin(), weights.end());
  std::mt19937_64 rng(seed);
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back("v" + std::to_string(d(rng)));
  return out;
}

std::map<std::string, uint64_t> Truth(const std::vector<std::string>& values) {
  std::map<std::string, uint64_t> counts;
  for (const auto& v : values) ++counts[v];
  return counts;
}

// Every value's true count is within [reported, reported + error_bound], and the bound
// is within the Misra-Gries guarantee.
void ExpectWithinBound(const TopK& top, const std::map<std::string, uint64_t>& truth) {
  uint64_t n = 0;
  for (const auto& [v, c] : truth) n += c;
  EXPECT_EQ(top.total(), n);
  EXPECT_LE(top.error_bound(), n / (top.capacity() + 1));
  std::map<std::string, uint64_t> reported;
  for (const TopK::Item& item : top.Items()) reported[item.value] = item.count;
  EXPECT_LE(reported.size(), top.capacity());
  for (const auto& [value, count] : truth) {
    uint64_t r = reported.count(value) ? reported[value] : 0;
    EXPECT_LE(r, count) << value;
    EXPECT_LE(count, r + top.error_bound()) << value;
  }
}

TEST(TopKTest, ExactWithFewDistinctValues) {
  TopK top;
  std::vector<std::string> values;
  for (int v = 0; v < 10; ++v) {
    for (int i = 0; i <= v; ++i) values.push_back("value" + std::to_string(v));
  }
  std::shuffle(values.begin(), values.end(), std::mt19937_64(1));
  for (const auto& v : values) top.Add(v);
  EXPECT_TRUE(top.exact());
  std::vector<TopK::Item> items = top.Items();
  ASSERT_EQ(items.size(), 10u);
  EXPECT_EQ(items[0], (TopK::Item{"value9", 10}));
  EXPECT_EQ(items[9], (TopK::Item{"value0", 1}));
  EXPECT_EQ(top.total(), 55u);
}

TEST(TopKTest, TiesOrderByValue) {
  TopK top;
  top.Add("b", 2);
  top.Add("a", 2);
  top.Add("c", 5);
  std::vector<TopK::Item> items = top.Items();
  EXPECT_EQ(items[0].value, "c");
  EXPECT_EQ(items[1].value, "a");
  EXPECT_EQ(items[2].value, "b");
}

TEST(TopKTest, ZipfWithinGuaranteedBound) {
  std::vector<std::string> values = Zipf(200000, 20000, 2);
  TopK one_by_one;
  for (const auto& v : values) one_by_one.Add(v);
  std::map<std::string, uint64_t> truth = Truth(values);
  ExpectWithinBound(one_by_one, truth);
  // The heaviest values dominate a Zipf stream and must be reported, in order.
  std::vector<TopK::Item> items = one_by_one.Items();
  ASSERT_GE(items.size(), 3u);
  EXPECT_EQ(items[0].value, "v0");
  EXPECT_EQ(items[1].value, "v1");

  // Batches of grouped counts, as the profile feeds them.
  TopK batched;
  for (size_t b = 0; b < values.size(); b += 1024) {
    std::map<std::string_view, uint64_t> group;
    for (size_t i = b; i < std::min(values.size(), b + 1024); ++i) ++group[values[i]];
    std::vector<std::pair<std::string_view, uint64_t>> batch(group.begin(), group.end());
    batched.AddCounts(batch);
  }
  ExpectWithinBound(batched, truth);
}

TEST(TopKTest, MergeIsExactWhenDistinctValuesFit) {
  std::vector<std::string> values = Zipf(50000, 60, 3);
  TopK whole;
  TopK a;
  TopK b;
  for (size_t i = 0; i < values.size(); ++i) {
    whole.Add(values[i]);
    (i % 3 == 0 ? a : b).Add(values[i]);
  }
  a.Merge(b);
  EXPECT_TRUE(a.exact());
  EXPECT_EQ(a.Items(), whole.Items());
  EXPECT_EQ(a, whole);
}

TEST(TopKTest, MergedSummariesStayWithinBound) {
  std::vector<std::string> values = Zipf(120000, 5000, 4);
  TopK merged;
  for (size_t part = 0; part < 6; ++part) {
    TopK t;
    for (size_t i = part * 20000; i < (part + 1) * 20000; ++i) t.Add(values[i]);
    merged.Merge(t);
  }
  ExpectWithinBound(merged, Truth(values));
  TopK self = merged;
  self.Merge(self);
  EXPECT_EQ(self.total(), 2 * merged.total());
  EXPECT_THROW(merged.Merge(TopK(8)), Error);
}

TEST(TopKTest, JsonRoundTrip) {
  TopK t(8);
  for (const auto& v : Zipf(5000, 100, 5)) t.Add(v);
  TopK back = TopK::FromJson(ParseJson(t.ToJson().dump(), "test"));
  EXPECT_EQ(back, t);
}

TEST(TopKTest, FromJsonNamesTheBadKey) {
  TopK t(4);
  t.Add("a", 3);
  t.Add("b", 1);
  Json good = t.ToJson();
  Json j = good;
  auto from_json = [&] { TopK::FromJson(j, "t"); };
  j["capacity"] = 0;
  ExpectError(ErrorCode::kInvalidArgument, {"'t.capacity'"}, from_json);
  j = good;
  j["items"][1]["value"] = "a";
  ExpectError(ErrorCode::kInvalidArgument, {"'t.items[1].value'"}, from_json);
  j = good;
  j["items"][0]["count"] = -1;
  ExpectError(ErrorCode::kInvalidArgument, {"'t.items[0].count'"}, from_json);
  j = good;
  j["total"] = 2;
  ExpectError(ErrorCode::kInvalidArgument, {"'t.total'"}, from_json);
}

}  // namespace
}  // namespace mloop::stats
