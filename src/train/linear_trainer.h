// Fitting of mloop's linear baseline estimators, which are scikit-learn's, with scikit-learn's
// parameter names and objectives, so that a user coming from scikit-learn knows exactly what a
// config asks for. Each gives a model::LinearModel. The computation is in double (Eigen), on
// the row-major float32 matrix the feature pipeline gives; x holds the n training rows x_i,
// y their labels y_i, and w_i are the row weights (1 when none are given).
//
//   type          scikit-learn          objective minimized over coef (and b)
//   "logistic"    LogisticRegression    C * sum_i w_i * logloss_i + 0.5 * ||coef||^2
//                 (lbfgs semantics)     (without the 0.5 * ||coef||^2 term when penalty is
//                                       "none"); the intercept is not penalized. Binary
//                                       (y in {0, 1}): logloss_i = -log P(y_i), with
//                                       P(1) = sigmoid(x_i.coef + b). K > 2 classes
//                                       (y in 0..K-1): multinomial, K coefficient vectors and
//                                       K intercepts, P(k) = softmax_k(x_i.coef_k + b_k).
//   "linear"      LinearRegression      sum_i w_i * (y_i - x_i.coef - b)^2; when the matrix is
//                                       rank-deficient, the solution of least norm (as
//                                       scikit-learn's lstsq).
//   "ridge"       Ridge                 sum_i w_i * (y_i - x_i.coef - b)^2 + alpha * ||coef||^2
//   "elastic_net" ElasticNet            1 / (2 * sum_i w_i) * sum_i w_i * (y_i - x_i.coef - b)^2
//                                       + alpha * l1_ratio * ||coef||_1
//                                       + 0.5 * alpha * (1 - l1_ratio) * ||coef||^2
//
// Parameters (config `estimator.params`, all given as text) and their defaults:
//   logistic     C = 1.0 (> 0), penalty = l2 (l2 | none), max_iter = 100 (>= 1),
//                tol = 1e-8 (> 0), fit_intercept = true (true | false)
//   linear       fit_intercept = true
//   ridge        alpha = 1.0 (>= 0), fit_intercept = true
//   elastic_net  alpha = 1.0 (>= 0), l1_ratio = 0.5 (0 to 1), max_iter = 1000 (>= 1),
//                tol = 1e-4 (> 0), fit_intercept = true
// With fit_intercept false, b is 0 and not fitted.
//
// Solvers, and where they differ from scikit-learn's:
//   - logistic: Newton's method on the exact objective, with the Hessian solved by Eigen's LDLT
//     and a backtracking (Armijo) line search; it stops when the largest component of the
//     Newton step is at most tol * max(1, largest |parameter|). Its default tol (1e-8) is
//     tighter than scikit-learn's (1e-4), which Newton's quadratic convergence makes cheap.
//     The multinomial Hessian is the full (K*D) x (K*D) matrix (D = features, plus 1 with an
//     intercept); the fit refuses problems with more than kMaxLinearParameters parameters.
//     Each iteration costs O(n * (K*D)^2) to build the Hessian (O(n * D^2) for binary) plus
//     O((K*D)^3) to factor it: quick for tens of features, slow for thousands with many
//     classes (a Hessian-free solver would be the fix).
//     Adding one constant to every class's intercept changes no probability; among those
//     equivalent solutions the fit returns the one whose intercepts sum to 0 (and with penalty
//     none, whose coefficients of each feature sum to 0), which is where scikit-learn's lbfgs,
//     started from 0, arrives too. With penalty none and separable classes there is no
//     minimum: the fit stops at max_iter with converged false (and large coefficients).
//   - linear: a complete orthogonal decomposition of the weighted, centered matrix (the
//     least-norm solution when it is rank-deficient).
//   - ridge: the weighted, centered normal equations with alpha on the diagonal, solved by LDLT
//     (alpha = 0: as linear).
//   - elastic_net: scikit-learn's cyclic coordinate descent (cd_fast.enet_coordinate_descent)
//     on the centered data with rows scaled by sqrt(w_i * n / sum w), stopping by its rule:
//     when the largest coefficient change of a sweep is below tol times the largest
//     coefficient, and then the duality gap is below tol * ||y - mean(y)||^2.
// Centering with fit_intercept uses the weighted means of x and y, and the intercept is
// b = mean(y) - mean(x).coef (per class for logistic: there the intercept is a parameter of
// the Newton iteration instead).
//
// Memory: the fit holds x as doubles (8 * n * features bytes) and, for logistic, the Hessian
// (8 * (K*D)^2 bytes). Deterministic: the same inputs give bit-identical coefficients (no
// threads, no randomness).
//
// Thread-safety: the functions share no state; concurrent calls are safe.
#ifndef MLOOP_TRAIN_LINEAR_TRAINER_H_
#define MLOOP_TRAIN_LINEAR_TRAINER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/linear_model.h"

