#include "registry/model_registry.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <set>

#include "core/digest.h"
#include "core/error.h"
#include "core/file.h"
#include "core/json_reader.h"
#include "registry/internal/git.h"
#include "tracking/tracking_store.h"

namespace mloop::registry {
namespace {

using store::AsInt64;
using store::AsText;
using store::IsNull;
using store::Null;
using store::Row;
using store::Value;

constexpr size_t kMaxNameLength = 100;
constexpr size_t kMaxKeyLength = 250;    // MLflow's limit for tag keys.
constexpr size_t kMaxTagLength = 8000;   // MLflow's limit for a model version tag value.
constexpr size_t kMaxTextLength = 5000;  // Descriptions and reasons.
constexpr std::string_view kZeroHash =
    "0000000000000000000000000000000000000000000000000000000000000000";
constexpr std::string_view kVersionColumns =
    "name, version, run_id, bundle_digest, signature_json, lineage_json, status, description, "
    "creation_time, last_updated_time, created_by";
constexpr std::string_view kAuditColumns =
    "seq, time, actor, action, model, version, details_json, reason, prev_hash, hash";
constexpr std::string_view kDeployFormat = "mloop-deployment";
constexpr int64_t kDeployFormatVersion = 1;

// Model names become file names (deploy/models/NAME.yaml) and references (NAME@V).
void CheckName(std::string_view name) {
  bool ok =
      !name.empty() && name.size() <= kMaxNameLength && name.front() != '.' && name.front() != '-';
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-' || c == '.');
  }
  if (!ok) {
    ThrowInvalidArgument("model name '" + std::string(name) +
                         "': use 1 to 100 letters, digits, '_', '-' or '.', not starting with "
                         "'.' or '-'");
  }
}

// Aliases start with a letter so that NAME@3 is always a version; "latest" means the highest
// version.
void CheckAlias(std::string_view alias) {
  bool ok = !alias.empty() && alias.size() <= kMaxNameLength &&
            ((alias.front() >= 'a' && alias.front() <= 'z') ||
             (alias.front() >= 'A' && alias.front() <= 'Z'));
  for (char c : alias) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-');
  }
  if (!ok) {
    ThrowInvalidArgument("alias '" + std::string(alias) +
                         "': use a letter, then letters, digits, '_' or '-'");
  }
  if (alias == "latest")
    ThrowInvalidArgument("alias 'latest' is reserved: it means the highest version");
}

void CheckKey(std::string_view key) {
  bool ok = !key.empty() && key.size() <= kMaxKeyLength;
  for (char c : key) ok = ok && static_cast<unsigned char>(c) >= 0x20;
  if (!ok)
    ThrowInvalidArgument("tag key '" + std::string(key) + "': use 1 to 250 printable characters");
}

void CheckText(std::string_view what, std::string_view text, size_t max) {
  if (text.size() > max) {
    ThrowInvalidArgument(std::string(what) + " has " + std::to_string(text.size()) +
                         " characters, more than " + std::to_string(max));
  }
}

bool IsReservedTag(std::string_view key) {
  return key == kReadyTag || key.substr(0, kGateTagPrefix.size()) == kGateTagPrefix;
}

std::string Actor(std::string_view actor) {
  return actor.empty() ? CurrentActor() : std::string(actor);
}

std::string Ref(std::string_view name, int64_t version) {
  return std::string(name) + "@" + std::to_string(version);
}

Value OptionalText(const std::optional<std::string>& s) { return s ? Value(*s) : Value(Null{}); }
Value OptionalInt(const std::optional<int64_t>& v) { return v ? Value(*v) : Value(Null{}); }

AuditEntry AuditFromRow(const Row& r) {
  AuditEntry e;
  e.seq = AsInt64(r[0]);
  e.time = AsInt64(r[1]);
  e.actor = AsText(r[2]);
  e.action = AsText(r[3]);
  if (!IsNull(r[4])) e.model = AsText(r[4]);
  if (!IsNull(r[5])) e.version = AsInt64(r[5]);
  e.details_json = AsText(r[6]);
  e.reason = AsText(r[7]);
  e.prev_hash = AsText(r[8]);
  e.hash = AsText(r[9]);
  return e;
}

Json ParseStored(const std::string& text, const std::string& what) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    ThrowDataLoss(what + " is not valid JSON: " + e.what());
  }
}

// The alias's moves that have not been rolled back, oldest first: each promote or sync pushes
// its move, each rollback pops one.
struct Move {
  std::optional<int64_t> from;
  int64_t to = 0;
};

}  // namespace

