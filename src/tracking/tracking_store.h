// Experiment tracking: experiments, runs, params, metrics with their history, tags, the dataset
// versions a run read and the files it wrote. The records live in the workspace's metadata
// store (migration 3), in MLflow's data model, so that the MLflow-compatible server serves them
// as they are; a run's files are artifacts in the content-addressed store, listed by path.
//
// MLflow's rules hold: a param is written once (the same value again is fine, another value is
// an error); tags are overwritten; every metric value is kept with its step and timestamp, and a
// metric's latest value is the one with the largest step, then timestamp, then value.
//
// A TrackingStore wraps stores it does not own and is as thread-safe as they are (SQLite: one
// per thread; several processes may log to one workspace at once, each change being one
// transaction).
//
// Errors (mloop::Error): not_found for an unknown experiment or run (naming it); invalid_argument
// for a bad name or key, a param logged again with another value, a change to a run that has
// ended, an unknown dataset version for an input; already_exists for an experiment name taken;
// and what the stores throw.
#ifndef MLOOP_TRACKING_TRACKING_STORE_H_
#define MLOOP_TRACKING_TRACKING_STORE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "store/artifact_store.h"
#include "store/metadata_store.h"

namespace mloop::tracking {

// A run's state, spelled as MLflow's RunStatus.
enum class RunStatus {
  kRunning,    // "RUNNING": started, not ended.
  kScheduled,  // "SCHEDULED": created to start later (pipelines).
  kFinished,   // "FINISHED": ended normally.
  kFailed,     // "FAILED": ended by an error.
  kKilled,     // "KILLED": stopped by the user or a signal.
};
std::string_view RunStatusName(RunStatus status);
std::optional<RunStatus> RunStatusFromName(std::string_view name);

struct Experiment {
  int64_t experiment_id = 0;
  std::string name;
  std::string artifact_location;
  std::string lifecycle_stage;  // "active" or "deleted".
  int64_t creation_time = 0;    // Milliseconds since the epoch.
  int64_t last_update_time = 0;
  std::map<std::string, std::string> tags;
};

struct MetricPoint {
  std::string key;
  double value = 0;       // May be NaN or infinite.
  int64_t timestamp = 0;  // Milliseconds since the epoch.
  int64_t step = 0;
};

struct RunInput {
  std::string dataset;
  int64_t version = 0;
  std::string context;  // "training", "validation", "test", ...
  std::string digest;   // The version's data artifact (filled when read back).
};

struct RunArtifact {
  std::string path;    // In the run's artifact tree: "model/bundle.json".
  std::string digest;  // The artifact holding the bytes.
  int64_t size = 0;
};

struct Run {
  std::string run_id;
  int64_t experiment_id = 0;
  std::string run_name;
  std::string user_id;
  RunStatus status = RunStatus::kRunning;
  int64_t start_time = 0;
  std::optional<int64_t> end_time;
  std::string lifecycle_stage;
  std::string artifact_uri;
  std::optional<std::string> parent_run_id;
  std::map<std::string, MetricPoint> metrics;  // Latest value of each metric.
  std::map<std::string, std::string> params;
  std::map<std::string, std::string> tags;
  std::vector<RunInput> inputs;
  std::vector<RunArtifact> artifacts;

  // {run_id, experiment_id, run_name, user_id, status, start_time, end_time, lifecycle_stage,
  //  artifact_uri, parent_run_id, metrics: {key: value}, params, tags, inputs, artifacts}
  Json ToJson() const;
};

struct NewRun {
  int64_t experiment_id = 0;
  std::string run_name;  // Empty: a name is made up from the id.
  std::optional<std::string> parent_run_id;
  std::map<std::string, std::string> tags;
  std::optional<int64_t> start_time;  // Default: now.
  std::string user_id;                // Empty: $USER.
};

class TrackingStore {
 public:
  TrackingStore(store::MetadataStore& db, store::ArtifactStore& artifacts)
      : db_(db), artifacts_(artifacts) {}

  // The experiment named `name`, created (active, with the next id) when there is none.
  // "Default" is experiment 0, as in MLflow.
  Experiment GetOrCreateExperiment(std::string_view name);
  Experiment GetExperiment(int64_t experiment_id);
  // not_found when no experiment has that name.
  Experiment GetExperimentByName(std::string_view name);
  std::vector<Experiment> ListExperiments();

  // Creates a run, RUNNING, in one transaction with its tags.
  Run CreateRun(const NewRun& run);

  void LogParam(std::string_view run_id, std::string_view key, std::string_view value);
  void LogParams(std::string_view run_id, const std::map<std::string, std::string>& params);
  void LogMetric(std::string_view run_id, const MetricPoint& metric);
  // Many metrics in one transaction (a training round's metrics, a whole history).
  void LogMetrics(std::string_view run_id, const std::vector<MetricPoint>& metrics);
  void SetTag(std::string_view run_id, std::string_view key, std::string_view value);
  void LogInput(std::string_view run_id, const RunInput& input);
  // Stores `bytes` as an artifact and lists it at `path` in the run's tree (replacing what was
  // there). Returns the digest.
  std::string LogArtifact(std::string_view run_id, std::string_view path, std::string_view bytes);

  // Ends a run with `status` (not RUNNING) at `end_time` (default: now).
  void EndRun(std::string_view run_id, RunStatus status,
              std::optional<int64_t> end_time = std::nullopt);

  // A run with its latest metrics, params, tags, inputs and artifacts. Accepts a unique
  // prefix of 6 or more characters of the id.
  Run GetRun(std::string_view run_id);
  // Every value logged for `key`, in logging order.
  std::vector<MetricPoint> MetricHistory(std::string_view run_id, std::string_view key);
  // The runs of the experiments (all experiments when empty), newest first, active only.
  std::vector<Run> ListRuns(const std::vector<int64_t>& experiment_ids = {});

  // As ListRuns, keeping the runs that match `filter` (MLflow's search grammar,
  // search_filter.h; empty: all) in the order of `order_by` (MLflow's "metrics.auc DESC";
  // empty: newest first), at most `max_results` (0: no limit). The filter is evaluated in
  // memory over the experiments' runs. Throws invalid_argument for a filter or order that
  // does not parse, with the column at fault.
  std::vector<Run> SearchRuns(const std::vector<int64_t>& experiment_ids, std::string_view filter,
                              const std::vector<std::string>& order_by, size_t max_results = 0);

 private:
  // The full id of `run_id` (or of the run it is a unique prefix of); with `must_run`, throws
  // invalid_argument when the run has ended.
  std::string ResolveRun(std::string_view run_id, bool must_run);
  void LogMetricLocked(const std::string& run_id, const MetricPoint& m);
  void LogParamLocked(const std::string& run_id, std::string_view key, std::string_view value);
  Run LoadRun(const store::Row& row);

  store::MetadataStore& db_;
  store::ArtifactStore& artifacts_;
};

// Milliseconds since the epoch, now.
int64_t NowMillis();

}  // namespace mloop::tracking

#endif  // MLOOP_TRACKING_TRACKING_STORE_H_
