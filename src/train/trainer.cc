#include "train/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <random>
#include <set>

#include "core/digest.h"
#include "core/error.h"
#include "core/time.h"
#include "core/version.h"
#include "data/catalog.h"
#include "data/dataset_files.h"
#include "features/pipeline.h"
#include "features/spec.h"
#include "model/linear_model.h"
#include "stats/metrics.h"
#include "table/table_ops.h"
#include "tracking/tracking_store.h"
#include "train/linear_trainer.h"
#include "train/xgboost_booster.h"

namespace mloop::train {
namespace {

using table::Column;
using table::DataType;

// Versions of the bundle manifest (docs/training.md): bump when a reader of the old version
// would misread a new one.
constexpr int kBundleFormatVersion = 1;

struct Dataset {
  data::DatasetVersion version;
  table::Table table;
};

Dataset LoadDataset(store::Workspace& ws, const std::string& ref_text, const std::string& key) {
  data::DatasetCatalog catalog(ws.metadata());
  Dataset d;
  try {
    d.version = catalog.Resolve(data::ParseDatasetRef(ref_text));
  } catch (const Error& e) {
    throw Error(e.code(), key + ": " + e.what());
  }
  d.table = data::LoadVersionTable(ws, d.version);
  return d;
}

const Column& FindColumn(const Dataset& d, const std::string& name, const std::string& key) {
  const Column* c = d.table.FindColumn(name);
  if (c == nullptr) {
    std::string names;
    for (const Column& col : d.table.columns()) names += (names.empty() ? "" : ", ") + col.name();
    ThrowInvalidArgument(key + ": column '" + name + "' is not in " + d.version.Ref() +
                         " (columns: " + names + ")");
  }
  return *c;
}

// How label values become numbers: for classification, class i is classes[i].
struct LabelEncoding {
  std::vector<std::string> classes;
};

std::string LabelText(const Column& c, size_t row, const LabelConfig& lc) {
  std::string v = c.ValueToString(row);
  if (!lc.strip_suffix.empty() && v.size() >= lc.strip_suffix.size() &&
      v.compare(v.size() - lc.strip_suffix.size(), lc.strip_suffix.size(), lc.strip_suffix) == 0) {
    v.resize(v.size() - lc.strip_suffix.size());
  }
  return v;
}

LabelEncoding FitLabels(const Dataset& d, const TrainConfig& config) {
  LabelEncoding enc;
  if (config.task == Task::kRegression) return enc;
  const Column& c = FindColumn(d, config.label.column, "label.column");
  if (!config.label.map.empty()) {
    int64_t k = 0;
    for (const auto& [text, id] : config.label.map) k = std::max(k, id + 1);
    enc.classes.assign(static_cast<size_t>(k), "");
    for (const auto& [text, id] : config.label.map) {
      std::string& slot = enc.classes[static_cast<size_t>(id)];
      slot += (slot.empty() ? "" : "|") + text;
    }
    for (size_t i = 0; i < enc.classes.size(); ++i) {
      if (enc.classes[i].empty()) {
        ThrowInvalidArgument("label.map: no value maps to class " + std::to_string(i) +
                             "; classes must be numbered from 0 without gaps");
      }
    }
    return enc;
  }
  std::set<std::string> distinct;
  for (size_t r = 0; r < c.size(); ++r) {
    if (c.IsValid(r)) distinct.insert(LabelText(c, r, config.label));
  }
  if (config.label.positive) {
    if (!distinct.count(*config.label.positive)) {
      ThrowInvalidArgument("label.positive: '" + *config.label.positive + "' is not a value of " +
                           config.label.column + " in " + d.version.Ref());
    }
    distinct.erase(*config.label.positive);
    if (distinct.size() != 1) {
      ThrowInvalidArgument("label: task binary needs exactly two classes; " + config.label.column +
                           " in " + d.version.Ref() + " has " +
                           std::to_string(distinct.size() + 1));
    }
    enc.classes = {*distinct.begin(), *config.label.positive};
    return enc;
  }
  enc.classes.assign(distinct.begin(), distinct.end());
  if (config.task == Task::kBinary && enc.classes.size() != 2) {
    ThrowInvalidArgument("task: binary needs exactly two label classes; " + config.label.column +
                         " in " + d.version.Ref() + " has " + std::to_string(enc.classes.size()) +
                         (enc.classes.size() > 2 ? " (use task: multiclass)" : ""));
  }
  if (config.task == Task::kMulticlass && enc.classes.size() < 3) {
    ThrowInvalidArgument("task: multiclass needs three or more label classes; " +
                         config.label.column + " in " + d.version.Ref() + " has " +
                         std::to_string(enc.classes.size()) + " (use task: binary)");
  }
  return enc;
}

// The labels of the rows with one (others are dropped: `rows` lists the kept ones).
std::vector<float> EncodeLabels(const Dataset& d, const TrainConfig& config,
                                const LabelEncoding& enc, std::vector<size_t>* rows) {
  const Column& c = FindColumn(d, config.label.column, "label.column");
  std::vector<float> out;
  if (config.task == Task::kRegression) {
    if (!table::IsNumeric(c.type()) && c.type() != DataType::kBool) {
      ThrowInvalidArgument("task: regression needs a numeric label; " + config.label.column +
                           " in " + d.version.Ref() + " is " +
                           std::string(table::DataTypeName(c.type())));
    }
    for (size_t r = 0; r < c.size(); ++r) {
      if (c.IsNull(r)) continue;
      rows->push_back(r);
      out.push_back(static_cast<float>(c.NumberAt(r)));
    }
    return out;
  }
  std::map<std::string, float> id;
  if (!config.label.map.empty()) {
    for (const auto& [text, k] : config.label.map) id[text] = static_cast<float>(k);
  } else {
    for (size_t i = 0; i < enc.classes.size(); ++i) id[enc.classes[i]] = static_cast<float>(i);
  }
  for (size_t r = 0; r < c.size(); ++r) {
    if (c.IsNull(r)) continue;
    std::string v = LabelText(c, r, config.label);
    auto it = id.find(v);
    if (it == id.end()) {
      ThrowInvalidArgument("label: value '" + v + "' of " + config.label.column + " in " +
                           d.version.Ref() + " (line " + std::to_string(d.table.line_numbers()[r]) +
                           ") is not one of the classes learned from the training data" +
                           (config.label.strip_suffix.empty() && !v.empty() && v.back() == '.'
                                ? " (label.strip_suffix: \".\" removes a trailing full stop)"
                                : ""));
    }
    rows->push_back(r);
    out.push_back(it->second);
  }
  return out;
}

// Splits row positions 0..n-1 into training and validation ones as `split` says.
void SplitRows(const Split& split, const std::vector<float>& labels, const Dataset& d,
               const std::vector<size_t>& rows, uint64_t seed, std::vector<size_t>* train,
               std::vector<size_t>* valid) {
  const size_t n = labels.size();
  std::mt19937_64 rng(seed);
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::vector<bool> is_valid(n, false);
  if (split.method == "time") {
    const Column& c = FindColumn(d, split.time_column, "data.split.time_column");
    if (!table::IsNumeric(c.type()) && !table::IsTemporal(c.type())) {
      ThrowInvalidArgument("data.split.time_column: " + split.time_column + " is " +
                           std::string(table::DataTypeName(c.type())) +
                           "; a time split needs a date, timestamp or number");
    }
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      double x = c.IsNull(rows[a]) ? -INFINITY : c.NumberAt(rows[a]);
      double y = c.IsNull(rows[b]) ? -INFINITY : c.NumberAt(rows[b]);
      return x < y;
    });
    size_t cut = n - static_cast<size_t>(std::llround(split.validation_fraction * n));
    for (size_t i = cut; i < n; ++i) is_valid[order[i]] = true;
  } else if (split.method == "stratified") {
    std::map<float, std::vector<size_t>> by_class;
    for (size_t i = 0; i < n; ++i) by_class[labels[i]].push_back(i);
    for (auto& [k, members] : by_class) {
      std::shuffle(members.begin(), members.end(), rng);
      size_t take = static_cast<size_t>(std::llround(split.validation_fraction * members.size()));
      for (size_t i = 0; i < take; ++i) is_valid[members[i]] = true;
    }
  } else {
    std::shuffle(order.begin(), order.end(), rng);
    size_t take = static_cast<size_t>(std::llround(split.validation_fraction * n));
    for (size_t i = 0; i < take; ++i) is_valid[order[i]] = true;
  }
  for (size_t i = 0; i < n; ++i) (is_valid[i] ? valid : train)->push_back(i);
}

