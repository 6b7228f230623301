#include "features/pipeline.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <thread>

#include "core/json.h"
#include "core/testing.h"
#include "core/time.h"
#include "table/csv_reader.h"

namespace mloop::features {
namespace {

using table::Column;
using table::DataType;
using test::ExpectError;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Opt = std::optional<double>;
using Text = std::optional<std::string>;

Column Doubles(const std::string& name, const std::vector<Opt>& values) {
  Column c(name, DataType::kFloat64);
  for (const Opt& v : values) v ? c.AppendDouble(*v) : c.AppendNull();
  return c;
}

Column Ints(const std::string& name, const std::vector<std::optional<int64_t>>& values,
            DataType type = DataType::kInt64) {
  Column c(name, type);
  for (const auto& v : values) v ? c.AppendInt(*v) : c.AppendNull();
  return c;
}

Column Texts(const std::string& name, const std::vector<Text>& values,
             DataType type = DataType::kString) {
  Column c(name, type);
  for (const Text& v : values) v ? c.AppendString(*v) : c.AppendNull();
  return c;
}

table::Table MakeTable(std::vector<Column> columns) {
  table::Table t;
  for (Column& c : columns) t.AddColumn(std::move(c));
  return t;
}

FeatureSpec Spec(std::string_view yaml) {
  return ParseFeatureSpec(ParseYaml(yaml, "features.yaml"), "features.yaml");
}

FittedPipeline FitYaml(std::string_view yaml, const table::Table& t,
                       const table::Schema& schema = {}, const FitOptions& options = {}) {
  return Fit(Spec(yaml), t, schema, options);
}

// The feature `name` of every row, from the double-precision transform.
std::vector<double> Feature(const FeatureMatrixF64& m, const std::string& name) {
  std::vector<double> out;
  for (size_t f = 0; f < m.num_features; ++f) {
    if (m.feature_names[f] != name) continue;
    for (size_t r = 0; r < m.num_rows; ++r) out.push_back(m.at(r, f));
    return out;
  }
  ADD_FAILURE() << "no feature " << name;
  return out;
}

// Equal, NaN equal to NaN, each within `tolerance`.
void ExpectValues(const std::vector<double>& got, const std::vector<double>& want,
                  double tolerance = 1e-12) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << "row " << i << ": " << got[i];
    } else {
      EXPECT_NEAR(got[i], want[i], tolerance) << "row " << i;
    }
  }
}

TEST(PipelineTest, ImputesNumbersFourWays) {
  auto t =
      MakeTable({Doubles("a", {1, 2, std::nullopt, 4, 4}), Doubles("b", {1, 2, std::nullopt, 4, 4}),
                 Doubles("c", {1, 2, kNaN, 4, 4}),  // NaN is missing too.
                 Doubles("d", {1, 2, std::nullopt, 4, 4})});
  auto p = FitYaml(R"(
steps:
  - {op: impute, columns: [a]}
  - {op: impute, columns: [b], strategy: median}
  - {op: impute, columns: [c], strategy: most_frequent}
  - {op: impute, columns: [d], strategy: constant, value: -7}
)",
                   t);
  auto m = p.TransformDouble(t);
  ExpectValues(Feature(m, "a"), {1, 2, 2.75, 4, 4});
  ExpectValues(Feature(m, "b"), {1, 2, 3, 4, 4});
  ExpectValues(Feature(m, "c"), {1, 2, 4, 4, 4});
  ExpectValues(Feature(m, "d"), {1, 2, -7, 4, 4});
}

TEST(PipelineTest, MostFrequentTiesGoToTheSmallestValue) {
  auto t = MakeTable(
      {Doubles("a", {5, 5, 3, 3, std::nullopt}), Texts("s", {"b", "a", "b", "a", std::nullopt})});
  auto p = FitYaml(R"(
steps:
  - {op: impute, columns: [a, s], strategy: most_frequent}
  - {op: ordinal, columns: [s]}
)",
                   t);
  auto m = p.TransformDouble(t);
  ExpectValues(Feature(m, "a"), {5, 5, 3, 3, 3});
  ExpectValues(Feature(m, "s"), {1, 0, 1, 0, 0});  // The null became "a", code 0.
}

TEST(PipelineTest, ScalersMatchTheirDefinitions) {
  auto t = MakeTable({Doubles("s", {1, 2, 3, 4, std::nullopt}), Doubles("m", {2, 4, 6, 3, 2}),
                      Doubles("r", {1, 2, 3, 4, 100}), Doubles("k", {5, 5, 5, 5, 5})});
  auto p = FitYaml(R"(
steps:
  - {op: standardize, columns: [s]}
  - {op: minmax, columns: [m]}
  - {op: robust, columns: [r]}
  - {op: standardize, columns: [k]}
)",
                   t);
  auto m = p.TransformDouble(t);
  double sd = std::sqrt(1.25);
  ExpectValues(Feature(m, "s"), {-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd, kNaN});
  ExpectValues(Feature(m, "m"), {0, 0.5, 1, 0.25, 0});
  // median 3, q25 2, q75 4.
  ExpectValues(Feature(m, "r"), {-1, -0.5, 0, 0.5, 48.5});
  // A constant column has scale 1, as in sklearn.
  ExpectValues(Feature(m, "k"), {0, 0, 0, 0, 0});
  Json doc = p.ToJson();
  EXPECT_EQ(doc["steps"][0]["columns"][0]["mean"], 2.5);
  EXPECT_EQ(doc["steps"][3]["columns"][0]["scale"], 1.0);
}

