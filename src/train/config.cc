#include "train/config.h"

#include <cmath>

#include "core/digest.h"
#include "core/error.h"
#include "core/file.h"
#include "core/json_reader.h"
#include "train/linear_trainer.h"
#include "train/xgboost_booster.h"

namespace mloop::train {
namespace {

namespace fs = std::filesystem;

// A parameter value as the text an estimator takes: strings as they are, numbers and booleans
// as written.
std::string ParamText(const JsonReader& r, const std::string& path, const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number()) {
    double d = r.Number(path, v);
    return Json(d).dump();  // The shortest text that reads back as the same double.
  }
  r.WrongType(path, "a number, string or boolean", v);
}

void CheckLinearParam(const JsonReader& r, const std::string& path, const std::string& type,
                      const std::string& key) {
  std::string names;
  for (std::string_view k : LinearParamNames(type)) {
    if (k == key) return;
    names += (names.empty() ? "" : ", ") + std::string(k);
  }
  r.Fail(path, "not a parameter of the " + type + " estimator (expected one of: " + names + ")");
}

}  // namespace

std::string_view TaskName(Task task) {
  switch (task) {
    case Task::kBinary:
      return "binary";
    case Task::kMulticlass:
      return "multiclass";
    case Task::kRegression:
      return "regression";
  }
  return "binary";
}

