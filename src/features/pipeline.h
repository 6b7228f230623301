// FittedPipeline: a FeatureSpec whose steps have learned their parameters from a training
// table, applied to any table with the same columns to give the model's dense input matrix.
// One implementation serves training, batch prediction and serving, so the features a model
// sees never depend on where it runs.
//
// Which columns are features. Columns whose schema role is label, id or ignore, and the
// label named in FitOptions, are never features: a step naming one fails. Every other column
// starts as a feature, in table order. At the end of the spec every remaining column must be
// numeric: int64, float64 and bool columns pass through as numbers when no step names them,
// while text (string, category) and time (date, timestamp) columns must be encoded by a step
// (onehot, ordinal, frequency, hash; datetime) or dropped, else Fit fails naming the column.
//
// Feature order and names. Steps change columns in place (impute, scalers, log1p, clip,
// ordinal, frequency, target, bucketize keep the column's position and name); onehot, hash and
// datetime replace the column by their outputs at its position ("COL=VALUE", "COL=__other__",
// "COL=__null__"; "COL#0".."COL#N-1"; "COL.year"...); ratio, product and difference append
// their `output` at the end; drop removes.
//
// Missing values. A null, or NaN in a float64 column, is missing. Fitting ignores missing
// values; transforms keep them missing (NaN in the matrix, which XGBoost treats as missing)
// except impute, which fills them, and onehot/hash, whose outputs are 0/1.
//
// Applying to new data (Transform):
//  - a column the pipeline reads that the table lacks: Error invalid_argument naming it.
//    Columns only dropped, and extra columns (the label, an id), are not needed.
//  - a wrong type: types are compatible within a family: numbers (int64, float64, bool), text
//    (string, category), time (date, timestamp). Another family is Error invalid_argument
//    naming the column, the fitted type and the given type.
//  - an unseen category: onehot sets the COL=__other__ column; ordinal gives -1 (or NaN
//    with `unseen: nan`); frequency gives 0; target gives the prior (the label's mean);
//    hash hashes it like any value.
//
// A FittedPipeline is an immutable value, cheap to copy (copies share the fitted state), and
// Transform may be called from several threads at once.
#ifndef MLOOP_FEATURES_PIPELINE_H_
#define MLOOP_FEATURES_PIPELINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "features/spec.h"
#include "table/schema.h"
#include "table/table.h"

namespace mloop::features {

// Dense, row-major: values[row * num_features + feature]; a missing value is NaN.
template <typename T>
struct DenseFeatureMatrix {
  size_t num_rows = 0;
  size_t num_features = 0;
  std::vector<T> values;
  std::vector<std::string> feature_names;

  T at(size_t row, size_t feature) const { return values[row * num_features + feature]; }
};

// float32, what XGBoost's dense C API takes. Each value is the double-precision result of
// TransformDouble rounded to the nearest float.
using FeatureMatrix = DenseFeatureMatrix<float>;
using FeatureMatrixF64 = DenseFeatureMatrix<double>;

struct FitOptions {
  // The label column: never a feature, whatever the schema says. Empty: none besides the
  // schema's label-role columns.
  std::string label;
  // Seeds the shuffle that deals rows into target encoding's folds.
  uint64_t seed = 0;
};

// A column the pipeline was fitted on.
struct PipelineInput {
  std::string name;
  table::DataType type = table::DataType::kFloat64;
  // false when the only step naming it is a drop: Transform does not need it.
  bool required = true;
};

class FittedPipeline {
 public:
  // The version of the JSON format ToJson writes. Bump it when a reader of the old version
  // would misread a new document: a changed meaning or computation of a stored parameter, a
  // new op or option that changes outputs, a renamed or removed key, or a changed hash
  // function (stats/hash.h's HashBytes, which `hash` uses). FromJson accepts only versions
  // it knows (1), so an old mloop refuses a newer pipeline instead of applying it wrongly.
  static constexpr int kFormatVersion = 1;

  FittedPipeline();

  const std::vector<PipelineInput>& inputs() const;
  const std::vector<std::string>& feature_names() const;
  size_t num_features() const;

  // Applies the pipeline to every row of `table`. Throws Error invalid_argument for a
  // missing or mistyped column, as the file comment says.
  FeatureMatrix Transform(const table::Table& table) const;
  // The same in double precision (for reference checks and double-precision trainers).
  FeatureMatrixF64 TransformDouble(const table::Table& table) const;

  // The fitted state as a document in the format of docs/features.md; with FromJson it
  // round-trips exactly (doubles are written with enough digits to read back bit for bit).
  Json ToJson() const;
  // Reads ToJson's document. Throws Error invalid_argument naming `source` and the key path
  // for anything malformed, and for a format_version other than kFormatVersion.
  static FittedPipeline FromJson(const Json& doc, std::string_view source = "pipeline");

  struct Plan;  // The fitted steps compiled to slot operations; defined in pipeline.cc.

 private:
  explicit FittedPipeline(std::shared_ptr<const Plan> plan) : plan_(std::move(plan)) {}
  friend struct FitResult FitTransform(const FeatureSpec&, const table::Table&,
                                       const table::Schema&, const FitOptions&);

  std::shared_ptr<const Plan> plan_;
};

struct FitResult {
  FittedPipeline pipeline;
  // The training table's features, to train on. Equal to pipeline.Transform(table) except for
  // target encoding, whose training values are out-of-fold (each row encoded by statistics
  // learned without its fold), so the label does not leak; Transform uses the full-data means.
  FeatureMatrix train;
};

// Learns every step's parameters from `table`, step after step, and transforms it.
// Target encoding takes the label from FitOptions.label, else the one column with role label.
// Errors as Fit's, plus a target step without a label or without `positive` for a text label.
FitResult FitTransform(const FeatureSpec& spec, const table::Table& table,
                       const table::Schema& schema, const FitOptions& options = {});

// FitTransform without the training matrix. `schema` gives the columns'
// roles (columns it does not list are features). Throws Error invalid_argument naming the
// step's key path and the column for: a column that does not exist or is not a feature, a
// column whose type does not fit the op, a column with no non-missing value to learn from, an
// output name already taken, and a text or time column left unencoded at the end.
FittedPipeline Fit(const FeatureSpec& spec, const table::Table& table, const table::Schema& schema,
                   const FitOptions& options = {});

}  // namespace mloop::features

#endif  // MLOOP_FEATURES_PIPELINE_H_
