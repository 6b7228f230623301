#include "tracking/tracking_store.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "core/error.h"
#include "core/id.h"
#include "tracking/search_filter.h"

namespace mloop::tracking {
namespace {

using store::AsDouble;
using store::AsInt64;
using store::AsText;
using store::IsNull;
using store::Null;
using store::Params;
using store::Row;
using store::Value;

constexpr size_t kMaxKeyLength = 250;     // MLflow's limit for metric, param and tag keys.
constexpr size_t kMaxParamLength = 6000;  // MLflow's limit for a param value.
constexpr size_t kMaxTagLength = 8000;    // MLflow's limit for a tag value.

void CheckKey(std::string_view what, std::string_view key) {
  bool ok = !key.empty() && key.size() <= kMaxKeyLength;
  for (char c : key) ok = ok && static_cast<unsigned char>(c) >= 0x20;
  if (!ok) {
    ThrowInvalidArgument(std::string(what) + " key '" + std::string(key) +
                         "': use 1 to 250 printable characters");
  }
}

void CheckLength(std::string_view what, std::string_view key, std::string_view value, size_t max) {
  if (value.size() > max) {
    ThrowInvalidArgument(std::string(what) + " '" + std::string(key) + "': the value has " +
                         std::to_string(value.size()) + " characters, more than " +
                         std::to_string(max));
  }
}

std::string CurrentUser() {
  if (const char* u = std::getenv("USER"); u != nullptr && *u != '\0') return u;
  return std::to_string(::getuid());
}

Value MetricValue(double v) {
  if (std::isnan(v)) return Null{};
  return v;
}

double ValueOfMetric(const Value& value, const Value& is_nan) {
  if (AsInt64(is_nan) != 0) return std::numeric_limits<double>::quiet_NaN();
  return AsDouble(value);
}

// MLflow's order of "latest": the largest step, then timestamp, then value (NaN smallest).
bool IsLater(const MetricPoint& a, const MetricPoint& b) {
  if (a.step != b.step) return a.step > b.step;
  if (a.timestamp != b.timestamp) return a.timestamp > b.timestamp;
  if (std::isnan(b.value)) return true;
  if (std::isnan(a.value)) return false;
  return a.value >= b.value;
}

Experiment ExperimentFromRow(const Row& r) {
  Experiment e;
  e.experiment_id = AsInt64(r[0]);
  e.name = AsText(r[1]);
  e.artifact_location = AsText(r[2]);
  e.lifecycle_stage = AsText(r[3]);
  e.creation_time = AsInt64(r[4]);
  e.last_update_time = AsInt64(r[5]);
  return e;
}

constexpr std::string_view kExperimentColumns =
    "experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time";
constexpr std::string_view kRunColumns =
    "run_id, experiment_id, run_name, user_id, status, start_time, end_time, lifecycle_stage, "
    "artifact_uri, parent_run_id";

// A Run as the search filter sees it.
class RunView final : public RunFields {
 public:
  explicit RunView(const Run& run) : run_(run) {}
  std::optional<double> Metric(std::string_view key) const override {
    auto it = run_.metrics.find(std::string(key));
    if (it == run_.metrics.end()) return std::nullopt;
    return it->second.value;
  }
  std::optional<std::string_view> Param(std::string_view key) const override {
    return Find(run_.params, key);
  }
  std::optional<std::string_view> Tag(std::string_view key) const override {
    return Find(run_.tags, key);
  }
  std::optional<std::string_view> TextAttribute(std::string_view key) const override {
    if (key == "run_id") return run_.run_id;
    if (key == "run_name") return run_.run_name;
    if (key == "status") return RunStatusName(run_.status);
    if (key == "user_id") return run_.user_id;
    if (key == "artifact_uri") return run_.artifact_uri;
    return std::nullopt;
  }
  std::optional<double> NumberAttribute(std::string_view key) const override {
    if (key == "start_time") return static_cast<double>(run_.start_time);
    if (key == "end_time" && run_.end_time) return static_cast<double>(*run_.end_time);
    return std::nullopt;
  }
  std::vector<DatasetInputFields> Datasets() const override {
    std::vector<DatasetInputFields> out;
    for (const RunInput& i : run_.inputs) out.push_back({i.dataset, i.digest, i.context});
    return out;
  }

