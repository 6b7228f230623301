#include "features/spec.h"

#include <array>
#include <cmath>
#include <limits>
#include <utility>

#include "core/error.h"
#include "core/json_reader.h"

namespace mloop::features {

namespace {

constexpr std::array<std::pair<Op, std::string_view>, 18> kOpNames = {{
    {Op::kImpute, "impute"},
    {Op::kStandardize, "standardize"},
    {Op::kMinMax, "minmax"},
    {Op::kRobust, "robust"},
    {Op::kLog1p, "log1p"},
    {Op::kClip, "clip"},
    {Op::kOneHot, "onehot"},
    {Op::kOrdinal, "ordinal"},
    {Op::kBucketize, "bucketize"},
    {Op::kFrequency, "frequency"},
    {Op::kHash, "hash"},
    {Op::kTarget, "target"},
    {Op::kDatetime, "datetime"},
    {Op::kRatio, "ratio"},
    {Op::kProduct, "product"},
    {Op::kDifference, "difference"},
    {Op::kPassthrough, "passthrough"},
    {Op::kDrop, "drop"},
}};

constexpr std::array<std::pair<DatePart, std::string_view>, 6> kDatePartNames = {{
    {DatePart::kYear, "year"},
    {DatePart::kMonth, "month"},
    {DatePart::kDay, "day"},
    {DatePart::kWeekday, "weekday"},
    {DatePart::kHour, "hour"},
    {DatePart::kDayOfYear, "day_of_year"},
}};

using mloop::JsonReader;

Step ParseStep(const JsonReader& r, const std::string& path, const Json& v) {
  r.ExpectObject(path, v);
  Step s;
  s.path = path;
  std::string op_name = r.String(JsonReader::Join(path, "op"), r.Required(path, v, "op"));
  std::optional<Op> op = OpFromName(op_name);
  if (!op) {
    std::string list;
    for (const auto& [o, name] : kOpNames) list += (list.empty() ? "" : ", ") + std::string(name);
    r.Fail(JsonReader::Join(path, "op"),
           "unknown op \"" + op_name + "\" (expected one of: " + list + ")");
  }
  s.op = *op;
  switch (s.op) {
    case Op::kImpute:
      r.CheckKeys(path, v, {"op", "columns", "strategy", "value"});
      break;
    case Op::kRobust:
      r.CheckKeys(path, v, {"op", "columns", "quantile_range"});
      break;
    case Op::kClip:
      r.CheckKeys(path, v, {"op", "columns", "min", "max"});
      break;
    case Op::kOneHot:
      r.CheckKeys(path, v, {"op", "columns", "max_categories", "min_frequency", "nulls"});
      break;
    case Op::kOrdinal:
      r.CheckKeys(path, v, {"op", "columns", "unseen"});
      break;
    case Op::kBucketize:
      r.CheckKeys(path, v, {"op", "columns", "bins", "strategy"});
      break;
    case Op::kHash:
      r.CheckKeys(path, v, {"op", "columns", "n_features"});
      break;
    case Op::kTarget:
      r.CheckKeys(path, v, {"op", "columns", "folds", "smoothing", "positive"});
      break;
    case Op::kDatetime:
      r.CheckKeys(path, v, {"op", "columns", "parts"});
      break;
    case Op::kRatio:
    case Op::kProduct:
    case Op::kDifference:
      r.CheckKeys(path, v, {"op", "columns", "output"});
      break;
    default:
      r.CheckKeys(path, v, {"op", "columns"});
      break;
  }
  std::string columns_path = JsonReader::Join(path, "columns");
  s.columns = r.Names(columns_path, r.Required(path, v, "columns"), /*at_least_one=*/true);
  for (const auto& [key, value] : v.items()) {
    std::string p = JsonReader::Join(path, key);
    if (key == "op" || key == "columns") continue;
    if (key == "strategy" && s.op == Op::kImpute) {
      std::string st = r.Choice(p, value, {"mean", "median", "most_frequent", "constant"});
      s.strategy = st == "mean"            ? ImputeStrategy::kMean
                   : st == "median"        ? ImputeStrategy::kMedian
                   : st == "most_frequent" ? ImputeStrategy::kMostFrequent
                                           : ImputeStrategy::kConstant;
    } else if (key == "value") {
      if (value.is_string()) {
        s.fill_text = value.get<std::string>();
      } else if (value.is_number()) {
        s.fill_number = r.Number(p, value);
        if (!std::isfinite(*s.fill_number)) r.Fail(p, "expected a finite number");
      } else {
        r.WrongType(p, "a number or a string", value);
      }
    } else if (key == "quantile_range") {
      std::vector<double> q = r.Numbers(p, value);
      if (q.size() != 2 || !(q[0] >= 0 && q[0] < q[1] && q[1] <= 100)) {
        r.Fail(p, "expected [low, high] with 0 <= low < high <= 100");
      }
      s.quantile_low = q[0];
      s.quantile_high = q[1];
    } else if (key == "min" || key == "max") {
      double bound = r.Number(p, value);
      if (!std::isfinite(bound)) r.Fail(p, "expected a finite number");
      (key == "min" ? s.clip_min : s.clip_max) = bound;
    } else if (key == "max_categories") {
      s.max_categories = r.IntegerAtLeast(p, value, 2);
    } else if (key == "min_frequency") {
      s.min_frequency = r.IntegerAtLeast(p, value, 1);
    } else if (key == "nulls") {
      std::string n = r.Choice(p, value, {"column", "other", "zeros"});
      s.nulls = n == "column"  ? NullHandling::kColumn
                : n == "other" ? NullHandling::kOther
                               : NullHandling::kZeros;
    } else if (key == "unseen") {
      if (value.is_string() && value.get<std::string>() == "nan") {
        s.unseen = std::numeric_limits<double>::quiet_NaN();
      } else if (value.is_number() && value.get<double>() == -1) {
        s.unseen = -1;
      } else {
        r.Fail(p, "expected -1 or nan, got " + value.dump());
      }
    } else if (key == "bins") {
      s.bins = r.IntegerAtLeast(p, value, 2);
    } else if (key == "strategy" && s.op == Op::kBucketize) {
      s.bin_strategy = r.Choice(p, value, {"quantile", "uniform"}) == "quantile"
                           ? BinStrategy::kQuantile
                           : BinStrategy::kUniform;
    } else if (key == "n_features") {
      s.n_features = r.IntegerAtLeast(p, value, 1);
      if (s.n_features > (int64_t{1} << 20)) r.Fail(p, "expected at most 1048576 features");
    } else if (key == "folds") {
      s.folds = r.IntegerAtLeast(p, value, 2);
    } else if (key == "smoothing") {
      s.smoothing = r.Number(p, value);
      if (!(s.smoothing >= 0) || !std::isfinite(s.smoothing)) {
        r.Fail(p, "expected a finite number >= 0");
      }
    } else if (key == "positive") {
      if (value.is_string()) {
        s.positive_text = value.get<std::string>();
      } else if (value.is_number()) {
        s.positive_number = r.Number(p, value);
      } else {
        r.WrongType(p, "a string or a number", value);
      }
    } else if (key == "parts") {
      if (!value.is_array() || value.empty()) r.WrongType(p, "a non-empty list of parts", value);
      for (size_t i = 0; i < value.size(); ++i) {
        std::string ip = JsonReader::Index(p, i);
        std::string name =
            r.Choice(ip, value[i], {"year", "month", "day", "weekday", "hour", "day_of_year"});
        for (const auto& [part, part_name] : kDatePartNames) {
          if (part_name != name) continue;
          for (DatePart seen : s.parts) {
            if (seen == part) r.Fail(ip, "part '" + name + "' is listed twice");
          }
          s.parts.push_back(part);
        }
      }
    } else if (key == "output") {
      s.output = r.Name(p, value);
    }
  }

  switch (s.op) {
    case Op::kImpute:
      if (s.strategy == ImputeStrategy::kConstant && !s.fill_number && !s.fill_text) {
        r.Fail(JsonReader::Join(path, "value"), "missing (strategy constant needs a value)");
      }
      if (s.strategy != ImputeStrategy::kConstant && (s.fill_number || s.fill_text)) {
        r.Fail(JsonReader::Join(path, "value"), "only strategy constant takes a value");
      }
      break;
    case Op::kClip:
      if (!s.clip_min && !s.clip_max) r.Fail(path, "clip needs min, max or both");
      if (s.clip_min && s.clip_max && *s.clip_min > *s.clip_max) {
        r.Fail(JsonReader::Join(path, "max"), "max is below min");
      }
      break;
    case Op::kRatio:
    case Op::kProduct:
    case Op::kDifference:
      if (s.columns.size() != 2) {
        r.Fail(columns_path,
               "expected exactly two columns, got " + std::to_string(s.columns.size()));
      }
      if (s.output.empty()) r.Fail(JsonReader::Join(path, "output"), "missing");
      break;
    case Op::kDatetime:
      if (s.parts.empty()) {
        for (const auto& [part, name] : kDatePartNames) s.parts.push_back(part);
      }
      break;
    default:
      break;
  }
  return s;
}

}  // namespace

std::string_view OpName(Op op) {
  for (const auto& [o, name] : kOpNames) {
    if (o == op) return name;
  }
  return "?";
}

std::optional<Op> OpFromName(std::string_view name) {
  for (const auto& [o, n] : kOpNames) {
    if (n == name) return o;
  }
  return std::nullopt;
}

std::string_view ImputeStrategyName(ImputeStrategy s) {
  switch (s) {
    case ImputeStrategy::kMean:
      return "mean";
    case ImputeStrategy::kMedian:
      return "median";
    case ImputeStrategy::kMostFrequent:
      return "most_frequent";
    case ImputeStrategy::kConstant:
      return "constant";
  }
  return "?";
}

std::string_view BinStrategyName(BinStrategy s) {
  return s == BinStrategy::kQuantile ? "quantile" : "uniform";
}

std::string_view NullHandlingName(NullHandling n) {
  switch (n) {
    case NullHandling::kColumn:
      return "column";
    case NullHandling::kOther:
      return "other";
    case NullHandling::kZeros:
      return "zeros";
  }
  return "?";
}

std::string_view DatePartName(DatePart p) {
  for (const auto& [part, name] : kDatePartNames) {
    if (part == p) return name;
  }
  return "?";
}

FeatureSpec ParseFeatureSpec(const Json& doc, std::string_view source, std::string_view path) {
  JsonReader r(source);
  std::string base(path);
  r.CheckKeys(base, doc, {"steps"});
  std::string steps_path = JsonReader::Join(base, "steps");
  const Json& steps = r.Required(base, doc, "steps");
  if (!steps.is_array()) r.WrongType(steps_path, "a list of steps", steps);
  FeatureSpec spec;
  spec.source = std::string(source);
  for (size_t i = 0; i < steps.size(); ++i) {
    spec.steps.push_back(ParseStep(r, JsonReader::Index(steps_path, i), steps[i]));
  }
  return spec;
}

FeatureSpec LoadFeatureSpec(const std::filesystem::path& path) {
  return ParseFeatureSpec(ReadYamlFile(path), path.string());
}

}  // namespace mloop::features
