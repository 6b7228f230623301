// A fitted linear model and its evaluator: per output group a coefficient vector and an
// intercept, margins x.coef + intercept computed in double over a row-major float32 matrix,
// and the link that turns margins into predictions. mloop's linear estimators
// (train/linear_trainer.h) produce it; batch prediction and serving evaluate it the same way
// they evaluate a TreeEnsemble, through the same shape of API.
//
//   regression (LinearRegression, Ridge, ElasticNet)  1 group,  kIdentity
//   binary LogisticRegression                         1 group,  kLogistic (P(class 1))
//   multinomial LogisticRegression, K >= 3 classes    K groups, kSoftmax (P(class k))
//
// Missing values: a linear model needs complete rows (the feature pipeline's impute step
// gives them). A row with a NaN in any input gets NaN in every output (NaN * 0 is NaN, so even a
// feature with coefficient 0 counts). Infinite inputs are not meaningful either: they give an
// infinite margin or, times a coefficient of 0 or against an opposite infinity, NaN.
//
// The stored form (ToJson / FromJson), format version 1:
//   {"format": "mloop-linear-model", "format_version": 1,
//    "link": "identity" | "logistic" | "softmax",
//    "num_features": N,
//    "coef": [[c_1_1, ..., c_1_N], ..., [c_G_1, ..., c_G_N]],   // G groups of N numbers
//    "intercept": [b_1, ..., b_G]}
// with G = 1 for identity and logistic, G >= 2 for softmax, and every number finite. Adding an
// optional key keeps format_version 1 (readers ignore keys they do not know); changing the
// meaning of a key or adding a required one makes format_version 2, and FromJson refuses
// versions it does not know.
//
// Thread-safety: a LinearModel is immutable once built; any number of threads may call its
// const methods at once. PredictMargin and Predict allocate nothing, except that a softmax
// Predict holds one row's K class margins in a buffer allocated once per call.
#ifndef MLOOP_MODEL_LINEAR_MODEL_H_
#define MLOOP_MODEL_LINEAR_MODEL_H_

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace mloop::model {

// How margins become predictions. The names are the "link" values of the stored form.
enum class LinearLink {
  kIdentity,  // "identity": the margin itself (regression).
  kLogistic,  // "logistic": 1 / (1 + exp(-margin)), the probability of class 1 (binary).
  kSoftmax,   // "softmax": exp(margin_k) / sum_j exp(margin_j), one probability per class.
};

// "identity", "logistic", "softmax".
std::string_view LinearLinkName(LinearLink link);

class LinearModel {
 public:
  // `coef` holds num_groups x num_features values, row-major (group after group); `intercept`
  // holds num_groups values, num_groups being intercept.size(). Throws Error invalid_argument
  // when the sizes disagree, when the number of groups does not fit the link (1 for identity
  // and logistic, at least 2 for softmax), or when a value is not finite.
  LinearModel(LinearLink link, size_t num_features, std::vector<double> coef,
              std::vector<double> intercept);

  // The stored form described at the top of this file.
  Json ToJson() const;
  // Reads the stored form strictly. Throws Error invalid_argument naming `source` and the key
  // at fault ("coef[2][5]", "intercept", "link", ...) when a key is missing or has the wrong
  // type, a size does not match num_features or the number of groups, a number is not finite,
  // the link is unknown, or format / format_version are not this format's.
  static LinearModel FromJson(const Json& doc, std::string_view source);

  LinearLink link() const { return link_; }
  // Input columns per row.
  size_t num_features() const { return num_features_; }
  // Margins per row (PredictMargin).
  size_t num_groups() const { return intercept_.size(); }
  // Values per row of Predict: the number of classes for softmax, else 1.
  size_t num_outputs() const { return link_ == LinearLink::kSoftmax ? num_groups() : 1; }
  // num_groups() x num_features() coefficients, row-major.
  const std::vector<double>& coef() const { return coef_; }
  const std::vector<double>& intercept() const { return intercept_; }

  // Margins x.coef_g + intercept_g of `rows` rows of `x` (rows * num_features() float32 values,
  // row-major) into `out` (rows * num_groups() values, row-major), summed in double and stored
  // as float. Throws Error invalid_argument when the size of `x` or `out` does not match `rows`.
  void PredictMargin(std::span<const float> x, size_t rows, std::span<float> out) const;

  // The margins through the link into `out` (rows * num_outputs() values), computed in double
  // (sigmoid and softmax in their overflow-free forms) and stored as float. Same errors as
  // PredictMargin.
  void Predict(std::span<const float> x, size_t rows, std::span<float> out) const;

 private:
  void CheckSizes(std::span<const float> x, size_t rows, std::span<float> out,
                  size_t per_row) const;
  double Margin(const float* row, size_t group) const;

  LinearLink link_;
  size_t num_features_;
  std::vector<double> coef_;
  std::vector<double> intercept_;
};

}  // namespace mloop::model

#endif  // MLOOP_MODEL_LINEAR_MODEL_H_