template <typename T>
std::vector<T> Pick(const std::vector<T>& v, const std::vector<size_t>& idx) {
  std::vector<T> out;
  out.reserve(idx.size());
  for (size_t i : idx) out.push_back(v[i]);
  return out;
}

std::vector<size_t> Compose(const std::vector<size_t>& rows, const std::vector<size_t>& idx) {
  return Pick(rows, idx);
}

bool HigherIsBetter(const std::string& metric) {
  // XGBoost's metrics where larger is better (its own early-stopping rule).
  std::string m = metric.substr(metric.find('-') + 1);
  for (const char* p : {"auc", "aucpr", "map", "ndcg", "pre"}) {
    if (m.rfind(p, 0) == 0) return true;
  }
  return false;
}

std::vector<float> Weights(const TrainConfig& c, const std::vector<float>& labels,
                           const LabelEncoding& enc) {
  if (c.class_weight_mode.empty() && c.class_weights.empty()) return {};
  size_t k = enc.classes.size();
  std::vector<double> w(k, 1.0);
  if (c.class_weight_mode == "balanced") {
    // scikit-learn's "balanced": n / (k * count of the class).
    std::vector<double> count(k, 0);
    for (float y : labels) count[static_cast<size_t>(y)] += 1;
    for (size_t i = 0; i < k; ++i) {
      w[i] = count[i] > 0 ? static_cast<double>(labels.size()) / (k * count[i]) : 0;
    }
  } else {
    for (const auto& [text, weight] : c.class_weights) {
      auto it = std::find(enc.classes.begin(), enc.classes.end(), text);
      if (it == enc.classes.end()) {
        ThrowInvalidArgument("class_weights." + text + ": not a class of the label (classes: " +
                             [&] {
                               std::string s;
                               for (const auto& cl : enc.classes) s += (s.empty() ? "" : ", ") + cl;
                               return s;
                             }() +
                             ")");
      }
      w[static_cast<size_t>(it - enc.classes.begin())] = weight;
    }
  }
  std::vector<float> out;
  out.reserve(labels.size());
  for (float y : labels) out.push_back(static_cast<float>(w[static_cast<size_t>(y)]));
  return out;
}