TEST(PipelineTest, RobustTakesAQuantileRange) {
  auto t = MakeTable({Doubles("r", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})});
  auto p = FitYaml("steps: [{op: robust, columns: [r], quantile_range: [10, 90]}]", t);
  ExpectValues(Feature(p.TransformDouble(t), "r"),
               {-0.625, -0.5, -0.375, -0.25, -0.125, 0, 0.125, 0.25, 0.375, 0.5, 0.625});
}

TEST(PipelineTest, Log1pAndClip) {
  auto t = MakeTable({Doubles("x", {0, std::exp(1.0) - 1, -1, -2, std::nullopt}),
                      Doubles("y", {-5, 0, 5, 10, std::nullopt})});
  auto p = FitYaml(R"(
steps:
  - {op: log1p, columns: [x]}
  - {op: clip, columns: [y], min: -1, max: 6}
)",
                   t);
  auto m = p.TransformDouble(t);
  ExpectValues(Feature(m, "x"), {0, 1, kNaN, kNaN, kNaN});
  ExpectValues(Feature(m, "y"), {-1, 0, 5, 6, kNaN});
}

TEST(PipelineTest, OneHotWithOtherAndNullColumns) {
  for (DataType type : {DataType::kString, DataType::kCategory}) {
    SCOPED_TRACE(table::DataTypeName(type));
    auto train = MakeTable({Texts("c", {"red", "blue", "red", std::nullopt, "green"}, type)});
    auto p = FitYaml("steps: [{op: onehot, columns: [c]}]", train);
    EXPECT_EQ(p.feature_names(), (std::vector<std::string>{"c=blue", "c=green", "c=red",
                                                           "c=__other__", "c=__null__"}));
    auto apply = MakeTable({Texts("c", {"green", "purple", std::nullopt, "red"}, type)});
    auto m = p.TransformDouble(apply);
    ExpectValues(m.values, {0, 1, 0, 0, 0,    // green
                            0, 0, 0, 1, 0,    // unseen: other
                            0, 0, 0, 0, 1,    // null
                            0, 0, 1, 0, 0});  // red
  }
}

TEST(PipelineTest, OneHotNullsIntoOtherOrNowhere) {
  auto t = MakeTable({Texts("c", {"a", std::nullopt})});
  auto other = FitYaml("steps: [{op: onehot, columns: [c], nulls: other}]", t);
  EXPECT_EQ(other.feature_names(), (std::vector<std::string>{"c=a", "c=__other__"}));
  ExpectValues(other.TransformDouble(t).values, {1, 0, 0, 1});
  auto zeros = FitYaml("steps: [{op: onehot, columns: [c], nulls: zeros}]", t);
  ExpectValues(zeros.TransformDouble(t).values, {1, 0, 0, 0});
}

TEST(PipelineTest, OneHotMaxCategoriesFollowsSklearn) {
  // Counts: a 1, b 3, c 2, d 2, e 4. max_categories 3 keeps the 2 most frequent: e and b.
  std::vector<Text> v = {"a", "b", "b", "b", "c", "c", "d", "d", "e", "e", "e", "e"};
  auto t = MakeTable({Texts("c", v)});
  auto p = FitYaml("steps: [{op: onehot, columns: [c], max_categories: 3, nulls: zeros}]", t);
  EXPECT_EQ(p.feature_names(), (std::vector<std::string>{"c=b", "c=e", "c=__other__"}));
  // A tie at the cut (c and d, 2 each) keeps the later value, as sklearn's stable argsort.
  auto q = FitYaml("steps: [{op: onehot, columns: [c], max_categories: 4, nulls: zeros}]", t);
  EXPECT_EQ(q.feature_names(), (std::vector<std::string>{"c=b", "c=d", "c=e", "c=__other__"}));
  auto f = FitYaml("steps: [{op: onehot, columns: [c], min_frequency: 3, nulls: zeros}]", t);
  EXPECT_EQ(f.feature_names(), (std::vector<std::string>{"c=b", "c=e", "c=__other__"}));
  auto m = f.TransformDouble(t);
  EXPECT_EQ(Feature(m, "c=__other__"), (std::vector<double>{1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0}));
}

