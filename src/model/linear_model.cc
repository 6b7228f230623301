#include "model/linear_model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"

namespace mloop::model {
namespace {

constexpr std::string_view kFormat = "mloop-linear-model";
constexpr int kFormatVersion = 1;

// 1 / (1 + exp(-m)) without overflow for either sign of m; NaN stays NaN.
double Sigmoid(double m) {
  if (m >= 0) return 1.0 / (1.0 + std::exp(-m));
  const double e = std::exp(m);
  return e / (1.0 + e);
}

std::string Where(std::string_view source, std::string_view key) {
  return std::string(source) + ": " + std::string(key) + ": ";
}

const Json& Member(const Json& doc, std::string_view source, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end()) ThrowInvalidArgument(Where(source, key) + "missing");
  return *it;
}

double FiniteNumber(const Json& value, std::string_view source, const std::string& key) {
  if (!value.is_number()) {
    ThrowInvalidArgument(Where(source, key) + "expected a number, got " + value.dump());
  }
  const double v = value.get<double>();
  if (!std::isfinite(v)) ThrowInvalidArgument(Where(source, key) + "expected a finite number");
  return v;
}

// The numbers of a JSON array of exactly `size` finite numbers.
void ReadNumbers(const Json& array, size_t size, std::string_view source, const std::string& key,
                 std::vector<double>& out) {
  if (!array.is_array()) {
    ThrowInvalidArgument(Where(source, key) + "expected an array of " + std::to_string(size) +
                         " numbers");
  }
  if (array.size() != size) {
    ThrowInvalidArgument(Where(source, key) + "expected " + std::to_string(size) +
                         " numbers, got " + std::to_string(array.size()));
  }
  for (size_t i = 0; i < array.size(); ++i) {
    out.push_back(FiniteNumber(array[i], source, key + "[" + std::to_string(i) + "]"));
  }
}

}  // namespace

std::string_view LinearLinkName(LinearLink link) {
  switch (link) {
    case LinearLink::kIdentity:
      return "identity";
    case LinearLink::kLogistic:
      return "logistic";
    case LinearLink::kSoftmax:
      return "softmax";
  }
  return "?";
}

LinearModel::LinearModel(LinearLink link, size_t num_features, std::vector<double> coef,
                         std::vector<double> intercept)
    : link_(link),
      num_features_(num_features),
      coef_(std::move(coef)),
      intercept_(std::move(intercept)) {
  const size_t groups = intercept_.size();
  if (link_ == LinearLink::kSoftmax ? groups < 2 : groups != 1) {
    ThrowInvalidArgument(
        "linear model: " + std::to_string(groups) + " groups for link " +
        std::string(LinearLinkName(link_)) +
        (link_ == LinearLink::kSoftmax ? " (expected at least 2)" : " (expected 1)"));
  }
  if (coef_.size() != groups * num_features_ ||
      (num_features_ != 0 && coef_.size() / num_features_ != groups)) {  // no wrap-around
    ThrowInvalidArgument("linear model: " + std::to_string(coef_.size()) + " coefficients for " +
                         std::to_string(groups) + " groups x " + std::to_string(num_features_) +
                         " features");
  }
  for (double v : coef_) {
    if (!std::isfinite(v)) ThrowInvalidArgument("linear model: a coefficient is not finite");
  }
  for (double v : intercept_) {
    if (!std::isfinite(v)) ThrowInvalidArgument("linear model: an intercept is not finite");
  }
}

Json LinearModel::ToJson() const {
  Json coef = Json::array();
  for (size_t g = 0; g < num_groups(); ++g) {
    coef.push_back(Json(std::vector<double>(coef_.begin() + g * num_features_,
                                            coef_.begin() + (g + 1) * num_features_)));
  }
  return Json{{"format", kFormat},
              {"format_version", kFormatVersion},
              {"link", LinearLinkName(link_)},
              {"num_features", num_features_},
              {"coef", std::move(coef)},
              {"intercept", intercept_}};
}

