// A Workspace is the folder an mloop project lives in: `mloop.yaml` (its
// settings) and, by default, `.mloop/` holding the metadata database
// (.mloop/mloop.db) and the artifact store (.mloop/artifacts/). Every command
// that reads or records anything opens one. docs/workspace.md describes the
// layout and the settings for users.
//
// mloop.yaml:
//   version: 1                          # the settings format version (required)
//   store:                              # optional; these are the defaults
//     metadata: sqlite:.mloop/mloop.db  # sqlite:PATH, relative to the workspace
//     artifacts: .mloop/artifacts       # a folder, relative to the workspace
// Other top-level keys belong to other modules and are left alone here. The
// settings `version` is bumped when a key changes meaning or a new key is
// required, so that an older mloop cannot misread the file; adding an optional
// key does not bump it. An mloop refuses settings with a version newer than
// kSettingsVersion.
//
// A Workspace object owns its stores. It is movable, not copyable; it is as
// thread-safe as its stores are (SqliteMetadataStore and LocalArtifactStore may
// be shared between threads).
//
// Errors (mloop::Error), naming the folder, file or key at fault:
//   invalid_argument     mloop.yaml is not valid YAML (with the line and column), or a
//                        setting is missing or has a bad value (naming the key); the
//                        folder cannot be created.
//   already_exists       Init on a folder that is already a workspace.
//   not_found            the metadata database named by the settings is missing.
//   failed_precondition  no workspace could be found; the settings or the database come
//                        from a newer mloop; a store URL that is valid but not supported
//                        yet (postgresql://, s3://).
//   data_loss            the database or its workspace record is damaged.
//   and what the stores throw (metadata_store.h, artifact_store.h).
#ifndef MLOOP_STORE_WORKSPACE_H_
#define MLOOP_STORE_WORKSPACE_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/json.h"
#include "store/artifact_store.h"
#include "store/metadata_store.h"

namespace mloop::store {

// The settings file that marks a workspace's root folder.
inline constexpr std::string_view kSettingsFileName = "mloop.yaml";
// The environment variable naming the workspace folder.
inline constexpr std::string_view kWorkspaceEnvVar = "MLOOP_WORKSPACE";
// The settings format version this mloop writes and the newest it reads.
inline constexpr int64_t kSettingsVersion = 1;

class Workspace {
 public:
  // Makes `dir` a workspace: creates the folder if needed, writes mloop.yaml
  // with the default settings, creates the stores, migrates the database and
  // records the workspace's id, creation time and the mloop version that made
  // it. mloop.yaml is written last, so a workspace is never found half-made.
  // Throws Error already_exists when `dir` already holds mloop.yaml, or holds a
  // database that already belongs to a workspace (mloop.yaml was deleted);
  // invalid_argument when the folder cannot be created; what the stores throw.
  static Workspace Init(const std::filesystem::path& dir);

  // Opens the workspace found by Locate(explicit_dir, current folder),
  // migrating its database to this mloop's schema if it is older. Throws as
  // Locate; Error invalid_argument for bad settings (YAML errors with the file,
  // line and column; bad keys by name); failed_precondition for settings or a
  // database newer than this mloop, and for unsupported store URLs; not_found
  // when the metadata database is missing; what the stores throw.
  static Workspace Open(const std::optional<std::filesystem::path>& explicit_dir = std::nullopt);

  // Finds a workspace's root folder the way git finds a repository:
  //   1. `explicit_dir` (the --workspace option) when given,
  //   2. else the MLOOP_WORKSPACE environment variable when set and not empty,
  //   3. else `start` and then each of its parents, the first holding
  //   mloop.yaml.
  // In cases 1 and 2 the folder itself must hold mloop.yaml (no search
  // upwards). Returns an absolute path. Throws Error failed_precondition when
  // there is no workspace: "no mloop workspace in START or any parent; run
  // `mloop init`", or, for 1 and 2, naming the folder and where it came from.
  static std::filesystem::path Locate(const std::optional<std::filesystem::path>& explicit_dir,
                                      const std::filesystem::path& start);

  Workspace(Workspace&&) noexcept;
  Workspace& operator=(Workspace&&) noexcept;
  ~Workspace();

  // The absolute root folder (the one holding mloop.yaml).
  const std::filesystem::path& root() const { return root_; }
  // The contents of mloop.yaml.
  const Json& settings() const { return settings_; }
  // The workspace's id, 32 hex characters, fixed at Init.
  const std::string& id() const { return id_; }

  MetadataStore& metadata() { return *metadata_; }
  ArtifactStore& artifacts() { return *artifacts_; }

 private:
  Workspace(std::filesystem::path root, Json settings, std::string id,
            std::unique_ptr<MetadataStore> metadata, std::unique_ptr<ArtifactStore> artifacts);

  std::filesystem::path root_;
  Json settings_;
  std::string id_;
  std::unique_ptr<MetadataStore> metadata_;
  std::unique_ptr<ArtifactStore> artifacts_;
};

}  // namespace mloop::store

#endif  // MLOOP_STORE_WORKSPACE_H_
