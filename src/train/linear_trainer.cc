#include "train/linear_trainer.h"

#include <Eigen/Dense>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/json.h"

namespace mloop::train {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

enum class Kind { kLogistic, kLinear, kRidge, kElasticNet };

std::optional<Kind> KindOf(std::string_view type) {
  if (type == "logistic") return Kind::kLogistic;
  if (type == "linear") return Kind::kLinear;
  if (type == "ridge") return Kind::kRidge;
  if (type == "elastic_net") return Kind::kElasticNet;
  return std::nullopt;
}

// The shortest text that reads back as the same number.
std::string Text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return Json(v).dump();
}

std::string Join(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

struct ParamError {
  std::string_view source;
  std::string_view key;
  [[noreturn]] void operator()(const std::string& what, const std::string& expected) const {
    ThrowInvalidArgument(std::string(source) + ": estimator.params." + std::string(key) + ": " +
                         what + " (expected " + expected + ")");
  }
};

double ParseNumber(const std::string& text, const ParamError& fail, const std::string& expected) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(v)) {
    fail("'" + text + "' is not a number", expected);
  }
  return v;
}

int64_t ParseCount(const std::string& text, const ParamError& fail) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || v < 1) {
    fail("'" + text + "' is not a positive integer", "an integer >= 1");
  }
  return v;
}

bool ParseBool(const std::string& text, const ParamError& fail) {
  if (text == "true") return true;
  if (text == "false") return false;
  fail("'" + text + "' is not a boolean", "true or false");
}

void CheckInputs(Kind kind, const LinearParams& params, std::span<const float> x, size_t rows,
                 size_t features, const std::vector<std::string>& feature_names,
                 std::span<const float> y, std::span<const float> weights, size_t num_classes) {
  const std::string what = "linear estimator: ";
  if (rows == 0) ThrowInvalidArgument(what + "no training rows");
  if (x.size() != rows * features) {
    ThrowInvalidArgument(what + std::to_string(x.size()) + " input values for " +
                         std::to_string(rows) + " rows x " + std::to_string(features) +
                         " features");
  }
  if (feature_names.size() != features) {
    ThrowInvalidArgument(what + std::to_string(feature_names.size()) + " feature names for " +
                         std::to_string(features) + " features");
  }
  if (y.size() != rows) {
    ThrowInvalidArgument(what + std::to_string(y.size()) + " labels for " + std::to_string(rows) +
                         " rows");
  }
  if (!weights.empty() && weights.size() != rows) {
    ThrowInvalidArgument(what + std::to_string(weights.size()) + " weights for " +
                         std::to_string(rows) + " rows");
  }
  if (kind == Kind::kLogistic ? num_classes < 2 : num_classes != 0) {
    ThrowInvalidArgument(what + (kind == Kind::kLogistic
                                     ? "logistic regression needs a class label (2 or more "
                                       "classes), got " +
                                           std::to_string(num_classes) + " classes"
                                     : "a regression estimator needs a numeric label, got " +
                                           std::to_string(num_classes) + " classes"));
  }
  const size_t per_group = features + (params.fit_intercept ? 1 : 0);
  const size_t groups = num_classes > 2 ? num_classes : 1;
  if (per_group * groups > kMaxLinearParameters) {
    ThrowInvalidArgument(
        what + std::to_string(per_group * groups) + " parameters (" + std::to_string(groups) +
        (groups > 1 ? " classes x " : " group x ") + std::to_string(per_group) +
        " coefficients) is more than the " + std::to_string(kMaxLinearParameters) +
        " the direct solvers take (a dense Hessian or Gram matrix of that side); use fewer "
        "features" +
        (groups > 1 ? " or classes" : ""));
  }
  // Missing values first, in column order, then infinities: the message names one feature.
  std::vector<size_t> nan(features), inf(features);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t f = 0; f < features; ++f) {
      const float v = x[r * features + f];
      if (std::isnan(v)) {
        ++nan[f];
      } else if (std::isinf(v)) {
        ++inf[f];
      }
    }
  }
  for (size_t f = 0; f < features; ++f) {
    if (nan[f] > 0) {
      ThrowInvalidArgument("feature '" + feature_names[f] + "' has missing values in " +
                           std::to_string(nan[f]) +
                           " training rows; linear estimators need complete rows (add an impute "
                           "step to the feature pipeline)");
    }
  }
  for (size_t f = 0; f < features; ++f) {
    if (inf[f] > 0) {
      ThrowInvalidArgument("feature '" + feature_names[f] + "' has infinite values in " +
                           std::to_string(inf[f]) +
                           " training rows; linear estimators need finite values");
    }
  }
  double weight_sum = 0;
  for (size_t r = 0; r < weights.size(); ++r) {
    if (!std::isfinite(weights[r]) || weights[r] < 0) {
      ThrowInvalidArgument(what + "the weight of training row " + std::to_string(r) + " is " +
                           Text(weights[r]) + " (expected a finite number >= 0)");
    }
    weight_sum += weights[r];
  }
  if (!weights.empty() && !(weight_sum > 0)) {
    ThrowInvalidArgument(what + "every training row has weight 0");
  }
  std::vector<double> class_weight(num_classes);
  for (size_t r = 0; r < rows; ++r) {
    const float v = y[r];
    if (num_classes == 0) {
      if (!std::isfinite(v)) {
        ThrowInvalidArgument(what + "the label of training row " + std::to_string(r) +
                             " is not a finite number");
      }
      continue;
    }
    if (!(v >= 0) || v != std::floor(v) || v >= static_cast<float>(num_classes)) {
      ThrowInvalidArgument(what + "the label of training row " + std::to_string(r) + " is " +
                           Text(v) + " (expected a class index 0 to " +
                           std::to_string(num_classes - 1) + ")");
    }
    class_weight[static_cast<size_t>(v)] += weights.empty() ? 1.0 : weights[r];
  }
  for (size_t k = 0; k < num_classes; ++k) {
    if (!(class_weight[k] > 0)) {
      ThrowInvalidArgument(what + "class " + std::to_string(k) +
                           " has no training row of positive weight; logistic regression needs "
                           "every class in the training data");
    }
  }
}