TEST(PipelineTest, OrdinalUnseenIsMinusOneOrNan) {
  auto train = MakeTable({Texts("c", {"z", "x", "y", std::nullopt}, DataType::kCategory)});
  auto apply = MakeTable({Texts("c", {"y", "w", std::nullopt, "z"})});
  auto p = FitYaml("steps: [{op: ordinal, columns: [c]}]", train);
  ExpectValues(Feature(p.TransformDouble(apply), "c"), {1, -1, kNaN, 2});
  auto q = FitYaml("steps: [{op: ordinal, columns: [c], unseen: nan}]", train);
  ExpectValues(Feature(q.TransformDouble(apply), "c"), {1, kNaN, kNaN, 2});
}

TEST(PipelineTest, FrequencyEncoding) {
  auto train = MakeTable({Texts("c", {"a", "b", "a", std::nullopt})});
  auto apply = MakeTable({Texts("c", {"a", "b", "q", std::nullopt})});
  auto p = FitYaml("steps: [{op: frequency, columns: [c]}]", train);
  ExpectValues(Feature(p.TransformDouble(apply), "c"), {0.5, 0.25, 0, kNaN});
}

TEST(PipelineTest, BucketizeUniformAndQuantile) {
  auto t = MakeTable({Doubles("u", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}),
                      Doubles("q", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, std::nullopt}),
                      Doubles("k", {3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}),
                      Doubles("z", {0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3})});
  auto p = FitYaml(R"(
steps:
  - {op: bucketize, columns: [u], bins: 5, strategy: uniform}
  - {op: bucketize, columns: [q], bins: 2}
  - {op: bucketize, columns: [k], bins: 3}
  - {op: bucketize, columns: [z], bins: 4}
)",
                   t);
  auto m = p.TransformDouble(t);
  // Edges 0, 2, 4, 6, 8, 10: a value on an edge goes to the bin above it.
  ExpectValues(Feature(m, "u"), {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 4});
  ExpectValues(Feature(m, "q"), {0, 0, 0, 0, 0, 1, 1, 1, 1, 1, kNaN});  // Median 5.5.
  ExpectValues(Feature(m, "k"), std::vector<double>(11, 0));            // Constant: one bin.
  // Quantile edges 0, 0, 0, 0.5, 3: the zero-width bins are dropped, leaving 0, 0.5, 3.
  ExpectValues(Feature(m, "z"), {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1});
  EXPECT_EQ(p.ToJson()["steps"][3]["columns"][0]["thresholds"], Json::array({0.5}));
}

TEST(PipelineTest, DatetimeParts) {
  int64_t leap_day = *ParseIsoDate("2024-02-29");  // A Thursday.
  auto t = MakeTable({Ints("d", {leap_day, std::nullopt}, DataType::kDate),
                      Ints("ts",
                           {*ParseIsoTimestamp("2024-12-31T23:30:00Z"),   // A Tuesday.
                            *ParseIsoTimestamp("1969-12-31T22:59:59Z")},  // A Wednesday.
                           DataType::kTimestamp)});
  auto p = FitYaml(R"(
steps:
  - {op: datetime, columns: [d]}
  - {op: datetime, columns: [ts], parts: [weekday, hour, day_of_year]}
)",
                   t);
  EXPECT_EQ(p.feature_names(),
            (std::vector<std::string>{"d.year", "d.month", "d.day", "d.weekday", "d.hour",
                                      "d.day_of_year", "ts.weekday", "ts.hour", "ts.day_of_year"}));
  auto m = p.TransformDouble(t);
  ExpectValues(m.values, {2024, 2, 29, 3, 0, 60, 1, 23, 366,  //
                          kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, 2, 22, 365});
}

TEST(PipelineTest, ArithmeticAppendsItsOutput) {
  auto t = MakeTable({Doubles("a", {6, 1, std::nullopt}), Ints("b", {3, 0, 2})});
  auto p = FitYaml(R"(
steps:
  - {op: ratio, columns: [a, b], output: a_per_b}
  - {op: product, columns: [a, b], output: ab}
  - {op: difference, columns: [a, b], output: a_minus_b}
)",
                   t);
  EXPECT_EQ(p.feature_names(), (std::vector<std::string>{"a", "b", "a_per_b", "ab", "a_minus_b"}));
  auto m = p.TransformDouble(t);
  ExpectValues(Feature(m, "a_per_b"), {2, kNaN, kNaN});  // Division by zero is missing.
  ExpectValues(Feature(m, "ab"), {18, 0, kNaN});
  ExpectValues(Feature(m, "a_minus_b"), {3, 1, kNaN});
}

