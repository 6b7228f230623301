#include "eval/evaluate.h"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <set>

#include "core/digest.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "core/time.h"
#include "core/version.h"
#include "data/catalog.h"
#include "data/dataset_files.h"
#include "eval/fairness.h"
#include "eval/gates.h"
#include "eval/metrics.h"
#include "eval/model_card.h"
#include "eval/resolve.h"
#include "eval/slices.h"
#include "model/bundle.h"
#include "model/shap.h"
#include "registry/model_registry.h"
#include "stats/bootstrap.h"
#include "stats/significance.h"
#include "table/csv_reader.h"
#include "table/jsonl_reader.h"
#include "table/table_ops.h"
#include "tracking/tracking_store.h"
#include "train/predict.h"

namespace mloop::eval {
namespace {

namespace fs = std::filesystem;

constexpr int kReportFormatVersion = 1;

using Resolved = ResolvedModel;

// One evaluation set: its rows that have a label, the labels as the model's numbers.
struct EvalSet {
  std::string name;
  std::optional<data::DatasetVersion> version;
  table::Table table;
  table::Schema schema;  // With roles when it is a dataset version.
  std::vector<float> labels;
  int64_t rows_in = 0;
};

EvalSet LoadEvalSet(store::Workspace& ws, const std::string& text, const model::LoadedModel& m) {
  EvalSet s;
  s.name = text;
  table::Table all;
  if (!fs::exists(text) && text.find('@') != std::string::npos) {
    data::DatasetCatalog catalog(ws.metadata());
    s.version = catalog.Resolve(data::ParseDatasetRef(text));
    s.name = s.version->Ref();
    all = data::LoadVersionTable(ws, *s.version);
    s.schema = s.version->schema;
  } else {
    if (!fs::exists(text)) ThrowNotFound(text + ": no such file (nor a dataset NAME@VERSION)");
    std::string ext = fs::path(text).extension().string();
    all = ext == ".jsonl" || ext == ".ndjson" ? table::ReadJsonl(text).table
                                              : table::ReadCsv(text).table;
    s.schema = all.schema();
  }
  s.rows_in = static_cast<int64_t>(all.num_rows());
  const table::Column* label = all.FindColumn(m.label_column());
  if (label == nullptr) {
    ThrowInvalidArgument(s.name + ": no label column '" + m.label_column() +
                         "' (the model's label); an evaluation set needs the true values");
  }
  std::map<std::string, float> class_of;
  for (size_t i = 0; i < m.classes().size(); ++i) {
    // A class may stand for several values, joined by '|' (label.map in the training config).
    std::string names = m.classes()[i];
    size_t start = 0;
    while (true) {
      size_t bar = names.find('|', start);
      class_of[names.substr(start, bar - start)] = static_cast<float>(i);
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
  }
  std::vector<size_t> keep;
  const std::string& suffix = m.label_strip_suffix();
  for (size_t r = 0; r < label->size(); ++r) {
    if (label->IsNull(r)) continue;
    if (m.task() == "regression") {
      if (!table::IsNumeric(label->type()) && label->type() != table::DataType::kBool) {
        ThrowInvalidArgument(s.name + ": label column '" + m.label_column() +
                             "' is not a number, and the model is a regression");
      }
      s.labels.push_back(static_cast<float>(label->NumberAt(r)));
    } else {
      std::string v = label->ValueToString(r);
      if (!suffix.empty() && v.size() >= suffix.size() &&
          v.compare(v.size() - suffix.size(), suffix.size(), suffix) == 0) {
        v.resize(v.size() - suffix.size());
      }
      auto it = class_of.find(v);
      if (it == class_of.end()) {
        ThrowInvalidArgument(s.name + ": label '" + v + "' of " + m.label_column() + " (line " +
                             std::to_string(all.line_numbers()[r]) +
                             ") is not one of the model's classes");
      }
      s.labels.push_back(it->second);
    }
    keep.push_back(r);
  }
  if (keep.empty()) ThrowInvalidArgument(s.name + ": no row has a label");
  s.table = keep.size() == all.num_rows() ? std::move(all) : table::TakeRows(all, keep);
  return s;
}

size_t Classes(const model::LoadedModel& m) {
  return m.task() == "regression" ? 0 : m.classes().size();
}

Json TaskReport(size_t classes, std::span<const float> y, std::span<const float> p,
                const BinaryReportOptions& options, const std::vector<std::string>& names) {
  if (classes == 0) return RegressionReport(y, p);
  if (classes == 2) return BinaryReport(y, p, {}, options);
  return MulticlassReport(y, p, classes, {}, names);
}

template <typename T>
std::vector<T> Gather(std::span<const T> v, std::span<const uint32_t> rows, size_t per_row) {
  std::vector<T> out;
  out.reserve(rows.size() * per_row);
  for (uint32_t r : rows) {
    for (size_t k = 0; k < per_row; ++k) out.push_back(v[r * per_row + k]);
  }
  return out;
}

// A metric of the rows `idx` (the bootstrap's resample).
double MetricOn(const std::string& name, size_t classes, std::span<const float> y,
                std::span<const float> p, std::span<const uint32_t> idx, double threshold) {
  const size_t k = classes > 2 ? classes : 1;
  std::vector<float> ys = Gather(y, idx, 1), ps = Gather(p, idx, k);
  if (classes == 0) {
    RegressionMetrics m = ComputeRegression(ys, ps);
    if (name == "rmse") return m.rmse;
    if (name == "mae") return m.mae;
    return m.r2;
  }
  if (classes == 2) {
    if (name == "roc_auc") return RocAuc(ys, ps);
    if (name == "log_loss") return LogLoss(ys, ps);
    if (name == "brier") return Brier(ys, ps);
    ThresholdMetrics t = MetricsAt(ys, ps, {}, threshold);
    return name == "f1" ? t.f1 : t.accuracy;
  }
  if (name == "log_loss") return MultiLogLoss(ys, ps, classes);
  std::vector<size_t> pred = PredictedClasses(ps, classes);
  double right = 0;
  for (size_t i = 0; i < ys.size(); ++i) right += pred[i] == static_cast<size_t>(ys[i]);
  return right / static_cast<double>(ys.size());
}

std::vector<std::string> DeltaMetrics(size_t classes) {
  if (classes == 0) return {"rmse", "mae", "r2"};
  if (classes == 2) return {"roc_auc", "accuracy", "f1", "log_loss", "brier"};
  return {"accuracy", "log_loss"};
}

// Per-row losses: what a paired t-test compares.
std::vector<double> RowLosses(const std::string& kind, size_t classes, std::span<const float> y,
                              std::span<const float> p) {
  std::vector<double> out(y.size());
  for (size_t i = 0; i < y.size(); ++i) {
    if (classes == 0) {
      double d = static_cast<double>(p[i]) - y[i];
      out[i] = kind == "mae" ? std::fabs(d) : d * d;
    } else if (classes == 2) {
      double q = std::clamp(static_cast<double>(p[i]), 1e-15, 1 - 1e-15);
      out[i] =
          kind == "brier" ? (q - y[i]) * (q - y[i]) : (y[i] > 0.5 ? -std::log(q) : -std::log1p(-q));
    } else {
      double q = std::clamp(static_cast<double>(p[i * classes + static_cast<size_t>(y[i])]), 1e-15,
                            1 - 1e-15);
      out[i] = -std::log(q);
    }
  }
  return out;
}

Json TestJson(const stats::TestResult& t) {
  return {{"method", t.method},
          {"statistic", std::isfinite(t.statistic) ? Json(t.statistic) : Json()},
          {"p_value", std::isfinite(t.p_value) ? Json(t.p_value) : Json()},
          {"df", t.df}};
}

std::vector<uint8_t> Correct(size_t classes, std::span<const float> y, std::span<const float> p,
                             double threshold) {
  std::vector<uint8_t> out(y.size());
  if (classes == 2) {
    for (size_t i = 0; i < y.size(); ++i) out[i] = (p[i] >= threshold) == (y[i] > 0.5);
  } else {
    std::vector<size_t> pred = PredictedClasses(p, classes);
    for (size_t i = 0; i < y.size(); ++i) out[i] = pred[i] == static_cast<size_t>(y[i]);
  }
  return out;
}

// The comparison of candidate and champion predictions on the same rows.
Json Compare(const EvaluateRequest& req, size_t classes, std::span<const float> y,
             std::span<const float> pa, std::span<const float> pb, double ta, double tb) {
  Json deltas = Json::object();
  if (req.bootstrap > 0) {
    size_t threads = std::max<size_t>(1, ThreadPool::Default().size());
    for (const std::string& name : DeltaMetrics(classes)) {
      stats::BootstrapInterval b = stats::PairedBootstrap(
          y.size(),
          [&](std::span<const uint32_t> idx) {
            return MetricOn(name, classes, y, pa, idx, ta) -
                   MetricOn(name, classes, y, pb, idx, tb);
          },
          req.bootstrap, req.confidence, req.seed, threads);
      deltas[name] = {{"delta", b.estimate},      {"low", b.low},
                      {"high", b.high},           {"std_error", b.std_error},
                      {"resamples", b.resamples}, {"confidence", b.confidence}};
    }
  }
  Json tests = Json::object();
  if (classes == 2) {
    stats::DeLongResult d = stats::DeLong(y, pa, pb, req.confidence);
    tests["roc_auc"] = {{"method", "delong"},       {"statistic", d.z},
                        {"p_value", d.p_value},     {"difference", d.difference},
                        {"std_error", d.std_error}, {"ci_low", d.ci_low},
                        {"ci_high", d.ci_high}};
  }
  if (classes >= 2) {
    std::vector<uint8_t> ca = Correct(classes, y, pa, ta), cb = Correct(classes, y, pb, tb);
    Json t = TestJson(stats::McNemar(ca, cb));
    int64_t b = 0, c = 0;
    for (size_t i = 0; i < ca.size(); ++i) {
      b += ca[i] && !cb[i];
      c += !ca[i] && cb[i];
    }
    t["candidate_only_right"] = b;
    t["champion_only_right"] = c;
    tests["accuracy"] = t;
  }
  for (const std::string& kind : classes == 0   ? std::vector<std::string>{"rmse", "mse", "mae"}
                                 : classes == 2 ? std::vector<std::string>{"log_loss", "brier"}
                                                : std::vector<std::string>{"log_loss"}) {
    std::string loss = kind == "rmse" ? "mse" : kind;
    std::vector<double> la = RowLosses(loss, classes, y, pa), lb = RowLosses(loss, classes, y, pb);
    tests[kind] = TestJson(stats::PairedTTest(la, lb));
    tests[kind]["on"] = loss == "mse"     ? "squared errors"
                        : loss == "mae"   ? "absolute errors"
                        : loss == "brier" ? "squared errors"
                                          : "per-row log losses";
  }
  return {{"deltas", deltas}, {"tests", tests}};
}

Groups SliceGroups(const table::Table& t, const std::string& spec, const std::string& set) {
  std::string column = spec;
  size_t buckets = 0;
  if (size_t colon = spec.rfind(':'); colon != std::string::npos) {
    column = spec.substr(0, colon);
    try {
      buckets = std::stoul(spec.substr(colon + 1));
    } catch (const std::exception&) {
      ThrowInvalidArgument("--slice " + spec + ": expected COLUMN or COLUMN:BUCKETS");
    }
    if (buckets < 2) ThrowInvalidArgument("--slice " + spec + ": give 2 or more buckets");
  }
  const table::Column* c = t.FindColumn(column);
  if (c == nullptr)
    ThrowInvalidArgument("--slice " + spec + ": no column '" + column + "' in " + set);
  Groups g = buckets > 0 ? GroupsByQuantiles(*c, buckets) : GroupsByValue(*c);
  g.column = column;
  return g;
}

double Seconds(int64_t micros) { return static_cast<double>(micros) / 1e6; }

double CpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Single-row latency and batch throughput through the runtime (pipeline + estimator).
Json MeasureLatency(const EvaluateRequest& req, const model::LoadedModel& m,
                    const table::Table& t) {
  const size_t n = t.num_rows();
  const size_t count = std::min<size_t>(n, static_cast<size_t>(req.latency_rows));
  std::vector<table::Table> single;
  for (size_t i = 0; i < count; ++i) {
    size_t row = count == n ? i : i * n / count;
    std::vector<size_t> one = {row};
    single.push_back(table::TakeRows(t, one));
  }
  std::vector<float> out(m.num_outputs());
  auto score = [&](const table::Table& one) {
    features::FeatureMatrix x = m.Transform(one);
    m.Predict(x.values, 1, out);
  };
  for (size_t i = 0; i < std::min<size_t>(10, single.size()); ++i) score(single[i]);  // Warm.
  std::vector<double> ms;
  for (const table::Table& one : single) {
    int64_t start = NowMicros();
    score(one);
    ms.push_back(static_cast<double>(NowMicros() - start) / 1e3);
  }
  std::sort(ms.begin(), ms.end());
  Json j;
  j["single_row_samples"] = ms.size();
  if (!ms.empty()) {
    j["p50_ms"] = stats::LinearQuantile(ms, 0.50);
    j["p95_ms"] = stats::LinearQuantile(ms, 0.95);
    j["p99_ms"] = stats::LinearQuantile(ms, 0.99);
    j["max_ms"] = ms.back();
  }
  double cpu0 = CpuSeconds();
  int64_t wall0 = NowMicros();
  std::vector<float> p = m.PredictTable(t);
  double wall = Seconds(NowMicros() - wall0), cpu = CpuSeconds() - cpu0;
  j["batch_rows"] = n;
  j["batch_seconds"] = wall;
  j["rows_per_second"] = wall > 0 ? Json(static_cast<double>(n) / wall) : Json();
  j["cpu_seconds_per_1000"] = cpu / static_cast<double>(n) * 1000;
  j["price_per_cpu_hour"] = req.price_per_cpu_hour;
  j["cost_per_1000"] =
      req.price_per_cpu_hour > 0
          ? Json(cpu / static_cast<double>(n) * 1000 / 3600 * req.price_per_cpu_hour)
          : Json();
  j["threads"] = ThreadPool::Default().size();
  return j;
}

// Mean |SHAP| per feature (summed over classes) on up to explain_rows rows of `t`.
Json Importance(const EvaluateRequest& req, const Resolved& r, const table::Table& t) {
  const model::LoadedModel& m = r.run.model;
  const size_t n = std::min<size_t>(t.num_rows(), static_cast<size_t>(req.explain_rows));
  std::vector<size_t> rows(n);
  for (size_t i = 0; i < n; ++i) rows[i] = n == t.num_rows() ? i : i * t.num_rows() / n;
  features::FeatureMatrix x = m.Transform(table::TakeRows(t, rows));
  std::vector<double> mean;
  size_t groups = m.num_groups();
  std::string method;
  if (m.trees()) {
    mean = model::TreeShap::FromXgboostUbjson(r.estimator_bytes).MeanAbsShap(x.values, n);
    method = "tree_shap";
  } else {
    std::vector<double> means = m.feature_means();
    for (double& v : means) {
      if (!std::isfinite(v)) v = 0;
    }
    std::vector<double> e(n * groups * (m.num_features() + 1));
    model::ExplainLinear(*m.linear(), means, x.values, n, e);
    mean = model::MeanAbsShap(e, n, groups, m.num_features());
    method = "linear_shap";
  }
  std::vector<std::pair<std::string, double>> ranked;
  for (size_t j = 0; j < m.num_features(); ++j) {
    double s = 0;
    for (size_t g = 0; g < groups; ++g) s += mean[g * m.num_features() + j];
    ranked.push_back({m.feature_names()[j], s});
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  Json features = Json::array();
  for (const auto& [name, v] : ranked) {
    features.push_back({{"feature", name}, {"mean_abs_shap", std::isfinite(v) ? Json(v) : Json()}});
  }
  return {{"method", method}, {"rows", n}, {"features", features}};
}

// Limitations the numbers show, for the model card.
std::vector<std::string> MeasuredLimitations(const Json& report) {
  std::vector<std::string> out;
  for (const Json& d : report["datasets"]) {
    if (d.contains("fairness")) {
      for (const auto& [col, f] : d["fairness"].items()) {
        for (const Json& g : f["groups"]) {
          if (g.value("count", 0) < 30) {
            out.push_back(d["data"].get<std::string>() + ": group " + col + "=" +
                          g.value("group", "") + " has " + std::to_string(g.value("count", 0)) +
                          " rows; its rates are unreliable");
          }
        }
      }
    }
    const Json& m = d["metrics"];
    if (m.contains("expected_calibration_error") && m["expected_calibration_error"].is_number() &&
        m["expected_calibration_error"].get<double>() > 0.05) {
      out.push_back(d["data"].get<std::string>() +
                    ": probabilities are miscalibrated (expected "
                    "calibration error " +
                    std::to_string(m["expected_calibration_error"].get<double>()) + ")");
    }
    if (d.value("rows_unscored", 0) > 0) {
      out.push_back(d["data"].get<std::string>() + ": " +
                    std::to_string(d.value("rows_unscored", 0)) +
                    " rows could not be scored (missing inputs) and are left out");
    }
  }
  return out;
}

// Numbers of a metrics object, for logging as run metrics.
void AddMetrics(const Json& metrics, const std::string& prefix,
                std::vector<tracking::MetricPoint>* out, int64_t now) {
  if (!metrics.is_object()) return;
  for (const auto& [k, v] : metrics.items()) {
    if (v.is_number() && std::isfinite(v.get<double>())) {
      out->push_back({prefix + k, v.get<double>(), now, 0});
    }
  }
}

}  // namespace

EvaluateOutcome Evaluate(store::Workspace& ws, const EvaluateRequest& req,
                         const EvaluateProgress& progress) {
  const int64_t started = NowMicros();
  auto stage = [&](const std::string& s) {
    if (progress) progress(s);
  };
  if (req.data.empty()) ThrowInvalidArgument("--data: give at least one evaluation set");
  if (!(req.threshold >= 0 && req.threshold <= 1)) {
    ThrowInvalidArgument("--threshold: expected a probability in [0, 1]");
  }
  if (req.bootstrap < 0 || req.latency_rows < 0 || req.explain_rows < 0) {
    ThrowInvalidArgument("--bootstrap, --latency-rows and --explain-rows take counts >= 0");
  }
  if (!(req.confidence > 0 && req.confidence < 1)) {
    ThrowInvalidArgument("--confidence: expected a share strictly between 0 and 1");
  }
  std::optional<GatesConfig> gates;
  if (req.gates) gates = LoadGates(*req.gates);
  // The gates' slice and fairness columns are measured whether or not they were asked for.
  std::vector<std::string> slice_specs = req.slices;
  std::vector<std::string> gate_sensitive;
  if (gates) {
    for (const Gate& g : gates->gates) {
      auto has_slice = [&](const std::string& c) {
        for (const std::string& s : slice_specs) {
          if (s == c || s.rfind(c + ":", 0) == 0) return true;
        }
        return false;
      };
      if (g.kind == Gate::Kind::kSlice && !has_slice(g.column)) slice_specs.push_back(g.column);
      if (g.kind == Gate::Kind::kFairness) gate_sensitive.push_back(g.column);
    }
  }
  BinaryReportOptions options;
  options.threshold = req.threshold;
  if (req.threshold_metric)
    options.choose_threshold = ParseThresholdObjective(*req.threshold_metric);

  Resolved cand = ResolveModel(ws, req.model, "--model");
  const model::LoadedModel& m = cand.run.model;
  const size_t classes = Classes(m);

  // The champion: given, or the registered name's champion alias.
  std::optional<Resolved> champ;
  std::string champion_note;
  if (req.against && *req.against != "none") {
    champ = ResolveModel(ws, *req.against, "--against");
  } else if (!req.against && cand.version) {
    registry::ModelRegistry reg(ws.metadata(), ws.artifacts(), ws.root());
    registry::RegisteredModel rm = reg.GetModel(cand.version->name);
    auto it = rm.aliases.find(std::string(registry::kChampion));
    if (it == rm.aliases.end()) {
      champion_note = cand.version->name + " has no champion yet";
    } else if (it->second == cand.version->version) {
      champion_note = "the candidate is the champion";
    } else {
      champ = ResolveModel(ws, cand.version->name + "@" + std::to_string(it->second), "champion");
    }
  } else if (!req.against) {
    champion_note = "the candidate is not a registered model version; give --against";
  } else {
    champion_note = "--against none";
  }
  if (champ) {
    const model::LoadedModel& c = champ->run.model;
    if (c.task() != m.task() || c.classes() != m.classes() ||
        c.label_column() != m.label_column()) {
      ThrowInvalidArgument("--against " + champ->ref + ": the champion predicts " +
                           c.label_column() + " (" + c.task() + ") and the candidate " +
                           m.label_column() + " (" + m.task() +
                           "); they must share the task, label and classes");
    }
  }

  Json report;
  report["format"] = "mloop-evaluation";
  report["format_version"] = kReportFormatVersion;
  report["model"] = cand.Describe();
  report["champion"] = champ ? champ->Describe() : Json();
  if (!champion_note.empty()) report["champion_note"] = champion_note;
  report["options"] = {
      {"threshold", req.threshold},
      {"threshold_metric", req.threshold_metric ? Json(*req.threshold_metric) : Json()},
      {"bootstrap", req.bootstrap},
      {"confidence", req.confidence},
      {"seed", req.seed},
      {"slices", slice_specs}};
  report["datasets"] = Json::array();

  std::vector<EvalSet> sets;
  for (const std::string& text : req.data) {
    stage("metrics " + text);
    EvalSet s = LoadEvalSet(ws, text, m);
    std::vector<float> pa = m.PredictTable(s.table);
    std::vector<float> pb;
    if (champ) pb = champ->run.model.PredictTable(s.table);
    // Rows either model could not score (a linear model's missing input) are left out.
    const size_t k = classes > 2 ? classes : 1;
    std::vector<size_t> scored;
    for (size_t r = 0; r < s.labels.size(); ++r) {
      bool ok = !std::isnan(pa[r * k]) && (pb.empty() || !std::isnan(pb[r * k]));
      if (ok) scored.push_back(r);
    }
    const int64_t unscored = static_cast<int64_t>(s.labels.size() - scored.size());
    if (unscored > 0) {
      if (scored.empty()) ThrowInvalidArgument(s.name + ": no row could be scored");
      std::vector<uint32_t> idx(scored.begin(), scored.end());
      s.labels = Gather(std::span<const float>(s.labels), idx, 1);
      pa = Gather(std::span<const float>(pa), idx, k);
      if (!pb.empty()) pb = Gather(std::span<const float>(pb), idx, k);
      s.table = table::TakeRows(s.table, scored);
    }
    Json d = TaskReport(classes, s.labels, pa, options, m.classes());
    d["data"] = s.name;
    d["rows_in"] = s.rows_in;
    d["rows"] = s.labels.size();
    d["rows_unscored"] = unscored;
    const double ta = d.value("threshold", req.threshold);
    // Slices.
    if (!slice_specs.empty()) {
      Json slices = Json::object();
      for (const std::string& spec : slice_specs) {
        Groups g = SliceGroups(s.table, spec, s.name);
        BinaryReportOptions so = options;
        so.threshold = ta;
        so.choose_threshold.reset();
        slices[g.column] = SliceReports(g, classes, s.labels, pa, {}, so);
      }
      d["slices"] = slices;
    }
    // Fairness, binary tasks: each sensitive column.
    std::vector<std::string> sensitive = req.sensitive;
    if (sensitive.empty()) {
      for (const table::Field& f : s.schema.fields()) {
        if (f.role == table::ColumnRole::kSensitive) sensitive.push_back(f.name);
      }
    }
    for (const std::string& c : gate_sensitive) {
      if (std::find(sensitive.begin(), sensitive.end(), c) == sensitive.end()) {
        sensitive.push_back(c);
      }
    }
    if (classes == 2 && !sensitive.empty()) {
      Json fairness = Json::object();
      for (const std::string& col : sensitive) {
        const table::Column* c = s.table.FindColumn(col);
        if (c == nullptr) {
          ThrowInvalidArgument("--sensitive " + col + ": no column '" + col + "' in " + s.name);
        }
        Groups g = GroupsByValue(*c);
        g.column = col;
        FairnessOptions fo;
        fo.threshold = ta;
        if (auto it = req.privileged.find(col); it != req.privileged.end()) {
          auto pos = std::find(g.names.begin(), g.names.end(), it->second);
          if (pos == g.names.end()) {
            ThrowInvalidArgument("--privileged " + col + "=" + it->second + ": no such value in " +
                                 s.name);
          }
          fo.privileged.push_back(static_cast<size_t>(pos - g.names.begin()));
        }
        fairness[col] = FairnessToJson(ComputeFairness(g, s.labels, pa, {}, fo));
      }
      d["fairness"] = fairness;
    } else if (classes != 2 && !sensitive.empty()) {
      d["fairness_note"] = "fairness is measured for binary tasks";
    }
    // The champion on the same rows.
    if (champ) {
      stage("comparison " + s.name);
      Json cd = TaskReport(classes, s.labels, pb, options, m.classes());
      d["champion_metrics"] = cd["metrics"];
      const double tb = cd.value("threshold", req.threshold);
      d["champion_threshold"] = tb;
      d["comparison"] = Compare(req, classes, s.labels, pa, pb, ta, tb);
    }
    report["datasets"].push_back(std::move(d));
    sets.push_back(std::move(s));
  }
  report["metrics"] = report["datasets"][0]["metrics"];

  if (req.latency_rows > 0) {
    stage("latency");
    report["latency"] = MeasureLatency(req, m, sets[0].table);
  }
  if (req.explain_rows > 0) {
    stage("explanations");
    report["importance"] = Importance(req, cand, sets[0].table);
  }
  report["card"] = {{"intended_use", req.intended_use}, {"limitations", req.limitations}};
  report["card"]["measured_limitations"] = MeasuredLimitations(report);

  EvaluateOutcome out;
  if (gates) {
    report["gates"] = ApplyGates(*gates, report);
    out.decision = report["gates"]["decision"].get<std::string>();
  }
  report["mloop_version"] = kVersion;
  report["seconds"] = Seconds(NowMicros() - started);

  // Keep it: an evaluation run in the candidate's experiment.
  stage("recording");
  tracking::TrackingStore tracker(ws.metadata(), ws.artifacts());
  tracking::Run cand_run = tracker.GetRun(cand.run.run_id);
  tracking::NewRun nr;
  nr.experiment_id = cand_run.experiment_id;
  nr.run_name = "evaluate-" +
                (cand.version ? cand.version->name + "-v" + std::to_string(cand.version->version)
                              : cand.run.run_id.substr(0, 8));
  nr.tags = {{"mloop.run_type", "evaluation"},
             {"mloop.evaluated_run", cand.run.run_id},
             {"mloop.version", kVersion}};
  if (cand.version)
    nr.tags["mloop.evaluated_model"] =
        cand.version->name + "@" + std::to_string(cand.version->version);
  if (champ) nr.tags["mloop.champion_run"] = champ->run.run_id;
  if (out.decision) nr.tags["mloop.decision"] = *out.decision;
  tracking::Run run = tracker.CreateRun(nr);
  out.run_id = run.run_id;
  report["run_id"] = run.run_id;
  try {
    std::map<std::string, std::string> params = {{"model", req.model},
                                                 {"threshold", std::to_string(req.threshold)},
                                                 {"bootstrap", std::to_string(req.bootstrap)},
                                                 {"seed", std::to_string(req.seed)}};
    for (size_t i = 0; i < sets.size(); ++i) params["data." + std::to_string(i)] = sets[i].name;
    if (champ) params["against"] = champ->ref;
    if (gates) params["gates_digest"] = gates->digest;
    tracker.LogParams(run.run_id, params);
    for (const EvalSet& s : sets) {
      if (s.version) {
        tracker.LogInput(run.run_id, {s.version->dataset, s.version->version, "evaluation", ""});
      }
    }
    std::vector<tracking::MetricPoint> points;
    int64_t now = tracking::NowMillis();
    AddMetrics(report["datasets"][0]["metrics"], "", &points, now);
    if (champ) AddMetrics(report["datasets"][0]["champion_metrics"], "champion.", &points, now);
    if (report.contains("latency")) {
      for (const char* key : {"p50_ms", "p95_ms", "p99_ms", "rows_per_second"}) {
        if (report["latency"].contains(key) && report["latency"][key].is_number()) {
          points.push_back(
              {std::string("latency.") + key, report["latency"][key].get<double>(), now, 0});
        }
      }
    }
    tracker.LogMetrics(run.run_id, points);
    out.card_html = RenderModelCard(report);
    out.card_digest = tracker.LogArtifact(run.run_id, "evaluation/model_card.html", out.card_html);
    report["model_card"] = out.card_digest;
    const std::string text = report.dump(2);
    out.report_digest = tracker.LogArtifact(run.run_id, "evaluation/report.json", text);
    tracker.EndRun(run.run_id, tracking::RunStatus::kFinished);
  } catch (const std::exception& e) {
    try {
      tracker.SetTag(run.run_id, "mloop.error", std::string(e.what()).substr(0, 8000));
      tracker.EndRun(run.run_id, tracking::RunStatus::kFailed);
    } catch (const std::exception&) {
    }
    throw;
  }
  if (gates && cand.version) {
    registry::ModelRegistry reg(ws.metadata(), ws.artifacts(), ws.root());
    Json summary = {{"decision", *out.decision},
                    {"evaluation_run", run.run_id},
                    {"model_card", out.card_digest},
                    {"failed", report["gates"]["failed"]}};
    reg.RecordGateDecision(cand.version->name, cand.version->version, *out.decision,
                           out.report_digest, summary, req.actor);
    report["registered_decision"] = {{"model", cand.version->name},
                                     {"version", cand.version->version}};
  }
  report["report_digest"] = out.report_digest;
  out.report = std::move(report);
  return out;
}

}  // namespace mloop::eval
