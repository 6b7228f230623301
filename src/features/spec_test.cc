#include "features/spec.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/json.h"
#include "core/testing.h"

namespace mloop::features {
namespace {

using test::ExpectError;

FeatureSpec Parse(std::string_view yaml) {
  return ParseFeatureSpec(ParseYaml(yaml, "features.yaml"), "features.yaml");
}

TEST(FeatureSpecTest, ParsesEveryOpWithItsOptions) {
  FeatureSpec spec = Parse(R"(
steps:
  - {op: impute, columns: [a, b], strategy: median}
  - {op: impute, columns: [t], strategy: constant, value: missing}
  - {op: impute, columns: [c], strategy: constant, value: 0}
  - {op: standardize, columns: [a]}
  - {op: minmax, columns: [b]}
  - {op: robust, columns: [c], quantile_range: [10, 90]}
  - {op: log1p, columns: [a]}
  - {op: clip, columns: [a], min: -1, max: 1}
  - {op: onehot, columns: [t], max_categories: 5, min_frequency: 3, nulls: zeros}
  - {op: ordinal, columns: [u], unseen: nan}
  - {op: bucketize, columns: [d], bins: 4, strategy: uniform}
  - {op: frequency, columns: [v]}
  - {op: hash, columns: [w], n_features: 8}
  - {op: datetime, columns: [when], parts: [year, hour]}
  - {op: datetime, columns: [day]}
  - {op: ratio, columns: [a, b], output: a_per_b}
  - {op: product, columns: [a, b], output: ab}
  - {op: difference, columns: [a, b], output: a_minus_b}
  - {op: passthrough, columns: [e]}
  - {op: drop, columns: [f]}
  - {op: target, columns: [g], folds: 3, smoothing: 2.5, positive: ">50K"}
  - {op: target, columns: [h], positive: 1}
)");
  EXPECT_EQ(spec.source, "features.yaml");
  ASSERT_EQ(spec.steps.size(), 22u);
  EXPECT_EQ(spec.steps[20].op, Op::kTarget);
  EXPECT_EQ(spec.steps[20].folds, 3);
  EXPECT_EQ(spec.steps[20].smoothing, 2.5);
  EXPECT_EQ(spec.steps[20].positive_text, ">50K");
  EXPECT_EQ(spec.steps[21].positive_number, 1.0);
  EXPECT_EQ(spec.steps[21].folds, 5);
  EXPECT_EQ(spec.steps[21].smoothing, 10);
  EXPECT_EQ(spec.steps[0].op, Op::kImpute);
  EXPECT_EQ(spec.steps[0].strategy, ImputeStrategy::kMedian);
  EXPECT_EQ(spec.steps[0].columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(spec.steps[0].path, "steps[0]");
  EXPECT_EQ(spec.steps[1].fill_text, "missing");
  EXPECT_FALSE(spec.steps[1].fill_number);
  EXPECT_EQ(spec.steps[2].fill_number, 0.0);
  EXPECT_EQ(spec.steps[5].quantile_low, 10);
  EXPECT_EQ(spec.steps[5].quantile_high, 90);
  EXPECT_EQ(spec.steps[7].clip_min, -1.0);
  EXPECT_EQ(spec.steps[7].clip_max, 1.0);
  EXPECT_EQ(spec.steps[8].max_categories, 5);
  EXPECT_EQ(spec.steps[8].min_frequency, 3);
  EXPECT_EQ(spec.steps[8].nulls, NullHandling::kZeros);
  EXPECT_TRUE(std::isnan(spec.steps[9].unseen));
  EXPECT_EQ(spec.steps[10].bins, 4);
  EXPECT_EQ(spec.steps[10].bin_strategy, BinStrategy::kUniform);
  EXPECT_EQ(spec.steps[12].n_features, 8);
  EXPECT_EQ(spec.steps[13].parts, (std::vector<DatePart>{DatePart::kYear, DatePart::kHour}));
  EXPECT_EQ(spec.steps[14].parts.size(), 6u);
  EXPECT_EQ(spec.steps[15].op, Op::kRatio);
  EXPECT_EQ(spec.steps[15].output, "a_per_b");
  EXPECT_EQ(spec.steps[19].op, Op::kDrop);
}

TEST(FeatureSpecTest, Defaults) {
  FeatureSpec spec = Parse(R"(
steps:
  - {op: impute, columns: [a]}
  - {op: onehot, columns: [t]}
  - {op: ordinal, columns: [u]}
  - {op: bucketize, columns: [d]}
)");
  EXPECT_EQ(spec.steps[0].strategy, ImputeStrategy::kMean);
  EXPECT_FALSE(spec.steps[1].max_categories);
  EXPECT_EQ(spec.steps[1].nulls, NullHandling::kColumn);
  EXPECT_EQ(spec.steps[2].unseen, -1);
  EXPECT_EQ(spec.steps[3].bins, 5);
  EXPECT_EQ(spec.steps[3].bin_strategy, BinStrategy::kQuantile);
}

TEST(FeatureSpecTest, EmbeddedSpecPrefixesKeyPaths) {
  Json doc = ParseYaml("steps: [{op: standardize, columns: [a], bins: 3}]", "train.yaml");
  ExpectError(ErrorCode::kInvalidArgument, {"train.yaml: features.steps[0].bins", "unknown key"},
              [&] { ParseFeatureSpec(doc, "train.yaml", "features"); });
}

TEST(FeatureSpecTest, ErrorsNameTheKeyPath) {
  struct Case {
    const char* yaml;
    std::vector<std::string> facts;
  };
  std::vector<Case> cases = {
      {"stepz: []", {"features.yaml: stepz", "unknown key"}},
      {"{}", {"steps: required, but missing"}},
      {"steps: {}", {"steps: expected a list of steps, got mapping"}},
      {"steps: [{op: scale, columns: [a]}]",
       {"steps[0].op", "unknown op \"scale\"", "standardize"}},
      {"steps: [{columns: [a]}]", {"steps[0].op: required, but missing"}},
      {"steps: [{op: drop}]", {"steps[0].columns: required, but missing"}},
      {"steps: [{op: drop, columns: []}]", {"steps[0].columns", "at least one"}},
      {"steps: [{op: drop, columns: [a, a]}]", {"steps[0].columns[1]", "listed twice"}},
      {"steps: [{op: drop, columns: [3]}]", {"steps[0].columns[0]", "expected a string"}},
      {"steps: [{op: standardize, columns: [a], bins: 3}]", {"steps[0].bins", "unknown key"}},
      {"steps: [{op: bucketize, columns: [a], bins: 1}]", {"steps[0].bins", ">= 2, got 1"}},
      {"steps: [{op: bucketize, columns: [a], strategy: kmeans}]",
       {"steps[0].strategy", "quantile, uniform", "kmeans"}},
      {"steps: [{op: impute, columns: [a], strategy: constant}]", {"steps[0].value: missing"}},
      {"steps: [{op: impute, columns: [a], value: 3}]",
       {"steps[0].value", "only strategy constant"}},
      {"steps: [{op: impute, columns: [a], strategy: mode}]", {"steps[0].strategy", "mode"}},
      {"steps: [{op: clip, columns: [a]}]", {"steps[0]", "min, max or both"}},
      {"steps: [{op: clip, columns: [a], min: 2, max: 1}]", {"steps[0].max", "below min"}},
      {"steps: [{op: onehot, columns: [a], max_categories: 1}]",
       {"steps[0].max_categories", ">= 2"}},
      {"steps: [{op: onehot, columns: [a], nulls: drop}]", {"steps[0].nulls", "drop"}},
      {"steps: [{op: ordinal, columns: [a], unseen: 0}]", {"steps[0].unseen", "-1 or nan"}},
      {"steps: [{op: ratio, columns: [a], output: r}]",
       {"steps[0].columns", "exactly two columns, got 1"}},
      {"steps: [{op: ratio, columns: [a, b]}]", {"steps[0].output: missing"}},
      {"steps: [{op: datetime, columns: [a], parts: [minute]}]", {"steps[0].parts[0]", "minute"}},
      {"steps: [{op: datetime, columns: [a], parts: [year, year]}]",
       {"steps[0].parts[1]", "twice"}},
      {"steps: [{op: robust, columns: [a], quantile_range: [75, 25]}]",
       {"steps[0].quantile_range", "low < high"}},
      {"steps: [{op: hash, columns: [a], n_features: 0}]", {"steps[0].n_features", ">= 1"}},
      {"steps: [{op: target, columns: [a], folds: 1}]", {"steps[0].folds", ">= 2"}},
      {"steps: [{op: target, columns: [a], smoothing: -1}]", {"steps[0].smoothing", ">= 0"}},
      {"steps: [{op: target, columns: [a], positive: [1]}]",
       {"steps[0].positive", "a string or a number"}},
      {"steps: [{op: onehot, columns: [a], positive: x}]", {"steps[0].positive", "unknown key"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.yaml);
    Error e = test::CatchError([&] { Parse(c.yaml); });
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    for (const std::string& fact : c.facts) {
      EXPECT_TRUE(test::Contains(e.message(), fact)) << e.message() << " lacks " << fact;
    }
  }
}

TEST(FeatureSpecTest, LoadsAFileAndReportsAMissingOne) {
  test::TempDir dir;
  auto path = dir.Write("f.yaml", "steps:\n  - {op: drop, columns: [x]}\n");
  FeatureSpec spec = LoadFeatureSpec(path);
  EXPECT_EQ(spec.source, path.string());
  ASSERT_EQ(spec.steps.size(), 1u);
  ExpectError(ErrorCode::kNotFound, {}, [&] { LoadFeatureSpec(dir.path() / "none.yaml"); });
}

TEST(FeatureSpecTest, NamesRoundTrip) {
  for (Op op : {Op::kImpute, Op::kOneHot, Op::kDatetime, Op::kDrop, Op::kHash}) {
    EXPECT_EQ(OpFromName(OpName(op)), op);
  }
  EXPECT_FALSE(OpFromName("nope"));
  EXPECT_EQ(DatePartName(DatePart::kDayOfYear), "day_of_year");
}

}  // namespace
}  // namespace mloop::features