TEST(PipelineTest, HashSetsOneColumnPerValue) {
  auto t = MakeTable({Texts("c", {"a", "b", "a", std::nullopt, "zzz"}, DataType::kCategory)});
  auto p = FitYaml("steps: [{op: hash, columns: [c], n_features: 4}]", t);
  ASSERT_EQ(p.num_features(), 4u);
  EXPECT_EQ(p.feature_names()[3], "c#3");
  auto m = p.TransformDouble(t);
  for (size_t r = 0; r < m.num_rows; ++r) {
    double sum = 0;
    for (size_t f = 0; f < 4; ++f) sum += m.at(r, f);
    EXPECT_EQ(sum, r == 3 ? 0 : 1) << "row " << r;
  }
  for (size_t f = 0; f < 4; ++f) EXPECT_EQ(m.at(0, f), m.at(2, f));
  // The same value in a string column lands in the same column.
  auto s = MakeTable({Texts("c", {"a"})});
  auto ms = p.TransformDouble(s);
  for (size_t f = 0; f < 4; ++f) EXPECT_EQ(ms.at(0, f), m.at(0, f));
}

TEST(PipelineTest, TargetEncodingFullDataAndOutOfFold) {
  // y: a -> 1, 1, 0; b -> 0, 0. Prior 0.4.
  table::Schema schema({{"y", DataType::kInt64, table::ColumnRole::kLabel}});
  auto t = MakeTable({Texts("c", {"a", "a", "a", "b", "b"}), Ints("y", {1, 1, 0, 0, 0})});
  FitResult fit = FitTransform(Spec("steps: [{op: target, columns: [c], folds: 5, smoothing: 1}]"),
                               t, schema, {});
  // Transform: the full-data encodings (2 + 0.4) / 4 and (0 + 0.4) / 3; unseen gets the
  // prior, missing stays missing.
  auto apply = MakeTable({Texts("c", {"a", "b", "zzz", std::nullopt})});
  ExpectValues(Feature(fit.pipeline.TransformDouble(apply), "c"), {0.6, 0.4 / 3, 0.4, kNaN});
  // Five folds of five rows leave one row out: row 0 (a, 1) sees a: {1, 0} and a prior of
  // 1/4, so (1 + 0.25) / 3. The fold assignment does not matter here.
  std::vector<double> train;
  for (size_t r = 0; r < 5; ++r) train.push_back(fit.train.at(r, 0));
  ExpectValues(train, {1.25 / 3, 1.25 / 3, 2.5 / 3, 0.5 / 2, 0.5 / 2}, 1e-6);
}

TEST(PipelineTest, TargetEncodingFoldsFollowTheSeed) {
  std::vector<Text> values;
  Column label("income", DataType::kCategory);
  for (int i = 0; i < 200; ++i) {
    values.push_back(std::string(1, static_cast<char>('a' + i % 7)));
    label.AppendString((i * 7919) % 3 == 0 ? ">50K" : "<=50K");
  }
  auto t = MakeTable({Texts("c", values)});
  t.AddColumn(label);
  FeatureSpec spec = Spec("steps: [{op: target, columns: [c], positive: \">50K\"}]");
  FitOptions options;
  options.label = "income";
  options.seed = 7;
  FitResult a = FitTransform(spec, t, {}, options);
  FitResult b = FitTransform(spec, t, {}, options);
  EXPECT_EQ(a.train.values, b.train.values);
  options.seed = 8;
  FitResult c = FitTransform(spec, t, {}, options);
  EXPECT_NE(a.train.values, c.train.values);
  EXPECT_EQ(a.pipeline.ToJson(), c.pipeline.ToJson());  // Full-data encodings: no folds.
  // Out-of-fold values differ from the full-data ones Transform gives.
  EXPECT_NE(a.train.values, a.pipeline.Transform(t).values);
  // Without target encoding the training matrix is Transform's.
  FitResult plain = FitTransform(Spec("steps: [{op: frequency, columns: [c]}]"), t, {}, options);
  EXPECT_EQ(plain.train.values, plain.pipeline.Transform(t).values);
  // Round trip.
  FittedPipeline back = FittedPipeline::FromJson(ParseJson(a.pipeline.ToJson().dump(), "p"));
  EXPECT_EQ(back.Transform(t).values, a.pipeline.Transform(t).values);
}

TEST(PipelineTest, TargetEncodingNeedsALabel) {
  auto t = MakeTable({Texts("c", {"a", "b"}), Texts("y", {"yes", "no"})});
  FeatureSpec spec = Spec("steps: [{op: target, columns: [c]}, {op: drop, columns: [y]}]");
  ExpectError(ErrorCode::kInvalidArgument, {"steps[0]", "needs a label"},
              [&] { Fit(spec, t, {}); });
  FitOptions options;
  options.label = "y";
  ExpectError(ErrorCode::kInvalidArgument,
              {"steps[0].positive", "label 'y' is string", "positive value"},
              [&] { Fit(Spec("steps: [{op: target, columns: [c]}]"), t, {}, options); });
  options.label = "nope";
  ExpectError(ErrorCode::kInvalidArgument, {"no column 'nope'"},
              [&] { Fit(spec, t, {}, options); });
}