// x as a column-major double matrix, with a last column of ones when `ones`.
MatrixXd ToMatrix(std::span<const float> x, size_t rows, size_t features, bool ones) {
  MatrixXd m(rows, features + (ones ? 1 : 0));
  for (size_t f = 0; f < features; ++f) {
    for (size_t r = 0; r < rows; ++r) m(r, f) = x[r * features + f];
  }
  if (ones) m.col(features).setOnes();
  return m;
}

VectorXd ToVector(std::span<const float> v, size_t size, double empty_value) {
  VectorXd out(size);
  for (size_t i = 0; i < size; ++i) out[i] = v.empty() ? empty_value : v[i];
  return out;
}

// The regression problem after centering (with fit_intercept) and scaling row i by
// sqrt(w_i * weight_scale): the intercept comes back as y_mean - x_mean.coef.
struct Centered {
  MatrixXd a;
  VectorXd b;
  VectorXd x_mean;
  double y_mean = 0;
};

Centered Center(MatrixXd x, VectorXd y, const VectorXd& w, bool fit_intercept,
                double weight_scale) {
  Centered c;
  c.x_mean = VectorXd::Zero(x.cols());
  if (fit_intercept) {
    const double sum = w.sum();
    c.x_mean = x.transpose() * w / sum;
    c.y_mean = w.dot(y) / sum;
    x.rowwise() -= c.x_mean.transpose();
    y.array() -= c.y_mean;
  }
  const VectorXd root = (w.array() * weight_scale).sqrt();
  x = root.asDiagonal() * x;
  y = root.cwiseProduct(y);
  c.a = std::move(x);
  c.b = std::move(y);
  return c;
}

model::LinearModel RegressionModel(const Centered& c, const VectorXd& coef) {
  return model::LinearModel(model::LinearLink::kIdentity, static_cast<size_t>(coef.size()),
                            std::vector<double>(coef.data(), coef.data() + coef.size()),
                            {c.y_mean - c.x_mean.dot(coef)});
}