// The commit the workspace's git repository is at, or "" when it is not in one (or git is
// missing): the code version of a run, as MLflow records it.
std::string GitCommit(const std::filesystem::path& dir) {
  std::string cmd = "git -C '" + dir.string() + "' rev-parse HEAD 2>/dev/null";
  if (dir.string().find('\'') != std::string::npos) return "";  // Not worth quoting.
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return "";
  char buf[128] = {};
  std::string out;
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) out += buf;
  if (::pclose(pipe) != 0) return "";
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out.size() == 40 ? out : "";
}

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

size_t NumClasses(const TrainConfig& config, const LabelEncoding& enc) {
  return config.task == Task::kRegression ? 0 : enc.classes.size();
}

// The data every fit starts from: labels mapped, split into training and validation rows.
// Everything here is checked before a run exists, so a bad config leaves no failed run.
struct Prepared {
  Dataset train_data;
  std::optional<Dataset> valid_data;
  LabelEncoding enc;
  table::Table train_table, valid_table;
  std::vector<float> train_labels, valid_labels;
  features::FeatureSpec spec;
};

Prepared Prepare(store::Workspace& ws, const TrainConfig& config) {
  Prepared p;
  p.train_data = LoadDataset(ws, config.data.train, config.source + ": data.train");
  if (config.data.validation) {
    p.valid_data = LoadDataset(ws, *config.data.validation, config.source + ": data.validation");
  }
  p.enc = FitLabels(p.train_data, config);
  std::vector<size_t> train_rows, valid_rows;
  p.train_labels = EncodeLabels(p.train_data, config, p.enc, &train_rows);
  if (p.valid_data) {
    p.valid_labels = EncodeLabels(*p.valid_data, config, p.enc, &valid_rows);
    p.train_table = table::TakeRows(p.train_data.table, train_rows);
    p.valid_table = table::TakeRows(p.valid_data->table, valid_rows);
  } else {
    Split split = config.data.split.value_or(Split{});
    std::vector<size_t> tr, va;
    SplitRows(split, p.train_labels, p.train_data, train_rows, static_cast<uint64_t>(config.seed),
              &tr, &va);
    p.valid_labels = Pick(p.train_labels, va);
    p.train_labels = Pick(p.train_labels, tr);
    p.valid_table = table::TakeRows(p.train_data.table, Compose(train_rows, va));
    p.train_table = table::TakeRows(p.train_data.table, Compose(train_rows, tr));
  }
  if (p.train_labels.empty()) {
    ThrowInvalidArgument(config.source + ": no training rows with a label");
  }
  if (p.valid_labels.empty()) {
    ThrowInvalidArgument(config.source + ": no validation rows with a label");
  }
  if (config.cv.folds > 0 && p.train_labels.size() < static_cast<size_t>(config.cv.folds)) {
    ThrowInvalidArgument(config.source + ": cv.folds: " + std::to_string(config.cv.folds) +
                         " folds need at least as many training rows (there are " +
                         std::to_string(p.train_labels.size()) + ")");
  }
  Json spec_doc = config.features.is_null() ? Json{{"steps", Json::array()}} : config.features;
  p.spec = features::ParseFeatureSpec(spec_doc, config.source, "features");
  return p;
}

// XGBoost's parameters for a task: the estimator's own, the objective, the seed.
std::map<std::string, std::string> XgbParams(const TrainConfig& config,
                                             const std::map<std::string, std::string>& given,
                                             size_t classes, std::vector<std::string>* metrics) {
  std::map<std::string, std::string> params = given;
  switch (config.task) {
    case Task::kBinary:
      params["objective"] = "binary:logistic";
      break;
    case Task::kMulticlass:
      params["objective"] = "multi:softprob";
      params["num_class"] = std::to_string(classes);
      break;
    case Task::kRegression:
      params["objective"] = "reg:squarederror";
      break;
  }
  if (!params.count("seed")) params["seed"] = std::to_string(config.seed);
  metrics->clear();
  if (auto it = params.find("eval_metric"); it != params.end()) {
    metrics->push_back(it->second);
    params.erase(it);
  } else if (config.task == Task::kBinary) {
    *metrics = {"logloss", "auc"};
  } else if (config.task == Task::kMulticlass) {
    *metrics = {"mlogloss", "merror"};
  } else {
    *metrics = {"rmse", "mae"};
  }
  return params;
}

// An estimator fitted on one feature matrix and evaluated on a held-out one.
struct Fitted {
  std::string model_bytes;
  std::string model_path;           // Its artifact path in the run.
  Json estimator;                   // The bundle's `estimator` section, less `artifact`.
  std::vector<EvalResult> history;  // Per boosting round; one entry for the linear ones.
  std::optional<int64_t> best_round;
  int64_t rounds = 0;
  EvalResult final_metrics;  // "train-…" and "valid-…".
  std::map<std::string, double> importance;
};

