#include "data/catalog.h"

#include <charconv>
#include <utility>

#include "core/error.h"
#include "core/time.h"

namespace mloop::data {
namespace {

using store::AsDouble;
using store::AsInt64;
using store::AsText;
using store::IsNull;
using store::Null;
using store::Params;
using store::Row;
using store::Value;

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

std::optional<std::string> OptText(const Value& v) {
  if (IsNull(v)) return std::nullopt;
  return AsText(v);
}

Value TextOrNull(const std::optional<std::string>& s) {
  if (!s) return Null{};
  return *s;
}

Json SchemaToJson(const table::Schema& schema) {
  Json out = Json::array();
  for (const table::Field& f : schema.fields()) {
    out.push_back({{"name", f.name},
                   {"type", table::DataTypeName(f.type)},
                   {"role", table::ColumnRoleName(f.role)},
                   {"nullable", f.nullable}});
  }
  return out;
}

table::Schema SchemaFromJson(const std::string& text, const std::string& what) {
  table::Schema schema;
  try {
    Json doc = ParseJson(text, what);
    for (const Json& f : doc) {
      table::Field field;
      field.name = f.at("name").get<std::string>();
      auto type = table::DataTypeFromName(f.at("type").get<std::string>());
      auto role = table::ColumnRoleFromName(f.at("role").get<std::string>());
      if (!type || !role) ThrowDataLoss(what + ": unknown type or role in the stored schema");
      field.type = *type;
      field.role = *role;
      field.nullable = f.at("nullable").get<bool>();
      schema.Add(std::move(field));
    }
  } catch (const Json::exception& e) {
    ThrowDataLoss(what + ": the stored schema is not valid: " + e.what());
  }
  return schema;
}

constexpr std::string_view kVersionColumns =
    "dataset, version, ingestion_id, data_artifact, profile_artifact, schema_json, rows, "
    "data_bytes, created_at";

DatasetVersion VersionFromRow(const Row& r) {
  DatasetVersion v;
  v.dataset = AsText(r[0]);
  v.version = AsInt64(r[1]);
  v.ingestion_id = OptText(r[2]);
  v.data_artifact = AsText(r[3]);
  v.profile_artifact = AsText(r[4]);
  v.schema = SchemaFromJson(AsText(r[5]), v.Ref() + " schema");
  v.rows = AsInt64(r[6]);
  v.data_bytes = AsInt64(r[7]);
  v.created_at = AsText(r[8]);
  return v;
}

constexpr std::string_view kIngestionColumns =
    "i.id, i.dataset, i.status, v.version, i.ingest_key, i.contract_digest, "
    "i.contract_artifact, i.report_artifact, i.report_html_artifact, i.quarantine_artifact, "
    "i.rows_in, i.rows_clean, i.rows_quarantined, i.bytes_in, i.seconds, i.started_at, "
    "i.finished_at, i.mloop_version, i.host, i.user_name";

IngestionRecord IngestionFromRow(const Row& r) {
  IngestionRecord i;
  i.id = AsText(r[0]);
  i.dataset = AsText(r[1]);
  i.status = AsText(r[2]);
  if (!IsNull(r[3])) i.version = AsInt64(r[3]);
  i.ingest_key = AsText(r[4]);
  i.contract_digest = OptText(r[5]);
  i.contract_artifact = OptText(r[6]);
  i.report_artifact = AsText(r[7]);
  i.report_html_artifact = AsText(r[8]);
  i.quarantine_artifact = AsText(r[9]);
  i.rows_in = AsInt64(r[10]);
  i.rows_clean = AsInt64(r[11]);
  i.rows_quarantined = AsInt64(r[12]);
  i.bytes_in = AsInt64(r[13]);
  i.seconds = AsDouble(r[14]);
  i.started_at = AsText(r[15]);
  i.finished_at = AsText(r[16]);
  i.mloop_version = AsText(r[17]);
  i.host = AsText(r[18]);
  i.user = AsText(r[19]);
  return i;
}

}  // namespace

std::string DatasetRef::ToString() const {
  return name + "@" + (version ? std::to_string(*version) : std::string("latest"));
}

void CheckDatasetName(std::string_view name) {
  bool ok =
      !name.empty() && name.size() <= 128 && name[0] != '.' && name[0] != '_' && name[0] != '-';
  for (char c : name) ok = ok && IsNameChar(c);
  if (!ok) {
    ThrowInvalidArgument("dataset name '" + std::string(name) +
                         "': use 1 to 128 letters, digits, '.', '_' or '-', starting with a "
                         "letter or digit");
  }
}

DatasetRef ParseDatasetRef(std::string_view text) {
  DatasetRef ref;
  size_t at = text.find('@');
  ref.name = std::string(text.substr(0, at));
  if (ref.name.empty() || (at != std::string_view::npos && at + 1 == text.size())) {
    ThrowInvalidArgument("dataset reference '" + std::string(text) +
                         "': expected NAME, NAME@VERSION or NAME@latest");
  }
  CheckDatasetName(ref.name);
  if (at != std::string_view::npos) {
    std::string_view v = text.substr(at + 1);
    if (v != "latest") {
      int64_t n = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || end != v.data() + v.size() || n < 1) {
        ThrowInvalidArgument("dataset reference '" + std::string(text) + "': version '" +
                             std::string(v) + "' is not a number >= 1 or 'latest'");
      }
      ref.version = n;
    }
  }
  return ref;
}