// scikit-learn's cd_fast.enet_coordinate_descent (cyclic, not positive), on a (centered,
// scaled) and b, with l1 = alpha * l1_ratio * n and l2 = alpha * (1 - l1_ratio) * n.
LinearFit ElasticNet(const Centered& c, const LinearParams& p) {
  const MatrixXd& a = c.a;
  const VectorXd& b = c.b;
  const Eigen::Index n = a.rows(), d = a.cols();
  const double l1 = p.alpha * p.l1_ratio * static_cast<double>(n);
  const double l2 = p.alpha * (1.0 - p.l1_ratio) * static_cast<double>(n);
  const VectorXd norm_cols = a.colwise().squaredNorm().transpose();
  VectorXd w = VectorXd::Zero(d);
  VectorXd r = b;
  const double gap_tol = p.tol * b.squaredNorm();
  LinearFit fit{model::LinearModel(model::LinearLink::kIdentity, 0, {}, {0.0}), 0, false};
  for (int64_t iter = 0; iter < p.max_iter; ++iter) {
    double w_max = 0, d_w_max = 0;
    for (Eigen::Index j = 0; j < d; ++j) {
      if (norm_cols[j] == 0.0) continue;
      const double w_j = w[j];
      if (w_j != 0.0) r += w_j * a.col(j);
      const double tmp = a.col(j).dot(r);
      w[j] = std::copysign(std::max(std::abs(tmp) - l1, 0.0), tmp) / (norm_cols[j] + l2);
      if (w[j] != 0.0) r -= w[j] * a.col(j);
      d_w_max = std::max(d_w_max, std::abs(w[j] - w_j));
      w_max = std::max(w_max, std::abs(w[j]));
    }
    fit.iterations = iter + 1;
    if (w_max == 0.0 || d_w_max / w_max < p.tol || iter == p.max_iter - 1) {
      // The duality gap, as scikit-learn computes it.
      const VectorXd xta = a.transpose() * r - l2 * w;
      const double dual_norm = xta.cwiseAbs().maxCoeff();
      const double r_norm2 = r.squaredNorm();
      const double w_norm2 = w.squaredNorm();
      double gap, scale;
      if (dual_norm > l1) {
        scale = l1 / dual_norm;
        gap = 0.5 * (r_norm2 + r_norm2 * scale * scale);
      } else {
        scale = 1.0;
        gap = r_norm2;
      }
      gap += l1 * w.lpNorm<1>() - scale * r.dot(b) + 0.5 * l2 * (1 + scale * scale) * w_norm2;
      if (gap < gap_tol) {
        fit.converged = true;
        break;
      }
    }
  }
  fit.model = RegressionModel(c, w);
  return fit;
}

// log(1 + exp(m)) without overflow.
double Softplus(double m) { return m > 0 ? m + std::log1p(std::exp(-m)) : std::log1p(std::exp(m)); }

double Sigmoid(double m) {
  if (m >= 0) return 1.0 / (1.0 + std::exp(-m));
  const double e = std::exp(m);
  return e / (1.0 + e);
}

// The penalized logistic objective of theta, G blocks of D parameters (block g: class g's
// coefficients, then its intercept with fit_intercept; G = 1 for binary).
class LogisticObjective {
 public:
  LogisticObjective(MatrixXd x, VectorXd y, VectorXd w, const LinearParams& p, size_t features,
                    size_t groups)
      : x_(std::move(x)),
        y_(std::move(y)),
        cw_(std::move(w) * p.C),
        l2_(p.penalty == LogisticPenalty::kL2),
        features_(static_cast<Eigen::Index>(features)),
        d_(x_.cols()),
        g_(static_cast<Eigen::Index>(groups)) {}

  Eigen::Index size() const { return d_ * g_; }