TEST(PipelineTest, DefaultsForColumnsNoStepNames) {
  table::Schema schema({{"id", DataType::kInt64, table::ColumnRole::kId},
                        {"y", DataType::kInt64, table::ColumnRole::kLabel},
                        {"skip", DataType::kString, table::ColumnRole::kIgnore}});
  auto t = MakeTable({Ints("id", {1, 2}), Doubles("x", {0.5, std::nullopt}), Ints("y", {0, 1}),
                      Texts("skip", {"a", "b"}), Ints("n", {3, 4}), Ints("target", {1, 0})});
  table::Column flag("flag", DataType::kBool);
  flag.AppendBool(true);
  flag.AppendBool(false);
  t.AddColumn(flag);
  FitOptions options;
  options.label = "target";
  auto p = FitYaml("steps: []", t, schema, options);
  EXPECT_EQ(p.feature_names(), (std::vector<std::string>{"x", "n", "flag"}));
  ExpectValues(p.TransformDouble(t).values, {0.5, 3, 1, kNaN, 4, 0});

  auto text = MakeTable({Doubles("x", {1}), Texts("city", {"Oslo"}, DataType::kCategory)});
  ExpectError(ErrorCode::kInvalidArgument, {"column 'city' (category)", "onehot", "drop it"},
              [&] { FitYaml("steps: []", text); });
  auto date = MakeTable({Ints("when", {1}, DataType::kDate)});
  ExpectError(ErrorCode::kInvalidArgument, {"column 'when' (date)", "datetime"},
              [&] { FitYaml("steps: []", date); });
  ExpectError(ErrorCode::kInvalidArgument,
              {"features.yaml: steps[0].columns[0]", "column 'y' has role label"},
              [&] { FitYaml("steps: [{op: standardize, columns: [y]}]", t, schema); });
  ExpectError(ErrorCode::kInvalidArgument, {"steps[0].columns[0]", "column 'target' is the label"},
              [&] { FitYaml("steps: [{op: drop, columns: [target]}]", t, schema, options); });
}

TEST(PipelineTest, FitErrorsNameStepAndColumn) {
  auto t = MakeTable({Doubles("x", {1, 2}), Texts("c", {"a", "b"}),
                      Doubles("empty", {std::nullopt, std::nullopt})});
  struct Case {
    const char* yaml;
    std::vector<std::string> facts;
  };
  std::vector<Case> cases = {
      {"steps: [{op: standardize, columns: [nope]}]",
       {"features.yaml: steps[0].columns[0]", "no column 'nope'"}},
      {"steps: [{op: drop, columns: [c]}, {op: standardize, columns: [x, c]}]",
       {"steps[1].columns[1]", "no column 'c'"}},
      {"steps: [{op: standardize, columns: [c]}]",
       {"steps[0].columns[0]", "column 'c' is string", "standardize needs a number column"}},
      {"steps: [{op: onehot, columns: [x]}]",
       {"steps[0].columns[0]", "column 'x' is float64", "onehot needs a text column"}},
      {"steps: [{op: datetime, columns: [x]}]", {"'x' is float64", "date or timestamp"}},
      {"steps: [{op: impute, columns: [c], strategy: mean}]",
       {"steps[0].strategy", "'c' is string", "most_frequent or constant"}},
      {"steps: [{op: impute, columns: [c], strategy: constant, value: 1}]",
       {"steps[0].value", "must be a string"}},
      {"steps: [{op: impute, columns: [x], strategy: constant, value: z}]",
       {"steps[0].value", "must be a number"}},
      {"steps: [{op: standardize, columns: [empty]}]",
       {"steps[0].columns[0]", "'empty' has no non-missing value"}},
      {"steps: [{op: ratio, columns: [x, empty], output: x}, {op: drop, columns: [c]}]",
       {"steps[0].output", "'x' already exists"}},
      {"steps: [{op: onehot, columns: [c]}, {op: ordinal, columns: [c]}]",
       {"steps[1].columns[0]", "no column 'c'"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.yaml);
    Error e = test::CatchError([&] { FitYaml(c.yaml, t); });
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    for (const std::string& fact : c.facts) {
      EXPECT_TRUE(test::Contains(e.message(), fact)) << e.message() << " lacks " << fact;
    }
  }
}

TEST(PipelineTest, StepsSeeEarlierSteps) {
  // Impute first, then standardize fits on the imputed values (as an sklearn Pipeline).
  auto t = MakeTable({Doubles("x", {0, 4, std::nullopt}), Texts("c", {"a", std::nullopt, "a"})});
  auto p = FitYaml(R"(
steps:
  - {op: impute, columns: [x], strategy: constant, value: 2}
  - {op: standardize, columns: [x]}
  - {op: impute, columns: [c], strategy: constant, value: b}
  - {op: onehot, columns: [c], nulls: zeros}
)",
                   t);
  auto m = p.TransformDouble(t);
  double sd = std::sqrt(8.0 / 3);
  ExpectValues(Feature(m, "x"), {-2 / sd, 2 / sd, 0});
  EXPECT_EQ(p.feature_names(), (std::vector<std::string>{"x", "c=a", "c=b", "c=__other__"}));
  ExpectValues(Feature(m, "c=b"), {0, 1, 0});
}