// Called with each round's metrics as they come (to log them and draw progress).
using RoundSink = std::function<void(int64_t round, int64_t rounds, const EvalResult&)>;

std::string MetricNames(const EvalResult& r) {
  std::string s;
  for (const auto& [k, v] : r) s += (s.empty() ? "" : ", ") + k;
  return s;
}

Fitted FitXgboost(const TrainConfig& config, const std::map<std::string, std::string>& given,
                  size_t classes, const features::FeatureMatrix& xt, const std::vector<float>& yt,
                  const std::vector<float>& wt, const features::FeatureMatrix& xv,
                  const std::vector<float>& yv, const RoundSink& sink) {
  std::vector<std::string> eval_metrics;
  std::map<std::string, std::string> params = XgbParams(config, given, classes, &eval_metrics);
  XgbMatrix dtrain(xt.values, xt.num_rows, xt.num_features);
  dtrain.SetLabels(yt);
  if (!wt.empty()) dtrain.SetWeights(wt);
  XgbMatrix dvalid(xv.values, xv.num_rows, xv.num_features);
  dvalid.SetLabels(yv);
  XgbBooster booster({&dtrain, &dvalid});
  for (const auto& [k, v] : params) booster.SetParam(k, v);
  for (const std::string& m : eval_metrics) booster.SetParam("eval_metric", m);

  const EarlyStopping& es = config.estimator.early_stopping;
  const std::string watched = es.metric.empty() ? "valid-" + eval_metrics.back() : es.metric;
  const bool higher = HigherIsBetter(watched);
  Fitted f;
  int64_t best = -1;
  double best_value = 0;
  for (int64_t round = 0; round < config.estimator.rounds; ++round) {
    booster.UpdateOneIter(static_cast<int>(round), dtrain);
    EvalResult r =
        booster.EvalOneIter(static_cast<int>(round), {{"train", &dtrain}, {"valid", &dvalid}});
    f.history.push_back(r);
    if (sink) sink(round, config.estimator.rounds, r);
    if (es.rounds > 0) {
      auto it = r.find(watched);
      if (it == r.end()) {
        ThrowInvalidArgument(config.source + ": estimator.early_stopping.metric: '" + watched +
                             "' is not reported (metrics: " + MetricNames(r) + ")");
      }
      if (best < 0 || (higher ? it->second > best_value : it->second < best_value)) {
        best = round;
        best_value = it->second;
      } else if (round - best >= es.rounds) {
        break;
      }
    }
  }
  if (best >= 0) {
    booster = booster.Slice(0, static_cast<int>(best + 1));
    f.best_round = best;
  }
  f.rounds = booster.BoostedRounds();
  f.final_metrics = f.history[static_cast<size_t>(best >= 0 ? best : f.history.size() - 1)];
  f.model_bytes = booster.Save("ubj");
  f.model_path = "model/model.ubj";
  f.importance = booster.FeatureScores(xt.feature_names, "gain");
  f.estimator = {{"type", "xgboost"},
                 {"library_version", XgbVersion()},
                 {"format", "ubj"},
                 {"rounds", f.rounds},
                 {"best_round", f.best_round ? Json(*f.best_round) : Json()},
                 {"params", params},
                 {"eval_metrics", eval_metrics}};
  return f;
}

Fitted FitLinearEstimator(const TrainConfig& config,
                          const std::map<std::string, std::string>& given, size_t classes,
                          const features::FeatureMatrix& xt, const std::vector<float>& yt,
                          const std::vector<float>& wt, const features::FeatureMatrix& xv,
                          const std::vector<float>& yv, const RoundSink& sink) {
  const std::string& type = config.estimator.type;
  LinearParams params = ParseLinearParams(type, given, config.source);
  LinearFit fit = FitLinear(type, params, xt.values, xt.num_rows, xt.num_features, xt.feature_names,
                            yt, wt, classes);
  Fitted f;
  EvalResult r;
  std::vector<float> pt(xt.num_rows * fit.model.num_outputs());
  fit.model.Predict(xt.values, xt.num_rows, pt);
  for (const auto& [k, v] : stats::TaskMetrics(classes, yt, pt, wt)) r["train-" + k] = v;
  std::vector<float> pv(xv.num_rows * fit.model.num_outputs());
  fit.model.Predict(xv.values, xv.num_rows, pv);
  for (const auto& [k, v] : stats::TaskMetrics(classes, yv, pv)) r["valid-" + k] = v;
  f.history.push_back(r);
  if (sink) sink(0, 1, r);
  f.final_metrics = r;
  f.rounds = fit.iterations;
  Json model = fit.model.ToJson();
  f.model_bytes = model.dump(2);
  f.model_path = "model/model.json";
  // Importance of a feature: its coefficients' absolute values, summed over classes.
  const std::vector<double>& coef = fit.model.coef();
  for (size_t j = 0; j < xt.num_features; ++j) {
    double s = 0;
    for (size_t g = 0; g < fit.model.num_groups(); ++g)
      s += std::fabs(coef[g * xt.num_features + j]);
    f.importance[xt.feature_names[j]] = s;
  }
  Json logged = Json::object();
  for (const auto& [k, v] : given) logged[k] = v;
  f.estimator = {{"type", type},
                 {"format", "mloop-linear-model"},
                 {"iterations", fit.iterations},
                 {"converged", fit.converged},
                 {"params", logged}};
  return f;
}