  // The objective at theta; with `grad` and `hess`, its gradient and Hessian too.
  double Evaluate(const VectorXd& theta, VectorXd* grad, MatrixXd* hess) const {
    const Eigen::Index n = x_.rows();
    Eigen::Map<const MatrixXd> coef(theta.data(), d_, g_);
    const MatrixXd margins = x_ * coef;  // n x G
    MatrixXd residual(n, g_);            // w_i * C * (p_ik - [y_i = k])
    MatrixXd prob(n, g_);
    double loss = 0;
    if (g_ == 1) {
      for (Eigen::Index i = 0; i < n; ++i) {
        const double m = margins(i, 0);
        loss += cw_[i] * (Softplus(m) - y_[i] * m);
        prob(i, 0) = Sigmoid(m);
        residual(i, 0) = cw_[i] * (prob(i, 0) - y_[i]);
      }
    } else {
      for (Eigen::Index i = 0; i < n; ++i) {
        const double max = margins.row(i).maxCoeff();
        double sum = 0;
        for (Eigen::Index k = 0; k < g_; ++k) sum += std::exp(margins(i, k) - max);
        const double lse = max + std::log(sum);
        const auto label = static_cast<Eigen::Index>(y_[i]);
        loss += cw_[i] * (lse - margins(i, label));
        for (Eigen::Index k = 0; k < g_; ++k) {
          prob(i, k) = std::exp(margins(i, k) - lse);
          residual(i, k) = cw_[i] * (prob(i, k) - (k == label ? 1.0 : 0.0));
        }
      }
    }
    double f = loss;
    if (l2_) {
      for (Eigen::Index k = 0; k < g_; ++k) {
        f += 0.5 * theta.segment(k * d_, features_).squaredNorm();
      }
    }
    if (g_ > 1) f += 0.5 * shift_weight_ * ShiftSums(theta).squaredNorm();
    if (grad == nullptr) return f;

    grad->resize(size());
    Eigen::Map<MatrixXd> g(grad->data(), d_, g_);
    g.noalias() = x_.transpose() * residual;
    hess->setZero(size(), size());
    MatrixXd scaled(n, d_);
    for (Eigen::Index k = 0; k < g_; ++k) {
      for (Eigen::Index l = k; l < g_; ++l) {
        // Block (k, l): X^T diag(w C p_k ([k = l] - p_l)) X.
        VectorXd s(n);
        for (Eigen::Index i = 0; i < n; ++i) {
          s[i] = cw_[i] * prob(i, k) * ((k == l ? 1.0 : 0.0) - prob(i, l));
        }
        scaled = s.asDiagonal() * x_;
        hess->block(k * d_, l * d_, d_, d_).noalias() = x_.transpose() * scaled;
        if (l != k) {
          hess->block(l * d_, k * d_, d_, d_) = hess->block(k * d_, l * d_, d_, d_).transpose();
        }
      }
    }
    if (l2_) {
      for (Eigen::Index k = 0; k < g_; ++k) {
        g.col(k).head(features_) += theta.segment(k * d_, features_);
        for (Eigen::Index j = 0; j < features_; ++j) (*hess)(k * d_ + j, k * d_ + j) += 1.0;
      }
    }
    if (g_ > 1) {
      const VectorXd sums = ShiftSums(theta);
      for (Eigen::Index k = 0; k < g_; ++k) {
        g.col(k) += shift_weight_ * sums;
        for (Eigen::Index l = 0; l < g_; ++l) {
          for (Eigen::Index j = 0; j < d_; ++j) (*hess)(k * d_ + j, l * d_ + j) += shift_weight_;
        }
      }
    }
    return f;
  }

  // Multinomial only. Adding one vector to every class's block changes no probability, so the
  // objective is flat along those directions (the intercepts' always; the coefficients' with
  // penalty none) and the Hessian singular. 0.5 * shift_weight * ||sum over classes of the
  // blocks||^2 added to the objective makes it strictly convex there without moving the
  // minimum whose blocks sum to 0: at such a point the term and its gradient are 0. It is where
  // a solver started from 0 ends, as every gradient of the loss sums to 0 over classes.
  void SetShiftWeight(double weight) { shift_weight_ = weight; }

 private:
  VectorXd ShiftSums(const VectorXd& theta) const {
    return Eigen::Map<const MatrixXd>(theta.data(), d_, g_).rowwise().sum();
  }

  MatrixXd x_;
  VectorXd y_;
  VectorXd cw_;  // C * w_i
  bool l2_;
  Eigen::Index features_;
  Eigen::Index d_;  // parameters per group
  Eigen::Index g_;  // groups
  double shift_weight_ = 0;
};

