#include "train/config.h"

#include <gtest/gtest.h>

#include "core/testing.h"

namespace mloop::train {
namespace {

using test::ExpectError;

TrainConfig Parse(std::string_view yaml) {
  return ParseTrainConfig(ParseYaml(yaml, "train.yaml"), "train.yaml", ".");
}

constexpr std::string_view kAdult = R"(
experiment: adult
run_name: xgb-baseline
data:
  train: adult@1
  validation: adult_test@1
label:
  column: income
  strip_suffix: "."
  positive: ">50K"
task: binary
features:
  steps:
    - {op: onehot, columns: [workclass, education], max_categories: 20}
estimator:
  type: xgboost
  params: {max_depth: 6, eta: 0.1, subsample: 0.8, eval_metric: auc, tree_method: hist}
  rounds: 300
  early_stopping: {rounds: 20, metric: valid-auc}
seed: 42
class_weights: balanced
search:
  method: random
  trials: 8
  metric: valid-auc
  space:
    max_depth: [4, 6, 8]
    eta: {min: 0.01, max: 0.3, log: true}
)";

TEST(TrainConfigTest, ReadsTheAdultExample) {
  TrainConfig c = Parse(kAdult);
  EXPECT_EQ(c.experiment, "adult");
  EXPECT_EQ(c.data.train, "adult@1");
  EXPECT_EQ(*c.data.validation, "adult_test@1");
  EXPECT_EQ(c.label.column, "income");
  EXPECT_EQ(c.label.strip_suffix, ".");
  EXPECT_EQ(*c.label.positive, ">50K");
  EXPECT_EQ(c.task, Task::kBinary);
  EXPECT_EQ(c.estimator.params.at("max_depth"), "6");
  EXPECT_EQ(c.estimator.params.at("eta"), "0.1");
  EXPECT_EQ(c.estimator.rounds, 300);
  EXPECT_EQ(c.estimator.early_stopping.rounds, 20);
  EXPECT_EQ(c.estimator.early_stopping.metric, "valid-auc");
  EXPECT_EQ(c.seed, 42);
  EXPECT_EQ(c.class_weight_mode, "balanced");
  ASSERT_TRUE(c.search.has_value());
  EXPECT_EQ(c.search->space.at("max_depth").values, (std::vector<std::string>{"4", "6", "8"}));
  EXPECT_TRUE(c.search->space.at("eta").log);
  EXPECT_TRUE(c.features.contains("steps"));
  EXPECT_EQ(c.digest.size(), 64u);
  EXPECT_EQ(Parse(kAdult).digest, c.digest);
}

TEST(TrainConfigTest, SplitsAndShortForms) {
  TrainConfig c = Parse(R"(
data: {train: bike@1, split: {method: time, time_column: dteday, validation_fraction: 0.25}}
label: cnt
task: regression
estimator: {type: ridge, params: {alpha: 1.0}}
cv: 5
)");
  EXPECT_EQ(c.label.column, "cnt");
  EXPECT_EQ(c.data.split->method, "time");
  EXPECT_EQ(c.data.split->time_column, "dteday");
  EXPECT_DOUBLE_EQ(c.data.split->validation_fraction, 0.25);
  EXPECT_EQ(c.cv.folds, 5);
  EXPECT_EQ(c.estimator.params.at("alpha"), "1.0");
}

TEST(TrainConfigTest, BadConfigsNameTheKey) {
  const std::string base = "data: {train: adult@1}\nlabel: income\ntask: binary\n";
  struct Case {
    std::string yaml;
    std::vector<std::string> facts;
  };
  std::vector<Case> cases = {
      {base + "estimator: {params: {max_dept: 6}}\n",
       {"train.yaml: estimator.params.max_dept", "not an XGBoost parameter"}},
      {base + "estimator: {params: {objective: 'binary:logistic'}}\n",
       {"estimator.params.objective", "set by mloop"}},
      {base + "estimator: {type: linear}\n", {"estimator.type", "for regression"}},
      {base + "estimator: {rounds: 0}\n", {"estimator.rounds", ">= 1"}},
      {base + "estimator: {type: logistic, params: {depth: 3}}\n",
       {"estimator.params.depth", "not a parameter of the logistic estimator", "C"}},
      {base + "estimator: {type: logistic}\nsearch: {metric: valid-auc, space: {alpha: [1]}}\n",
       {"search.space.alpha", "logistic estimator"}},
      {base + "tsak: binary\n", {"tsak", "unknown key"}},
      {"data: {train: adult@1}\ntask: binary\n", {"label", "required"}},
      {"data: {train: adult@1}\nlabel: y\ntask: clustering\n",
       {"task", "binary, multiclass, regression", "\"clustering\""}},
      {"data: {train: a@1, validation: b@1, split: {method: random}}\nlabel: y\ntask: binary\n",
       {"data.split", "not both"}},
      {"data: {train: a@1, split: {method: time}}\nlabel: y\ntask: binary\n",
       {"data.split.time_column", "required"}},
      {"data: {train: a@1}\nlabel: {column: y, map: {a: 2}}\ntask: binary\n",
       {"label.map.a", "0 or 1"}},
      {"data: {train: a@1}\nlabel: {column: y, map: {a: 1}}\ntask: regression\n",
       {"label", "regression label is a number"}},
      {base + "cv: 1\n", {"cv.folds", "2 or more"}},
      {base + "class_weights: {'0': -1}\n", {"class_weights.0", "> 0"}},
      {base + "search: {metric: valid-auc, space: {eta: {min: 0.1, max: 0.01}}}\n",
       {"search.space.eta", "min < max"}},
      {base + "search: {metric: valid-auc, space: {eta: {min: 0.01, max: 0.3}}}\n",
       {"search.space.eta", "grid search takes a list"}},
      {base + "search: {space: {eta: [0.1]}}\n", {"search.metric", "required"}},
      {base + "features_file: nope.yaml\n", {"features_file", "no such file"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.yaml);
    Error e = test::CatchError([&] { Parse(c.yaml); });
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.message();
    for (const std::string& fact : c.facts) {
      EXPECT_TRUE(test::Contains(e.message(), fact)) << "lacks \"" << fact << "\": " << e.message();
    }
  }
  ExpectError(ErrorCode::kNotFound, {"missing.yaml"}, [] { LoadTrainConfig("missing.yaml"); });
}

}  // namespace
}  // namespace mloop::train