std::string CurrentActor() {
  if (const char* u = std::getenv("MLOOP_USER"); u != nullptr && *u != '\0') return u;
  struct passwd pw;
  struct passwd* found = nullptr;
  char buf[4096];
  if (::getpwuid_r(::geteuid(), &pw, buf, sizeof buf, &found) == 0 && found != nullptr &&
      found->pw_name != nullptr && *found->pw_name != '\0') {
    return found->pw_name;
  }
  return "unknown";
}

std::string ModelRef::ToString() const {
  switch (kind) {
    case Kind::kVersion:
      return name + "@" + std::to_string(version);
    case Kind::kAlias:
      return name + "@" + alias;
    case Kind::kLatest:
      return name + "@latest";
  }
  return name;
}

ModelRef ParseModelRef(std::string_view text) {
  ModelRef ref;
  size_t at = text.find('@');
  ref.name = std::string(text.substr(0, at));
  if (ref.name.empty()) {
    ThrowInvalidArgument("model reference '" + std::string(text) +
                         "': expected NAME, NAME@VERSION or NAME@ALIAS");
  }
  CheckName(ref.name);
  if (at == std::string_view::npos) return ref;
  std::string_view rest = text.substr(at + 1);
  if (rest.empty() || rest.find('@') != std::string_view::npos) {
    ThrowInvalidArgument("model reference '" + std::string(text) +
                         "': expected NAME, NAME@VERSION or NAME@ALIAS");
  }
  if (rest == "latest") return ref;
  if (rest.front() >= '0' && rest.front() <= '9') {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
    if (ec != std::errc() || end != rest.data() + rest.size() || v < 1) {
      ThrowInvalidArgument("model reference '" + std::string(text) +
                           "': a version is a number from 1");
    }
    ref.kind = ModelRef::Kind::kVersion;
    ref.version = v;
    return ref;
  }
  CheckAlias(rest);
  ref.kind = ModelRef::Kind::kAlias;
  ref.alias = std::string(rest);
  return ref;
}

Json ModelVersion::ToJson() const {
  return Json{{"name", name},
              {"version", version},
              {"run_id", run_id},
              {"bundle_digest", bundle_digest},
              {"signature", signature},
              {"lineage", lineage},
              {"status", status},
              {"description", description},
              {"creation_time", creation_time},
              {"last_updated_time", last_updated_time},
              {"created_by", created_by},
              {"tags", tags},
              {"aliases", aliases}};
}

Json RegisteredModel::ToJson() const {
  return Json{{"name", name},
              {"description", description},
              {"creation_time", creation_time},
              {"last_updated_time", last_updated_time},
              {"tags", tags},
              {"aliases", aliases},
              {"versions", versions},
              {"latest_version", versions.empty() ? Json() : Json(versions.back())}};
}

Json AliasMove::ToJson() const {
  return Json{{"name", name},
              {"alias", alias},
              {"from_version", from_version ? Json(*from_version) : Json()},
              {"to_version", to_version},
              {"changed", changed},
              {"deploy_file", deploy_file.empty() ? Json() : Json(deploy_file.string())},
              {"git_commit", git_commit.empty() ? Json() : Json(git_commit)},
              {"warnings", warnings}};
}

std::string AuditEntry::CanonicalForm() const {
  Json a = Json::array({seq, time, actor, action, model ? Json(*model) : Json(),
                        version ? Json(*version) : Json(), details_json, reason, prev_hash});
  return a.dump();
}

Json AuditEntry::ToJson() const {
  Json details;
  try {
    details = Json::parse(details_json);
  } catch (const Json::exception&) {
    details = details_json;  // A damaged row is shown as it is; VerifyAudit reports it.
  }
  return Json{{"seq", seq},
              {"time", time},
              {"actor", actor},
              {"action", action},
              {"model", model ? Json(*model) : Json()},
              {"version", version ? Json(*version) : Json()},
              {"details", details},
              {"reason", reason},
              {"prev_hash", prev_hash},
              {"hash", hash}};
}

Json AuditVerification::ToJson() const {
  return Json{{"ok", ok},
              {"checked", checked},
              {"first_bad_seq", first_bad_seq ? Json(*first_bad_seq) : Json()},
              {"first_bad_action", first_bad_seq ? Json(first_bad_action) : Json()},
              {"problem", first_bad_seq ? Json(problem) : Json()}};
}

std::filesystem::path ModelRegistry::DeployFile(std::string_view name) const {
  return root_ / "deploy" / "models" / (std::string(name) + ".yaml");
}