 private:
  static std::optional<std::string_view> Find(const std::map<std::string, std::string>& m,
                                              std::string_view key) {
    auto it = m.find(std::string(key));
    if (it == m.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  const Run& run_;
};

}  // namespace

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view RunStatusName(RunStatus status) {
  switch (status) {
    case RunStatus::kRunning:
      return "RUNNING";
    case RunStatus::kScheduled:
      return "SCHEDULED";
    case RunStatus::kFinished:
      return "FINISHED";
    case RunStatus::kFailed:
      return "FAILED";
    case RunStatus::kKilled:
      return "KILLED";
  }
  return "RUNNING";
}

std::optional<RunStatus> RunStatusFromName(std::string_view name) {
  for (RunStatus s : {RunStatus::kRunning, RunStatus::kScheduled, RunStatus::kFinished,
                      RunStatus::kFailed, RunStatus::kKilled}) {
    if (RunStatusName(s) == name) return s;
  }
  return std::nullopt;
}

Json Run::ToJson() const {
  Json j;
  j["run_id"] = run_id;
  j["experiment_id"] = experiment_id;
  j["run_name"] = run_name;
  j["user_id"] = user_id;
  j["status"] = RunStatusName(status);
  j["start_time"] = start_time;
  j["end_time"] = end_time ? Json(*end_time) : Json();
  j["lifecycle_stage"] = lifecycle_stage;
  j["artifact_uri"] = artifact_uri;
  j["parent_run_id"] = parent_run_id ? Json(*parent_run_id) : Json();
  j["metrics"] = Json::object();
  for (const auto& [k, m] : metrics) {
    j["metrics"][k] = std::isfinite(m.value) ? Json(m.value) : Json(std::to_string(m.value));
  }
  j["params"] = params;
  j["tags"] = tags;
  j["inputs"] = Json::array();
  for (const RunInput& i : inputs) {
    j["inputs"].push_back({{"dataset", i.dataset}, {"version", i.version}, {"context", i.context}});
  }
  j["artifacts"] = Json::array();
  for (const RunArtifact& a : artifacts) {
    j["artifacts"].push_back({{"path", a.path}, {"digest", a.digest}, {"size", a.size}});
  }
  return j;
}

Experiment TrackingStore::GetOrCreateExperiment(std::string_view name) {
  if (name.empty() || name.size() > 500) {
    ThrowInvalidArgument("experiment name '" + std::string(name) + "': use 1 to 500 characters");
  }
  Experiment out;
  db_.InTransaction([&] {
    auto row = db_.QueryRow(
        "SELECT " + std::string(kExperimentColumns) + " FROM experiments WHERE name = ?",
        {std::string(name)});
    if (row) {
      out = ExperimentFromRow(*row);
      return;
    }
    int64_t id = 0;
    if (name != "Default") {
      auto max = db_.QueryRow("SELECT MAX(experiment_id) FROM experiments");
      id = (max && !IsNull((*max)[0])) ? AsInt64((*max)[0]) + 1 : 1;
    } else if (db_.QueryRow("SELECT experiment_id FROM experiments WHERE experiment_id = 0")) {
      // Experiment 0 renamed away from "Default": the new Default gets the next id.
      auto max = db_.QueryRow("SELECT MAX(experiment_id) FROM experiments");
      id = AsInt64((*max)[0]) + 1;
    }
    int64_t now = NowMillis();
    std::string location = "mloop-artifacts:/" + std::to_string(id);
    db_.Exec("INSERT INTO experiments (" + std::string(kExperimentColumns) +
                 ") VALUES (?, ?, ?, 'active', ?, ?)",
             {id, std::string(name), location, now, now});
    out = Experiment{id, std::string(name), location, "active", now, now, {}};
  });
  return out;
}

Experiment TrackingStore::GetExperiment(int64_t experiment_id) {
  auto row = db_.QueryRow(
      "SELECT " + std::string(kExperimentColumns) + " FROM experiments WHERE experiment_id = ?",
      {experiment_id});
  if (!row) ThrowNotFound("experiment " + std::to_string(experiment_id) + " does not exist");
  Experiment e = ExperimentFromRow(*row);
  for (const Row& t : db_.Query("SELECT key, value FROM experiment_tags WHERE experiment_id = ?",
                                {experiment_id})) {
    e.tags[AsText(t[0])] = AsText(t[1]);
  }
  return e;
}

Experiment TrackingStore::GetExperimentByName(std::string_view name) {
  auto row =
      db_.QueryRow("SELECT experiment_id FROM experiments WHERE name = ?", {std::string(name)});
  if (!row) ThrowNotFound("experiment '" + std::string(name) + "' does not exist");
  return GetExperiment(AsInt64((*row)[0]));
}

std::vector<Experiment> TrackingStore::ListExperiments() {
  std::vector<Experiment> out;
  for (const Row& r : db_.Query("SELECT " + std::string(kExperimentColumns) +
                                " FROM experiments ORDER BY experiment_id")) {
    out.push_back(ExperimentFromRow(r));
  }
  return out;
}

Run TrackingStore::CreateRun(const NewRun& in) {
  for (const auto& [k, v] : in.tags) {
    CheckKey("tag", k);
    CheckLength("tag", k, v, kMaxTagLength);
  }
  Run run;
  run.run_id = NewId();
  run.experiment_id = in.experiment_id;
  run.run_name = in.run_name.empty() ? "run-" + run.run_id.substr(0, 8) : in.run_name;
  run.user_id = in.user_id.empty() ? CurrentUser() : in.user_id;
  run.status = RunStatus::kRunning;
  run.start_time = in.start_time.value_or(NowMillis());
  run.lifecycle_stage = "active";
  run.tags = in.tags;
  db_.InTransaction([&] {
    Experiment e = GetExperiment(in.experiment_id);
    if (e.lifecycle_stage != "active") {
      ThrowInvalidArgument("experiment '" + e.name + "' is deleted");
    }
    run.artifact_uri = e.artifact_location + "/" + run.run_id + "/artifacts";
    if (in.parent_run_id) run.parent_run_id = ResolveRun(*in.parent_run_id, false);
    db_.Exec("INSERT INTO runs (" + std::string(kRunColumns) +
                 ") VALUES (?, ?, ?, ?, 'RUNNING', ?, NULL, 'active', ?, ?)",
             {run.run_id, run.experiment_id, run.run_name, run.user_id, run.start_time,
              run.artifact_uri, run.parent_run_id ? Value(*run.parent_run_id) : Value(Null{})});
    for (const auto& [k, v] : in.tags) {
      db_.Exec("INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)", {run.run_id, k, v});
    }
  });
  return run;
}

std::string TrackingStore::ResolveRun(std::string_view run_id, bool must_run) {
  std::string text(run_id);
  bool hex = text.size() >= 6 && text.size() <= 32;
  for (char c : text) hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!hex) ThrowInvalidArgument("run id '" + text + "': expected at least 6 hex characters");
  // The prefix is hex, so it holds no LIKE wildcard.
  auto rows = db_.Query("SELECT run_id, status FROM runs WHERE run_id LIKE ?", {text + "%"});
  if (rows.empty()) ThrowNotFound("run '" + text + "' does not exist");
  if (rows.size() > 1) {
    ThrowInvalidArgument("run id prefix '" + text + "' matches " + std::to_string(rows.size()) +
                         " runs; give more characters");
  }
  if (must_run && AsText(rows[0][1]) != "RUNNING") {
    ThrowInvalidArgument("run " + AsText(rows[0][0]) + " has ended (" + AsText(rows[0][1]) +
                         "); it cannot be changed");
  }
  return AsText(rows[0][0]);
}

void TrackingStore::LogParamLocked(const std::string& id, std::string_view key,
                                   std::string_view value) {
  CheckKey("param", key);
  CheckLength("param", key, value, kMaxParamLength);
  auto old =
      db_.QueryRow("SELECT value FROM params WHERE run_id = ? AND key = ?", {id, std::string(key)});
  if (old) {
    if (AsText((*old)[0]) == value) return;
    ThrowInvalidArgument("param '" + std::string(key) + "' of run " + id + " is '" +
                         AsText((*old)[0]) + "'; a param cannot change (to '" + std::string(value) +
                         "')");
  }
  db_.Exec("INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)",
           {id, std::string(key), std::string(value)});
}

void TrackingStore::LogParam(std::string_view run_id, std::string_view key,
                             std::string_view value) {
  db_.InTransaction([&] { LogParamLocked(ResolveRun(run_id, true), key, value); });
}

void TrackingStore::LogParams(std::string_view run_id,
                              const std::map<std::string, std::string>& params) {
  db_.InTransaction([&] {
    std::string id = ResolveRun(run_id, true);
    for (const auto& [k, v] : params) LogParamLocked(id, k, v);
  });
}

void TrackingStore::LogMetricLocked(const std::string& id, const MetricPoint& m) {
  CheckKey("metric", m.key);
  auto seq = db_.QueryRow("SELECT MAX(seq) FROM metrics WHERE run_id = ? AND key = ?", {id, m.key});
  int64_t next = (seq && !IsNull((*seq)[0])) ? AsInt64((*seq)[0]) + 1 : 0;
  int64_t nan = std::isnan(m.value) ? 1 : 0;
  db_.Exec(
      "INSERT INTO metrics (run_id, key, seq, value, is_nan, timestamp, step) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)",
      {id, m.key, next, MetricValue(m.value), nan, m.timestamp, m.step});
  auto latest = db_.QueryRow(
      "SELECT value, is_nan, timestamp, step FROM latest_metrics WHERE run_id = ? AND key = ?",
      {id, m.key});
  if (!latest) {
    db_.Exec(
        "INSERT INTO latest_metrics (run_id, key, value, is_nan, timestamp, step) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        {id, m.key, MetricValue(m.value), nan, m.timestamp, m.step});
    return;
  }
  MetricPoint old{m.key, ValueOfMetric((*latest)[0], (*latest)[1]), AsInt64((*latest)[2]),
                  AsInt64((*latest)[3])};
  if (IsLater(m, old)) {
    db_.Exec(
        "UPDATE latest_metrics SET value = ?, is_nan = ?, timestamp = ?, step = ? "
        "WHERE run_id = ? AND key = ?",
        {MetricValue(m.value), nan, m.timestamp, m.step, id, m.key});
  }
}

void TrackingStore::LogMetric(std::string_view run_id, const MetricPoint& metric) {
  db_.InTransaction([&] { LogMetricLocked(ResolveRun(run_id, true), metric); });
}

void TrackingStore::LogMetrics(std::string_view run_id, const std::vector<MetricPoint>& metrics) {
  db_.InTransaction([&] {
    std::string id = ResolveRun(run_id, true);
    for (const MetricPoint& m : metrics) LogMetricLocked(id, m);
  });
}

void TrackingStore::SetTag(std::string_view run_id, std::string_view key, std::string_view value) {
  CheckKey("tag", key);
  CheckLength("tag", key, value, kMaxTagLength);
  db_.InTransaction([&] {
    // Tags may be set after a run ends (MLflow allows it: notes, review outcomes).
    std::string id = ResolveRun(run_id, false);
    db_.Exec("DELETE FROM tags WHERE run_id = ? AND key = ?", {id, std::string(key)});
    db_.Exec("INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)",
             {id, std::string(key), std::string(value)});
  });
}

void TrackingStore::LogInput(std::string_view run_id, const RunInput& input) {
  db_.InTransaction([&] {
    std::string id = ResolveRun(run_id, true);
    if (!db_.QueryRow("SELECT rows FROM dataset_versions WHERE dataset = ? AND version = ?",
                      {input.dataset, input.version})) {
      ThrowInvalidArgument("run input " + input.dataset + "@" + std::to_string(input.version) +
                           ": no such dataset version");
    }
    db_.Exec(
        "INSERT INTO run_inputs (run_id, dataset, version, context) VALUES (?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        {id, input.dataset, input.version, input.context});
  });
}

std::string TrackingStore::LogArtifact(std::string_view run_id, std::string_view path,
                                       std::string_view bytes) {
  if (path.empty() || path.front() == '/' || path.find("..") != std::string_view::npos) {
    ThrowInvalidArgument("artifact path '" + std::string(path) +
                         "': give a relative path without '..'");
  }
  std::string id = ResolveRun(run_id, true);
  // The bytes first: a run never lists an artifact that is not stored.
  std::string digest = artifacts_.Put(bytes);
  db_.InTransaction([&] {
    db_.Exec("DELETE FROM run_artifacts WHERE run_id = ? AND path = ?", {id, std::string(path)});
    db_.Exec("INSERT INTO run_artifacts (run_id, path, digest, size) VALUES (?, ?, ?, ?)",
             {id, std::string(path), digest, static_cast<int64_t>(bytes.size())});
  });
  return digest;
}

void TrackingStore::EndRun(std::string_view run_id, RunStatus status,
                           std::optional<int64_t> end_time) {
  if (status == RunStatus::kRunning || status == RunStatus::kScheduled) {
    ThrowInvalidArgument("a run ends FINISHED, FAILED or KILLED, not " +
                         std::string(RunStatusName(status)));
  }
  db_.InTransaction([&] {
    std::string id = ResolveRun(run_id, true);
    db_.Exec("UPDATE runs SET status = ?, end_time = ? WHERE run_id = ?",
             {std::string(RunStatusName(status)), end_time.value_or(NowMillis()), id});
  });
}

Run TrackingStore::LoadRun(const Row& r) {
  Run run;
  run.run_id = AsText(r[0]);
  run.experiment_id = AsInt64(r[1]);
  run.run_name = AsText(r[2]);
  run.user_id = AsText(r[3]);
  auto status = RunStatusFromName(AsText(r[4]));
  if (!status) ThrowDataLoss("run " + run.run_id + ": unknown status '" + AsText(r[4]) + "'");
  run.status = *status;
  run.start_time = AsInt64(r[5]);
  if (!IsNull(r[6])) run.end_time = AsInt64(r[6]);
  run.lifecycle_stage = AsText(r[7]);
  run.artifact_uri = AsText(r[8]);
  if (!IsNull(r[9])) run.parent_run_id = AsText(r[9]);
  for (const Row& m :
       db_.Query("SELECT key, value, is_nan, timestamp, step FROM latest_metrics WHERE run_id = ?",
                 {run.run_id})) {
    run.metrics[AsText(m[0])] =
        MetricPoint{AsText(m[0]), ValueOfMetric(m[1], m[2]), AsInt64(m[3]), AsInt64(m[4])};
  }
  for (const Row& p : db_.Query("SELECT key, value FROM params WHERE run_id = ?", {run.run_id})) {
    run.params[AsText(p[0])] = AsText(p[1]);
  }
  for (const Row& t : db_.Query("SELECT key, value FROM tags WHERE run_id = ?", {run.run_id})) {
    run.tags[AsText(t[0])] = AsText(t[1]);
  }
  for (const Row& i :
       db_.Query("SELECT i.dataset, i.version, i.context, v.data_artifact FROM run_inputs i "
                 "JOIN dataset_versions v ON v.dataset = i.dataset AND v.version = i.version "
                 "WHERE i.run_id = ? ORDER BY i.context, i.dataset, i.version",
                 {run.run_id})) {
    run.inputs.push_back({AsText(i[0]), AsInt64(i[1]), AsText(i[2]), AsText(i[3])});
  }
  for (const Row& a :
       db_.Query("SELECT path, digest, size FROM run_artifacts WHERE run_id = ? ORDER BY path",
                 {run.run_id})) {
    run.artifacts.push_back({AsText(a[0]), AsText(a[1]), AsInt64(a[2])});
  }
  return run;
}

Run TrackingStore::GetRun(std::string_view run_id) {
  std::string id = ResolveRun(run_id, false);
  auto row =
      db_.QueryRow("SELECT " + std::string(kRunColumns) + " FROM runs WHERE run_id = ?", {id});
  return LoadRun(*row);
}

std::vector<MetricPoint> TrackingStore::MetricHistory(std::string_view run_id,
                                                      std::string_view key) {
  std::string id = ResolveRun(run_id, false);
  std::vector<MetricPoint> out;
  for (const Row& m :
       db_.Query("SELECT value, is_nan, timestamp, step FROM metrics WHERE run_id = ? AND key = ? "
                 "ORDER BY seq",
                 {id, std::string(key)})) {
    out.push_back({std::string(key), ValueOfMetric(m[0], m[1]), AsInt64(m[2]), AsInt64(m[3])});
  }
  return out;
}

std::vector<Run> TrackingStore::ListRuns(const std::vector<int64_t>& experiment_ids) {
  std::string sql =
      "SELECT " + std::string(kRunColumns) + " FROM runs WHERE lifecycle_stage = 'active'";
  Params params;
  if (!experiment_ids.empty()) {
    sql += " AND experiment_id IN (";
    for (size_t i = 0; i < experiment_ids.size(); ++i) {
      sql += i ? ", ?" : "?";
      params.push_back(experiment_ids[i]);
    }
    sql += ")";
  }
  sql += " ORDER BY start_time DESC, run_id";
  std::vector<Run> out;
  for (const Row& r : db_.Query(sql, params)) out.push_back(LoadRun(r));
  return out;
}

std::vector<Run> TrackingStore::SearchRuns(const std::vector<int64_t>& experiment_ids,
                                           std::string_view filter,
                                           const std::vector<std::string>& order_by,
                                           size_t max_results) {
  SearchFilter parsed = ParseSearchFilter(filter);
  std::vector<OrderBy> order = ParseOrderBy(order_by);
  std::vector<Run> runs;
  for (Run& run : ListRuns(experiment_ids)) {
    if (Matches(parsed, RunView(run))) runs.push_back(std::move(run));
  }
  if (!order.empty()) {
    std::stable_sort(runs.begin(), runs.end(), [&](const Run& a, const Run& b) {
      return CompareRuns(order, RunView(a), RunView(b)) < 0;
    });
  }
  if (max_results > 0 && runs.size() > max_results) runs.resize(max_results);
  return runs;
}

}  // namespace mloop::tracking