// A feature pipeline and an estimator fitted on training rows, evaluated on validation rows.
struct FitOutput {
  features::FittedPipeline pipeline;
  Fitted fitted;
  std::vector<std::string> feature_names;
  // Each feature's mean over the training rows where it is present (NaN when it never is):
  // the background of a linear model's SHAP values.
  std::vector<double> feature_means;
  size_t train_rows = 0, valid_rows = 0;
};

FitOutput FitPipelineAndEstimator(const TrainConfig& config,
                                  const std::map<std::string, std::string>& params,
                                  const Prepared& p, const table::Table& train_table,
                                  const std::vector<float>& train_labels,
                                  const table::Table& valid_table,
                                  const std::vector<float>& valid_labels, const RoundSink& sink) {
  features::FitOptions fit_options;
  fit_options.label = config.label.column;
  fit_options.seed = static_cast<uint64_t>(config.seed);
  // The training matrix from FitTransform: target encoding's values there are out-of-fold, so
  // the label does not leak into its own features.
  features::FitResult fr =
      features::FitTransform(p.spec, train_table, p.train_data.version.schema, fit_options);
  FitOutput out{std::move(fr.pipeline), {}, {}, {}, 0, 0};
  features::FeatureMatrix xt = std::move(fr.train);
  features::FeatureMatrix xv = out.pipeline.Transform(valid_table);
  std::vector<float> wt = Weights(config, train_labels, p.enc);
  size_t classes = NumClasses(config, p.enc);
  out.fitted =
      config.estimator.type == "xgboost"
          ? FitXgboost(config, params, classes, xt, train_labels, wt, xv, valid_labels, sink)
          : FitLinearEstimator(config, params, classes, xt, train_labels, wt, xv, valid_labels,
                               sink);
  out.feature_names = xt.feature_names;
  std::vector<double> sum(xt.num_features, 0.0);
  std::vector<int64_t> count(xt.num_features, 0);
  for (size_t r = 0; r < xt.num_rows; ++r) {
    const float* row = xt.values.data() + r * xt.num_features;
    for (size_t j = 0; j < xt.num_features; ++j) {
      if (!std::isnan(row[j])) {
        sum[j] += row[j];
        ++count[j];
      }
    }
  }
  for (size_t j = 0; j < xt.num_features; ++j) {
    out.feature_means.push_back(count[j] > 0 ? sum[j] / static_cast<double>(count[j])
                                             : std::nan(""));
  }
  out.train_rows = xt.num_rows;
  out.valid_rows = xv.num_rows;
  return out;
}

// k-fold cross-validation on the training rows: each fold is held out once while the
// pipeline and the estimator are fitted on the others (early stopping, if any, watches the
// held-out fold). Returns "cv-M" (the mean over folds of each held-out metric M) and
// "cv-M-std" (their population standard deviation, as scikit-learn's cross_validate users
// compute with numpy's std).
std::map<std::string, double> CrossValidate(const TrainConfig& config,
                                            const std::map<std::string, std::string>& params,
                                            const Prepared& p,
                                            const ProgressCallback& on_progress) {
  const size_t k = static_cast<size_t>(config.cv.folds);
  const size_t n = p.train_labels.size();
  std::vector<size_t> fold(n);
  std::mt19937_64 rng(static_cast<uint64_t>(config.seed) ^ 0x63762d666f6c6473ULL);  // "cv-folds"
  if (config.cv.stratified && config.task != Task::kRegression) {
    // Each class's rows, shuffled, dealt round-robin, continuing where the last class ended,
    // so fold sizes differ by at most one and each fold holds each class's share.
    std::map<float, std::vector<size_t>> by_class;
    for (size_t i = 0; i < n; ++i) by_class[p.train_labels[i]].push_back(i);
    size_t next = 0;
    for (auto& [label, members] : by_class) {
      std::shuffle(members.begin(), members.end(), rng);
      for (size_t i : members) fold[i] = next++ % k;
    }
  } else {
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t pos = 0; pos < n; ++pos) fold[order[pos]] = pos % k;
  }
  std::map<std::string, std::vector<double>> values;
  for (size_t f = 0; f < k; ++f) {
    std::vector<size_t> tr, ho;
    for (size_t i = 0; i < n; ++i) (fold[i] == f ? ho : tr).push_back(i);
    FitOutput out = FitPipelineAndEstimator(
        config, params, p, table::TakeRows(p.train_table, tr), Pick(p.train_labels, tr),
        table::TakeRows(p.train_table, ho), Pick(p.train_labels, ho), nullptr);
    for (const auto& [name, v] : out.fitted.final_metrics) {
      if (name.rfind("valid-", 0) == 0) values["cv-" + name.substr(6)].push_back(v);
    }
    if (on_progress) {
      on_progress({"folds", static_cast<int64_t>(f + 1), static_cast<int64_t>(k), nullptr});
    }
  }
  std::map<std::string, double> cv;
  for (const auto& [name, v] : values) {
    double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    double ss = 0;
    for (double x : v) ss += (x - mean) * (x - mean);
    cv[name] = mean;
    cv[name + "-std"] = std::sqrt(ss / static_cast<double>(v.size()));
  }
  return cv;
}