int64_t ModelRegistry::AppendAudit(std::string_view actor, std::string_view action,
                                   std::optional<std::string> model, std::optional<int64_t> version,
                                   const Json& details, std::string_view reason) {
  AuditEntry e;
  auto last = db_.QueryRow("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
  e.seq = last ? AsInt64((*last)[0]) + 1 : 1;
  e.prev_hash = last ? AsText((*last)[1]) : std::string(kZeroHash);
  e.time = tracking::NowMillis();
  e.actor = std::string(actor);
  e.action = std::string(action);
  e.model = std::move(model);
  e.version = version;
  e.reason = std::string(reason);
  try {
    e.details_json = details.dump();
    e.hash = Sha256Hex(e.CanonicalForm());
  } catch (const Json::exception&) {
    // nlohmann refuses to write invalid UTF-8; the canonical form must be exact, so refuse it.
    ThrowInvalidArgument(std::string(action) +
                         ": a name, value, actor or reason is not valid UTF-8");
  }
  db_.Exec("INSERT INTO audit_log (" + std::string(kAuditColumns) +
               ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
           {e.seq, e.time, e.actor, e.action, OptionalText(e.model), OptionalInt(e.version),
            e.details_json, e.reason, e.prev_hash, e.hash});
  return e.seq;
}

std::string ModelRegistry::Describe(const std::string& name) {
  auto range = db_.QueryRow(
      "SELECT MIN(version), MAX(version), COUNT(*) FROM model_versions WHERE name = ?", {name});
  std::string out;
  int64_t count = range ? AsInt64((*range)[2]) : 0;
  if (count == 0) {
    out = "no versions";
  } else if (count == 1) {
    out = "version " + std::to_string(AsInt64((*range)[0]));
  } else {
    out = "versions " + std::to_string(AsInt64((*range)[0])) + " to " +
          std::to_string(AsInt64((*range)[1]));
    if (AsInt64((*range)[1]) - AsInt64((*range)[0]) + 1 != count)
      out += " (" + std::to_string(count) + ")";
  }
  std::string aliases;
  for (const Row& r : db_.Query(
           "SELECT alias, version FROM model_aliases WHERE name = ? ORDER BY alias", {name})) {
    aliases +=
        (aliases.empty() ? "" : ", ") + AsText(r[0]) + " -> " + std::to_string(AsInt64(r[1]));
  }
  return out + "; aliases: " + (aliases.empty() ? "none" : aliases);
}

void ModelRegistry::RequireModel(const std::string& name) {
  if (db_.QueryRow("SELECT name FROM registered_models WHERE name = ?", {name})) return;
  std::string names;
  for (const Row& r : db_.Query("SELECT name FROM registered_models ORDER BY name")) {
    names += (names.empty() ? "" : ", ") + AsText(r[0]);
  }
  ThrowNotFound(
      "model '" + name + "' is not registered; " +
      (names.empty() ? std::string("no model is registered yet") : "registered models: " + names));
}

ModelVersion ModelRegistry::LoadVersion(const Row& r) {
  ModelVersion v;
  v.name = AsText(r[0]);
  v.version = AsInt64(r[1]);
  v.run_id = AsText(r[2]);
  v.bundle_digest = AsText(r[3]);
  std::string ref = Ref(v.name, v.version);
  v.signature = ParseStored(AsText(r[4]), "the signature of " + ref);
  v.lineage = ParseStored(AsText(r[5]), "the lineage of " + ref);
  v.status = AsText(r[6]);
  v.description = AsText(r[7]);
  v.creation_time = AsInt64(r[8]);
  v.last_updated_time = AsInt64(r[9]);
  v.created_by = AsText(r[10]);
  for (const Row& t :
       db_.Query("SELECT key, value FROM model_version_tags WHERE name = ? AND version = ?",
                 {v.name, v.version})) {
    v.tags[AsText(t[0])] = AsText(t[1]);
  }
  for (const Row& a :
       db_.Query("SELECT alias FROM model_aliases WHERE name = ? AND version = ? ORDER BY alias",
                 {v.name, v.version})) {
    v.aliases.push_back(AsText(a[0]));
  }
  return v;
}

ModelVersion ModelRegistry::Register(std::string_view run_id, std::string_view name,
                                     std::string_view description, std::string_view actor_in) {
  CheckName(name);
  CheckText("the description", description, kMaxTextLength);
  std::string actor = Actor(actor_in);
  tracking::TrackingStore tracking(db_, artifacts_);
  tracking::Run run = tracking.GetRun(run_id);
  if (run.status != tracking::RunStatus::kFinished) {
    ThrowInvalidArgument("run " + run.run_id + " is " +
                         std::string(tracking::RunStatusName(run.status)) +
                         "; only a FINISHED run's model can be registered");
  }
  auto it =
      std::find_if(run.artifacts.begin(), run.artifacts.end(),
                   [](const tracking::RunArtifact& a) { return a.path == "model/bundle.json"; });
  if (it == run.artifacts.end()) {
    ThrowInvalidArgument("run " + run.run_id + " has no model bundle (model/bundle.json)");
  }
  std::string bundle_digest = it->digest;
  Json bundle = ParseJson(artifacts_.Get(bundle_digest), "model/bundle.json of run " + run.run_id);
  if (!bundle.is_object() || bundle.value("format", "") != "mloop-model-bundle") {
    ThrowInvalidArgument("model/bundle.json of run " + run.run_id +
                         " is not an mloop model bundle (format mloop-model-bundle)");
  }
  Json signature = bundle.contains("signature") ? bundle["signature"] : Json::object();
  Json lineage = bundle.contains("lineage") ? bundle["lineage"] : Json::object();

  ModelVersion out;
  db_.InTransaction([&] {
    int64_t now = tracking::NowMillis();
    std::string n(name);
    auto model = db_.QueryRow("SELECT last_version FROM registered_models WHERE name = ?", {n});
    bool created = !model;
    int64_t version = model ? AsInt64((*model)[0]) + 1 : 1;
    if (created) {
      db_.Exec(
          "INSERT INTO registered_models (name, description, last_version, creation_time, "
          "last_updated_time) VALUES (?, '', ?, ?, ?)",
          {n, version, now, now});
    } else {
      db_.Exec(
          "UPDATE registered_models SET last_version = ?, last_updated_time = ? WHERE name = ?",
          {version, now, n});
    }
    db_.Exec("INSERT INTO model_versions (" + std::string(kVersionColumns) +
                 ") VALUES (?, ?, ?, ?, ?, ?, 'READY', ?, ?, ?, ?)",
             {n, version, run.run_id, bundle_digest, signature.dump(), lineage.dump(),
              std::string(description), now, now, actor});
    AppendAudit(actor, "register", n, version,
                Json{{"run_id", run.run_id},
                     {"bundle_digest", bundle_digest},
                     {"created_model", created},
                     {"description", std::string(description)},
                     {"lineage", lineage}},
                "");
    auto row = db_.QueryRow("SELECT " + std::string(kVersionColumns) +
                                " FROM model_versions WHERE name = ? AND version = ?",
                            {n, version});
    out = LoadVersion(*row);
  });
  return out;
}

std::vector<RegisteredModel> ModelRegistry::ListModels() {
  std::vector<RegisteredModel> out;
  for (const Row& r : db_.Query("SELECT name FROM registered_models ORDER BY name")) {
    out.push_back(GetModel(AsText(r[0])));
  }
  return out;
}

RegisteredModel ModelRegistry::GetModel(std::string_view name_in) {
  std::string name(name_in);
  RequireModel(name);
  auto r = db_.QueryRow(
      "SELECT name, description, creation_time, last_updated_time FROM registered_models "
      "WHERE name = ?",
      {name});
  RegisteredModel m;
  m.name = AsText((*r)[0]);
  m.description = AsText((*r)[1]);
  m.creation_time = AsInt64((*r)[2]);
  m.last_updated_time = AsInt64((*r)[3]);
  for (const Row& t :
       db_.Query("SELECT key, value FROM registered_model_tags WHERE name = ?", {name})) {
    m.tags[AsText(t[0])] = AsText(t[1]);
  }
  for (const Row& a :
       db_.Query("SELECT alias, version FROM model_aliases WHERE name = ?", {name})) {
    m.aliases[AsText(a[0])] = AsInt64(a[1]);
  }
  for (const Row& v :
       db_.Query("SELECT version FROM model_versions WHERE name = ? ORDER BY version", {name})) {
    m.versions.push_back(AsInt64(v[0]));
  }
  return m;
}

ModelVersion ModelRegistry::GetVersion(std::string_view name_in, int64_t version) {
  std::string name(name_in);
  RequireModel(name);
  auto row = db_.QueryRow("SELECT " + std::string(kVersionColumns) +
                              " FROM model_versions WHERE name = ? AND version = ?",
                          {name, version});
  if (!row) {
    ThrowNotFound("model '" + name + "' has no version " + std::to_string(version) + "; it has " +
                  Describe(name));
  }
  return LoadVersion(*row);
}

std::vector<ModelVersion> ModelRegistry::ListVersions(std::string_view name_in) {
  std::string name(name_in);
  RequireModel(name);
  std::vector<ModelVersion> out;
  for (const Row& r : db_.Query("SELECT " + std::string(kVersionColumns) +
                                    " FROM model_versions WHERE name = ? ORDER BY version",
                                {name})) {
    out.push_back(LoadVersion(r));
  }
  return out;
}

ModelVersion ModelRegistry::Resolve(const ModelRef& ref) {
  switch (ref.kind) {
    case ModelRef::Kind::kVersion:
      return GetVersion(ref.name, ref.version);
    case ModelRef::Kind::kAlias: {
      RequireModel(ref.name);
      auto row = db_.QueryRow("SELECT version FROM model_aliases WHERE name = ? AND alias = ?",
                              {ref.name, ref.alias});
      if (!row) {
        ThrowNotFound("model '" + ref.name + "' has no alias '" + ref.alias + "'; it has " +
                      Describe(ref.name));
      }
      return GetVersion(ref.name, AsInt64((*row)[0]));
    }
    case ModelRef::Kind::kLatest:
      break;
  }
  RequireModel(ref.name);
  auto row = db_.QueryRow("SELECT MAX(version) FROM model_versions WHERE name = ?", {ref.name});
  if (!row || IsNull((*row)[0])) ThrowNotFound("model '" + ref.name + "' has no versions");
  return GetVersion(ref.name, AsInt64((*row)[0]));
}

void ModelRegistry::SetVersionTag(std::string_view name, int64_t version, std::string_view key,
                                  std::string_view value, std::string_view actor) {
  CheckKey(key);
  CheckText("tag '" + std::string(key) + "'", value, kMaxTagLength);
  if (IsReservedTag(key)) {
    ThrowInvalidArgument("tag '" + std::string(key) +
                         "' is set by the promotion gates (mloop evaluate --gates), not by hand; "
                         "to promote without a passing gate decision use --force --reason TEXT");
  }
  std::string who = Actor(actor);
  db_.InTransaction([&] {
    GetVersion(name, version);
    std::string n(name), k(key);
    auto old = db_.QueryRow(
        "SELECT value FROM model_version_tags WHERE name = ? AND version = ? AND key = ?",
        {n, version, k});
    db_.Exec("DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?",
             {n, version, k});
    db_.Exec("INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)",
             {n, version, k, std::string(value)});
    AppendAudit(who, "set_tag", n, version,
                Json{{"key", k},
                     {"value", std::string(value)},
                     {"old_value", old ? Json(AsText((*old)[0])) : Json()}},
                "");
  });
}

void ModelRegistry::DeleteVersionTag(std::string_view name, int64_t version, std::string_view key,
                                     std::string_view actor) {
  CheckKey(key);
  if (IsReservedTag(key)) {
    ThrowInvalidArgument("tag '" + std::string(key) +
                         "' is set by the promotion gates (mloop evaluate --gates), not by hand");
  }
  std::string who = Actor(actor);
  db_.InTransaction([&] {
    GetVersion(name, version);
    std::string n(name), k(key);
    auto old = db_.QueryRow(
        "SELECT value FROM model_version_tags WHERE name = ? AND version = ? AND key = ?",
        {n, version, k});
    if (!old) ThrowInvalidArgument(Ref(n, version) + " has no tag '" + k + "'");
    db_.Exec("DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?",
             {n, version, k});
    AppendAudit(who, "delete_tag", n, version, Json{{"key", k}, {"old_value", AsText((*old)[0])}},
                "");
  });
}

void ModelRegistry::SetDescription(std::string_view name_in, std::optional<int64_t> version,
                                   std::string_view description, std::string_view actor) {
  CheckText("the description", description, kMaxTextLength);
  std::string who = Actor(actor);
  std::string name(name_in);
  db_.InTransaction([&] {
    int64_t now = tracking::NowMillis();
    if (version) {
      GetVersion(name, *version);
      db_.Exec(
          "UPDATE model_versions SET description = ?, last_updated_time = ? "
          "WHERE name = ? AND version = ?",
          {std::string(description), now, name, *version});
    } else {
      RequireModel(name);
      db_.Exec("UPDATE registered_models SET description = ?, last_updated_time = ? WHERE name = ?",
               {std::string(description), now, name});
    }
    AppendAudit(who, "set_description", name, version,
                Json{{"description", std::string(description)}}, "");
  });
}

void ModelRegistry::RecordGateDecision(std::string_view name_in, int64_t version,
                                       std::string_view decision, std::string_view report_digest,
                                       const Json& summary, std::string_view actor) {
  if (decision != "PROMOTE" && decision != "REJECT") {
    ThrowInvalidArgument("gate decision '" + std::string(decision) +
                         "': expected PROMOTE or REJECT");
  }
  if (!IsSha256Hex(report_digest)) {
    ThrowInvalidArgument("gate report '" + std::string(report_digest) +
                         "': expected the report artifact's SHA-256 (64 lowercase hex)");
  }
  std::string who = Actor(actor);
  std::string name(name_in);
  db_.InTransaction([&] {
    GetVersion(name, version);
    std::map<std::string, std::string> tags = {
        {std::string(kReadyTag), decision == "PROMOTE" ? "true" : "false"},
        {"gate.decision", std::string(decision)},
        {"gate.report", std::string(report_digest)}};
    for (const auto& [k, v] : tags) {
      db_.Exec("DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?",
               {name, version, k});
      db_.Exec("INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)",
               {name, version, k, v});
    }
    AppendAudit(who, "gate_decision", name, version,
                Json{{"decision", std::string(decision)},
                     {"report", std::string(report_digest)},
                     {"summary", summary}},
                "gate report " + std::string(report_digest));
  });
}

AliasMove ModelRegistry::MoveAliasLocked(const std::string& name, const std::string& alias,
                                         int64_t to, std::string_view action,
                                         const std::string& actor, const std::string& reason,
                                         Json details) {
  AliasMove move;
  move.name = name;
  move.alias = alias;
  move.to_version = to;
  auto cur =
      db_.QueryRow("SELECT version FROM model_aliases WHERE name = ? AND alias = ?", {name, alias});
  if (cur) move.from_version = AsInt64((*cur)[0]);
  if (move.from_version == to) return move;
  move.changed = true;
  int64_t now = tracking::NowMillis();
  if (cur) {
    db_.Exec("UPDATE model_aliases SET version = ? WHERE name = ? AND alias = ?",
             {to, name, alias});
  } else {
    db_.Exec("INSERT INTO model_aliases (name, alias, version) VALUES (?, ?, ?)",
             {name, alias, to});
  }
  auto seq = db_.QueryRow("SELECT MAX(seq) FROM alias_history WHERE name = ? AND alias = ?",
                          {name, alias});
  int64_t next = (seq && !IsNull((*seq)[0])) ? AsInt64((*seq)[0]) + 1 : 1;
  db_.Exec(
      "INSERT INTO alias_history (name, alias, seq, action, from_version, to_version, time, "
      "actor, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {name, alias, next, std::string(action), OptionalInt(move.from_version), to, now, actor,
       reason});
  db_.Exec("UPDATE registered_models SET last_updated_time = ? WHERE name = ?", {now, name});
  details["alias"] = alias;
  details["from_version"] = move.from_version ? Json(*move.from_version) : Json();
  details["to_version"] = to;
  AppendAudit(actor, action, name, to, details, reason);
  return move;
}

