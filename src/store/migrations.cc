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
  };
  return *kMigrations;
}

int64_t LatestSchemaVersion() { return static_cast<int64_t>(Migrations().size()); }

}  // namespace mloop::store