// The parameters of each trial of a search: the config's estimator params with the searched
// ones set. Grid: every combination, the parameters in name order, the last one varying
// fastest. Random: `trials` draws, seeded by the config's seed.
std::vector<std::map<std::string, std::string>> SearchTrials(const TrainConfig& config) {
  const SearchSpace& s = *config.search;
  std::vector<std::map<std::string, std::string>> trials;
  if (s.method == "grid") {
    trials.push_back({});
    for (const auto& [name, dim] : s.space) {
      std::vector<std::map<std::string, std::string>> next;
      for (const auto& t : trials) {
        for (const std::string& v : dim.values) {
          auto u = t;
          u[name] = v;
          next.push_back(std::move(u));
        }
      }
      trials = std::move(next);
    }
    return trials;
  }
  std::mt19937_64 rng(static_cast<uint64_t>(config.seed) ^ 0x7365617263680000ULL);  // "search"
  for (int64_t i = 0; i < s.trials; ++i) {
    std::map<std::string, std::string> t;
    for (const auto& [name, dim] : s.space) {
      if (!dim.values.empty()) {
        std::uniform_int_distribution<size_t> pick(0, dim.values.size() - 1);
        t[name] = dim.values[pick(rng)];
        continue;
      }
      std::uniform_real_distribution<double> u(0.0, 1.0);
      double lo = *dim.min, hi = *dim.max, x = u(rng);
      double v =
          dim.log ? std::exp(std::log(lo) + x * (std::log(hi) - std::log(lo))) : lo + x * (hi - lo);
      t[name] = dim.integer ? std::to_string(std::llround(v)) : Json(v).dump();
    }
    trials.push_back(std::move(t));
  }
  return trials;
}

// The final metrics a run of this config reports, to check `search.metric` before any run.
std::set<std::string> ReportedMetrics(const TrainConfig& config, size_t classes) {
  std::vector<std::string> names;
  if (config.estimator.type == "xgboost") {
    XgbParams(config, config.estimator.params, classes, &names);
  } else {
    names = stats::TaskMetricNames(classes);
  }
  std::set<std::string> out;
  for (const std::string& m : names) {
    out.insert("train-" + m);
    out.insert("valid-" + m);
    if (config.cv.folds > 0) {
      out.insert("cv-" + m);
      out.insert("cv-" + m + "-std");
    }
  }
  return out;
}

// What a run shares with its trials: tags that say what made it.
std::map<std::string, std::string> RunTags(store::Workspace& ws, const TrainConfig& config) {
  std::map<std::string, std::string> tags = {
      {"mloop.version", kVersion},
      {"mloop.config", config.source},
      {"mloop.config_digest", config.digest},
      {"mloop.estimator",
       config.estimator.type == "xgboost" ? "xgboost " + XgbVersion() : config.estimator.type},
      {"mloop.task", std::string(TaskName(config.task))},
      {"mloop.host", HostName()}};
  if (std::string commit = GitCommit(ws.root()); !commit.empty()) {
    tags["mlflow.source.git.commit"] = commit;  // MLflow's own tag for it.
  }
  return tags;
}