AliasMove ModelRegistry::Promote(std::string_view name_in, int64_t version,
                                 const PromoteOptions& options) {
  CheckAlias(options.alias);
  CheckText("the reason", options.reason, kMaxTextLength);
  if (options.force && options.reason.empty()) {
    ThrowInvalidArgument("--force needs --reason TEXT: say why the gates are overridden");
  }
  std::string name(name_in);
  std::string actor = Actor(options.actor);
  AliasMove move;
  db_.InTransaction([&] {
    ModelVersion v = GetVersion(name, version);
    auto tag = [&](std::string_view key) {
      auto it = v.tags.find(std::string(key));
      return it == v.tags.end() ? std::string() : it->second;
    };
    std::string ready = tag(kReadyTag), decision = tag("gate.decision"),
                report = tag("gate.report");
    bool passed = ready == "true";
    if (!passed && !options.force) {
      std::string why = ready.empty()
                            ? "it has no gate decision (run `mloop evaluate --model " +
                                  Ref(name, version) + " --gates FILE`)"
                            : "its gate decision is " + (decision.empty() ? "REJECT" : decision) +
                                  (report.empty() ? std::string() : " (report " + report + ")");
      throw Error(ErrorCode::kFailedPrecondition, "cannot promote " + Ref(name, version) + " to " +
                                                      options.alias + ": " + why +
                                                      "; to override, give --force --reason TEXT");
    }
    Json details{{"forced", !passed},
                 {"gate", Json{{"decision", decision.empty() ? Json() : Json(decision)},
                               {"report", report.empty() ? Json() : Json(report)}}},
                 {"run_id", v.run_id},
                 {"bundle_digest", v.bundle_digest}};
    std::string reason = options.reason;
    if (reason.empty()) reason = "gate report " + report;
    move = MoveAliasLocked(name, options.alias, version, "promote", actor, reason, details);
  });
  if (move.changed) {
    std::string message = "models: promote " + Ref(name, version) + " to " + options.alias;
    if (!options.reason.empty()) {
      message += " (" + std::string(options.force ? "forced: " : "") + options.reason + ")";
    }
    PublishDeployFile(move, message);
  }
  return move;
}