namespace mloop::train {

// The largest number of parameters (coefficients and intercepts, over all classes) a linear
// fit takes: the Newton Hessian and the normal equations are dense matrices of this side.
inline constexpr size_t kMaxLinearParameters = 4000;

// The regularization of a logistic regression.
enum class LogisticPenalty {
  kL2,    // "l2": 0.5 * ||coef||^2 added to C * (the weighted log loss).
  kNone,  // "none": the weighted log loss alone.
};

// The parameters of one linear estimator. Each type reads only its own (see the top of this
// file); ParseLinearParams fills in the type's defaults for those not given.
struct LinearParams {
  double C = 1.0;                                  // logistic
  LogisticPenalty penalty = LogisticPenalty::kL2;  // logistic
  int64_t max_iter = 100;                          // logistic (100), elastic_net (1000)
  double tol = 1e-8;                               // logistic (1e-8), elastic_net (1e-4)
  bool fit_intercept = true;                       // all
  double alpha = 1.0;                              // ridge, elastic_net
  double l1_ratio = 0.5;                           // elastic_net
};

// True for "logistic", "linear", "ridge" and "elastic_net".
bool IsLinearEstimatorType(std::string_view type);

// The parameter names `type` takes, sorted; empty when `type` is not a linear estimator.
std::vector<std::string_view> LinearParamNames(std::string_view type);

// Reads the text parameters of estimator `type`, with the type's defaults for those not given.
// Throws Error invalid_argument, the message naming `source` (the config file), when `type` is
// not a linear estimator ("SOURCE: estimator.type: ..."), or when a parameter is unknown, not
// taken by `type`, or has a bad value: "SOURCE: estimator.params.KEY: <what is wrong>
// (expected ...)".
LinearParams ParseLinearParams(std::string_view type,
                               const std::map<std::string, std::string>& params,
                               std::string_view source);

struct LinearFit {
  model::LinearModel model;
  // Newton iterations (logistic), coordinate-descent sweeps (elastic_net), or 1 (linear,
  // ridge: one direct solve).
  int64_t iterations = 0;
  // False when the solver stopped at max_iter before its stopping rule held (logistic,
  // elastic_net), or when the logistic line search could make no more progress far from
  // that rule; the model is still the last iterate.
  bool converged = true;
};

// Fits estimator `type` with `params` on `rows` rows of `x` (rows * features float32 values,
// row-major; feature_names has `features` names, used in error messages) with labels `y`
// (rows values) and row weights `weights` (rows values, each finite and >= 0, not all 0; empty:
// every weight 1). num_classes is 0 for regression (linear, ridge, elastic_net: y finite),
// 2 for binary logistic (y in {0, 1}: a 1-group kLogistic model giving P(1)), and K > 2 for
// multinomial logistic (y in 0..K-1: a K-group kSoftmax model). Throws Error invalid_argument
// when sizes disagree, there are no rows, num_classes does not suit the type, a label or
// weight is not as described, a class has no row of positive weight, the problem has more
// than kMaxLinearParameters parameters, or x has a missing value:
//   feature 'NAME' has missing values in N training rows; linear estimators need complete rows
//   (add an impute step to the feature pipeline)
// (and likewise "has infinite values" for an inf).
LinearFit FitLinear(std::string_view type, const LinearParams& params, std::span<const float> x,
                    size_t rows, size_t features, const std::vector<std::string>& feature_names,
                    std::span<const float> y, std::span<const float> weights, size_t num_classes);

}  // namespace mloop::train

#endif  // MLOOP_TRAIN_LINEAR_TRAINER_H_
