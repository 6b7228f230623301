// The model registry: registered models, their versions (a finished run's model bundle, numbered
// 1, 2, 3, ... per model and never reused), tags, descriptions, aliases such as `champion` that
// point at a version and move atomically, and an append-only, hash-chained audit log of every
// change with who made it, when and why. The records live in the workspace's metadata store
// (migration 4) in MLflow's data model; docs/registry.md is the user's guide.
//
// Every change is one transaction together with its audit entry: a change is never recorded
// without its entry, nor an entry without its change. Every alias move (promote, rollback, sync)
// then rewrites the model's desired-state file deploy/models/NAME.yaml under the workspace root
// and, when the workspace is inside a git repository, commits that file alone. The file and the
// commit come after the registry change: a failure there does not undo it, and is returned as a
// warning.
//
// A ModelRegistry wraps stores it does not own and is as thread-safe as they are (SQLite: one per
// thread; several processes may change one registry at once, each change being one transaction
// that holds the write lock, so version and audit numbers never collide).
//
// Errors (mloop::Error): invalid_argument for a bad name, reference, tag key, decision or option
// (force without a reason), a reserved tag set by hand, a run without a model bundle or not
// finished; not_found for an unknown model, version or alias (the message names what exists);
// failed_precondition for a promotion the gate decision forbids (naming the decision and its
// report) and a rollback with nothing to roll back to; and what the stores throw.
#ifndef MLOOP_REGISTRY_MODEL_REGISTRY_H_
#define MLOOP_REGISTRY_MODEL_REGISTRY_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "store/artifact_store.h"
#include "store/metadata_store.h"

namespace mloop::registry {

// The tag the promotion gates set on a version: "true" (PROMOTE) or "false" (REJECT).
inline constexpr std::string_view kReadyTag = "ready_for_deployment";
// Tags starting with this are the gates' too: gate.decision, gate.report (the report's digest).
inline constexpr std::string_view kGateTagPrefix = "gate.";
inline constexpr std::string_view kChampion = "champion";

// A reference to a model version, as users write it:
//   NAME@3        version 3
//   NAME@ALIAS    the version the alias points at (champion, challenger, ...)
//   NAME@latest   the highest version; also a bare NAME
struct ModelRef {
  enum class Kind { kLatest, kVersion, kAlias };
  std::string name;
  Kind kind = Kind::kLatest;
  int64_t version = 0;  // kVersion only.
  std::string alias;    // kAlias only.

  // "income@3", "income@champion", "income@latest".
  std::string ToString() const;
};
// Throws invalid_argument for an empty or bad name, an empty or bad part after '@', a version
// that is not a positive number, more than one '@'.
ModelRef ParseModelRef(std::string_view text);

struct ModelVersion {
  std::string name;
  int64_t version = 0;
  std::string run_id;
  std::string bundle_digest;  // The artifact holding the run's model/bundle.json.
  Json signature;             // The bundle's `signature`.
  Json lineage;               // The bundle's `lineage`: the dataset versions it came from.
  // MLflow's ModelVersionStatus. Registration is synchronous, so versions are "READY".
  std::string status;
  std::string description;
  int64_t creation_time = 0;  // Milliseconds since the epoch.
  int64_t last_updated_time = 0;
  std::string created_by;
  std::map<std::string, std::string> tags;
  std::vector<std::string> aliases;  // The aliases pointing at this version, sorted.

  Json ToJson() const;
};

struct RegisteredModel {
  std::string name;
  std::string description;
  int64_t creation_time = 0;
  int64_t last_updated_time = 0;
  std::map<std::string, std::string> tags;
  std::map<std::string, int64_t> aliases;  // Alias -> version.
  std::vector<int64_t> versions;           // Ascending.

  Json ToJson() const;
};

// The result of moving an alias.
struct AliasMove {
  std::string name;
  std::string alias;
  std::optional<int64_t> from_version;  // None when the alias is new.
  int64_t to_version = 0;
  bool changed = false;               // False when the alias already pointed there.
  std::filesystem::path deploy_file;  // The desired-state file written (empty if none).
  std::string git_commit;             // The commit of that file, when one was made.
  std::vector<std::string> warnings;  // What went wrong after the change (file, git).

  Json ToJson() const;
};

// One audit entry. The canonical form hashed is the compact JSON array
//   [seq, time, actor, action, model|null, version|null, details_json, reason, prev_hash]
// (details_json as the stored text), and hash = SHA-256 hex of its UTF-8 bytes.
struct AuditEntry {
  int64_t seq = 0;  // 1, 2, 3, ... without gaps.
  int64_t time = 0;
  std::string actor;
  // register, set_description, set_tag, delete_tag, gate_decision, promote, rollback, sync.
  std::string action;
  std::optional<std::string> model;
  std::optional<int64_t> version;
  std::string details_json;  // A JSON object: what changed.
  std::string reason;        // Why: the user's reason, or the gate report's digest.
  std::string prev_hash;
  std::string hash;

  std::string CanonicalForm() const;
  Json ToJson() const;
};

struct AuditVerification {
  bool ok = true;
  int64_t checked = 0;  // Entries checked, up to and including the first bad one.
  std::optional<int64_t> first_bad_seq;
  std::string first_bad_action;
  // "hash mismatch", "broken chain" (prev_hash is not the previous entry's hash) or
  // "gap in seq", then what was expected.
  std::string problem;

