#include "store/migrations.h"

namespace mloop::store {

std::span<const Migration> Migrations() {
  static const std::vector<Migration>* const kMigrations = new std::vector<Migration>{
      {
          1,
          "workspace",
          {
              // Facts about the workspace as a whole: created_at (ISO 8601
              // UTC), mloop_version (of the mloop that created it),
              // workspace_id (32 hex).
              "CREATE TABLE workspace ("
              "key TEXT PRIMARY KEY, "
              "value TEXT NOT NULL)",
          },
      },
      {
          2,
          "datasets",
          {
              // A dataset is a name; its versions are immutable.
              "CREATE TABLE datasets ("
              "name TEXT PRIMARY KEY, "
              "created_at TEXT NOT NULL)",
              // Every ingestion that got as far as a report, accepted or rejected: the
              // report, quarantine and metrics of a rejected batch are kept too.
              // ingest_key: SHA-256 over the sources' digests and the contract digest, so a
              // byte-identical re-ingest finds its version. Artifacts are digests in the
              // artifact store; times are ISO 8601 UTC.
              "CREATE TABLE ingestions ("
              "id TEXT PRIMARY KEY, "
              "dataset TEXT NOT NULL REFERENCES datasets(name), "
              "status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')), "
              "ingest_key TEXT NOT NULL, "
              "contract_digest TEXT, "
              "contract_artifact TEXT, "
              "report_artifact TEXT NOT NULL, "
              "report_html_artifact TEXT NOT NULL, "
              "quarantine_artifact TEXT NOT NULL, "
              "rows_in BIGINT NOT NULL, "
              "rows_clean BIGINT NOT NULL, "
              "rows_quarantined BIGINT NOT NULL, "
              "bytes_in BIGINT NOT NULL, "
              "seconds DOUBLE PRECISION NOT NULL, "
              "started_at TEXT NOT NULL, "
              "finished_at TEXT NOT NULL, "
              "mloop_version TEXT NOT NULL, "
              "host TEXT NOT NULL, "
              "user_name TEXT NOT NULL)",
              "CREATE INDEX ingestions_by_key ON ingestions (dataset, ingest_key)",
              // The files of one ingestion, in the order given.
              "CREATE TABLE ingestion_sources ("
              "ingestion_id TEXT NOT NULL REFERENCES ingestions(id), "
              "position BIGINT NOT NULL, "
              "path TEXT NOT NULL, "
              "sha256 TEXT NOT NULL, "
              "bytes BIGINT NOT NULL, "
              "rows_in BIGINT NOT NULL, "
              "rows_malformed BIGINT NOT NULL, "
              "PRIMARY KEY (ingestion_id, position))",
              // Immutable versions 1, 2, 3, ... of a dataset. data_artifact is the columnar
              // file of the clean rows; ingestion_id is null for versions made by other
              // steps (derived datasets).
              "CREATE TABLE dataset_versions ("
              "dataset TEXT NOT NULL REFERENCES datasets(name), "
              "version BIGINT NOT NULL, "
              "ingestion_id TEXT UNIQUE REFERENCES ingestions(id), "
              "data_artifact TEXT NOT NULL, "
              "profile_artifact TEXT NOT NULL, "
              "schema_json TEXT NOT NULL, "
              "rows BIGINT NOT NULL, "
              "data_bytes BIGINT NOT NULL, "
              "created_at TEXT NOT NULL, "
              "PRIMARY KEY (dataset, version))",
              // Versions a version was made from (for derived datasets), with how.
              "CREATE TABLE dataset_version_parents ("
              "dataset TEXT NOT NULL, "
              "version BIGINT NOT NULL, "
              "parent_dataset TEXT NOT NULL, "
              "parent_version BIGINT NOT NULL, "
              "relation TEXT NOT NULL, "
              "PRIMARY KEY (dataset, version, parent_dataset, parent_version), "
              "FOREIGN KEY (dataset, version) REFERENCES dataset_versions(dataset, version), "
              "FOREIGN KEY (parent_dataset, parent_version) "
              "REFERENCES dataset_versions(dataset, version))",
          },
      },
      {
          3,
          "tracking",
          {
              // MLflow's data model, so the MLflow-compatible server maps onto it directly.
              // Times are milliseconds since the epoch, as MLflow's.
              "CREATE TABLE experiments ("
              "experiment_id BIGINT PRIMARY KEY, "
              "name TEXT NOT NULL UNIQUE, "
              "artifact_location TEXT NOT NULL, "
              "lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')), "
              "creation_time BIGINT NOT NULL, "
              "last_update_time BIGINT NOT NULL)",
              "CREATE TABLE experiment_tags ("
              "experiment_id BIGINT NOT NULL REFERENCES experiments(experiment_id), "
              "key TEXT NOT NULL, "
              "value TEXT NOT NULL, "
              "PRIMARY KEY (experiment_id, key))",
              // run_id: 32 hex characters. parent_run_id: the run a child run (a search trial)
              // belongs to.
              "CREATE TABLE runs ("
              "run_id TEXT PRIMARY KEY, "
              "experiment_id BIGINT NOT NULL REFERENCES experiments(experiment_id), "
              "run_name TEXT NOT NULL, "
              "user_id TEXT NOT NULL, "
              "status TEXT NOT NULL "
              "CHECK (status IN ('RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED')), "
              "start_time BIGINT NOT NULL, "
              "end_time BIGINT, "
              "lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')), "
              "artifact_uri TEXT NOT NULL, "
              "parent_run_id TEXT REFERENCES runs(run_id))",
              "CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time)",
              // Params are written once (MLflow: logging another value is an error).
              "CREATE TABLE params ("
              "run_id TEXT NOT NULL REFERENCES runs(run_id), "
              "key TEXT NOT NULL, "
              "value TEXT NOT NULL, "
              "PRIMARY KEY (run_id, key))",
              "CREATE TABLE tags ("
              "run_id TEXT NOT NULL REFERENCES runs(run_id), "
              "key TEXT NOT NULL, "
              "value TEXT NOT NULL, "
              "PRIMARY KEY (run_id, key))",
              // Every logged value of a metric, in logging order (seq). NaN is stored as
              // is_nan = 1 with a null value, as SQL has no NaN everywhere.
              "CREATE TABLE metrics ("
              "run_id TEXT NOT NULL REFERENCES runs(run_id), "
              "key TEXT NOT NULL, "
              "seq BIGINT NOT NULL, "
              "value DOUBLE PRECISION, "
              "is_nan BIGINT NOT NULL, "
              "timestamp BIGINT NOT NULL, "
              "step BIGINT NOT NULL, "
              "PRIMARY KEY (run_id, key, seq))",
              // A metric's latest value (MLflow: the largest step, then timestamp, then
              // value), kept in the same transaction as the history.
              "CREATE TABLE latest_metrics ("
              "run_id TEXT NOT NULL REFERENCES runs(run_id), "
              "key TEXT NOT NULL, "
              "value DOUBLE PRECISION, "
              "is_nan BIGINT NOT NULL, "
              "timestamp BIGINT NOT NULL, "
              "step BIGINT NOT NULL, "
              "PRIMARY KEY (run_id, key))",
              // The dataset versions a run read, and for what ("training", "validation").
              "CREATE TABLE run_inputs ("
              "run_id TEXT NOT NULL REFERENCES runs(run_id), "
              "dataset TEXT NOT NULL, "
              "version BIGINT NOT NULL, "
              "context TEXT NOT NULL, "
              "PRIMARY KEY (run_id, dataset, version, context), "
              "FOREIGN KEY (dataset, version) REFERENCES dataset_versions(dataset, version))",
              // The run's files: a path in the run's artifact tree and the content-addressed
              // artifact holding its bytes.
              "CREATE TABLE run_artifacts ("
              "run_id TEXT NOT NULL REFERENCES runs(run_id), "
              "path TEXT NOT NULL, "
              "digest TEXT NOT NULL, "
              "size BIGINT NOT NULL, "
              "PRIMARY KEY (run_id, path))",
          },
      },
      {
          4,
          "registry",
          {
              // The model registry (src/registry/model_registry.h), in MLflow's data model.
              // Times are milliseconds since the epoch. last_version is the largest version
              // ever given, so that a number is never given twice.
              "CREATE TABLE registered_models ("
              "name TEXT PRIMARY KEY, "
              "description TEXT NOT NULL, "
              "last_version BIGINT NOT NULL, "
              "creation_time BIGINT NOT NULL, "
              "last_updated_time BIGINT NOT NULL)",
              "CREATE TABLE registered_model_tags ("
              "name TEXT NOT NULL REFERENCES registered_models(name), "
              "key TEXT NOT NULL, "
              "value TEXT NOT NULL, "
              "PRIMARY KEY (name, key))",
              // A version is a run's model bundle: bundle_digest is the artifact of its
              // model/bundle.json; signature_json and lineage_json are copied from it.
              "CREATE TABLE model_versions ("
              "name TEXT NOT NULL REFERENCES registered_models(name), "
              "version BIGINT NOT NULL, "
              "run_id TEXT NOT NULL REFERENCES runs(run_id), "
              "bundle_digest TEXT NOT NULL, "
              "signature_json TEXT NOT NULL, "
              "lineage_json TEXT NOT NULL, "
              "status TEXT NOT NULL "
              "CHECK (status IN ('PENDING_REGISTRATION', 'FAILED_REGISTRATION', 'READY')), "
              "description TEXT NOT NULL, "
              "creation_time BIGINT NOT NULL, "
              "last_updated_time BIGINT NOT NULL, "
              "created_by TEXT NOT NULL, "
              "PRIMARY KEY (name, version))",
              "CREATE TABLE model_version_tags ("
              "name TEXT NOT NULL, "
              "version BIGINT NOT NULL, "
              "key TEXT NOT NULL, "
              "value TEXT NOT NULL, "
              "PRIMARY KEY (name, version, key), "
              "FOREIGN KEY (name, version) REFERENCES model_versions(name, version))",
              "CREATE TABLE model_aliases ("
              "name TEXT NOT NULL, "
              "alias TEXT NOT NULL, "
              "version BIGINT NOT NULL, "
              "PRIMARY KEY (name, alias), "
              "FOREIGN KEY (name, version) REFERENCES model_versions(name, version))",
              // Every move of an alias, in order (seq per model and alias), for rollback.
              // from_version is null when the alias was new. action: promote, rollback, sync.
              "CREATE TABLE alias_history ("
              "name TEXT NOT NULL, "
              "alias TEXT NOT NULL, "
              "seq BIGINT NOT NULL, "
              "action TEXT NOT NULL CHECK (action IN ('promote', 'rollback', 'sync')), "
              "from_version BIGINT, "
              "to_version BIGINT NOT NULL, "
              "time BIGINT NOT NULL, "
              "actor TEXT NOT NULL, "
              "reason TEXT NOT NULL, "
              "PRIMARY KEY (name, alias, seq))",
              // Append-only and hash-chained: hash is the SHA-256 of the entry's canonical
              // form, which includes prev_hash, the hash of the entry before (64 zeros for
              // the first). details_json is a JSON object; model and version are null for
              // entries about no model.
              "CREATE TABLE audit_log ("
              "seq BIGINT PRIMARY KEY, "
              "time BIGINT NOT NULL, "
              "actor TEXT NOT NULL, "
              "action TEXT NOT NULL, "
              "model TEXT, "
              "version BIGINT, "
              "details_json TEXT NOT NULL, "
              "reason TEXT NOT NULL, "
              "prev_hash TEXT NOT NULL, "
              "hash TEXT NOT NULL)",
              "CREATE INDEX audit_log_by_model ON audit_log (model, seq)",
          },
      },
  };
  return *kMigrations;
}

int64_t LatestSchemaVersion() { return static_cast<int64_t>(Migrations().size()); }

}  // namespace mloop::store
