#include "store/workspace.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "core/digest.h"
#include "core/error.h"
#include "core/testing.h"
#include "core/time.h"
#include "core/version.h"
#include "store/migrations.h"
#include "store/sqlite_metadata_store.h"

namespace mloop::store {
namespace {

namespace fs = std::filesystem;
using test::CatchError;
using test::Contains;
using test::ExpectError;
using test::TempDir;
using test::WriteBytes;

// Each test starts with MLOOP_WORKSPACE unset and leaves the environment and
// the current folder as it found them.
class WorkspaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* env = std::getenv("MLOOP_WORKSPACE")) saved_env_ = env;
    ::unsetenv("MLOOP_WORKSPACE");
    saved_cwd_ = fs::current_path();
  }
  void TearDown() override {
    fs::current_path(saved_cwd_);
    if (saved_env_) {
      ::setenv("MLOOP_WORKSPACE", saved_env_->c_str(), 1);
    } else {
      ::unsetenv("MLOOP_WORKSPACE");
    }
  }

  std::string Fact(Workspace& ws, const std::string& key) {
    return AsText(ws.metadata().Query("SELECT value FROM workspace WHERE key = ?", {key})[0][0]);
  }

  // Makes a workspace and rewrites its mloop.yaml.
  fs::path WorkspaceWithSettings(const std::string& yaml) {
    fs::path root = dir_.path() / "ws";
    Workspace::Init(root);
    WriteBytes(root / "mloop.yaml", yaml);
    return root;
  }

  TempDir dir_;
  std::optional<std::string> saved_env_;
  fs::path saved_cwd_;
};

TEST_F(WorkspaceTest, InitCreatesTheLayoutAndRecordsTheWorkspace) {
  fs::path root = dir_.path() / "projects" / "income";  // Parents do not exist yet.
  Workspace ws = Workspace::Init(root);
  EXPECT_EQ(ws.root(), root);
  EXPECT_TRUE(fs::is_regular_file(root / "mloop.yaml"));
  EXPECT_TRUE(fs::is_regular_file(root / ".mloop" / "mloop.db"));
  EXPECT_TRUE(fs::is_directory(root / ".mloop" / "artifacts" / "sha256"));
  EXPECT_TRUE(fs::is_regular_file(root / ".mloop" / ".gitignore"));

  EXPECT_EQ(ws.settings()["version"], 1);
  EXPECT_EQ(ws.settings()["store"]["metadata"], "sqlite:.mloop/mloop.db");
  EXPECT_EQ(ws.settings()["store"]["artifacts"], ".mloop/artifacts");

  EXPECT_EQ(ws.id().size(), 32u);
  EXPECT_EQ(Fact(ws, "workspace_id"), ws.id());
  EXPECT_EQ(Fact(ws, "mloop_version"), kVersion);
  EXPECT_TRUE(ParseIsoTimestamp(Fact(ws, "created_at")).has_value());
  EXPECT_EQ(ws.metadata().SchemaVersion(), LatestSchemaVersion());

  std::string digest = ws.artifacts().Put("bytes");
  EXPECT_TRUE(fs::exists(root / ".mloop" / "artifacts" / "sha256" / digest.substr(0, 2) /
                         digest.substr(2)));
}

TEST_F(WorkspaceTest, InitTwiceIsAlreadyExists) {
  fs::path root = dir_.path() / "ws";
  Workspace::Init(root);
  ExpectError(ErrorCode::kAlreadyExists, {root.string(), "already an mloop workspace"},
              [&] { Workspace::Init(root); });
}

TEST_F(WorkspaceTest, InitOverAnOrphanedDatabaseIsAlreadyExists) {
  fs::path root = dir_.path() / "ws";
  std::string id = Workspace::Init(root).id();
  fs::remove(root / "mloop.yaml");
  ExpectError(ErrorCode::kAlreadyExists, {"already belongs to workspace " + id},
              [&] { Workspace::Init(root); });
  EXPECT_FALSE(fs::exists(root / "mloop.yaml"));
}

TEST_F(WorkspaceTest, OpenWithAnExplicitFolder) {
  fs::path root = dir_.path() / "ws";
  std::string id;
  std::string digest;
  {
    Workspace ws = Workspace::Init(root);
    id = ws.id();
    digest = ws.artifacts().Put("kept");
    ws.metadata().Exec("INSERT INTO workspace (key, value) VALUES ('note', 'hi')");
  }
  Workspace ws = Workspace::Open(root);
  EXPECT_EQ(ws.root(), root);
  EXPECT_EQ(ws.id(), id);
  EXPECT_EQ(ws.artifacts().Get(digest), "kept");
  EXPECT_EQ(Fact(ws, "note"), "hi");
}

