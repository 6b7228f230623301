#include "store/workspace.h"

#include <cstdlib>
#include <system_error>
#include <utility>

#include "core/error.h"
#include "core/file.h"
#include "core/id.h"
#include "core/time.h"
#include "core/version.h"
#include "store/local_artifact_store.h"
#include "store/sqlite_metadata_store.h"

namespace mloop::store {

namespace fs = std::filesystem;

namespace {

// What `mloop init` writes. Kept as text, not generated, to keep the comments.
constexpr std::string_view kDefaultSettings =
    "# mloop workspace settings; see docs/workspace.md.\n"
    "version: 1\n"
    "store:\n"
    "  # The metadata database: sqlite:PATH, relative to this folder.\n"
    "  metadata: sqlite:.mloop/mloop.db\n"
    "  # The artifact store: a folder, relative to this folder.\n"
    "  artifacts: .mloop/artifacts\n";

constexpr std::string_view kDefaultMetadata = "sqlite:.mloop/mloop.db";
constexpr std::string_view kDefaultArtifacts = ".mloop/artifacts";

// Where a workspace's stores are, from its settings.
struct StoreLocations {
  fs::path sqlite_db;
  fs::path artifacts_dir;
};

[[noreturn]] void ThrowBadSetting(const fs::path& file, std::string_view key,
                                  const std::string& problem) {
  ThrowInvalidArgument(file.string() + ": " + std::string(key) + ": " + problem);
}

// Hides the password of a URL such as postgresql://user:secret@host/db, since
// the URL goes into error messages and logs.
std::string RedactUrl(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  size_t authority = scheme_end + 3;
  size_t at = url.find('@', authority);
  size_t slash = url.find('/', authority);
  if (at == std::string_view::npos || (slash != std::string_view::npos && slash < at)) {
    return std::string(url);
  }
  size_t colon = url.find(':', authority);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Resolves a path setting relative to the workspace root.
fs::path UnderRoot(const fs::path& root, std::string_view path) {
  fs::path p(path);
  return p.is_absolute() ? p.lexically_normal() : (root / p).lexically_normal();
}

std::string StringSetting(const Json& section, std::string_view key, std::string_view full_key,
                          std::string_view fallback, const fs::path& file) {
  auto it = section.find(std::string(key));
  if (it == section.end() || it->is_null()) return std::string(fallback);
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    ThrowBadSetting(file, full_key, "expected a non-empty string, got " + it->dump());
  }
  return it->get<std::string>();
}

StoreLocations ParseSettings(const Json& settings, const fs::path& root, const fs::path& file) {
  if (!settings.is_object()) {
    ThrowInvalidArgument(file.string() +
                         ": expected a mapping of settings (version: 1, store: ...)");
  }
  auto version = settings.find("version");
  if (version == settings.end() || version->is_null()) {
    ThrowBadSetting(file, "version", "missing; this mloop writes version: 1");
  }
  if (!version->is_number_integer() || version->get<int64_t>() < 1) {
    ThrowBadSetting(file, "version", "expected a positive integer (1), got " + version->dump());
  }
  if (version->get<int64_t>() > kSettingsVersion) {
    throw Error(ErrorCode::kFailedPrecondition,
                file.string() + ": version " + version->dump() + " is newer than this mloop (" +
                    kVersion + ") understands (" + std::to_string(kSettingsVersion) +
                    "); upgrade mloop");
  }

  Json store = Json::object();
  if (auto it = settings.find("store"); it != settings.end() && !it->is_null()) {
    if (!it->is_object()) {
      ThrowBadSetting(file, "store",
                      "expected a mapping with metadata and artifacts, got " + it->dump());
    }
    store = *it;
  }
  for (const auto& [key, value] : store.items()) {
    if (key != "metadata" && key != "artifacts") {
      ThrowBadSetting(file, "store." + key, "unknown setting; store takes metadata and artifacts");
    }
  }

  StoreLocations out;
  std::string metadata = StringSetting(store, "metadata", "store.metadata", kDefaultMetadata, file);
  if (StartsWith(metadata, "sqlite:")) {
    std::string_view path = std::string_view(metadata).substr(7);
    if (path.empty()) {
      ThrowBadSetting(file, "store.metadata", "'sqlite:' needs a path: sqlite:PATH");
    }
    out.sqlite_db = UnderRoot(root, path);
  } else if (StartsWith(metadata, "postgresql:") || StartsWith(metadata, "postgres:")) {
    throw Error(ErrorCode::kFailedPrecondition,
                file.string() + ": store.metadata: '" + RedactUrl(metadata) +
                    "': PostgreSQL metadata stores are not supported yet; use "
                    "sqlite:PATH");
  } else {
    ThrowBadSetting(
        file, "store.metadata",
        "'" + RedactUrl(metadata) + "' is not a metadata store URL; expected sqlite:PATH");
  }

  std::string artifacts =
      StringSetting(store, "artifacts", "store.artifacts", kDefaultArtifacts, file);
  if (StartsWith(artifacts, "s3://")) {
    throw Error(ErrorCode::kFailedPrecondition,
                file.string() + ": store.artifacts: '" + RedactUrl(artifacts) +
                    "': S3 artifact stores are not supported yet; use a folder");
  }
  if (artifacts.find("://") != std::string::npos) {
    ThrowBadSetting(file, "store.artifacts",
                    "'" + RedactUrl(artifacts) + "' is not supported; expected a folder path");
  }
  out.artifacts_dir = UnderRoot(root, artifacts);
  return out;
}

fs::path Absolute(const fs::path& dir) {
  std::error_code ec;
  fs::path out = fs::weakly_canonical(fs::absolute(dir), ec);
  if (ec) return fs::absolute(dir).lexically_normal();
  return out;
}

bool HoldsSettings(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / kSettingsFileName, ec);
}

fs::path NamedWorkspace(const fs::path& dir, std::string_view from) {
  fs::path root = Absolute(dir);
  if (!HoldsSettings(root)) {
    throw Error(ErrorCode::kFailedPrecondition,
                "no mloop workspace at " + root.string() + " (from " + std::string(from) +
                    "): it has no " + std::string(kSettingsFileName) + "; run `mloop init " +
                    root.string() + "`");
  }
  return root;
}

std::optional<std::string> ReadWorkspaceFact(MetadataStore& db, std::string_view key) {
  std::optional<Row> row =
      db.QueryRow("SELECT value FROM workspace WHERE key = ?", {std::string(key)});
  if (!row) return std::nullopt;
  return AsText((*row)[0]);
}

}  // namespace