LinearFit Logistic(std::span<const float> x, size_t rows, size_t features, std::span<const float> y,
                   std::span<const float> weights, size_t num_classes, const LinearParams& p) {
  const size_t groups = num_classes > 2 ? num_classes : 1;
  LogisticObjective objective(ToMatrix(x, rows, features, p.fit_intercept), ToVector(y, rows, 0.0),
                              ToVector(weights, rows, 1.0), p, features, groups);
  const Eigen::Index size = objective.size();
  VectorXd theta = VectorXd::Zero(size);
  VectorXd grad(size), step(size), trial(size);
  MatrixXd hess(size, size);
  Eigen::LDLT<MatrixXd> ldlt(size);
  LinearFit fit{model::LinearModel(model::LinearLink::kIdentity, 0, {}, {0.0}), 0, false};
  if (groups > 1) {
    // The scale of the data part of the Hessian at the start, so that the shift term is
    // neither negligible nor dominant in the LDLT.
    objective.Evaluate(theta, &grad, &hess);
    objective.SetShiftWeight(std::max(1.0, hess.diagonal().mean()));
  }
  const double eps = std::numeric_limits<double>::epsilon();
  for (int64_t iter = 1; iter <= p.max_iter; ++iter) {
    const double f = objective.Evaluate(theta, &grad, &hess);
    // The Newton step; where the Hessian is not numerically positive definite (penalty none,
    // probabilities saturated at 0 or 1) a growing multiple of the identity is added.
    double damping = 0;
    const VectorXd diag = hess.diagonal();
    const double diag_max = std::max(diag.cwiseAbs().maxCoeff(), 1.0);
    bool solved = false;
    for (int attempt = 0; attempt < 40 && !solved; ++attempt) {
      if (attempt > 0) {
        damping = damping == 0 ? 1e-12 * diag_max : damping * 10;
        hess.diagonal() = diag.array() + damping;
      }
      ldlt.compute(hess);
      if (ldlt.info() != Eigen::Success || !(ldlt.vectorD().minCoeff() > 0)) continue;
      step = -ldlt.solve(grad);
      solved = step.allFinite() && (grad.dot(step) < 0 || grad.isZero(0));
    }
    if (!solved) break;
    const double scale = std::max(1.0, theta.cwiseAbs().maxCoeff());
    if (step.cwiseAbs().maxCoeff() <= p.tol * scale) {
      theta += step;
      fit.iterations = iter;
      // A step that needed damping with penalty none is the sign of separable classes (the
      // flat, saturated loss), not of a minimum.
      fit.converged = !(damping > 0 && p.penalty == LogisticPenalty::kNone);
      break;
    }
    // Backtracking (Armijo); the slack of a few ulps of f lets a step through whose decrease
    // is lost in rounding near the minimum.
    const double slope = grad.dot(step);
    bool moved = false;
    for (double t = 1.0; t > 1e-10; t *= 0.5) {
      trial = theta + t * step;
      const double f_trial = objective.Evaluate(trial, nullptr, nullptr);
      if (f_trial <= f + 1e-4 * t * slope + 8 * eps * std::abs(f)) {
        theta = trial;
        moved = true;
        break;
      }
    }
    fit.iterations = iter;
    if (!moved) break;
  }

  const size_t d = features + (p.fit_intercept ? 1 : 0);
  std::vector<double> coef, intercept;
  for (size_t g = 0; g < groups; ++g) {
    for (size_t j = 0; j < features; ++j) coef.push_back(theta[g * d + j]);
    intercept.push_back(p.fit_intercept ? theta[g * d + features] : 0.0);
  }
  fit.model =
      model::LinearModel(groups > 1 ? model::LinearLink::kSoftmax : model::LinearLink::kLogistic,
                         features, std::move(coef), std::move(intercept));
  return fit;
}

}  // namespace

bool IsLinearEstimatorType(std::string_view type) { return KindOf(type).has_value(); }

std::vector<std::string_view> LinearParamNames(std::string_view type) {
  std::optional<Kind> kind = KindOf(type);
  if (!kind) return {};
  switch (*kind) {
    case Kind::kLogistic:
      return {"C", "fit_intercept", "max_iter", "penalty", "tol"};
    case Kind::kLinear:
      return {"fit_intercept"};
    case Kind::kRidge:
      return {"alpha", "fit_intercept"};
    case Kind::kElasticNet:
      return {"alpha", "fit_intercept", "l1_ratio", "max_iter", "tol"};
  }
  return {};
}