  Json ToJson() const;
};

struct PromoteOptions {
  std::string alias = std::string(kChampion);
  bool force = false;  // Promote even without a PROMOTE gate decision; needs a reason.
  std::string reason;  // Why; recorded in the audit log and the commit message.
  std::string actor;   // Empty: CurrentActor().
};

// Who is acting: $MLOOP_USER, else the login name of the user running mloop, else "unknown".
std::string CurrentActor();

class ModelRegistry {
 public:
  // `workspace_root` is where deploy/models/ lives.
  ModelRegistry(store::MetadataStore& db, store::ArtifactStore& artifacts,
                std::filesystem::path workspace_root)
      : db_(db), artifacts_(artifacts), root_(std::move(workspace_root)) {}

  // Registers the model bundle (model/bundle.json) of a FINISHED run (its id or a unique prefix
  // of 6+ characters) as the next version of model `name`, creating the model when new. Throws
  // invalid_argument for a bad name, a run that is not FINISHED or has no model/bundle.json (or
  // one that is not an mloop model bundle); not_found for an unknown run.
  ModelVersion Register(std::string_view run_id, std::string_view name,
                        std::string_view description = "", std::string_view actor = "");

  // Models by name.
  std::vector<RegisteredModel> ListModels();
  // Throws not_found naming the registered models.
  RegisteredModel GetModel(std::string_view name);
  // Throws not_found naming the model's versions and aliases.
  ModelVersion GetVersion(std::string_view name, int64_t version);
  // The version `ref` points at. Throws not_found as GetVersion, and for an unknown alias.
  ModelVersion Resolve(const ModelRef& ref);
  // Every version of a model, ascending.
  std::vector<ModelVersion> ListVersions(std::string_view name);

  // Sets or deletes a version's tag (MLflow's key rules). Throws invalid_argument for
  // ready_for_deployment and gate.* (the gates set them) and, on delete, for a missing tag.
  void SetVersionTag(std::string_view name, int64_t version, std::string_view key,
                     std::string_view value, std::string_view actor = "");
  void DeleteVersionTag(std::string_view name, int64_t version, std::string_view key,
                        std::string_view actor = "");
  // The model's description, or a version's when `version` is given.
  void SetDescription(std::string_view name, std::optional<int64_t> version,
                      std::string_view description, std::string_view actor = "");

  // Records the promotion gates' decision on a version ("PROMOTE" or "REJECT"): tags
  // ready_for_deployment (true or false), gate.decision and gate.report (the report artifact's
  // digest), and an audit entry whose reason is the report's digest and whose details hold
  // `summary`. Throws invalid_argument for another decision or a report that is not a SHA-256.
  void RecordGateDecision(std::string_view name, int64_t version, std::string_view decision,
                          std::string_view report_digest, const Json& summary,
                          std::string_view actor = "");

  // Points `options.alias` at `version`. Refuses (failed_precondition, naming the decision and
  // report) a version whose ready_for_deployment is not "true" unless options.force with a
  // reason; force without a reason is invalid_argument. An alias already there is no change.
  AliasMove Promote(std::string_view name, int64_t version, const PromoteOptions& options);

  // Moves the alias back to where it pointed before its latest move that has not been rolled
  // back. Throws failed_precondition when there is no such move (naming the alias's history).
  AliasMove Rollback(std::string_view name, std::string_view alias = kChampion,
                     std::string_view reason = "", std::string_view actor = "");

  // Applies deploy/models/NAME.yaml (one model) or every deploy/models/*.yaml (all) to the
  // registry: each alias the file lists is moved to its version (action "sync"). Aliases the file
  // does not list are left alone. Refuses, before changing anything, a file naming a version
  // that does not exist or whose bundle digest differs from the registry's (invalid_argument);
  // not_found when the named model's file does not exist.
  std::vector<AliasMove> Sync(std::optional<std::string> name = std::nullopt,
                              std::string_view actor = "");

  // The audit entries, oldest first; only those about `model` when given.
  std::vector<AuditEntry> AuditLog(std::optional<std::string> model = std::nullopt);
  // Checks the whole chain: seq 1, 2, 3, ..., each prev_hash the hash before, each hash its
  // entry's. Stops at the first bad entry.
  AuditVerification VerifyAudit();

  // deploy/models/NAME.yaml under the workspace root.
  std::filesystem::path DeployFile(std::string_view name) const;

 private:
  // Inside a transaction: appends an audit entry and returns its seq.
  int64_t AppendAudit(std::string_view actor, std::string_view action,
                      std::optional<std::string> model, std::optional<int64_t> version,
                      const Json& details, std::string_view reason);
  // Inside a transaction: moves the alias, with its history row and audit entry.
  AliasMove MoveAliasLocked(const std::string& name, const std::string& alias, int64_t to,
                            std::string_view action, const std::string& actor,
                            const std::string& reason, Json details);
  // After the transaction: rewrites the deploy file and commits it; fills move.deploy_file,
  // move.git_commit and move.warnings.
  void PublishDeployFile(AliasMove& move, const std::string& message);
  std::string Describe(const std::string& name);  // "versions 1 to 3; aliases: champion -> 2".
  void RequireModel(const std::string& name);
  ModelVersion LoadVersion(const store::Row& row);

  store::MetadataStore& db_;
  store::ArtifactStore& artifacts_;
  std::filesystem::path root_;
};

}  // namespace mloop::registry

#endif  // MLOOP_REGISTRY_MODEL_REGISTRY_H_