Json IngestionRecord::ToJson() const {
  Json j;
  j["id"] = id;
  j["dataset"] = dataset;
  j["status"] = status;
  j["version"] = version ? Json(*version) : Json();
  j["ingest_key"] = ingest_key;
  j["contract"] = {{"digest", contract_digest ? Json(*contract_digest) : Json()},
                   {"artifact", contract_artifact ? Json(*contract_artifact) : Json()}};
  j["artifacts"] = {{"report", report_artifact},
                    {"report_html", report_html_artifact},
                    {"quarantine", quarantine_artifact}};
  j["metrics"] = {{"rows_in", rows_in},
                  {"rows_clean", rows_clean},
                  {"rows_quarantined", rows_quarantined},
                  {"bytes_in", bytes_in},
                  {"seconds", seconds},
                  {"rows_per_second", rows_per_second()},
                  {"quarantine_rate", quarantine_rate()}};
  j["started_at"] = started_at;
  j["finished_at"] = finished_at;
  j["mloop_version"] = mloop_version;
  j["host"] = host;
  j["user"] = user;
  j["sources"] = Json::array();
  for (const SourceRecord& s : sources) {
    j["sources"].push_back({{"path", s.path},
                            {"sha256", s.sha256},
                            {"bytes", s.bytes},
                            {"rows_in", s.rows_in},
                            {"rows_malformed", s.rows_malformed}});
  }
  return j;
}

Json DatasetVersion::ToJson() const {
  Json j;
  j["dataset"] = dataset;
  j["version"] = version;
  j["ref"] = Ref();
  j["rows"] = rows;
  j["data_bytes"] = data_bytes;
  j["created_at"] = created_at;
  j["ingestion_id"] = ingestion_id ? Json(*ingestion_id) : Json();
  j["artifacts"] = {{"data", data_artifact}, {"profile", profile_artifact}};
  j["schema"] = SchemaToJson(schema);
  j["parents"] = Json::array();
  for (const DatasetParent& p : parents) {
    j["parents"].push_back(
        {{"dataset", p.dataset}, {"version", p.version}, {"relation", p.relation}});
  }
  return j;
}

