#include "stats/profile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/testing.h"
#include "core/time.h"

namespace mloop::stats {
namespace {

using table::Column;
using table::DataType;
using table::Table;
using test::CatchError;
using test::Contains;
using test::ExpectError;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// A table with every column type, nulls everywhere, NaN and infinities, UTF-8 text,
// a high-cardinality string column and integers beyond 2^53.
Table MixedTable(size_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  std::normal_distribution<double> weight(70, 15);
  const std::vector<std::string> cities = {"Berlin", "Zürich", "São Paulo", "Oslo", "",
                                           "Lima",   "Kyiv",   "Québec",    "Pune", "Accra"};
  const std::vector<std::string> colors = {"red", "green", "blue", "cyan", "magenta"};
  Column id("id", DataType::kInt64);
  Column age("age", DataType::kInt64);
  Column big("big", DataType::kInt64);
  Column w("weight", DataType::kFloat64);
  Column flag("flag", DataType::kBool);
  Column city("city", DataType::kString);
  Column word("word", DataType::kString);
  Column color("color", DataType::kCategory);
  Column day("day", DataType::kDate);
  Column ts("ts", DataType::kTimestamp);
  for (size_t i = 0; i < rows; ++i) {
    id.AppendInt(static_cast<int64_t>(i));
    if (unit(rng) < 0.02) {
      age.AppendNull();
    } else {
      age.AppendInt(17 + static_cast<int64_t>(unit(rng) * 74));
    }
    big.AppendInt(static_cast<int64_t>((unit(rng) - 0.5) * 9e18));
    double u = unit(rng);
    if (u < 0.03) {
      w.AppendNull();
    } else if (u < 0.035) {
      w.AppendDouble(kNaN);
    } else if (u < 0.036) {
      w.AppendDouble(u < 0.0355 ? kInf : -kInf);
    } else if (u < 0.05) {
      w.AppendDouble(i % 2 ? 0.0 : -0.0);
    } else {
      w.AppendDouble(weight(rng));
    }
    if (unit(rng) < 0.01) {
      flag.AppendNull();
    } else {
      flag.AppendBool(unit(rng) < 0.3);
    }
    if (unit(rng) < 0.02) {
      city.AppendNull();
    } else {
      city.AppendString(cities[static_cast<size_t>(std::pow(unit(rng), 2) * cities.size())]);
    }
    word.AppendString("w" + std::to_string(static_cast<int>(std::pow(unit(rng), 3) * 5000)));
    if (unit(rng) < 0.05) {
      color.AppendNull();
    } else {
      color.AppendString(colors[static_cast<size_t>(unit(rng) * colors.size())]);
    }
    day.AppendInt(*ParseIsoDate("2011-01-01") + static_cast<int64_t>(unit(rng) * 730));
    if (unit(rng) < 0.1) {
      ts.AppendNull();
    } else {
      ts.AppendInt(1'300'000'000'000'000 + static_cast<int64_t>(unit(rng) * 6e13));
    }
  }
  Table t;
  for (Column* c : {&id, &age, &big, &w, &flag, &city, &word, &color, &day, &ts}) {
    t.AddColumn(std::move(*c));
  }
  return t;
}

// The finite non-null values of a numeric column, sorted.
std::vector<double> SortedValues(const Column& c) {
  std::vector<double> v;
  for (size_t i = 0; i < c.size(); ++i) {
    if (c.IsValid(i) && std::isfinite(c.NumberAt(i))) v.push_back(c.NumberAt(i));
  }
  std::sort(v.begin(), v.end());
  return v;
}

void ExpectRelativeNear(double a, double b, double tolerance) {
  EXPECT_LE(std::fabs(a - b), tolerance * std::max(std::fabs(a), std::fabs(b))) << a << " " << b;
}

// The distance from q to the range of true ranks of `value` in sorted `data`.
double RankDistance(const std::vector<double>& data, double value, double q) {
  double n = static_cast<double>(data.size());
  double below = std::lower_bound(data.begin(), data.end(), value) - data.begin();
  double upto = std::upper_bound(data.begin(), data.end(), value) - data.begin();
  if (q < below / n) return below / n - q;
  if (q > upto / n) return q - upto / n;
  return 0;
}

// The merge property: `merged` (of parts) against `whole` (of the whole table `t`).
void ExpectSameAsWhole(const TableProfile& merged, const TableProfile& whole, const Table& t) {
  ASSERT_EQ(merged.rows(), whole.rows());
  ASSERT_EQ(merged.columns().size(), whole.columns().size());
  const double epsilon = QuantileSketch::NormalizedRankError(QuantileSketch::kDefaultK);
  for (size_t i = 0; i < whole.columns().size(); ++i) {
    const ColumnProfile& m = merged.columns()[i];
    const ColumnProfile& w = whole.columns()[i];
    SCOPED_TRACE(w.name());
    EXPECT_EQ(m.count(), w.count());
    EXPECT_EQ(m.nulls(), w.nulls());
    EXPECT_EQ(m.distinct_sketch(), w.distinct_sketch());
    EXPECT_EQ(m.distinct_approx(), w.distinct_approx());
    EXPECT_EQ(m.true_count(), w.true_count());
    if (const NumericStats* wn = w.numeric()) {
      const NumericStats* mn = m.numeric();
      ASSERT_NE(mn, nullptr);
      EXPECT_EQ(mn->moments.count(), wn->moments.count());
      EXPECT_EQ(mn->moments.min(), wn->moments.min());
      EXPECT_EQ(mn->moments.max(), wn->moments.max());
      EXPECT_EQ(mn->moments.exact_sum(), wn->moments.exact_sum());
      EXPECT_EQ(mn->moments.sum(), wn->moments.sum());
      EXPECT_EQ(mn->int_min, wn->int_min);
      EXPECT_EQ(mn->int_max, wn->int_max);
      EXPECT_EQ(mn->zeros, wn->zeros);
      EXPECT_EQ(mn->nan_count, wn->nan_count);
      EXPECT_EQ(mn->inf_count, wn->inf_count);
      EXPECT_EQ(mn->histogram, wn->histogram);
      ExpectRelativeNear(mn->moments.mean(), wn->moments.mean(), 1e-9);
      ExpectRelativeNear(mn->moments.sample_variance(), wn->moments.sample_variance(), 1e-9);
      EXPECT_EQ(mn->quantiles.n(), wn->quantiles.n());
      std::vector<double> data = SortedValues(t.column(i));
      ASSERT_EQ(data.size(), wn->moments.count());
      for (double q : kProfileQuantiles) {
        EXPECT_LE(RankDistance(data, mn->quantiles.Quantile(q), q), epsilon) << q;
        EXPECT_LE(RankDistance(data, wn->quantiles.Quantile(q), q), epsilon) << q;
      }
    }
    if (const TextStats* wt = w.text()) {
      const TextStats* mt = m.text();
      ASSERT_NE(mt, nullptr);
      EXPECT_EQ(mt->min_length, wt->min_length);
      EXPECT_EQ(mt->max_length, wt->max_length);
      EXPECT_EQ(mt->total_length, wt->total_length);
      EXPECT_EQ(mt->empty_count, wt->empty_count);
      EXPECT_EQ(mt->top_k.total(), wt->top_k.total());
      if (wt->top_k.exact()) {
        EXPECT_TRUE(mt->top_k.exact());
        EXPECT_EQ(mt->top_k.Items(), wt->top_k.Items());
      } else {
        std::map<std::string, uint64_t> truth;
        const Column& c = t.column(i);
        for (size_t r = 0; r < c.size(); ++r) {
          if (c.IsValid(r)) ++truth[std::string(c.StringAt(r))];
        }
        std::map<std::string, uint64_t> reported;
        for (const TopK::Item& item : mt->top_k.Items()) reported[item.value] = item.count;
        EXPECT_LE(mt->top_k.error_bound(), m.valid() / (mt->top_k.capacity() + 1));
        for (const auto& [value, count] : truth) {
          uint64_t r = reported.count(value) ? reported[value] : 0;
          EXPECT_LE(r, count) << value;
          EXPECT_LE(count, r + mt->top_k.error_bound()) << value;
        }
      }
    }
  }
}

TEST(ProfileTest, HalvesMergedEqualTheWhole) {
  Table t = MixedTable(30001, 1);
  TableProfile whole = ProfileTable(t);
  TableProfile merged = ProfileRows(t, 0, 12345);
  merged.Merge(ProfileRows(t, 12345, t.num_rows()));
  ExpectSameAsWhole(merged, whole, t);
  // The top-k of the city column fits its capacity and is exact; that of the word
  // column (thousands of values) is not, and the test checks its bound instead.
  EXPECT_TRUE(whole.FindColumn("city")->text()->top_k.exact());
  EXPECT_FALSE(whole.FindColumn("word")->text()->top_k.exact());
}

TEST(ProfileTest, TableTasksGiveEachColumnItsOwnProfile) {
  // ProfileTable splits a column of many distinct values (id, big, weight, ts here) into a
  // task for its quantile sketch and one for the rest; the profile must be the very one the
  // column alone gives, in one piece and in chunks.
  Table t = MixedTable(30001, 3);
  TableProfile whole = ProfileTable(t);
  std::vector<size_t> cuts = {0, 1, 1500, 1501, 20000, 30001};
  TableProfile streamed;
  for (size_t i = 0; i + 1 < cuts.size(); ++i) streamed.AddRows(t, cuts[i], cuts[i + 1]);
  for (size_t i = 0; i < t.num_columns(); ++i) {
    SCOPED_TRACE(t.column(i).name());
    ColumnProfile alone = ProfileColumn(t.column(i));
    EXPECT_EQ(whole.columns()[i].ToJson().dump(), alone.ToJson().dump());
    ColumnProfile chunked(t.column(i).name(), t.column(i).type());
    for (size_t c = 0; c + 1 < cuts.size(); ++c) chunked.AddRows(t.column(i), cuts[c], cuts[c + 1]);
    EXPECT_EQ(streamed.columns()[i].ToJson().dump(), chunked.ToJson().dump());
  }
}

TEST(ProfileTest, ManyUnevenChunksMergedEqualTheWhole) {
  Table t = MixedTable(20000, 2);
  TableProfile whole = ProfileTable(t);
  std::vector<size_t> cuts = {0, 1, 2, 1023, 1024, 1025, 5000, 5001, 19999, 20000};
  TableProfile merged;
  TableProfile streamed;
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    merged.Merge(ProfileRows(t, cuts[i], cuts[i + 1]));
    streamed.AddRows(t, cuts[i], cuts[i + 1]);
  }
  ExpectSameAsWhole(merged, whole, t);
  ExpectSameAsWhole(streamed, whole, t);
  // Merging in the other order gives the same exact statistics too.
  TableProfile reversed;
  for (size_t i = cuts.size() - 1; i > 0; --i) {
    reversed.Merge(ProfileRows(t, cuts[i - 1], cuts[i]));
  }
  ExpectSameAsWhole(reversed, whole, t);
}

TEST(ProfileTest, StatisticsOfASmallTable) {
  Column n("n", DataType::kInt64);
  for (int64_t v : {4, 1, 3, 2}) n.AppendInt(v);
  n.AppendNull();
  Column x("x", DataType::kFloat64);
  for (double v : {1.5, kNaN, -0.0, kInf, 2.5}) x.AppendDouble(v);
  Column s("s", DataType::kString);
  for (const char* v : {"a", "", "héllo", "a"}) s.AppendString(v);
  s.AppendNull();
  Column b("b", DataType::kBool);
  for (bool v : {true, false, true, true}) b.AppendBool(v);
  b.AppendNull();
  Column d("d", DataType::kDate);
  for (const char* v : {"2012-12-31", "2011-01-01", "2011-06-15"}) {
    d.AppendInt(*ParseIsoDate(v));
  }
  d.AppendNull();
  d.AppendNull();
  Table t;
  for (Column* c : {&n, &x, &s, &b, &d}) t.AddColumn(std::move(*c));
  Json j = ProfileTable(t).ToJson();
  EXPECT_EQ(j["format_version"], 1);
  EXPECT_EQ(j["rows"], 5);

  const Json& jn = j["columns"][0];
  EXPECT_EQ(jn["name"], "n");
  EXPECT_EQ(jn["type"], "int64");
  EXPECT_EQ(jn["count"], 5);
  EXPECT_EQ(jn["nulls"], 1);
  EXPECT_DOUBLE_EQ(jn["null_fraction"].get<double>(), 0.2);
  EXPECT_EQ(jn["distinct_approx"], 4);
  EXPECT_EQ(jn["min"], 1);
  EXPECT_EQ(jn["max"], 4);
  EXPECT_EQ(jn["sum"], 10);
  EXPECT_DOUBLE_EQ(jn["mean"].get<double>(), 2.5);
  EXPECT_DOUBLE_EQ(jn["std"].get<double>(), std::sqrt(5.0 / 3.0));
  EXPECT_DOUBLE_EQ(jn["variance"].get<double>(), 5.0 / 3.0);
  EXPECT_EQ(jn["zeros"], 0);
  EXPECT_EQ(jn["quantiles"]["p01"], 1);
  EXPECT_EQ(jn["quantiles"]["p50"], 2);
  EXPECT_EQ(jn["quantiles"]["p99"], 4);
  ASSERT_EQ(jn["histogram"].size(), 4u);
  EXPECT_EQ(jn["histogram"][0], (Json{{"lower", 1}, {"upper", 2}, {"count", 1}}));
  EXPECT_FALSE(jn.contains("nan_count"));

  const Json& jx = j["columns"][1];
  EXPECT_EQ(jx["nulls"], 0);
  EXPECT_EQ(jx["nan_count"], 1);
  EXPECT_EQ(jx["inf_count"], 1);
  EXPECT_EQ(jx["zeros"], 1);
  EXPECT_EQ(jx["min"], -0.0);
  EXPECT_EQ(jx["max"], 2.5);
  EXPECT_EQ(jx["sum"], 4.0);
  EXPECT_EQ(jx["distinct_approx"], 5);  // NaN and infinity are values.

  const Json& js = j["columns"][2];
  EXPECT_EQ(js["min_length"], 0);
  EXPECT_EQ(js["max_length"], 5);  // "héllo" is 5 code points, 6 bytes.
  EXPECT_DOUBLE_EQ(js["mean_length"].get<double>(), 7.0 / 4.0);
  EXPECT_EQ(js["empty_count"], 1);
  EXPECT_EQ(js["distinct_approx"], 3);
  EXPECT_EQ(js["top_k"], (Json::parse(R"([{"value":"a","count":2},{"value":"","count":1},
                                          {"value":"héllo","count":1}])")));
  EXPECT_EQ(js["top_k_error_bound"], 0);

  const Json& jb = j["columns"][3];
  EXPECT_EQ(jb["true_count"], 3);
  EXPECT_EQ(jb["false_count"], 1);
  EXPECT_EQ(jb["distinct_approx"], 2);

  const Json& jd = j["columns"][4];
  EXPECT_EQ(jd["min_iso"], "2011-01-01");
  EXPECT_EQ(jd["max_iso"], "2012-12-31");
  EXPECT_EQ(jd["min"], *ParseIsoDate("2011-01-01"));
  EXPECT_EQ(jd["null_fraction"], 0.4);
}

TEST(ProfileTest, CategoryAndStringColumnsAgree) {
  Column s("v", DataType::kString);
  Column c("v", DataType::kCategory);
  std::mt19937_64 rng(3);
  // With nulls in most words of 64 rows, and in some runs of whole words.
  for (int i = 0; i < 5000; ++i) {
    if (rng() % 7 == 0 || (i >= 1280 && i < 1472)) {
      s.AppendNull();
      c.AppendNull();
      continue;
    }
    std::string v = "value" + std::to_string(rng() % 40);
    s.AppendString(v);
    c.AppendString(v);
  }
  ColumnProfile ps = ProfileColumn(s);
  ColumnProfile pc = ProfileColumn(c);
  EXPECT_EQ(ps.distinct_sketch(), pc.distinct_sketch());
  EXPECT_EQ(ps.text()->top_k, pc.text()->top_k);
  EXPECT_EQ(ps.text()->total_length, pc.text()->total_length);
  EXPECT_EQ(ps.distinct_approx(), 40u);
  EXPECT_EQ(pc.nulls(), ps.nulls());
  EXPECT_EQ(pc.nulls(), c.null_count());

  // Nothing but nulls: the dictionary is empty.
  Column none("v", DataType::kCategory);
  for (int i = 0; i < 300; ++i) none.AppendNull();
  ColumnProfile pn = ProfileColumn(none);
  EXPECT_EQ(pn.count(), 300u);
  EXPECT_EQ(pn.nulls(), 300u);
  EXPECT_TRUE(pn.text()->top_k.Items().empty());
}

TEST(ProfileTest, GroupsShortAndLongStringsExactly) {
  // Strings on both sides of 16 bytes (short ones are grouped by their bytes, long ones
  // by hash) that differ only in the middle byte.
  Column s("s", DataType::kString);
  std::map<std::string, uint64_t> truth;
  std::mt19937_64 rng(4);
  for (int i = 0; i < 20000; ++i) {
    size_t length = rng() % 21 * 2;
    std::string v(length, 'q');
    if (length > 0) v[length / 2] = "abc"[rng() % 3];
    s.AppendString(v);
    ++truth[v];
  }
  ColumnProfile p = ProfileColumn(s);
  ASSERT_LE(truth.size(), 64u);
  EXPECT_TRUE(p.text()->top_k.exact());
  std::map<std::string, uint64_t> reported;
  for (const TopK::Item& item : p.text()->top_k.Items()) reported[item.value] = item.count;
  EXPECT_EQ(reported, truth);
  EXPECT_NEAR(static_cast<double>(p.distinct_approx()), static_cast<double>(truth.size()), 1);
  EXPECT_EQ(p.text()->max_length, 40u);
  EXPECT_EQ(p.text()->empty_count, truth[""]);
}

TEST(ProfileTest, EmptyAndAllNullColumns) {
  Column a("a", DataType::kFloat64);
  Column s("s", DataType::kString);
  for (int i = 0; i < 3; ++i) {
    a.AppendNull();
    s.AppendNull();
  }
  Table t;
  t.AddColumn(std::move(a));
  t.AddColumn(std::move(s));
  TableProfile p = ProfileTable(t);
  Json j = p.ToJson();
  EXPECT_EQ(j["columns"][0]["null_fraction"], 1.0);
  EXPECT_TRUE(j["columns"][0]["min"].is_null());
  EXPECT_TRUE(j["columns"][0]["mean"].is_null());
  EXPECT_TRUE(j["columns"][0]["quantiles"].is_null());
  EXPECT_TRUE(j["columns"][0]["histogram"].empty());
  EXPECT_TRUE(j["columns"][1]["min_length"].is_null());
  EXPECT_EQ(j["columns"][1]["distinct_approx"], 0);
  EXPECT_EQ(TableProfile::FromJson(j).ToJson(), j);
  TableProfile none = ProfileRows(t, 1, 1);
  EXPECT_EQ(none.rows(), 0u);
  EXPECT_EQ(none.columns()[0].null_fraction(), 0);
}

TEST(ProfileTest, JsonRoundTripAndMergeAfterwards) {
  Table t = MixedTable(8000, 4);
  TableProfile a = ProfileRows(t, 0, 3000);
  TableProfile b = ProfileRows(t, 3000, 8000);
  Json ja = ParseJson(a.ToJson().dump(), "a");
  Json jb = ParseJson(b.ToJson().dump(), "b");
  TableProfile a2 = TableProfile::FromJson(ja);
  EXPECT_EQ(a2.ToJson(), a.ToJson());
  TableProfile merged = a;
  merged.Merge(b);
  TableProfile merged2 = a2;
  merged2.Merge(TableProfile::FromJson(jb));
  EXPECT_EQ(merged2.ToJson().dump(), merged.ToJson().dump());
  // A stored profile keeps taking rows.
  TableProfile grown = TableProfile::FromJson(ja);
  grown.AddRows(t, 3000, 8000);
  ExpectSameAsWhole(grown, ProfileTable(t), t);
}

TEST(ProfileTest, FromJsonNamesTheBadKey) {
  Table t = MixedTable(500, 5);
  const Json good = ProfileTable(t).ToJson();
  struct Case {
    std::function<void(Json&)> damage;
    std::string expected;
  };
  std::vector<Case> cases = {
      {[](Json& j) { j["format_version"] = 2; }, "'format_version'"},
      {[](Json& j) { j.erase("rows"); }, "'rows' is missing"},
      {[](Json& j) { j["columns"] = 3; }, "'columns' must be an array"},
      {[](Json& j) { j["columns"][1]["sketches"].erase("quantiles"); },
       "'columns[1].sketches.quantiles' is missing"},
      {[](Json& j) { j["columns"][1]["sketches"]["quantiles"]["k"] = 3; },
       "'columns[1].sketches.quantiles.k'"},
      {[](Json& j) { j["columns"][0]["count"] = 7; }, "'columns[0].count'"},
      {[](Json& j) { j["columns"][0]["type"] = "integer"; }, "'columns[0].type'"},
      {[](Json& j) { j["columns"][1]["nulls"] = 100000; }, "'columns[1].nulls'"},
      {[](Json& j) { j["columns"][3]["nan_count"] = 100000; },
       "'columns[3].sketches.moments.count'"},
      {[](Json& j) { j["columns"][4]["true_count"] = 501; }, "'columns[4].true_count'"},
      {[](Json& j) { j["columns"][5]["sketches"]["top_k"]["total"] = 1; },
       "'columns[5].sketches.top_k.total'"},
      {[](Json& j) { j["columns"][5]["sketches"]["distinct"]["registers"] = "x"; },
       "'columns[5].sketches.distinct.registers'"},
      {[](Json& j) { j["columns"][8]["sketches"]["histogram"]["min_exponent"] = -1022; },
       "'columns[8].sketches.histogram"},
      {[](Json& j) { j["columns"][2]["name"] = "id"; }, "'columns[2].name' repeats"},
      {[](Json& j) { j["columns"][6]["min_length"] = "3"; }, "'columns[6].min_length'"},
  };
  for (const Case& c : cases) {
    Json j = good;
    c.damage(j);
    ExpectError(ErrorCode::kInvalidArgument, {c.expected}, [&] { TableProfile::FromJson(j); });
  }
  ExpectError(ErrorCode::kInvalidArgument, {"not a JSON object"},
              [] { TableProfile::FromJson(Json::array()); });
}

TEST(ProfileTest, MergeRejectsDifferentColumns) {
  Column a("a", DataType::kInt64);
  a.AppendInt(1);
  Column a_float("a", DataType::kFloat64);
  a_float.AppendDouble(1);
  Column b("b", DataType::kInt64);
  b.AppendInt(1);
  ColumnProfile pa = ProfileColumn(a);
  ExpectError(ErrorCode::kInvalidArgument, {"'a' (int64)", "float64"},
              [&] { pa.Merge(ProfileColumn(a_float)); });
  EXPECT_THROW(pa.Merge(ProfileColumn(b)), Error);
  EXPECT_EQ(pa.count(), 1u);
  // A stored profile built with another sketch size does not merge, and leaves the
  // profile as it was.
  Json other_k = pa.ToJson();
  other_k["sketches"]["quantiles"]["k"] = 100;
  ColumnProfile odd = ColumnProfile::FromJson(other_k);
  EXPECT_THROW(pa.Merge(odd), Error);
  EXPECT_EQ(pa.count(), 1u);
  EXPECT_EQ(pa.numeric()->moments.count(), 1u);

  Table ta;
  ta.AddColumn(a);
  Table tb;
  tb.AddColumn(a);
  tb.AddColumn(b);
  TableProfile p = ProfileTable(ta);
  Error e = CatchError([&] { p.Merge(ProfileTable(tb)); });
  EXPECT_TRUE(Contains(e.message(), "'b'")) << e.message();
  EXPECT_EQ(p.rows(), 1u);
  EXPECT_THROW(p.AddRows(tb, 0, 1), Error);
  EXPECT_THROW(p.AddRows(ta, 0, 2), Error);
  EXPECT_THROW(pa.AddRows(b, 0, 1), Error);
}

}  // namespace
}  // namespace mloop::stats