TEST_F(WorkspaceTest, FindsTheWorkspaceFromASubfolder) {
  fs::path root = dir_.path() / "ws";
  std::string id = Workspace::Init(root).id();
  fs::path deep = root / "data" / "raw" / "2024";
  fs::create_directories(deep);

  EXPECT_EQ(Workspace::Locate(std::nullopt, deep), root);
  EXPECT_EQ(Workspace::Locate(std::nullopt, root), root);

  fs::current_path(deep);
  Workspace ws = Workspace::Open();
  EXPECT_EQ(ws.root(), root);
  EXPECT_EQ(ws.id(), id);
}

TEST_F(WorkspaceTest, FindsTheWorkspaceFromTheEnvironment) {
  fs::path root = dir_.path() / "ws";
  std::string id = Workspace::Init(root).id();
  fs::path elsewhere = dir_.path() / "elsewhere";
  fs::create_directories(elsewhere);
  ::setenv("MLOOP_WORKSPACE", root.c_str(), 1);

  EXPECT_EQ(Workspace::Locate(std::nullopt, elsewhere), root);
  fs::current_path(elsewhere);
  EXPECT_EQ(Workspace::Open().id(), id);

  // --workspace wins over the environment.
  fs::path other = dir_.path() / "other";
  std::string other_id = Workspace::Init(other).id();
  EXPECT_EQ(Workspace::Open(other).id(), other_id);

  // An environment variable naming a folder without a workspace is an error,
  // not a reason to search elsewhere.
  ::setenv("MLOOP_WORKSPACE", elsewhere.c_str(), 1);
  ExpectError(ErrorCode::kFailedPrecondition, {elsewhere.string(), "MLOOP_WORKSPACE"},
              [&] { Workspace::Locate(std::nullopt, root); });

  // An empty variable counts as unset.
  ::setenv("MLOOP_WORKSPACE", "", 1);
  EXPECT_EQ(Workspace::Locate(std::nullopt, root), root);
}

TEST_F(WorkspaceTest, NoWorkspaceIsFailedPrecondition) {
  fs::path lost = dir_.path() / "lost" / "deeper";
  fs::create_directories(lost);
  ExpectError(ErrorCode::kFailedPrecondition,
              {"no mloop workspace in " + lost.string() + " or any parent; run `mloop init`"},
              [&] { Workspace::Locate(std::nullopt, lost); });

  fs::current_path(lost);
  ExpectError(ErrorCode::kFailedPrecondition, {}, [] { Workspace::Open(); });
  ExpectError(ErrorCode::kFailedPrecondition,
              {"no mloop workspace at " + lost.string(), "--workspace"},
              [&] { Workspace::Open(lost); });
}

