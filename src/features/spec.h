// FeatureSpec: what to do to a table's columns to make model inputs, read from a YAML (or
// JSON) document that docs/features.md describes key by key. A spec is an ordered list of
// steps, each `{op: NAME, columns: [...], ...options}`; Fit (pipeline.h) learns each step's
// parameters from data, in order, every step seeing the output of the steps before it.
//
// Loading is strict: an unknown key, a value of the wrong type or out of its range, an
// option that does not belong to the op, throws Error invalid_argument naming the source and
// the key path, as in
//   features.yaml: steps[2].bins: expected an integer >= 2, got 1
// Whether the named columns exist and have a fitting type is checked by Fit, which names the
// step's key path too. A FeatureSpec is a value type, read-only once loaded and safe to share
// between threads.
#ifndef MLOOP_FEATURES_SPEC_H_
#define MLOOP_FEATURES_SPEC_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace mloop::features {

// The transforms. The names are written in specs and in fitted pipelines (`op:`).
enum class Op {
  kImpute,       // "impute": fill missing values (strategy mean, median, most_frequent, constant).
  kStandardize,  // "standardize": (x - mean) / std, std with ddof 0 (sklearn StandardScaler).
  kMinMax,       // "minmax": (x - min) / (max - min) into [0, 1] (sklearn MinMaxScaler).
  kRobust,       // "robust": (x - median) / (q75 - q25) (sklearn RobustScaler).
  kLog1p,        // "log1p": log(1 + x); x <= -1 becomes missing.
  kClip,         // "clip": limit to [min, max].
  kOneHot,       // "onehot": text -> one 0/1 column per category, plus other and null columns.
  kOrdinal,      // "ordinal": text -> index of its category in sorted order.
  kBucketize,    // "bucketize": number -> bin index (sklearn KBinsDiscretizer, ordinal).
  kFrequency,    // "frequency": text -> share of training rows holding the value.
  kHash,         // "hash": text -> n_features 0/1 columns, one set by the value's hash.
  kTarget,       // "target": text -> smoothed mean of the label for the value (out-of-fold
                 // while fitting, so the label does not leak into the training features).
  kDatetime,     // "datetime": date/timestamp -> year, month, day, weekday, hour, day_of_year.
  kRatio,        // "ratio": a / b into the column named `output` (b = 0 gives missing).
  kProduct,      // "product": a * b into `output`.
  kDifference,   // "difference": a - b into `output`.
  kPassthrough,  // "passthrough": keep numeric columns as they are (the default anyway).
  kDrop,         // "drop": remove the columns from the features.
};
std::string_view OpName(Op op);
std::optional<Op> OpFromName(std::string_view name);

enum class ImputeStrategy {
  kMean,          // "mean" (the default): numeric columns only.
  kMedian,        // "median": numeric columns only.
  kMostFrequent,  // "most_frequent": the most frequent value; ties go to the smallest.
  kConstant,      // "constant": `value`, a number for numeric columns, a string for text.
};
std::string_view ImputeStrategyName(ImputeStrategy s);

enum class BinStrategy {
  kQuantile,  // "quantile" (the default): edges at the quantiles 0, 1/bins, ..., 1.
  kUniform,   // "uniform": edges evenly spaced between the minimum and the maximum.
};
std::string_view BinStrategyName(BinStrategy s);

// Where onehot puts a missing value.
enum class NullHandling {
  kColumn,  // "column" (the default): its own column, named "COLUMN=__null__".
  kOther,   // "other": the other column, with rare and unseen values.
  kZeros,   // "zeros": no column is set.
};
std::string_view NullHandlingName(NullHandling n);

enum class DatePart {
  kYear,       // "year"
  kMonth,      // "month": 1..12
  kDay,        // "day": day of the month, 1..31
  kWeekday,    // "weekday": Monday 0 .. Sunday 6 (as pandas' dayofweek)
  kHour,       // "hour": 0..23 in UTC; 0 for a date column
  kDayOfYear,  // "day_of_year": 1..366
};
std::string_view DatePartName(DatePart p);

// One step. Only the options of its op are set; the others keep their defaults.
struct Step {
  Op op = Op::kPassthrough;
  std::vector<std::string> columns;  // Distinct, non-empty; ratio/product/difference: two.
  std::string path;                  // Its key path in the document ("steps[3]"), for errors.

  // impute
  ImputeStrategy strategy = ImputeStrategy::kMean;
  std::optional<double> fill_number;     // `value` when it is a number.
  std::optional<std::string> fill_text;  // `value` when it is a string.
  // robust: `quantile_range: [25, 75]`, percentiles with 0 <= low < high <= 100.
  double quantile_low = 25;
  double quantile_high = 75;
  // clip: at least one of `min` and `max`; min <= max.
  std::optional<double> clip_min;
  std::optional<double> clip_max;
  // onehot
  std::optional<int64_t> max_categories;  // >= 2: at most this many columns for categories,
                                          // the other column counted (sklearn's rule).
  std::optional<int64_t> min_frequency;   // >= 1: categories seen fewer times are rare.
  NullHandling nulls = NullHandling::kColumn;
  // ordinal: the code of an unseen value; -1 by default, NaN with `unseen: nan`.
  double unseen = -1;
  // bucketize
  int64_t bins = 5;
  BinStrategy bin_strategy = BinStrategy::kQuantile;
  // hash
  int64_t n_features = 32;
  // target
  int64_t folds = 5;                         // >= 2.
  double smoothing = 10;                     // >= 0: weight of the prior, in rows.
  std::optional<std::string> positive_text;  // `positive`: the label value counted as 1.
  std::optional<double> positive_number;
  // datetime; all six in this order when not given.
  std::vector<DatePart> parts;
  // ratio, product, difference: the new column's name.
  std::string output;
};

struct FeatureSpec {
  std::string source;  // Where it was read from, for messages.
  std::vector<Step> steps;
};

// Validates `doc`: a mapping with `steps`, a list of steps. `source` names the document in
// error messages, and `path` is the key path of `doc` inside it (for a spec embedded in a
// training config, "features"), prefixed to every key path. Throws Error invalid_argument.
FeatureSpec ParseFeatureSpec(const Json& doc, std::string_view source, std::string_view path = "");

// Reads and validates the YAML or JSON file at `path`. Errors: not_found for a missing file;
// invalid_argument for bad YAML (with line and column) or a bad spec (with the key path).
FeatureSpec LoadFeatureSpec(const std::filesystem::path& path);

}  // namespace mloop::features

#endif  // MLOOP_FEATURES_SPEC_H_