// Fits and records one model in `run_id`: params, inputs, metrics per round, cross-validation
// metrics, final metrics and the artifacts (the estimator's file, the importances, the bundle).
// The caller ends the run.
TrainOutcome TrainInRun(tracking::TrackingStore& tracker, const TrainConfig& config,
                        const Prepared& p, const std::string& run_id,
                        const std::map<std::string, std::string>& params,
                        const ProgressCallback& on_progress) {
  TrainOutcome out;
  out.run_id = run_id;
  out.estimator = config.estimator.type;
  std::map<std::string, std::string> logged = params;
  logged["estimator"] = config.estimator.type;
  if (config.estimator.type == "xgboost") {
    logged["rounds"] = std::to_string(config.estimator.rounds);
  }
  logged["task"] = std::string(TaskName(config.task));
  logged["seed"] = std::to_string(config.seed);
  logged["label"] = config.label.column;
  logged["data.train"] = p.train_data.version.Ref();
  if (p.valid_data) logged["data.validation"] = p.valid_data->version.Ref();
  if (config.data.split) logged["data.split"] = config.data.split->method;
  if (config.estimator.early_stopping.rounds > 0) {
    logged["early_stopping_rounds"] = std::to_string(config.estimator.early_stopping.rounds);
  }
  if (config.cv.folds > 0) logged["cv.folds"] = std::to_string(config.cv.folds);
  tracker.LogParams(run_id, logged);
  tracker.LogInput(run_id,
                   {p.train_data.version.dataset, p.train_data.version.version, "training", ""});
  if (p.valid_data) {
    tracker.LogInput(
        run_id, {p.valid_data->version.dataset, p.valid_data->version.version, "validation", ""});
  }

  std::map<std::string, double> cv;
  if (config.cv.folds > 0) cv = CrossValidate(config, params, p, on_progress);

  RoundSink sink = [&](int64_t round, int64_t rounds, const EvalResult& r) {
    std::vector<tracking::MetricPoint> points;
    int64_t now = tracking::NowMillis();
    for (const auto& [k, v] : r) points.push_back({k, v, now, round});
    tracker.LogMetrics(run_id, points);
    if (on_progress) on_progress({"rounds", round + 1, rounds, &r});
  };
  FitOutput fit = FitPipelineAndEstimator(config, params, p, p.train_table, p.train_labels,
                                          p.valid_table, p.valid_labels, sink);
  Fitted& f = fit.fitted;
  out.rounds = f.rounds;
  out.best_round = f.best_round;
  out.metrics = f.final_metrics;
  for (const auto& [k, v] : cv) out.metrics[k] = v;
  std::vector<tracking::MetricPoint> finals;
  int64_t now = tracking::NowMillis();
  for (const auto& [k, v] : f.final_metrics) finals.push_back({"final." + k, v, now, 0});
  for (const auto& [k, v] : cv) finals.push_back({k, v, now, 0});
  tracker.LogMetrics(run_id, finals);

  out.model_digest = tracker.LogArtifact(run_id, f.model_path, f.model_bytes);
  tracker.LogArtifact(run_id, "feature_importance.json", Json(f.importance).dump(2));

  Json bundle;
  bundle["format"] = "mloop-model-bundle";
  bundle["format_version"] = kBundleFormatVersion;
  bundle["task"] = TaskName(config.task);
  bundle["label"] = {{"column", config.label.column},
                     {"strip_suffix", config.label.strip_suffix},
                     {"classes", p.enc.classes}};
  Json inputs = Json::array();
  for (const features::PipelineInput& in : fit.pipeline.inputs()) {
    if (!in.required) continue;
    inputs.push_back({{"name", in.name}, {"type", table::DataTypeName(in.type)}});
  }
  bundle["signature"] = {{"inputs", inputs},
                         {"output", config.task == Task::kRegression ? "value"
                                    : config.task == Task::kBinary   ? "probability of class 1"
                                                                   : "probability of each class"}};
  bundle["pipeline"] = fit.pipeline.ToJson();
  Json estimator = f.estimator;
  estimator["artifact"] = out.model_digest;
  bundle["estimator"] = estimator;
  bundle["feature_names"] = fit.feature_names;
  Json means = Json::array();
  for (double m : fit.feature_means) means.push_back(std::isnan(m) ? Json() : Json(m));
  bundle["feature_means"] = means;
  bundle["lineage"] = {
      {"run_id", run_id},
      {"train",
       {{"ref", p.train_data.version.Ref()}, {"data", p.train_data.version.data_artifact}}},
      {"validation", p.valid_data ? Json{{"ref", p.valid_data->version.Ref()},
                                         {"data", p.valid_data->version.data_artifact}}
                                  : Json()},
      {"config_digest", config.digest},
      {"mloop_version", kVersion}};
  bundle["metrics"] = out.metrics;
  out.bundle_digest = tracker.LogArtifact(run_id, "model/bundle.json", bundle.dump(2));

  out.train_rows = static_cast<int64_t>(fit.train_rows);
  out.validation_rows = static_cast<int64_t>(fit.valid_rows);
  out.features = static_cast<int64_t>(fit.feature_names.size());
  return out;
}

// Ends a run FAILED with the error in its `mloop.error` tag; never throws.
void FailRun(tracking::TrackingStore& tracker, const std::string& run_id, const char* what) {
  try {
    tracker.SetTag(run_id, "mloop.error", std::string(what).substr(0, 8000));
    tracker.EndRun(run_id, tracking::RunStatus::kFailed);
  } catch (const std::exception&) {
    // Recording the failure failed too; the original error is the one to report.
  }
}

}  // namespace

Json TrainOutcome::ToJson() const {
  Json j;
  j["run_id"] = run_id;
  j["experiment"] = experiment;
  j["estimator"] = estimator;
  j["bundle"] = bundle_digest;
  j["model"] = model_digest;
  j["rounds"] = rounds;
  j["best_round"] = best_round ? Json(*best_round) : Json();
  j["metrics"] = metrics;
  j["train_rows"] = train_rows;
  j["validation_rows"] = validation_rows;
  j["features"] = features;
  j["seconds"] = seconds;
  if (!trials.empty()) {
    Json t = Json::array();
    for (const TrialOutcome& trial : trials) {
      t.push_back({{"run_id", trial.run_id},
                   {"params", trial.params},
                   {"status", trial.status},
                   {"score", trial.score ? Json(*trial.score) : Json()},
                   {"error", trial.error.empty() ? Json() : Json(trial.error)}});
    }
    j["trials"] = t;
    j["best_trial"] = best_trial;
  }
  return j;
}

