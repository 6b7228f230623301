// The dataset catalog: the records of datasets, their immutable versions and the ingestions
// that made them (accepted or rejected), kept in the workspace's metadata store. The bytes
// (a version's columnar file, its profile, reports, the quarantine) are artifacts; the catalog
// holds their digests. Versions are numbered 1, 2, 3, ... per dataset, in the order they were
// committed; a version is never changed once written.
//
// A DatasetCatalog wraps a MetadataStore it does not own. It is as thread-safe as that store
// (SqliteMetadataStore: one per thread); several processes may use one workspace at once,
// because every change is one transaction that takes the write lock before it reads the next
// version number.
//
// Errors (mloop::Error): invalid_argument for a malformed name or reference (naming it);
// not_found for a dataset, version or ingestion that does not exist (naming it, and for a
// dataset the versions there are); and what the metadata store throws.
#ifndef MLOOP_DATA_CATALOG_H_
#define MLOOP_DATA_CATALOG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "store/metadata_store.h"
#include "table/schema.h"

namespace mloop::data {

// `NAME@VERSION` (`adult@3`), `NAME@latest`, or `NAME` alone (= latest).
struct DatasetRef {
  std::string name;
  std::optional<int64_t> version;  // nullopt: the latest version.
  std::string ToString() const;    // "adult@3" or "adult@latest"
};

// Parses a reference. Names: 1 to 128 characters of letters, digits, '.', '_' and '-',
// starting with a letter or digit. Throws invalid_argument naming the text.
DatasetRef ParseDatasetRef(std::string_view text);
// Throws invalid_argument unless `name` is a valid dataset name.
void CheckDatasetName(std::string_view name);

struct SourceRecord {
  std::string path;  // Absolute path of the file as it was read.
  std::string sha256;
  int64_t bytes = 0;
  int64_t rows_in = 0;         // Records read from it, malformed ones included.
  int64_t rows_malformed = 0;  // Of those, the ones the reader could not parse.
};

struct IngestionRecord {
  std::string id;
  std::string dataset;
  std::string status;              // "accepted" or "rejected".
  std::optional<int64_t> version;  // The version it made; nullopt when rejected.
  std::string ingest_key;
  std::optional<std::string> contract_digest;    // nullopt: ingested without a contract.
  std::optional<std::string> contract_artifact;  // The contract file's bytes.
  std::string report_artifact;       // JSON: the validation report without the quarantine.
  std::string report_html_artifact;  // The self-contained HTML report.
  std::string quarantine_artifact;   // JSON Lines: one quarantine record per line.
  int64_t rows_in = 0;
  int64_t rows_clean = 0;
  int64_t rows_quarantined = 0;
  int64_t bytes_in = 0;
  double seconds = 0;
  std::string started_at;  // ISO 8601 UTC.
  std::string finished_at;
  std::string mloop_version;
  std::string host;
  std::string user;
  std::vector<SourceRecord> sources;

  double rows_per_second() const { return seconds > 0 ? rows_in / seconds : 0; }
  double quarantine_rate() const {
    return rows_in > 0 ? static_cast<double>(rows_quarantined) / rows_in : 0;
  }
  // {id, dataset, status, version, ingest_key, contract: {digest, artifact}, artifacts:
  //  {report, report_html, quarantine}, metrics: {rows_in, rows_clean, rows_quarantined,
  //  bytes_in, seconds, rows_per_second, quarantine_rate}, started_at, finished_at,
  //  mloop_version, host, user, sources: [{path, sha256, bytes, rows_in, rows_malformed}]}
  Json ToJson() const;
};

struct DatasetParent {
  std::string dataset;
  int64_t version = 0;
  std::string relation;  // How the child was made from it ("split", "features", ...).
};

struct DatasetVersion {
  std::string dataset;
  int64_t version = 0;
  std::optional<std::string> ingestion_id;  // nullopt for derived versions.
  std::string data_artifact;                // Columnar file of the rows.
  std::string profile_artifact;             // JSON profile (stats/profile.h).
  table::Schema schema;
  int64_t rows = 0;
  int64_t data_bytes = 0;
  std::string created_at;
  std::vector<DatasetParent> parents;

  std::string Ref() const { return dataset + "@" + std::to_string(version); }
  // {dataset, version, ref, rows, data_bytes, created_at, ingestion_id, artifacts: {data,
  //  profile}, schema: [{name, type, role, nullable}], parents: [{dataset, version, relation}]}
  Json ToJson() const;
};

struct DatasetSummary {
  std::string name;
  std::string created_at;
  int64_t versions = 0;
  std::optional<int64_t> latest_version;
  int64_t latest_rows = 0;
  int64_t ingestions = 0;  // Accepted and rejected.
  int64_t rejected = 0;
};

// What CommitIngestion records: the ingestion, and for an accepted one the new version.
struct NewVersion {
  std::string data_artifact;
  std::string profile_artifact;
  table::Schema schema;
  int64_t rows = 0;
  int64_t data_bytes = 0;
  std::vector<DatasetParent> parents;
};

class DatasetCatalog {
 public:
  explicit DatasetCatalog(store::MetadataStore& db) : db_(db) {}

  // Every dataset, by name.
  std::vector<DatasetSummary> List();

  // The version `ref` names. not_found names the dataset, or the version and the ones there
  // are.
  DatasetVersion Resolve(const DatasetRef& ref);

  // A dataset's versions, oldest first. not_found when there is no such dataset.
  std::vector<DatasetVersion> Versions(std::string_view dataset);

  // A dataset's ingestions, accepted and rejected, oldest first (with their sources).
  std::vector<IngestionRecord> Ingestions(std::string_view dataset);

  // One ingestion by id, or by a unique prefix of at least 6 characters.
  IngestionRecord Ingestion(std::string_view id);

  // The accepted version an earlier ingestion of the same dataset with this key made.
  std::optional<DatasetVersion> FindByIngestKey(std::string_view dataset,
                                                std::string_view ingest_key);

  // Records `ingestion` (its id, times, metrics, artifacts and sources must be set) and, when
  // `version` is given, a new version numbered one past the dataset's newest, in one
  // transaction; creates the dataset on first use. When an accepted ingestion with the same
  // ingest key committed meanwhile (a concurrent identical ingest), records nothing and returns
  // that version instead. Returns the version recorded or found, or nullopt for a rejected
  // ingestion.
  std::optional<DatasetVersion> CommitIngestion(IngestionRecord ingestion,
                                                const std::optional<NewVersion>& version);

 private:
  std::vector<DatasetVersion> QueryVersions(std::string_view where, const store::Params& params);
  std::vector<IngestionRecord> QueryIngestions(std::string_view where, const store::Params& params);

  store::MetadataStore& db_;
};

}  // namespace mloop::data

#endif  // MLOOP_DATA_CATALOG_H_