AliasMove ModelRegistry::Rollback(std::string_view name_in, std::string_view alias_in,
                                  std::string_view reason_in, std::string_view actor_in) {
  std::string name(name_in), alias(alias_in), reason(reason_in);
  CheckAlias(alias);
  CheckText("the reason", reason, kMaxTextLength);
  std::string actor = Actor(actor_in);
  AliasMove move;
  db_.InTransaction([&] {
    RequireModel(name);
    std::vector<Move> stack;
    for (const Row& r : db_.Query("SELECT action, from_version, to_version FROM alias_history "
                                  "WHERE name = ? AND alias = ? ORDER BY seq",
                                  {name, alias})) {
      if (AsText(r[0]) == "rollback") {
        if (!stack.empty()) stack.pop_back();
      } else {
        stack.push_back(
            {IsNull(r[1]) ? std::nullopt : std::optional<int64_t>(AsInt64(r[1])), AsInt64(r[2])});
      }
    }
    if (stack.empty() || !stack.back().from) {
      throw Error(
          ErrorCode::kFailedPrecondition,
          "cannot roll back " + name + "@" + alias + ": " +
              (stack.empty() ? std::string("the alias was never moved")
                             : "before its first promotion (to version " +
                                   std::to_string(stack.back().to) + ") it pointed nowhere") +
              "; model '" + name + "' has " + Describe(name));
    }
    int64_t target = *stack.back().from;
    ModelVersion v = GetVersion(name, target);
    Json details{{"run_id", v.run_id}, {"bundle_digest", v.bundle_digest}};
    move = MoveAliasLocked(name, alias, target, "rollback", actor, reason, details);
  });
  if (move.changed) {
    std::string message = "models: roll back " + name + "@" + alias + " from version " +
                          std::to_string(move.from_version.value_or(0)) + " to " +
                          std::to_string(move.to_version);
    if (!reason.empty()) message += " (" + reason + ")";
    PublishDeployFile(move, message);
  }
  return move;
}