TEST(PipelineTest, TransformChecksColumns) {
  auto train = MakeTable(
      {Ints("n", {1, 2}), Texts("c", {"a", "b"}, DataType::kCategory), Doubles("gone", {1, 2})});
  auto p = FitYaml(R"(
steps:
  - {op: onehot, columns: [c]}
  - {op: drop, columns: [gone]}
)",
                   train);
  ASSERT_EQ(p.inputs().size(), 3u);
  EXPECT_TRUE(p.inputs()[0].required);
  EXPECT_FALSE(p.inputs()[2].required);
  ExpectError(ErrorCode::kInvalidArgument, {"missing column 'n'", "int64"},
              [&] { p.Transform(MakeTable({Texts("c", {"a"})})); });
  ExpectError(ErrorCode::kInvalidArgument, {"column 'n'", "fitted on int64", "got string"}, [&] {
    p.Transform(MakeTable({Texts("n", {"1"}), Texts("c", {"a"})}));
  });
  ExpectError(ErrorCode::kInvalidArgument, {"column 'c'", "fitted on category", "got float64"},
              [&] {
                p.Transform(MakeTable({Ints("n", {1}), Doubles("c", {1})}));
              });
  // Same family is fine: float64 for int64, string for category; dropped and extra columns
  // need not be there.
  auto m = p.TransformDouble(MakeTable(
      {Texts("extra", {"x"}), Texts("c", {"b"}), Doubles("n", {2.5}), Texts("gone", {"?"})}));
  ExpectValues(m.values, {2.5, 0, 1, 0, 0});
}

// A table with every kind of column and a pipeline using every op.
struct Everything {
  table::Table table;
  FeatureSpec spec;
};

Everything MakeEverything(size_t rows) {
  Column num("num", DataType::kFloat64), cnt("cnt", DataType::kInt64),
      city("city", DataType::kCategory), word("word", DataType::kString),
      day("day", DataType::kDate), ts("ts", DataType::kTimestamp), label("y", DataType::kInt64),
      word2("word2", DataType::kString), tag("tag", DataType::kCategory);
  const char* cities[] = {"Oslo", "Bergen", "Tromso", "Bodo", "Alta"};
  for (size_t i = 0; i < rows; ++i) {
    if (i % 7 == 3) {
      num.AppendNull();
    } else {
      num.AppendDouble(std::sin(static_cast<double>(i)) * 100 + 0.1);
    }
    cnt.AppendInt(static_cast<int64_t>((i * 37) % 101));
    if (i % 11 == 5) {
      city.AppendNull();
    } else {
      city.AppendString(cities[(i * i) % 5]);
    }
    word.AppendString("w" + std::to_string((i * 13) % 17));
    word2.AppendString("v" + std::to_string((i * 3) % 11));
    if (i % 13 == 2) {
      tag.AppendNull();
    } else {
      tag.AppendString("t" + std::to_string((i * 5) % 23));
    }
    label.AppendInt(static_cast<int64_t>((i * 31) % 5 == 0));
    day.AppendInt(static_cast<int64_t>(18000 + i % 400));
    ts.AppendInt(static_cast<int64_t>(i) * 3'600'000'123);
  }
  Everything e;
  for (Column* c : {&num, &cnt, &city, &word, &day, &ts, &label, &word2, &tag})
    e.table.AddColumn(*c);
  e.spec = Spec(R"(
steps:
  - {op: impute, columns: [num], strategy: median}
  - {op: ratio, columns: [num, cnt], output: num_per_cnt}
  - {op: robust, columns: [num_per_cnt]}
  - {op: standardize, columns: [num]}
  - {op: log1p, columns: [cnt]}
  - {op: clip, columns: [cnt], max: 4}
  - {op: onehot, columns: [city], max_categories: 4}
  - {op: frequency, columns: [word]}
  - {op: minmax, columns: [word]}
  - {op: impute, columns: [tag], strategy: constant, value: t0}
  - {op: target, columns: [tag], positive: 1, folds: 3}
  - {op: standardize, columns: [tag]}
  - {op: datetime, columns: [day]}
  - {op: bucketize, columns: [day.day_of_year], bins: 6}
  - {op: datetime, columns: [ts], parts: [hour, weekday]}
  - {op: product, columns: [ts.hour, cnt], output: hour_cnt}
  - {op: difference, columns: [ts.hour, ts.weekday], output: hd}
  - {op: bucketize, columns: [hd], bins: 3, strategy: uniform}
  - {op: hash, columns: [word2], n_features: 5}
)");
  return e;
}

TEST(PipelineTest, SerializedPipelineTransformsBitIdentically) {
  Everything e = MakeEverything(10'000);
  FittedPipeline p = Fit(e.spec, e.table, {}, {.label = "y", .seed = 3});
  Json doc = p.ToJson();
  EXPECT_EQ(doc["format_version"], FittedPipeline::kFormatVersion);
  FittedPipeline q = FittedPipeline::FromJson(ParseJson(doc.dump(), "p.json"), "p.json");
  EXPECT_EQ(q.ToJson(), doc);
  EXPECT_EQ(q.feature_names(), p.feature_names());
  FeatureMatrix a = p.Transform(e.table);
  FeatureMatrix b = q.Transform(e.table);
  ASSERT_EQ(a.values.size(), b.values.size());
  EXPECT_EQ(std::memcmp(a.values.data(), b.values.data(), a.values.size() * sizeof(float)), 0);
  // Through YAML as well.
  FittedPipeline y = FittedPipeline::FromJson(ParseYaml(ToYaml(doc), "p.yaml"), "p.yaml");
  FeatureMatrixF64 d1 = p.TransformDouble(e.table);
  FeatureMatrixF64 d2 = y.TransformDouble(e.table);
  EXPECT_EQ(std::memcmp(d1.values.data(), d2.values.data(), d1.values.size() * sizeof(double)), 0);
  // The float matrix is the double one rounded.
  for (size_t i = 0; i < a.values.size(); ++i) {
    float want = static_cast<float>(d1.values[i]);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(a.values[i])) << i;
    } else {
      ASSERT_EQ(a.values[i], want) << i;
    }
  }
}

