// The training config: what `mloop train --config FILE` reads. One YAML (or JSON) document
// names the data (dataset versions, and how to split them), the label and how to map its
// values, the task, the feature pipeline, the estimator and its parameters, the seed, early
// stopping, cross-validation, class weights and a hyperparameter search. docs/training.md
// describes every key with a complete example for Adult.
//
// Loading is strict, as for contracts: an unknown key, a value of the wrong type or out of its
// range is Error invalid_argument naming the file and the key path
// (`train.yaml: estimator.params.max_dept: not an XGBoost parameter`). Whether the named
// datasets and columns exist is checked when training starts, against the workspace.
// A TrainConfig is a value; once loaded it is read-only and safe to share between threads.
#ifndef MLOOP_TRAIN_CONFIG_H_
#define MLOOP_TRAIN_CONFIG_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace mloop::train {

// What is learned. Written as `task: binary|multiclass|regression`.
enum class Task {
  kBinary,      // "binary": two classes; predictions are the probability of the positive one.
  kMulticlass,  // "multiclass": three or more classes; predictions are class probabilities.
  kRegression,  // "regression": a number.
};
std::string_view TaskName(Task task);

// How a single dataset version is split into training and validation rows when no separate
// validation data is named. Written under `data.split`.
struct Split {
  std::string method = "random";  // "random", "stratified" (by the label) or "time".
  double validation_fraction = 0.2;
  std::string time_column;  // method "time": the last rows by this column validate.
};

struct DataConfig {
  std::string train;                      // "adult@1", "adult@latest" or "adult".
  std::optional<std::string> validation;  // "adult_test@1"; else `split` applies.
  std::optional<Split> split;
};

struct LabelConfig {
  std::string column;
  // Text value -> class (binary, multiclass) written under `label.map`, e.g. {">50K": 1,
  // "<=50K": 0}. Empty: the classes are the sorted distinct values (binary: the second one is
  // positive), or the number itself for regression.
  std::map<std::string, int64_t> map;
  // Characters stripped from the end of text labels before mapping (Adult's test labels end
  // in "."): `label.strip_suffix: "."`.
  std::string strip_suffix;
  std::optional<std::string> positive;  // Binary: the positive class's text, instead of `map`.
};

struct EarlyStopping {
  int64_t rounds = 0;  // Stop after this many rounds without improvement; 0: off.
  std::string metric;  // The validation metric watched; empty: the last eval metric.
};

struct EstimatorConfig {
  // "xgboost", "logistic", "linear", "ridge", "elastic_net".
  std::string type = "xgboost";
  // Parameters as text, passed through (XGBoost's names and values for xgboost; `l2`, `l1`,
  // `max_iter`, `tol` for the linear ones).
  std::map<std::string, std::string> params;
  int64_t rounds = 100;  // XGBoost boosting rounds.
  EarlyStopping early_stopping;
};

struct CrossValidation {
  int64_t folds = 0;  // 0: off; else k-fold on the training data, reported as cv-* metrics.
  bool stratified = true;
};

// A hyperparameter search; each trial is a child run. Written under `search`.
struct SearchSpace {
  // One parameter's candidates: a list of values (grid and random), or a range (random only).
  struct Dimension {
    std::vector<std::string> values;  // As text, passed as the estimator parameter.
    std::optional<double> min, max;   // A range.
    bool log = false;                 // Sample the range on a log scale.
    bool integer = false;             // Round samples from the range.
  };
  std::string method = "grid";  // "grid" or "random".
  int64_t trials = 10;          // random: how many.
  std::string metric;           // The validation metric that ranks trials ("valid-auc").
  bool maximize = true;
  std::map<std::string, Dimension> space;
};

struct TrainConfig {
  std::string source;  // The file it came from, for messages.
  std::string digest;  // SHA-256 of the parsed document, as a contract's.
  std::string experiment = "Default";
  std::string run_name;
  DataConfig data;
  LabelConfig label;
  Task task = Task::kBinary;
  Json features;  // The feature pipeline spec (features module); null: numeric columns as they are.
  EstimatorConfig estimator;
  int64_t seed = 0;
  CrossValidation cv;
  // "balanced", or class (as text) -> weight; empty: equal weights.
  std::string class_weight_mode;
  std::map<std::string, double> class_weights;
  std::optional<SearchSpace> search;
};

// Reads and checks the YAML or JSON file at `path`. A `features_file:` key is read relative to
// the config's folder. Errors: not_found for a missing file; invalid_argument with the key path.
TrainConfig LoadTrainConfig(const std::filesystem::path& path);

// Checks `doc`; `source` names it in errors; `dir` resolves `features_file`.
TrainConfig ParseTrainConfig(const Json& doc, std::string_view source,
                             const std::filesystem::path& dir);

}  // namespace mloop::train

#endif  // MLOOP_TRAIN_CONFIG_H_
