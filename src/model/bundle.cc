#include "model/bundle.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/thread_pool.h"

namespace mloop::model {
namespace {

const Json& Key(const Json& doc, const char* key, std::string_view source) {
  if (!doc.is_object() || !doc.contains(key) || doc[key].is_null()) {
    ThrowInvalidArgument(std::string(source) + ": bundle: " + key + ": required, but missing");
  }
  return doc[key];
}

std::string Text(const Json& doc, const char* key, std::string_view source) {
  const Json& v = Key(doc, key, source);
  if (!v.is_string()) {
    ThrowInvalidArgument(std::string(source) + ": bundle: " + key + ": expected a string");
  }
  return v.get<std::string>();
}

std::vector<std::string> Texts(const Json& v, const std::string& path, std::string_view source) {
  std::vector<std::string> out;
  if (!v.is_array())
    ThrowInvalidArgument(std::string(source) + ": bundle: " + path + ": expected a list");
  for (const Json& e : v) {
    if (!e.is_string()) {
      ThrowInvalidArgument(std::string(source) + ": bundle: " + path + ": expected strings");
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace

LoadedModel LoadedModel::Load(const Json& bundle, std::string_view estimator_bytes,
                              std::string_view source) {
  if (!bundle.is_object() || bundle.value("format", "") != "mloop-model-bundle") {
    ThrowInvalidArgument(std::string(source) + ": not an mloop model bundle");
  }
  if (bundle.value("format_version", 0) != 1) {
    ThrowInvalidArgument(std::string(source) + ": bundle format_version " +
                         bundle.value("format_version", Json()).dump() +
                         " is not one this mloop reads (1)");
  }
  LoadedModel m;
  m.bundle_ = std::make_shared<const Json>(bundle);
  m.task_ = Text(bundle, "task", source);
  if (m.task_ != "binary" && m.task_ != "multiclass" && m.task_ != "regression") {
    ThrowInvalidArgument(std::string(source) + ": bundle: task: unknown task '" + m.task_ + "'");
  }
  const Json& label = Key(bundle, "label", source);
  m.label_column_ = Text(label, "column", source);
  m.strip_suffix_ = label.value("strip_suffix", "");
  if (label.contains("classes")) m.classes_ = Texts(label["classes"], "label.classes", source);
  m.feature_names_ = Texts(Key(bundle, "feature_names", source), "feature_names", source);
  m.feature_means_.assign(m.feature_names_.size(), std::nan(""));
  if (bundle.contains("feature_means") && bundle["feature_means"].is_array() &&
      bundle["feature_means"].size() == m.feature_names_.size()) {
    for (size_t i = 0; i < m.feature_names_.size(); ++i) {
      const Json& v = bundle["feature_means"][i];
      if (v.is_number()) m.feature_means_[i] = v.get<double>();
    }
  }
  m.pipeline_ = std::make_shared<const features::FittedPipeline>(features::FittedPipeline::FromJson(
      Key(bundle, "pipeline", source), std::string(source) + " pipeline"));
  const Json& estimator = Key(bundle, "estimator", source);
  m.estimator_type_ = estimator.value("type", "xgboost");
  size_t model_features = 0;
  if (m.estimator_type_ == "xgboost") {
    m.trees_ = TreeEnsemble::FromXgboostUbjson(estimator_bytes);
    model_features = m.trees_->num_features();
  } else {
    m.linear_ = LinearModel::FromJson(ParseJson(estimator_bytes, std::string(source) + " model"),
                                      std::string(source) + " model");
    model_features = m.linear_->num_features();
  }
  if (model_features != m.pipeline_->num_features() || model_features != m.feature_names_.size()) {
    ThrowInvalidArgument(std::string(source) + ": the model reads " +
                         std::to_string(model_features) + " features, the pipeline gives " +
                         std::to_string(m.pipeline_->num_features()));
  }
  const size_t outputs = m.num_outputs();
  if (m.task_ == "multiclass" ? outputs != m.classes_.size() : outputs != 1) {
    ThrowInvalidArgument(std::string(source) + ": the model gives " + std::to_string(outputs) +
                         " values per row, which does not fit task " + m.task_ + " with " +
                         std::to_string(m.classes_.size()) + " classes");
  }
  return m;
}

size_t LoadedModel::num_outputs() const {
  return trees_ ? trees_->num_outputs() : linear_->num_outputs();
}

size_t LoadedModel::num_groups() const {
  return trees_ ? trees_->num_groups() : linear_->num_groups();
}

void LoadedModel::Predict(std::span<const float> x, size_t rows, std::span<float> out) const {
  if (trees_) {
    trees_->Predict(x, rows, out);
  } else {
    linear_->Predict(x, rows, out);
  }
}

void LoadedModel::PredictMargin(std::span<const float> x, size_t rows, std::span<float> out) const {
  if (trees_) {
    trees_->PredictMargin(x, rows, out);
  } else {
    linear_->PredictMargin(x, rows, out);
  }
}

std::vector<float> LoadedModel::PredictTable(const table::Table& table) const {
  features::FeatureMatrix x = Transform(table);
  const size_t k = num_outputs();
  std::vector<float> p(x.num_rows * k);
  const size_t block = 4096;  // Rows per task: many tasks, each long enough to be worth it.
  const size_t blocks = (x.num_rows + block - 1) / block;
  ThreadPool::Default().ParallelFor(blocks, [&](size_t b) {
    size_t begin = b * block, end = std::min(x.num_rows, begin + block);
    Predict(std::span<const float>(x.values).subspan(begin * x.num_features,
                                                     (end - begin) * x.num_features),
            end - begin, std::span<float>(p).subspan(begin * k, (end - begin) * k));
  });
  return p;
}

}  // namespace mloop::model