void ModelRegistry::PublishDeployFile(AliasMove& move, const std::string& message) {
  std::filesystem::path file = DeployFile(move.name);
  try {
    Json doc;
    doc["format"] = kDeployFormat;
    doc["format_version"] = kDeployFormatVersion;
    doc["model"] = move.name;
    doc["aliases"] = Json::object();
    Json traffic = Json::object();
    RegisteredModel m = GetModel(move.name);
    for (const auto& [alias, version] : m.aliases) {
      ModelVersion v = GetVersion(move.name, version);
      doc["aliases"][alias] =
          Json{{"version", version}, {"run_id", v.run_id}, {"bundle_digest", v.bundle_digest}};
    }
    // A stub of the serving policy: all traffic to the champion.
    for (const auto& [alias, version] : m.aliases) traffic[alias] = alias == kChampion ? 100 : 0;
    doc["traffic"] = traffic;
    std::string text = "# Desired deployment state of model " + move.name +
                       ", written by mloop at every alias move.\n"
                       "# Edit it (or git revert a change) and run `mloop models sync " +
                       move.name + "` to apply it to the registry.\n" + ToYaml(doc);
    std::filesystem::create_directories(file.parent_path());
    WriteFileAtomic(file, text);
    move.deploy_file = file;
  } catch (const std::exception& e) {
    move.warnings.push_back("could not write " + file.string() + ": " + e.what());
    return;
  }
  if (!internal::InGitWorkTree(root_)) return;
  internal::GitCommitResult commit = internal::CommitFile(root_, file, message);
  if (commit.committed) {
    move.git_commit = commit.commit;
  } else if (!commit.error.empty()) {
    move.warnings.push_back(commit.error);
  }
}