TEST(PipelineTest, StepOptionsRoundTrip) {
  auto t = MakeTable({Texts("a", {"x", "y", std::nullopt}), Texts("b", {"p", "q", "p"}),
                      Doubles("v", {1, 5, 9}), Ints("d", {0, 40, 400}, DataType::kDate)});
  auto p = FitYaml(R"(
steps:
  - {op: ordinal, columns: [a], unseen: nan}
  - {op: onehot, columns: [b], nulls: other}
  - {op: clip, columns: [v], min: 2}
  - {op: datetime, columns: [d], parts: [day_of_year, month]}
  - {op: passthrough, columns: [v]}
)",
                   t);
  Json doc = p.ToJson();
  EXPECT_EQ(doc["steps"][0]["unseen"], "nan");
  EXPECT_FALSE(doc["steps"][2].contains("max"));
  FittedPipeline q = FittedPipeline::FromJson(ParseYaml(ToYaml(doc), "p.yaml"), "p.yaml");
  EXPECT_EQ(q.ToJson(), doc);
  auto apply = MakeTable({Texts("a", {"new"}), Texts("b", {"r"}), Doubles("v", {0}),
                          Ints("d", {59}, DataType::kDate)});
  ExpectValues(q.TransformDouble(apply).values, {kNaN, 0, 0, 1, 2, 60, 3});
}

TEST(PipelineTest, TransformIsBlockwiseAndThreadSafe) {
  // Row blocks must not change results: transforming a slice gives the same rows.
  Everything e = MakeEverything(9'000);
  FittedPipeline p = Fit(e.spec, e.table, {}, {.label = "y", .seed = 3});
  FeatureMatrixF64 whole = p.TransformDouble(e.table);
  std::vector<FeatureMatrixF64> results(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = p.TransformDouble(e.table); });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_EQ(r.values.size(), whole.values.size());
    EXPECT_EQ(std::memcmp(r.values.data(), whole.values.data(), r.values.size() * sizeof(double)),
              0);
  }
  Everything small = MakeEverything(5);
  FeatureMatrixF64 head = p.TransformDouble(small.table);
  for (size_t i = 0; i < head.values.size(); ++i) {
    double x = head.values[i], y = whole.values[i];
    EXPECT_TRUE((std::isnan(x) && std::isnan(y)) || x == y) << i;
  }
}

TEST(PipelineTest, FromJsonRejectsBadDocuments) {
  Everything e = MakeEverything(50);
  Json doc = Fit(e.spec, e.table, {}, {.label = "y", .seed = 3}).ToJson();
  auto expect = [&](Json bad, std::initializer_list<std::string_view> facts) {
    ExpectError(ErrorCode::kInvalidArgument, facts,
                [&] { FittedPipeline::FromJson(bad, "model/pipeline.json"); });
  };
  Json v = doc;
  v["format_version"] = 2;
  expect(v, {"model/pipeline.json: format_version", "unsupported version 2"});
  Json k = doc;
  k["extra"] = 1;
  expect(k, {"extra", "unknown key"});
  Json s = doc;
  s["steps"][3]["columns"][0]["mean"] = "x";
  expect(s, {"steps[3].columns[0].mean", "expected a number"});
  Json o = doc;
  o["steps"][0]["op"] = "nope";
  expect(o, {"steps[0].op", "unknown op"});
  Json f = doc;
  f["features"][0] = "other";
  expect(f, {"features", "do not match"});
  Json c = doc;
  c["steps"][0]["columns"][0]["column"] = "zzz";
  expect(c, {"steps[0].columns[0]", "no column 'zzz'"});
}