TrainOutcome Train(store::Workspace& ws, const TrainConfig& config,
                   const ProgressCallback& on_progress) {
  const int64_t started = NowMicros();
  Prepared p = Prepare(ws, config);
  if (config.estimator.type != "xgboost") {
    ParseLinearParams(config.estimator.type, config.estimator.params, config.source);
  }
  tracking::TrackingStore tracker(ws.metadata(), ws.artifacts());
  tracking::Experiment experiment = tracker.GetOrCreateExperiment(config.experiment);
  tracking::NewRun new_run;
  new_run.experiment_id = experiment.experiment_id;
  new_run.run_name = config.run_name;
  new_run.tags = RunTags(ws, config);

  if (!config.search) {
    tracking::Run run = tracker.CreateRun(new_run);
    TrainOutcome out;
    try {
      out = TrainInRun(tracker, config, p, run.run_id, config.estimator.params, on_progress);
      out.experiment = experiment.name;
      out.seconds = static_cast<double>(NowMicros() - started) / 1e6;
      tracker.EndRun(run.run_id, tracking::RunStatus::kFinished);
    } catch (const std::exception& e) {
      FailRun(tracker, run.run_id, e.what());
      throw;
    }
    return out;
  }

  // A search: the parent run, then one child run per trial (MLflow's mlflow.parentRunId
  // tag links them); the parent ends up with the best trial's params, metrics and model.
  const SearchSpace& search = *config.search;
  if (std::set<std::string> reported = ReportedMetrics(config, NumClasses(config, p.enc));
      !reported.count(search.metric)) {
    std::string names;
    for (const std::string& m : reported) names += (names.empty() ? "" : ", ") + m;
    ThrowInvalidArgument(config.source + ": search.metric: '" + search.metric +
                         "' is not a metric this config reports (" + names + ")");
  }
  std::vector<std::map<std::string, std::string>> trials = SearchTrials(config);
  new_run.tags["mloop.search"] = search.method;
  tracking::Run parent = tracker.CreateRun(new_run);
  try {
    TrainOutcome best;
    std::optional<double> best_score;
    std::vector<TrialOutcome> outcomes;
    for (size_t i = 0; i < trials.size(); ++i) {
      std::map<std::string, std::string> params = config.estimator.params;
      for (const auto& [k, v] : trials[i]) params[k] = v;
      tracking::NewRun child = new_run;
      child.tags.erase("mloop.search");
      child.parent_run_id = parent.run_id;
      child.tags["mlflow.parentRunId"] = parent.run_id;
      child.tags["mloop.trial"] = std::to_string(i);
      child.run_name = parent.run_name + "-trial-" + std::to_string(i);
      tracking::Run run = tracker.CreateRun(child);
      TrialOutcome trial{run.run_id, trials[i], "FINISHED", std::nullopt, ""};
      try {
        TrainOutcome out = TrainInRun(tracker, config, p, run.run_id, params, nullptr);
        auto it = out.metrics.find(search.metric);
        if (it == out.metrics.end()) {
          ThrowInvalidArgument(config.source + ": search.metric: '" + search.metric +
                               "' is not reported (metrics: " + MetricNames(out.metrics) + ")");
        }
        trial.score = it->second;
        tracker.EndRun(run.run_id, tracking::RunStatus::kFinished);
        if (!best_score ||
            (search.maximize ? *trial.score > *best_score : *trial.score < *best_score)) {
          best_score = trial.score;
          best = std::move(out);
        }
      } catch (const Error& e) {
        FailRun(tracker, run.run_id, e.what());
        // A metric name that no trial reports is the config's mistake, not the trial's.
        if (std::string(e.what()).find(": search.metric: ") != std::string::npos) throw;
        trial.status = "FAILED";
        trial.error = e.what();
      }
      outcomes.push_back(trial);
      if (on_progress) {
        on_progress(
            {"trials", static_cast<int64_t>(i + 1), static_cast<int64_t>(trials.size()), nullptr});
      }
    }
    if (!best_score) {
      ThrowInvalidArgument(config.source +
                           ": search: every trial failed; the first: " + outcomes.front().error);
    }
    // The parent carries the best trial: its params, final metrics and artifacts (the same
    // content, so the artifact store keeps one copy).
    tracking::Run best_run = tracker.GetRun(best.run_id);
    std::map<std::string, std::string> params;
    for (const auto& [k, v] : best_run.params) params[k] = v;
    params["search.method"] = search.method;
    params["search.metric"] = search.metric;
    params["search.trials"] = std::to_string(trials.size());
    tracker.LogParams(parent.run_id, params);
    std::vector<tracking::MetricPoint> points;
    int64_t now = tracking::NowMillis();
    for (const auto& [k, v] : best.metrics) {
      points.push_back({k.rfind("cv-", 0) == 0 ? k : "final." + k, v, now, 0});
    }
    points.push_back({"search.best_score", *best_score, now, 0});
    tracker.LogMetrics(parent.run_id, points);
    for (const auto& in : best_run.inputs) tracker.LogInput(parent.run_id, in);
    for (const auto& a : best_run.artifacts) {
      tracker.LogArtifact(parent.run_id, a.path, ws.artifacts().Get(a.digest));
    }
    tracker.SetTag(parent.run_id, "mloop.best_trial", best.run_id);
    best.trials = std::move(outcomes);
    best.best_trial = best.run_id;
    best.run_id = parent.run_id;
    best.experiment = experiment.name;
    best.seconds = static_cast<double>(NowMicros() - started) / 1e6;
    tracker.EndRun(parent.run_id, tracking::RunStatus::kFinished);
    return best;
  } catch (const std::exception& e) {
    FailRun(tracker, parent.run_id, e.what());
    throw;
  }
}

}  // namespace mloop::train