std::vector<AliasMove> ModelRegistry::Sync(std::optional<std::string> name,
                                           std::string_view actor_in) {
  std::string actor = Actor(actor_in);
  std::vector<std::filesystem::path> files;
  if (name) {
    CheckName(*name);
    files.push_back(DeployFile(*name));
    if (!std::filesystem::exists(files.back())) {
      ThrowNotFound("no desired-state file " + files.back().string() + " for model '" + *name +
                    "'");
    }
  } else {
    std::filesystem::path dir = root_ / "deploy" / "models";
    if (std::filesystem::is_directory(dir)) {
      for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() == ".yaml") files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
  }
  // Read and check every file before changing anything.
  struct Desired {
    std::string model, alias;
    int64_t version;
    std::filesystem::path file;
  };
  std::vector<Desired> desired;
  for (const auto& file : files) {
    Json doc = ReadYamlFile(file);
    JsonReader r(file.string());
    r.CheckKeys("", doc, {"format", "format_version", "model", "aliases", "traffic"});
    if (r.String("format", r.Required("", doc, "format")) != kDeployFormat) {
      r.Fail("format", "expected " + std::string(kDeployFormat));
    }
    int64_t fv = r.Integer("format_version", r.Required("", doc, "format_version"));
    if (fv > kDeployFormatVersion) {
      r.Fail("format_version", "version " + std::to_string(fv) + " is newer than this mloop's (" +
                                   std::to_string(kDeployFormatVersion) + ")");
    }
    std::string model = r.Name("model", r.Required("", doc, "model"));
    if (file.stem() != model) r.Fail("model", "'" + model + "' differs from the file's name");
    // No aliases, or "aliases:" with nothing after it: nothing to apply.
    Json aliases = doc.contains("aliases") ? doc["aliases"] : Json();
    if (aliases.is_null()) aliases = Json::object();
    r.ExpectObject("aliases", aliases);
    for (const auto& [alias, entry] : aliases.items()) {
      std::string path = JsonReader::Join("aliases", alias);
      CheckAlias(alias);
      r.CheckKeys(path, entry, {"version", "run_id", "bundle_digest"});
      int64_t version =
          r.Positive(JsonReader::Join(path, "version"), r.Required(path, entry, "version"));
      ModelVersion v;
      try {
        v = GetVersion(model, version);
      } catch (const Error& e) {
        if (e.code() != ErrorCode::kNotFound) throw;
        r.Fail(JsonReader::Join(path, "version"), e.what());
      }
      if (entry.contains("bundle_digest") && r.String(JsonReader::Join(path, "bundle_digest"),
                                                      entry["bundle_digest"]) != v.bundle_digest) {
        r.Fail(JsonReader::Join(path, "bundle_digest"), "differs from the registry's bundle of " +
                                                            Ref(model, version) + " (" +
                                                            v.bundle_digest + ")");
      }
      desired.push_back({model, alias, version, file});
    }
  }
  std::string head = internal::InGitWorkTree(root_) ? internal::HeadCommit(root_) : "";
  std::vector<AliasMove> moves;
  db_.InTransaction([&] {
    for (const Desired& d : desired) {
      ModelVersion v = GetVersion(d.model, d.version);
      std::string reason = "desired state in " + std::filesystem::relative(d.file, root_).string() +
                           (head.empty() ? std::string() : " at git commit " + head);
      Json details{{"run_id", v.run_id}, {"bundle_digest", v.bundle_digest}};
      moves.push_back(MoveAliasLocked(d.model, d.alias, d.version, "sync", actor, reason, details));
    }
  });
  std::set<std::string> published;
  for (AliasMove& move : moves) {
    if (!move.changed || !published.insert(move.name).second) continue;
    PublishDeployFile(move, "models: sync " + move.name + " from its desired state");
  }
  return moves;
}