Workspace::Workspace(fs::path root, Json settings, std::string id,
                     std::unique_ptr<MetadataStore> metadata,
                     std::unique_ptr<ArtifactStore> artifacts)
    : root_(std::move(root)),
      settings_(std::move(settings)),
      id_(std::move(id)),
      metadata_(std::move(metadata)),
      artifacts_(std::move(artifacts)) {}

Workspace::Workspace(Workspace&&) noexcept = default;
Workspace& Workspace::operator=(Workspace&&) noexcept = default;
Workspace::~Workspace() = default;

Workspace Workspace::Init(const fs::path& dir) {
  const fs::path root = Absolute(dir);
  const fs::path file = root / kSettingsFileName;
  if (fs::exists(file)) {
    throw Error(ErrorCode::kAlreadyExists,
                root.string() + " is already an mloop workspace (" + file.string() + " exists)");
  }
  std::error_code ec;
  fs::create_directories(root / ".mloop", ec);
  if (ec) {
    ThrowInvalidArgument(root.string() + ": cannot create the workspace folder: " + ec.message());
  }
  // The store is machine state, not project source: keep it out of git.
  const fs::path gitignore = root / ".mloop" / ".gitignore";
  if (!fs::exists(gitignore)) WriteFileAtomic(gitignore, "*\n");

  Json settings = ParseYaml(kDefaultSettings, file.string());
  StoreLocations where = ParseSettings(settings, root, file);

  auto metadata = std::make_unique<SqliteMetadataStore>(where.sqlite_db);
  metadata->Migrate();
  std::string id = NewId();
  metadata->InTransaction([&] {
    if (std::optional<std::string> other = ReadWorkspaceFact(*metadata, "workspace_id")) {
      throw Error(ErrorCode::kAlreadyExists, metadata->url() + " already belongs to workspace " +
                                                 *other + "; restore its " +
                                                 std::string(kSettingsFileName) + " or remove " +
                                                 (root / ".mloop").string() + " to start afresh");
    }
    const std::string sql = "INSERT INTO workspace (key, value) VALUES (?, ?)";
    metadata->Exec(sql, {"workspace_id", id});
    metadata->Exec(sql, {"created_at", FormatIsoTimestamp(NowMicros())});
    metadata->Exec(sql, {"mloop_version", kVersion});
  });
  auto artifacts = std::make_unique<LocalArtifactStore>(where.artifacts_dir);

  WriteFileAtomic(file, kDefaultSettings);
  return Workspace(root, std::move(settings), std::move(id), std::move(metadata),
                   std::move(artifacts));
}

Workspace Workspace::Open(const std::optional<fs::path>& explicit_dir) {
  const fs::path root = Locate(explicit_dir, fs::current_path());
  const fs::path file = root / kSettingsFileName;
  Json settings = ReadYamlFile(file);
  StoreLocations where = ParseSettings(settings, root, file);

  if (!fs::exists(where.sqlite_db)) {
    ThrowNotFound("workspace " + root.string() + ": the metadata database " +
                  where.sqlite_db.string() + " (store.metadata in " + file.string() +
                  ") does not exist");
  }
  SqliteOptions options;
  options.create_if_missing = false;
  auto metadata = std::make_unique<SqliteMetadataStore>(where.sqlite_db, options);
  metadata->Migrate();
  std::optional<std::string> id = ReadWorkspaceFact(*metadata, "workspace_id");
  if (!id) {
    ThrowDataLoss(metadata->url() + " has no workspace_id in its workspace table; " +
                  "it was not made by `mloop init` or has been damaged");
  }
  auto artifacts = std::make_unique<LocalArtifactStore>(where.artifacts_dir);
  return Workspace(root, std::move(settings), std::move(*id), std::move(metadata),
                   std::move(artifacts));
}

fs::path Workspace::Locate(const std::optional<fs::path>& explicit_dir, const fs::path& start) {
  if (explicit_dir && !explicit_dir->empty()) {
    return NamedWorkspace(*explicit_dir, "--workspace");
  }
  const std::string env_var(kWorkspaceEnvVar);
  if (const char* env = std::getenv(env_var.c_str()); env != nullptr && *env != '\0') {
    return NamedWorkspace(env, env_var);
  }
  const fs::path from = Absolute(start);
  for (fs::path dir = from;; dir = dir.parent_path()) {
    if (HoldsSettings(dir)) return dir;
    if (dir == dir.parent_path()) break;
  }
  throw Error(ErrorCode::kFailedPrecondition,
              "no mloop workspace in " + from.string() + " or any parent; run `mloop init`");
}

}  // namespace mloop::store
