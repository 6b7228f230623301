// A model bundle loaded for inference: the bundle manifest (docs/training.md, "The model
// bundle", format 1), its fitted feature pipeline and its estimator, evaluated by mloop's own
// runtime (model/tree_ensemble.h for XGBoost's trees, model/linear_model.h for the linear
// estimators). Batch prediction, evaluation, explanations and serving all go through it, so
// they see the same features and the same numbers as each other.
//
// Predictions are as the bundle's task says: binary, the probability of class 1 (one value
// per row); multiclass, one probability per class; regression, the value. Rows a linear model
// cannot score (a missing input) get NaN.
//
// Errors (mloop::Error): invalid_argument naming `source` and the key for a manifest that is
// not format 1 of mloop-model-bundle or lacks what it needs, an estimator file that does not
// parse, and a feature count that disagrees between the pipeline and the estimator; what
// FittedPipeline::Transform throws for input that lacks a column.
//
// Thread-safety: immutable once loaded; any number of threads may call the const methods.
#ifndef MLOOP_MODEL_BUNDLE_H_
#define MLOOP_MODEL_BUNDLE_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "features/pipeline.h"
#include "model/linear_model.h"
#include "model/tree_ensemble.h"
#include "table/table.h"

namespace mloop::model {

class LoadedModel {
 public:
  // `bundle` is the manifest; `estimator_bytes` the file its estimator.artifact names (XGBoost
  // UBJSON, or a linear model's JSON); `source` names them in errors ("run 1a2b3c4d").
  static LoadedModel Load(const Json& bundle, std::string_view estimator_bytes,
                          std::string_view source);

  const Json& bundle() const { return *bundle_; }
  const std::string& task() const { return task_; }  // "binary", "multiclass", "regression".
  // Class i is classes()[i] (empty for regression).
  const std::vector<std::string>& classes() const { return classes_; }
  const std::string& label_column() const { return label_column_; }
  // Removed from the end of label texts before they are matched with classes().
  const std::string& label_strip_suffix() const { return strip_suffix_; }
  const std::string& estimator_type() const { return estimator_type_; }
  const features::FittedPipeline& pipeline() const { return *pipeline_; }
  const std::vector<std::string>& feature_names() const { return feature_names_; }
  // The training means of the features (NaN where absent or not recorded).
  const std::vector<double>& feature_means() const { return feature_means_; }
  // The estimator: exactly one of the two is set.
  const TreeEnsemble* trees() const { return trees_ ? &*trees_ : nullptr; }
  const LinearModel* linear() const { return linear_ ? &*linear_ : nullptr; }

  size_t num_features() const { return feature_names_.size(); }
  // Values per row of Predict: the number of classes for multiclass, else 1.
  size_t num_outputs() const;
  // Margins per row of PredictMargin.
  size_t num_groups() const;

  features::FeatureMatrix Transform(const table::Table& table) const {
    return pipeline_->Transform(table);
  }
  // Predictions for `rows` rows of the feature matrix `x` into `out` (rows * num_outputs()).
  void Predict(std::span<const float> x, size_t rows, std::span<float> out) const;
  void PredictMargin(std::span<const float> x, size_t rows, std::span<float> out) const;
  // Transform then Predict, multi-threaded over blocks of rows for large tables.
  std::vector<float> PredictTable(const table::Table& table) const;

 private:
  LoadedModel() = default;

  std::shared_ptr<const Json> bundle_;
  std::string task_, label_column_, strip_suffix_, estimator_type_;
  std::vector<std::string> classes_, feature_names_;
  std::vector<double> feature_means_;
  std::shared_ptr<const features::FittedPipeline> pipeline_;
  std::optional<TreeEnsemble> trees_;
  std::optional<LinearModel> linear_;
};

}  // namespace mloop::model

#endif  // MLOOP_MODEL_BUNDLE_H_
