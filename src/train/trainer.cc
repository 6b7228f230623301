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
#include "table/table_ops.h"
#include "tracking/tracking_store.h"
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

}  // namespace

Json TrainOutcome::ToJson() const {
  Json j;
  j["run_id"] = run_id;
  j["experiment"] = experiment;
  j["bundle"] = bundle_digest;
  j["model"] = model_digest;
  j["rounds"] = rounds;
  j["best_round"] = best_round ? Json(*best_round) : Json();
  j["metrics"] = metrics;
  j["train_rows"] = train_rows;
  j["validation_rows"] = validation_rows;
  j["features"] = features;
  j["seconds"] = seconds;
  return j;
}

TrainOutcome Train(store::Workspace& ws, const TrainConfig& config, const RoundCallback& on_round) {
  const int64_t started = NowMicros();
  if (config.estimator.type != "xgboost") {
    ThrowInvalidArgument(config.source + ": estimator.type: " + config.estimator.type +
                         " is not available yet; use xgboost");
  }
  if (config.cv.folds > 0) {
    ThrowInvalidArgument(config.source + ": cv: cross-validation is not available yet");
  }
  if (config.search) {
    ThrowInvalidArgument(config.source + ": search: hyperparameter search is not available yet");
  }
  // Everything that can be checked before a run exists is checked first, so that a bad config
  // leaves no failed run behind.
  Dataset train_data = LoadDataset(ws, config.data.train, config.source + ": data.train");
  std::optional<Dataset> valid_data;
  if (config.data.validation) {
    valid_data = LoadDataset(ws, *config.data.validation, config.source + ": data.validation");
  }
  LabelEncoding enc = FitLabels(train_data, config);
  std::vector<size_t> train_rows, valid_rows;
  std::vector<float> train_labels = EncodeLabels(train_data, config, enc, &train_rows);
  std::vector<float> valid_labels;
  table::Table train_table, valid_table;
  if (valid_data) {
    valid_labels = EncodeLabels(*valid_data, config, enc, &valid_rows);
    train_table = table::TakeRows(train_data.table, train_rows);
    valid_table = table::TakeRows(valid_data->table, valid_rows);
  } else {
    Split split = config.data.split.value_or(Split{});
    std::vector<size_t> tr, va;
    SplitRows(split, train_labels, train_data, train_rows, static_cast<uint64_t>(config.seed), &tr,
              &va);
    valid_labels = Pick(train_labels, va);
    train_labels = Pick(train_labels, tr);
    valid_table = table::TakeRows(train_data.table, Compose(train_rows, va));
    train_table = table::TakeRows(train_data.table, Compose(train_rows, tr));
  }
  if (train_labels.empty()) ThrowInvalidArgument(config.source + ": no training rows with a label");
  if (valid_labels.empty())
    ThrowInvalidArgument(config.source + ": no validation rows with a label");

  Json spec_doc = config.features.is_null() ? Json{{"steps", Json::array()}} : config.features;
  features::FeatureSpec spec = features::ParseFeatureSpec(spec_doc, config.source, "features");
  features::FitOptions fit_options;
  fit_options.label = config.label.column;
  fit_options.seed = static_cast<uint64_t>(config.seed);
  // The training matrix from FitTransform: target encoding's values there are out-of-fold, so
  // the label does not leak into its own features.
  features::FitResult fitted =
      features::FitTransform(spec, train_table, train_data.version.schema, fit_options);
  const features::FittedPipeline& pipeline = fitted.pipeline;
  features::FeatureMatrix xt = std::move(fitted.train);
  features::FeatureMatrix xv = pipeline.Transform(valid_table);

  XgbMatrix dtrain(xt.values, xt.num_rows, xt.num_features);
  dtrain.SetLabels(train_labels);
  std::vector<float> weights = Weights(config, train_labels, enc);
  if (!weights.empty()) dtrain.SetWeights(weights);
  XgbMatrix dvalid(xv.values, xv.num_rows, xv.num_features);
  dvalid.SetLabels(valid_labels);

  std::map<std::string, std::string> params = config.estimator.params;
  switch (config.task) {
    case Task::kBinary:
      params["objective"] = "binary:logistic";
      break;
    case Task::kMulticlass:
      params["objective"] = "multi:softprob";
      params["num_class"] = std::to_string(enc.classes.size());
      break;
    case Task::kRegression:
      params["objective"] = "reg:squarederror";
      break;
  }
  if (!params.count("seed")) params["seed"] = std::to_string(config.seed);
  std::vector<std::string> eval_metrics;
  if (auto it = params.find("eval_metric"); it != params.end()) {
    eval_metrics.push_back(it->second);
    params.erase(it);
  } else if (config.task == Task::kBinary) {
    eval_metrics = {"logloss", "auc"};
  } else if (config.task == Task::kMulticlass) {
    eval_metrics = {"mlogloss", "merror"};
  } else {
    eval_metrics = {"rmse", "mae"};
  }

  // The run.
  tracking::TrackingStore tracker(ws.metadata(), ws.artifacts());
  tracking::Experiment experiment = tracker.GetOrCreateExperiment(config.experiment);
  tracking::NewRun new_run;
  new_run.experiment_id = experiment.experiment_id;
  new_run.run_name = config.run_name;
  new_run.tags = {{"mloop.version", kVersion},
                  {"mloop.config", config.source},
                  {"mloop.config_digest", config.digest},
                  {"mloop.estimator", "xgboost " + XgbVersion()},
                  {"mloop.task", std::string(TaskName(config.task))},
                  {"mloop.host", HostName()}};
  if (std::string commit = GitCommit(ws.root()); !commit.empty()) {
    new_run.tags["mlflow.source.git.commit"] = commit;  // MLflow's own tag for it.
  }
  tracking::Run run = tracker.CreateRun(new_run);
  TrainOutcome out;
  out.run_id = run.run_id;
  out.experiment = experiment.name;
  try {
    std::map<std::string, std::string> logged = config.estimator.params;
    logged["rounds"] = std::to_string(config.estimator.rounds);
    logged["task"] = std::string(TaskName(config.task));
    logged["seed"] = std::to_string(config.seed);
    logged["label"] = config.label.column;
    logged["data.train"] = train_data.version.Ref();
    if (valid_data) logged["data.validation"] = valid_data->version.Ref();
    if (config.data.split) logged["data.split"] = config.data.split->method;
    if (config.estimator.early_stopping.rounds > 0) {
      logged["early_stopping_rounds"] = std::to_string(config.estimator.early_stopping.rounds);
    }
    tracker.LogParams(run.run_id, logged);
    tracker.LogInput(run.run_id,
                     {train_data.version.dataset, train_data.version.version, "training", ""});
    if (valid_data) {
      tracker.LogInput(
          run.run_id, {valid_data->version.dataset, valid_data->version.version, "validation", ""});
    }

    XgbBooster booster({&dtrain, &dvalid});
    for (const auto& [k, v] : params) booster.SetParam(k, v);
    for (const std::string& m : eval_metrics) booster.SetParam("eval_metric", m);

    const std::string watched = config.estimator.early_stopping.metric.empty()
                                    ? "valid-" + eval_metrics.back()
                                    : config.estimator.early_stopping.metric;
    const bool higher = HigherIsBetter(watched);
    std::vector<EvalResult> history;
    int64_t best = -1;
    double best_value = 0;
    for (int64_t round = 0; round < config.estimator.rounds; ++round) {
      booster.UpdateOneIter(static_cast<int>(round), dtrain);
      EvalResult r =
          booster.EvalOneIter(static_cast<int>(round), {{"train", &dtrain}, {"valid", &dvalid}});
      history.push_back(r);
      std::vector<tracking::MetricPoint> points;
      int64_t now = tracking::NowMillis();
      for (const auto& [k, v] : r) points.push_back({k, v, now, round});
      tracker.LogMetrics(run.run_id, points);
      if (on_round) on_round(round, config.estimator.rounds, r);
      if (config.estimator.early_stopping.rounds > 0) {
        auto it = r.find(watched);
        if (it == r.end()) {
          ThrowInvalidArgument(config.source + ": estimator.early_stopping.metric: '" + watched +
                               "' is not reported (metrics: " +
                               [&] {
                                 std::string s;
                                 for (const auto& [k, v] : r) s += (s.empty() ? "" : ", ") + k;
                                 return s;
                               }() +
                               ")");
        }
        if (best < 0 || (higher ? it->second > best_value : it->second < best_value)) {
          best = round;
          best_value = it->second;
        } else if (round - best >= config.estimator.early_stopping.rounds) {
          break;
        }
      }
    }
    if (best >= 0) {
      booster = booster.Slice(0, static_cast<int>(best + 1));
      out.best_round = best;
    }
    out.rounds = booster.BoostedRounds();
    const EvalResult& final_metrics =
        history[static_cast<size_t>(best >= 0 ? best : history.size() - 1)];
    out.metrics = final_metrics;
    std::vector<tracking::MetricPoint> finals;
    int64_t now = tracking::NowMillis();
    for (const auto& [k, v] : final_metrics) finals.push_back({"final." + k, v, now, 0});
    tracker.LogMetrics(run.run_id, finals);

    std::string model = booster.Save("ubj");
    out.model_digest = tracker.LogArtifact(run.run_id, "model/model.ubj", model);
    std::map<std::string, double> importance = booster.FeatureScores(xt.feature_names, "gain");
    tracker.LogArtifact(run.run_id, "feature_importance.json", Json(importance).dump(2));

    Json bundle;
    bundle["format"] = "mloop-model-bundle";
    bundle["format_version"] = kBundleFormatVersion;
    bundle["task"] = TaskName(config.task);
    bundle["label"] = {{"column", config.label.column},
                       {"strip_suffix", config.label.strip_suffix},
                       {"classes", enc.classes}};
    Json inputs = Json::array();
    for (const features::PipelineInput& in : pipeline.inputs()) {
      if (!in.required) continue;
      inputs.push_back({{"name", in.name}, {"type", table::DataTypeName(in.type)}});
    }
    bundle["signature"] = {
        {"inputs", inputs},
        {"output", config.task == Task::kRegression ? "value"
                   : config.task == Task::kBinary   ? "probability of class 1"
                                                    : "probability of each class"}};
    bundle["pipeline"] = pipeline.ToJson();
    bundle["estimator"] = {
        {"type", "xgboost"},    {"library_version", XgbVersion()},
        {"format", "ubj"},      {"artifact", out.model_digest},
        {"rounds", out.rounds}, {"best_round", out.best_round ? Json(*out.best_round) : Json()},
        {"params", params},     {"eval_metrics", eval_metrics}};
    bundle["feature_names"] = xt.feature_names;
    bundle["lineage"] = {
        {"run_id", run.run_id},
        {"train", {{"ref", train_data.version.Ref()}, {"data", train_data.version.data_artifact}}},
        {"validation", valid_data ? Json{{"ref", valid_data->version.Ref()},
                                         {"data", valid_data->version.data_artifact}}
                                  : Json()},
        {"config_digest", config.digest},
        {"mloop_version", kVersion}};
    bundle["metrics"] = final_metrics;
    out.bundle_digest = tracker.LogArtifact(run.run_id, "model/bundle.json", bundle.dump(2));

    out.train_rows = static_cast<int64_t>(xt.num_rows);
    out.validation_rows = static_cast<int64_t>(xv.num_rows);
    out.features = static_cast<int64_t>(xt.num_features);
    out.seconds = static_cast<double>(NowMicros() - started) / 1e6;
    tracker.EndRun(run.run_id, tracking::RunStatus::kFinished);
  } catch (const std::exception& e) {
    try {
      tracker.SetTag(run.run_id, "mloop.error", std::string(e.what()).substr(0, 8000));
      tracker.EndRun(run.run_id, tracking::RunStatus::kFailed);
    } catch (const std::exception&) {
      // Recording the failure failed too; the original error is the one to report.
    }
    throw;
  }
  return out;
}

}  // namespace mloop::train