std::vector<AuditEntry> ModelRegistry::AuditLog(std::optional<std::string> model) {
  std::vector<AuditEntry> out;
  std::string sql = "SELECT " + std::string(kAuditColumns) + " FROM audit_log";
  store::Params params;
  if (model) {
    sql += " WHERE model = ?";
    params.push_back(*model);
  }
  sql += " ORDER BY seq";
  for (const Row& r : db_.Query(sql, params)) out.push_back(AuditFromRow(r));
  return out;
}

AuditVerification ModelRegistry::VerifyAudit() {
  AuditVerification v;
  std::string prev(kZeroHash);
  int64_t expected_seq = 1;
  for (const AuditEntry& e : AuditLog()) {
    ++v.checked;
    std::string problem;
    if (e.seq != expected_seq) {
      problem = "gap in seq: expected entry " + std::to_string(expected_seq) + ", found " +
                std::to_string(e.seq);
    } else if (e.prev_hash != prev) {
      problem = "broken chain: prev_hash is " + e.prev_hash + ", the entry before has hash " + prev;
    } else if (Sha256Hex(e.CanonicalForm()) != e.hash) {
      problem = "hash mismatch: the entry hashes to " + Sha256Hex(e.CanonicalForm()) +
                ", its stored hash is " + e.hash + " (it was changed after it was written)";
    }
    if (!problem.empty()) {
      v.ok = false;
      v.first_bad_seq = e.seq;
      v.first_bad_action = e.action;
      v.problem = problem;
      return v;
    }
    prev = e.hash;
    expected_seq = e.seq + 1;
  }
  return v;
}

}  // namespace mloop::registry