std::vector<DatasetSummary> DatasetCatalog::List() {
  std::vector<DatasetSummary> out;
  for (const Row& r :
       db_.Query("SELECT d.name, d.created_at, "
                 "(SELECT COUNT(*) FROM dataset_versions v WHERE v.dataset = d.name), "
                 "(SELECT MAX(version) FROM dataset_versions v WHERE v.dataset = d.name), "
                 "(SELECT COUNT(*) FROM ingestions i WHERE i.dataset = d.name), "
                 "(SELECT COUNT(*) FROM ingestions i WHERE i.dataset = d.name "
                 "AND i.status = 'rejected') "
                 "FROM datasets d ORDER BY d.name")) {
    DatasetSummary s;
    s.name = AsText(r[0]);
    s.created_at = AsText(r[1]);
    s.versions = AsInt64(r[2]);
    if (!IsNull(r[3])) s.latest_version = AsInt64(r[3]);
    s.ingestions = AsInt64(r[4]);
    s.rejected = AsInt64(r[5]);
    if (s.latest_version) {
      auto row = db_.QueryRow("SELECT rows FROM dataset_versions WHERE dataset = ? AND version = ?",
                              {s.name, *s.latest_version});
      if (row) s.latest_rows = AsInt64((*row)[0]);
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<DatasetVersion> DatasetCatalog::QueryVersions(std::string_view where,
                                                          const Params& params) {
  std::vector<DatasetVersion> out;
  for (const Row& r :
       db_.Query("SELECT " + std::string(kVersionColumns) + " FROM dataset_versions WHERE " +
                     std::string(where) + " ORDER BY version",
                 params)) {
    out.push_back(VersionFromRow(r));
  }
  for (DatasetVersion& v : out) {
    for (const Row& p :
         db_.Query("SELECT parent_dataset, parent_version, relation FROM dataset_version_parents "
                   "WHERE dataset = ? AND version = ? ORDER BY parent_dataset, parent_version",
                   {v.dataset, v.version})) {
      v.parents.push_back({AsText(p[0]), AsInt64(p[1]), AsText(p[2])});
    }
  }
  return out;
}

std::vector<IngestionRecord> DatasetCatalog::QueryIngestions(std::string_view where,
                                                             const Params& params) {
  std::vector<IngestionRecord> out;
  for (const Row& r : db_.Query("SELECT " + std::string(kIngestionColumns) +
                                    " FROM ingestions i LEFT JOIN dataset_versions v "
                                    "ON v.ingestion_id = i.id WHERE " +
                                    std::string(where) + " ORDER BY i.started_at, i.id",
                                params)) {
    out.push_back(IngestionFromRow(r));
  }
  for (IngestionRecord& i : out) {
    for (const Row& s :
         db_.Query("SELECT path, sha256, bytes, rows_in, rows_malformed FROM ingestion_sources "
                   "WHERE ingestion_id = ? ORDER BY position",
                   {i.id})) {
      i.sources.push_back(
          {AsText(s[0]), AsText(s[1]), AsInt64(s[2]), AsInt64(s[3]), AsInt64(s[4])});
    }
  }
  return out;
}

std::vector<DatasetVersion> DatasetCatalog::Versions(std::string_view dataset) {
  if (!db_.QueryRow("SELECT name FROM datasets WHERE name = ?", {std::string(dataset)})) {
    ThrowNotFound("dataset '" + std::string(dataset) + "' does not exist (mloop datasets list)");
  }
  return QueryVersions("dataset = ?", {std::string(dataset)});
}

DatasetVersion DatasetCatalog::Resolve(const DatasetRef& ref) {
  std::vector<DatasetVersion> versions = Versions(ref.name);
  if (versions.empty()) {
    ThrowNotFound("dataset '" + ref.name + "' has no version yet (every ingest was rejected)");
  }
  if (!ref.version) return versions.back();
  for (DatasetVersion& v : versions) {
    if (v.version == *ref.version) return std::move(v);
  }
  ThrowNotFound("dataset " + ref.ToString() + " does not exist; versions are 1 to " +
                std::to_string(versions.back().version));
}

std::vector<IngestionRecord> DatasetCatalog::Ingestions(std::string_view dataset) {
  if (!db_.QueryRow("SELECT name FROM datasets WHERE name = ?", {std::string(dataset)})) {
    ThrowNotFound("dataset '" + std::string(dataset) + "' does not exist (mloop datasets list)");
  }
  return QueryIngestions("i.dataset = ?", {std::string(dataset)});
}

IngestionRecord DatasetCatalog::Ingestion(std::string_view id) {
  std::string text(id);
  bool hex = text.size() >= 6 && text.size() <= 64;
  for (char c : text) hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!hex) {
    ThrowInvalidArgument("ingestion id '" + text + "': expected at least 6 hex characters");
  }
  // The prefix is hex, so it holds no LIKE wildcard.
  std::vector<IngestionRecord> found = QueryIngestions("i.id LIKE ?", {text + "%"});
  if (found.empty()) ThrowNotFound("ingestion '" + text + "' does not exist");
  if (found.size() > 1) {
    ThrowInvalidArgument("ingestion id prefix '" + text + "' matches " +
                         std::to_string(found.size()) + " ingestions; give more characters");
  }
  return std::move(found[0]);
}

std::optional<DatasetVersion> DatasetCatalog::FindByIngestKey(std::string_view dataset,
                                                              std::string_view ingest_key) {
  std::vector<DatasetVersion> found = QueryVersions(
      "ingestion_id IN (SELECT id FROM ingestions WHERE dataset = ? AND ingest_key = ? AND "
      "status = 'accepted')",
      {std::string(dataset), std::string(ingest_key)});
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

std::optional<DatasetVersion> DatasetCatalog::CommitIngestion(
    IngestionRecord in, const std::optional<NewVersion>& version) {
  CheckDatasetName(in.dataset);
  std::optional<DatasetVersion> result;
  db_.InTransaction([&] {
    if (version) {
      if (auto existing = FindByIngestKey(in.dataset, in.ingest_key)) {
        result = std::move(existing);
        return;
      }
    }
    std::string now = FormatIsoTimestamp(NowMicros());
    if (!db_.QueryRow("SELECT name FROM datasets WHERE name = ?", {in.dataset})) {
      db_.Exec("INSERT INTO datasets (name, created_at) VALUES (?, ?)", {in.dataset, now});
    }
    db_.Exec(
        "INSERT INTO ingestions (id, dataset, status, ingest_key, contract_digest, "
        "contract_artifact, report_artifact, report_html_artifact, quarantine_artifact, "
        "rows_in, rows_clean, rows_quarantined, bytes_in, seconds, started_at, finished_at, "
        "mloop_version, host, user_name) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {in.id, in.dataset, in.status, in.ingest_key, TextOrNull(in.contract_digest),
         TextOrNull(in.contract_artifact), in.report_artifact, in.report_html_artifact,
         in.quarantine_artifact, in.rows_in, in.rows_clean, in.rows_quarantined, in.bytes_in,
         in.seconds, in.started_at, in.finished_at, in.mloop_version, in.host, in.user});
    for (size_t i = 0; i < in.sources.size(); ++i) {
      const SourceRecord& s = in.sources[i];
      db_.Exec(
          "INSERT INTO ingestion_sources (ingestion_id, position, path, sha256, bytes, "
          "rows_in, rows_malformed) VALUES (?, ?, ?, ?, ?, ?, ?)",
          {in.id, static_cast<int64_t>(i), s.path, s.sha256, s.bytes, s.rows_in, s.rows_malformed});
    }
    if (!version) return;
    auto max =
        db_.QueryRow("SELECT MAX(version) FROM dataset_versions WHERE dataset = ?", {in.dataset});
    int64_t next = (max && !IsNull((*max)[0])) ? AsInt64((*max)[0]) + 1 : 1;
    db_.Exec("INSERT INTO dataset_versions (" + std::string(kVersionColumns) +
                 ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
             {in.dataset, next, in.id, version->data_artifact, version->profile_artifact,
              SchemaToJson(version->schema).dump(), version->rows, version->data_bytes, now});
    for (const DatasetParent& p : version->parents) {
      db_.Exec(
          "INSERT INTO dataset_version_parents (dataset, version, parent_dataset, "
          "parent_version, relation) VALUES (?, ?, ?, ?, ?)",
          {in.dataset, next, p.dataset, p.version, p.relation});
    }
    DatasetVersion v;
    v.dataset = in.dataset;
    v.version = next;
    v.ingestion_id = in.id;
    v.data_artifact = version->data_artifact;
    v.profile_artifact = version->profile_artifact;
    v.schema = version->schema;
    v.rows = version->rows;
    v.data_bytes = version->data_bytes;
    v.created_at = now;
    v.parents = version->parents;
    result = std::move(v);
  });
  return result;
}

}  // namespace mloop::data