LinearModel LinearModel::FromJson(const Json& doc, std::string_view source) {
  if (!doc.is_object()) {
    ThrowInvalidArgument(std::string(source) + ": expected a JSON object (an mloop linear model)");
  }
  const Json& format = Member(doc, source, "format");
  if (format != kFormat) {
    ThrowInvalidArgument(Where(source, "format") + "expected \"" + std::string(kFormat) +
                         "\", got " + format.dump());
  }
  const Json& version = Member(doc, source, "format_version");
  if (!version.is_number_integer() || version.get<int64_t>() != kFormatVersion) {
    ThrowInvalidArgument(Where(source, "format_version") + "unsupported version " + version.dump() +
                         " (expected " + std::to_string(kFormatVersion) + ")");
  }
  const Json& link_json = Member(doc, source, "link");
  LinearLink link;
  if (link_json == "identity") {
    link = LinearLink::kIdentity;
  } else if (link_json == "logistic") {
    link = LinearLink::kLogistic;
  } else if (link_json == "softmax") {
    link = LinearLink::kSoftmax;
  } else {
    ThrowInvalidArgument(Where(source, "link") + "unknown link " + link_json.dump() +
                         " (expected identity, logistic or softmax)");
  }
  const Json& features_json = Member(doc, source, "num_features");
  if (!features_json.is_number_integer() || features_json.get<int64_t>() < 0) {
    ThrowInvalidArgument(Where(source, "num_features") + "expected a non-negative integer, got " +
                         features_json.dump());
  }
  const size_t num_features = features_json.get<size_t>();
  const Json& intercept_json = Member(doc, source, "intercept");
  if (!intercept_json.is_array()) {
    ThrowInvalidArgument(Where(source, "intercept") + "expected an array of numbers");
  }
  const size_t groups = intercept_json.size();
  if (link == LinearLink::kSoftmax ? groups < 2 : groups != 1) {
    ThrowInvalidArgument(
        Where(source, "intercept") + std::to_string(groups) + " values for link " +
        link_json.dump() +
        (link == LinearLink::kSoftmax ? " (expected one per class, at least 2)" : " (expected 1)"));
  }
  std::vector<double> intercept;
  ReadNumbers(intercept_json, groups, source, "intercept", intercept);
  const Json& coef_json = Member(doc, source, "coef");
  if (!coef_json.is_array() || coef_json.size() != groups) {
    ThrowInvalidArgument(Where(source, "coef") + "expected an array of " + std::to_string(groups) +
                         " arrays (one per intercept), got " +
                         (coef_json.is_array() ? std::to_string(coef_json.size()) + " values"
                                               : coef_json.type_name()));
  }
  std::vector<double> coef;  // not reserved: num_features is not checked against coef yet.
  for (size_t g = 0; g < groups; ++g) {
    ReadNumbers(coef_json[g], num_features, source, "coef[" + std::to_string(g) + "]", coef);
  }
  return LinearModel(link, num_features, std::move(coef), std::move(intercept));
}

void LinearModel::CheckSizes(std::span<const float> x, size_t rows, std::span<float> out,
                             size_t per_row) const {
  if (x.size() != rows * num_features_) {
    ThrowInvalidArgument("linear model: " + std::to_string(x.size()) + " input values for " +
                         std::to_string(rows) + " rows x " + std::to_string(num_features_) +
                         " features");
  }
  if (out.size() != rows * per_row) {
    ThrowInvalidArgument("linear model: output of " + std::to_string(out.size()) + " values for " +
                         std::to_string(rows) + " rows x " + std::to_string(per_row) + " outputs");
  }
}

// A NaN input makes the margin NaN whatever its coefficient (NaN * 0 is NaN), which is what
// makes incomplete rows come out NaN without a test of their own.
double LinearModel::Margin(const float* row, size_t group) const {
  const double* c = coef_.data() + group * num_features_;
  double sum = intercept_[group];
  for (size_t f = 0; f < num_features_; ++f) sum += c[f] * static_cast<double>(row[f]);
  return sum;
}

void LinearModel::PredictMargin(std::span<const float> x, size_t rows, std::span<float> out) const {
  const size_t groups = num_groups();
  CheckSizes(x, rows, out, groups);
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x.data() + r * num_features_;
    for (size_t g = 0; g < groups; ++g) {
      out[r * groups + g] = static_cast<float>(Margin(row, g));
    }
  }
}

void LinearModel::Predict(std::span<const float> x, size_t rows, std::span<float> out) const {
  CheckSizes(x, rows, out, num_outputs());
  switch (link_) {
    case LinearLink::kIdentity:
      for (size_t r = 0; r < rows; ++r) {
        out[r] = static_cast<float>(Margin(x.data() + r * num_features_, 0));
      }
      return;
    case LinearLink::kLogistic:
      for (size_t r = 0; r < rows; ++r) {
        out[r] = static_cast<float>(Sigmoid(Margin(x.data() + r * num_features_, 0)));
      }
      return;
    case LinearLink::kSoftmax: {
      const size_t k = num_groups();
      std::vector<double> margins(k);
      for (size_t r = 0; r < rows; ++r) {
        const float* row = x.data() + r * num_features_;
        float* probs = out.data() + r * k;
        double max = -std::numeric_limits<double>::infinity();
        bool nan = false;
        for (size_t g = 0; g < k; ++g) {
          margins[g] = Margin(row, g);
          nan |= std::isnan(margins[g]);
          max = std::max(max, margins[g]);
        }
        if (nan) {
          std::fill(probs, probs + k, std::numeric_limits<float>::quiet_NaN());
          continue;
        }
        // Shifted by the largest margin, every exp is at most 1 and one of them is 1, so the
        // sum neither overflows nor underflows to 0.
        double sum = 0;
        for (size_t g = 0; g < k; ++g) {
          margins[g] = std::exp(margins[g] - max);
          sum += margins[g];
        }
        for (size_t g = 0; g < k; ++g) probs[g] = static_cast<float>(margins[g] / sum);
      }
      return;
    }
  }
}

}  // namespace mloop::model