// The Adult data, read as its contract describes.
table::Table ReadAdult() {
  Json contract = ReadYamlFile(std::string(MLOOP_DATA_TESTDATA) + "/adult_contract.yaml");
  table::CsvOptions options;
  options.header = false;
  options.names = contract["format"]["names"].get<std::vector<std::string>>();
  options.null_values = std::vector<std::string>{"?"};
  options.skip_initial_space = true;
  auto result = table::ReadCsv(std::string(MLOOP_DATASETS_DIR) + "/adult/adult.data", options);
  EXPECT_TRUE(result.malformed.empty());
  return std::move(result.table);
}

TEST(AdultTest, DocumentedExampleFitsAndRoundTrips) {
  table::Table adult = ReadAdult();
  ASSERT_EQ(adult.num_rows(), 32561u);
  FeatureSpec spec = LoadFeatureSpec(std::string(MLOOP_FEATURES_TESTDATA) + "/adult_features.yaml");
  table::Schema schema({{"income", DataType::kCategory, table::ColumnRole::kLabel}});
  FittedPipeline p = Fit(spec, adult, schema, {});
  FeatureMatrix m = p.Transform(adult);
  EXPECT_EQ(m.num_rows, adult.num_rows());
  EXPECT_EQ(m.num_features, p.num_features());
  EXPECT_GT(m.num_features, 50u);
  for (const std::string& name : m.feature_names) EXPECT_NE(name, "income");
  // The order docs/features.md describes.
  EXPECT_EQ(m.feature_names[0], "age");
  EXPECT_EQ(m.feature_names[1], "workclass=Federal-gov");
  EXPECT_EQ(m.feature_names[10], "workclass=__null__");
  EXPECT_EQ(m.feature_names[11], "fnlwgt");
  EXPECT_EQ(m.feature_names[12], "education_num");
  EXPECT_EQ(m.feature_names[m.num_features - 2], "gain_per_hour");
  EXPECT_EQ(m.feature_names[m.num_features - 1], "net_capital");
  Json doc = p.ToJson();
  EXPECT_EQ(doc["steps"][0]["columns"][0]["fill"], "United-States");
  EXPECT_EQ(doc["steps"][7]["columns"][0]["thresholds"],
            Json::array({23.0, 28.0, 32.0, 37.0, 42.0, 48.0, 56.0}));
  EXPECT_DOUBLE_EQ(doc["steps"][8]["columns"][0]["mean"].get<double>(), 40.437455852092995);
  FittedPipeline q = FittedPipeline::FromJson(ParseJson(p.ToJson().dump(), "p"), "p");
  FeatureMatrix n = q.Transform(adult);
  EXPECT_EQ(std::memcmp(m.values.data(), n.values.data(), m.values.size() * sizeof(float)), 0);
}

// With MLOOP_FEATURES_REFERENCE_DIR set, writes the double-precision matrix of each spec in
// tests/reference/features_specs/ applied to Adult as NAME.csv there, for
// tests/reference/features_sklearn.py to compare with scikit-learn; without it, into a temporary
// folder, so the reference specs are fitted and written in every run.
TEST(AdultTest, WritesReferenceMatrices) {
  test::TempDir scratch;
  const char* env_dir = std::getenv("MLOOP_FEATURES_REFERENCE_DIR");
  const std::string out_dir = env_dir != nullptr ? env_dir : scratch.path().string();
  table::Table adult = ReadAdult();
  table::Schema schema({{"income", DataType::kCategory, table::ColumnRole::kLabel}});
  std::filesystem::path specs = std::string(MLOOP_REFERENCE_DIR) + "/features_specs";
  size_t written = 0;
  for (const auto& entry : std::filesystem::directory_iterator(specs)) {
    if (entry.path().extension() != ".yaml") continue;
    FittedPipeline p = Fit(LoadFeatureSpec(entry.path()), adult, schema, {});
    FeatureMatrixF64 m = p.TransformDouble(adult);
    std::ofstream out(std::filesystem::path(out_dir) / (entry.path().stem().string() + ".csv"));
    for (size_t f = 0; f < m.num_features; ++f) out << (f ? "," : "") << m.feature_names[f];
    out << "\n";
    char buf[40];
    for (size_t r = 0; r < m.num_rows; ++r) {
      for (size_t f = 0; f < m.num_features; ++f) {
        std::snprintf(buf, sizeof(buf), "%.17g", m.at(r, f));
        out << (f ? "," : "") << buf;
      }
      out << "\n";
    }
    ASSERT_TRUE(out.good());
    out.close();
    EXPECT_GT(std::filesystem::file_size(std::filesystem::path(out_dir) /
                                         (entry.path().stem().string() + ".csv")),
              m.num_rows * m.num_features);
    ++written;
  }
  EXPECT_GT(written, 0u);
}

}  // namespace
}  // namespace mloop::features