TrainConfig ParseTrainConfig(const Json& doc, std::string_view source, const fs::path& dir) {
  JsonReader r(source);
  TrainConfig c;
  c.source = std::string(source);
  r.CheckKeys("", doc,
              {"experiment", "run_name", "data", "label", "task", "features", "features_file",
               "estimator", "seed", "cv", "class_weights", "search", "description"});
  auto has = [](const Json& obj, const char* key) {
    return obj.contains(key) && !obj[key].is_null();
  };

  if (has(doc, "experiment")) c.experiment = r.Name("experiment", doc["experiment"]);
  if (has(doc, "run_name")) c.run_name = r.String("run_name", doc["run_name"]);

  const Json& data = r.Required("", doc, "data");
  r.CheckKeys("data", data, {"train", "validation", "split"});
  c.data.train = r.Name("data.train", r.Required("data", data, "train"));
  if (has(data, "validation")) c.data.validation = r.Name("data.validation", data["validation"]);
  if (has(data, "split")) {
    if (c.data.validation) {
      r.Fail("data.split", "give either data.validation or data.split, not both");
    }
    const Json& s = data["split"];
    r.CheckKeys("data.split", s, {"method", "validation_fraction", "time_column"});
    Split split;
    if (has(s, "method")) {
      split.method = r.Choice("data.split.method", s["method"], {"random", "stratified", "time"});
    }
    if (has(s, "validation_fraction")) {
      split.validation_fraction =
          r.Share("data.split.validation_fraction", s["validation_fraction"]);
      if (split.validation_fraction <= 0 || split.validation_fraction >= 1) {
        r.Fail("data.split.validation_fraction", "expected a share strictly between 0 and 1");
      }
    }
    if (has(s, "time_column"))
      split.time_column = r.Name("data.split.time_column", s["time_column"]);
    if (split.method == "time" && split.time_column.empty()) {
      r.Fail("data.split.time_column", "required when data.split.method is time");
    }
    c.data.split = split;
  }

  const Json& label = r.Required("", doc, "label");
  if (label.is_string()) {
    c.label.column = r.Name("label", label);
  } else {
    r.CheckKeys("label", label, {"column", "map", "strip_suffix", "positive"});
    c.label.column = r.Name("label.column", r.Required("label", label, "column"));
    if (has(label, "map")) {
      r.ExpectObject("label.map", label["map"]);
      for (const auto& [k, v] : label["map"].items()) {
        c.label.map[k] = r.NonNegative(JsonReader::Join("label.map", k), v);
      }
    }
    if (has(label, "strip_suffix")) {
      c.label.strip_suffix = r.String("label.strip_suffix", label["strip_suffix"]);
    }
    if (has(label, "positive")) c.label.positive = r.String("label.positive", label["positive"]);
  }

  std::string task =
      r.Choice("task", r.Required("", doc, "task"), {"binary", "multiclass", "regression"});
  c.task = task == "binary"       ? Task::kBinary
           : task == "multiclass" ? Task::kMulticlass
                                  : Task::kRegression;
  if (c.task == Task::kRegression && (!c.label.map.empty() || c.label.positive)) {
    r.Fail("label", "a regression label is a number: label.map and label.positive do not apply");
  }
  if (c.task == Task::kBinary && !c.label.map.empty()) {
    for (const auto& [k, v] : c.label.map) {
      if (v > 1) r.Fail(JsonReader::Join("label.map", k), "a binary label maps to 0 or 1");
    }
  }

  if (has(doc, "features") && has(doc, "features_file")) {
    r.Fail("features_file", "give either features or features_file, not both");
  }
  if (has(doc, "features")) {
    r.ExpectObject("features", doc["features"]);
    c.features = doc["features"];
  } else if (has(doc, "features_file")) {
    fs::path file = dir / r.Name("features_file", doc["features_file"]);
    if (!fs::exists(file)) r.Fail("features_file", file.string() + ": no such file");
    c.features = ReadYamlFile(file);
  }

  if (has(doc, "estimator")) {
    const Json& e = doc["estimator"];
    r.CheckKeys("estimator", e, {"type", "params", "rounds", "early_stopping"});
    if (has(e, "type")) {
      c.estimator.type = r.Choice("estimator.type", e["type"],
                                  {"xgboost", "logistic", "linear", "ridge", "elastic_net"});
    }
    if (has(e, "params")) {
      r.ExpectObject("estimator.params", e["params"]);
      for (const auto& [k, v] : e["params"].items()) {
        std::string path = JsonReader::Join("estimator.params", k);
        c.estimator.params[k] = ParamText(r, path, v);
        if (c.estimator.type == "xgboost") {
          try {
            CheckKnownParameters({{k, c.estimator.params[k]}});
          } catch (const Error&) {
            r.Fail(path, "not an XGBoost parameter (see XGBoost's parameter list)");
          }
          if (k == "objective" || k == "num_class") {
            r.Fail(path, "set by mloop from `task` and the label's classes; leave it out");
          }
        } else {
          CheckLinearParam(r, path, c.estimator.type, k);
        }
      }
    }
    if (has(e, "rounds")) c.estimator.rounds = r.Positive("estimator.rounds", e["rounds"]);
    if (has(e, "early_stopping")) {
      const Json& es = e["early_stopping"];
      if (es.is_number()) {
        c.estimator.early_stopping.rounds = r.Positive("estimator.early_stopping", es);
      } else {
        r.CheckKeys("estimator.early_stopping", es, {"rounds", "metric"});
        c.estimator.early_stopping.rounds =
            r.Positive("estimator.early_stopping.rounds",
                       r.Required("estimator.early_stopping", es, "rounds"));
        if (has(es, "metric")) {
          c.estimator.early_stopping.metric =
              r.Name("estimator.early_stopping.metric", es["metric"]);
        }
      }
    }
  }
  if (c.estimator.type != "xgboost" && c.estimator.early_stopping.rounds > 0) {
    r.Fail("estimator.early_stopping", "applies to xgboost only");
  }
  if (c.estimator.type == "logistic" && c.task == Task::kRegression) {
    r.Fail("estimator.type", "logistic regression is for binary and multiclass tasks");
  }
  if ((c.estimator.type == "linear" || c.estimator.type == "ridge" ||
       c.estimator.type == "elastic_net") &&
      c.task != Task::kRegression) {
    r.Fail("estimator.type", c.estimator.type + " is for regression; use logistic for " +
                                 std::string(TaskName(c.task)));
  }

  if (has(doc, "seed")) c.seed = r.NonNegative("seed", doc["seed"]);

  if (has(doc, "cv")) {
    const Json& cv = doc["cv"];
    if (cv.is_number()) {
      c.cv.folds = r.Integer("cv", cv);
    } else {
      r.CheckKeys("cv", cv, {"folds", "stratified"});
      c.cv.folds = r.Integer("cv.folds", r.Required("cv", cv, "folds"));
      if (has(cv, "stratified")) c.cv.stratified = r.Bool("cv.stratified", cv["stratified"]);
    }
    if (c.cv.folds < 2) r.Fail("cv.folds", "expected 2 or more folds");
  }

  if (has(doc, "class_weights")) {
    const Json& w = doc["class_weights"];
    if (c.task == Task::kRegression) r.Fail("class_weights", "apply to classification tasks");
    if (w.is_string()) {
      c.class_weight_mode = r.Choice("class_weights", w, {"balanced"});
    } else {
      r.ExpectObject("class_weights", w);
      for (const auto& [k, v] : w.items()) {
        double d = r.Number(JsonReader::Join("class_weights", k), v);
        if (!(d > 0) || std::isinf(d)) {
          r.Fail(JsonReader::Join("class_weights", k), "expected a weight > 0");
        }
        c.class_weights[k] = d;
      }
    }
  }

  if (has(doc, "search")) {
    const Json& s = doc["search"];
    r.CheckKeys("search", s, {"method", "trials", "metric", "direction", "space"});
    SearchSpace search;
    if (has(s, "method"))
      search.method = r.Choice("search.method", s["method"], {"grid", "random"});
    if (has(s, "trials")) search.trials = r.Positive("search.trials", s["trials"]);
    search.metric = r.Name("search.metric", r.Required("search", s, "metric"));
    if (has(s, "direction")) {
      search.maximize =
          r.Choice("search.direction", s["direction"], {"maximize", "minimize"}) == "maximize";
    }
    const Json& space = r.Required("search", s, "space");
    r.ExpectObject("search.space", space);
    if (space.empty()) r.Fail("search.space", "name at least one parameter");
    for (const auto& [k, v] : space.items()) {
      std::string path = JsonReader::Join("search.space", k);
      if (c.estimator.type == "xgboost") {
        try {
          CheckKnownParameters({{k, ""}});
        } catch (const Error&) {
          r.Fail(path, "not an XGBoost parameter (see XGBoost's parameter list)");
        }
      } else {
        CheckLinearParam(r, path, c.estimator.type, k);
      }
      SearchSpace::Dimension d;
      if (v.is_array()) {
        if (v.empty()) r.Fail(path, "give at least one value");
        for (size_t i = 0; i < v.size(); ++i) {
          d.values.push_back(ParamText(r, JsonReader::Index(path, i), v[i]));
        }
      } else {
        r.CheckKeys(path, v, {"min", "max", "log", "integer"});
        d.min = r.Number(JsonReader::Join(path, "min"), r.Required(path, v, "min"));
        d.max = r.Number(JsonReader::Join(path, "max"), r.Required(path, v, "max"));
        if (!(*d.min < *d.max)) r.Fail(path, "expected min < max");
        if (has(v, "log")) d.log = r.Bool(JsonReader::Join(path, "log"), v["log"]);
        if (has(v, "integer")) d.integer = r.Bool(JsonReader::Join(path, "integer"), v["integer"]);
        if (d.log && *d.min <= 0)
          r.Fail(JsonReader::Join(path, "min"), "a log range needs min > 0");
        if (search.method == "grid") {
          r.Fail(path, "a grid search takes a list of values; ranges are for method: random");
        }
      }
      search.space[k] = std::move(d);
    }
    c.search = std::move(search);
  }

  c.digest = Sha256Hex(doc.dump());
  return c;
}

TrainConfig LoadTrainConfig(const fs::path& path) {
  if (!fs::exists(path)) ThrowNotFound(path.string() + ": no such file");
  return ParseTrainConfig(ReadYamlFile(path), path.string(), path.parent_path());
}

}  // namespace mloop::train