TEST_F(WorkspaceTest, BadYamlIsInvalidArgumentNamingFileAndLine) {
  fs::path root = WorkspaceWithSettings(
      "version: 1\n"
      "store:\n"
      "  metadata: [sqlite:.mloop/mloop.db\n"
      "  artifacts: .mloop/artifacts\n");
  Error e = CatchError([&] { Workspace::Open(root); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(e.message(), (root / "mloop.yaml").string() + ":")) << e.message();
  EXPECT_TRUE(Contains(e.message(), "invalid YAML")) << e.message();
  EXPECT_TRUE(Contains(e.message(), "mloop.yaml:4:") || Contains(e.message(), "mloop.yaml:3:"))
      << e.message();
}

TEST_F(WorkspaceTest, BadSettingsNameTheKey) {
  struct Case {
    std::string yaml;
    ErrorCode code;
    std::string fact;
  };
  const Case cases[] = {
      {"store: {}\n", ErrorCode::kInvalidArgument, "version: missing"},
      {"version: one\n", ErrorCode::kInvalidArgument, "version: expected a positive integer"},
      {"version: 2\n", ErrorCode::kFailedPrecondition, "version 2 is newer"},
      {"- a\n- b\n", ErrorCode::kInvalidArgument, "expected a mapping of settings"},
      {"", ErrorCode::kInvalidArgument, "expected a mapping of settings"},
      {"version: 1\nstore: sqlite\n", ErrorCode::kInvalidArgument, "store: expected a mapping"},
      {"version: 1\nstore:\n  metdata: sqlite:x.db\n", ErrorCode::kInvalidArgument,
       "store.metdata: unknown setting"},
      {"version: 1\nstore:\n  metadata: 12\n", ErrorCode::kInvalidArgument,
       "store.metadata: expected a non-empty string"},
      {"version: 1\nstore:\n  metadata: mysql://db/x\n", ErrorCode::kInvalidArgument,
       "store.metadata: 'mysql://db/x' is not a metadata store URL"},
      {"version: 1\nstore:\n  metadata: 'sqlite:'\n", ErrorCode::kInvalidArgument,
       "store.metadata: 'sqlite:' needs a path"},
      {"version: 1\nstore:\n  metadata: "
       "postgresql://ml:secret@db.internal/mloop\n",
       ErrorCode::kFailedPrecondition,
       "store.metadata: 'postgresql://ml:***@db.internal/mloop': PostgreSQL "
       "metadata "
       "stores are not supported yet"},
      {"version: 1\nstore:\n  artifacts: s3://bucket/mloop\n", ErrorCode::kFailedPrecondition,
       "store.artifacts: 's3://bucket/mloop': S3 artifact stores are not "
       "supported yet"},
      {"version: 1\nstore:\n  artifacts: gs://bucket\n", ErrorCode::kInvalidArgument,
       "store.artifacts: 'gs://bucket' is not supported"},
  };
  for (const Case& c : cases) {
    TempDir dir;
    fs::path root = dir.path() / "ws";
    Workspace::Init(root);
    WriteBytes(root / "mloop.yaml", c.yaml);
    Error e = CatchError([&] { Workspace::Open(root); });
    EXPECT_EQ(e.code(), c.code) << c.yaml << "\n" << e.message();
    EXPECT_TRUE(Contains(e.message(), c.fact)) << c.yaml << "\n" << e.message();
    EXPECT_TRUE(Contains(e.message(), (root / "mloop.yaml").string())) << e.message();
    EXPECT_FALSE(Contains(e.message(), "secret")) << e.message();
  }
}

TEST_F(WorkspaceTest, SettingsMayMoveTheStores) {
  fs::path root = WorkspaceWithSettings(
      "version: 1\n"
      "store:\n"
      "  metadata: sqlite:.mloop/mloop.db\n"
      "  artifacts: blobs\n"
      "serve:\n"
      "  port: 8080  # Other modules' keys are left alone.\n");
  Workspace ws = Workspace::Open(root);
  std::string digest = ws.artifacts().Put("moved");
  EXPECT_TRUE(fs::exists(root / "blobs" / "sha256" / digest.substr(0, 2)));
  EXPECT_EQ(ws.settings()["serve"]["port"], 8080);

  // Defaults apply when store is left out.
  WriteBytes(root / "mloop.yaml", "version: 1\n");
  EXPECT_NO_THROW(Workspace::Open(root));
}

TEST_F(WorkspaceTest, MissingDatabaseIsNotFoundNamingTheSetting) {
  fs::path root = WorkspaceWithSettings(
      "version: 1\n"
      "store:\n"
      "  metadata: sqlite:elsewhere/meta.db\n");
  ExpectError(ErrorCode::kNotFound, {(root / "elsewhere" / "meta.db").string(), "store.metadata"},
              [&] { Workspace::Open(root); });
}

TEST_F(WorkspaceTest, OpenRefusesADatabaseFromANewerMloop) {
  fs::path root = dir_.path() / "ws";
  Workspace::Init(root);
  {
    SqliteMetadataStore db(root / ".mloop" / "mloop.db");
    db.Exec(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, "
        "?, ?)",
        {LatestSchemaVersion() + 1, "future", "2099-01-01T00:00:00Z"});
  }
  ExpectError(ErrorCode::kFailedPrecondition, {"newer", "upgrade mloop"},
              [&] { Workspace::Open(root); });
}

TEST_F(WorkspaceTest, RelativeExplicitFolderResolvesAgainstTheCurrentFolder) {
  fs::current_path(dir_.path());
  Workspace ws = Workspace::Init("myproject");
  EXPECT_EQ(ws.root(), dir_.path() / "myproject");
  EXPECT_EQ(Workspace::Open(fs::path("myproject")).id(), ws.id());
}

}  // namespace
}  // namespace mloop::store