LinearParams ParseLinearParams(std::string_view type,
                               const std::map<std::string, std::string>& params,
                               std::string_view source) {
  std::optional<Kind> kind = KindOf(type);
  if (!kind) {
    ThrowInvalidArgument(std::string(source) + ": estimator.type: unknown linear estimator '" +
                         std::string(type) + "' (expected logistic, linear, ridge or elastic_net)");
  }
  LinearParams out;
  if (*kind == Kind::kElasticNet) {
    out.max_iter = 1000;
    out.tol = 1e-4;
  }
  const std::vector<std::string_view> names = LinearParamNames(type);
  for (const auto& [key, value] : params) {
    const ParamError fail{source, key};
    if (std::find(names.begin(), names.end(), key) == names.end()) {
      const std::string all = "C alpha fit_intercept l1_ratio max_iter penalty tol";
      const bool known = key != "" && (" " + all + " ").find(" " + key + " ") != std::string::npos;
      fail(known ? "not a parameter of the " + std::string(type) + " estimator"
                 : "unknown parameter",
           "one of " + Join(names));
    }
    if (key == "C") {
      out.C = ParseNumber(value, fail, "a number > 0");
      if (!(out.C > 0)) fail(value + " is not > 0", "a number > 0");
    } else if (key == "alpha") {
      out.alpha = ParseNumber(value, fail, "a number >= 0");
      if (!(out.alpha >= 0)) fail(value + " is negative", "a number >= 0");
    } else if (key == "l1_ratio") {
      out.l1_ratio = ParseNumber(value, fail, "a number from 0 to 1");
      if (!(out.l1_ratio >= 0 && out.l1_ratio <= 1)) {
        fail(value + " is outside [0, 1]", "a number from 0 to 1");
      }
    } else if (key == "tol") {
      out.tol = ParseNumber(value, fail, "a number > 0");
      if (!(out.tol > 0)) fail(value + " is not > 0", "a number > 0");
    } else if (key == "max_iter") {
      out.max_iter = ParseCount(value, fail);
    } else if (key == "fit_intercept") {
      out.fit_intercept = ParseBool(value, fail);
    } else if (key == "penalty") {
      if (value == "l2") {
        out.penalty = LogisticPenalty::kL2;
      } else if (value == "none") {
        out.penalty = LogisticPenalty::kNone;
      } else if (value == "l1" || value == "elasticnet") {
        fail("'" + value + "' is not supported (scikit-learn's saga solver, which mloop lacks)",
             "l2 or none; use the elastic_net estimator for an l1 penalty on a regression");
      } else {
        fail("'" + value + "' is not a penalty", "l2 or none");
      }
    }
  }
  return out;
}

LinearFit FitLinear(std::string_view type, const LinearParams& params, std::span<const float> x,
                    size_t rows, size_t features, const std::vector<std::string>& feature_names,
                    std::span<const float> y, std::span<const float> weights, size_t num_classes) {
  std::optional<Kind> kind = KindOf(type);
  if (!kind) {
    ThrowInvalidArgument("linear estimator: unknown type '" + std::string(type) +
                         "' (expected logistic, linear, ridge or elastic_net)");
  }
  CheckInputs(*kind, params, x, rows, features, feature_names, y, weights, num_classes);
  if (*kind == Kind::kLogistic) {
    return Logistic(x, rows, features, y, weights, num_classes, params);
  }
  const VectorXd w = ToVector(weights, rows, 1.0);
  // ElasticNet scales the weights to sum to n, as scikit-learn does; the others use them as
  // given (the objective at the top of linear_trainer.h).
  const double weight_scale =
      *kind == Kind::kElasticNet ? static_cast<double>(rows) / w.sum() : 1.0;
  const Centered c = Center(ToMatrix(x, rows, features, false), ToVector(y, rows, 0.0), w,
                            params.fit_intercept, weight_scale);
  if (*kind == Kind::kElasticNet) return ElasticNet(c, params);
  VectorXd coef;
  if (*kind == Kind::kRidge && params.alpha > 0) {
    MatrixXd gram = MatrixXd::Zero(c.a.cols(), c.a.cols());
    gram.selfadjointView<Eigen::Lower>().rankUpdate(c.a.transpose());
    gram = gram.selfadjointView<Eigen::Lower>();
    gram.diagonal().array() += params.alpha;
    Eigen::LDLT<MatrixXd> ldlt(gram);
    if (ldlt.info() != Eigen::Success) {
      ThrowInvalidArgument("linear estimator: ridge: the normal equations could not be solved");
    }
    coef = ldlt.solve(c.a.transpose() * c.b);
  } else {
    coef = c.a.completeOrthogonalDecomposition().solve(c.b);
  }
  return LinearFit{RegressionModel(c, coef), 1, true};
}

}  // namespace mloop::train
