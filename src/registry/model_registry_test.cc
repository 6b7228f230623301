#include "registry/model_registry.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <set>
#include <thread>

#include "core/digest.h"
#include "core/file.h"
#include "core/testing.h"
#include "registry/internal/git.h"
#include "store/workspace.h"
#include "tracking/tracking_store.h"

namespace mloop::registry {
namespace {

using store::AsInt64;
using store::AsText;
using test::CatchError;
using test::Contains;
using test::ExpectError;
using test::TempDir;

const std::string kReport = Sha256Hex("a gate report");

class ModelRegistryTest : public ::testing::Test {
 protected:
  // A FINISHED run with a model bundle whose lineage names `tag`.
  std::string FinishedRun(const std::string& tag = "adult@1", bool with_bundle = true,
                          bool finish = true) {
    tracking::Experiment e = t_.GetOrCreateExperiment("adult");
    tracking::NewRun nr;
    nr.experiment_id = e.experiment_id;
    tracking::Run run = t_.CreateRun(nr);
    if (with_bundle) {
      Json bundle{{"format", "mloop-model-bundle"},
                  {"format_version", 1},
                  {"signature",
                   {{"inputs", {{{"name", "age"}, {"type", "int64"}}}}, {"output", "probability"}}},
                  {"lineage", {{"run_id", run.run_id}, {"train", {{"ref", tag}}}}}};
      t_.LogArtifact(run.run_id, "model/bundle.json", bundle.dump());
    }
    if (finish) t_.EndRun(run.run_id, tracking::RunStatus::kFinished);
    return run.run_id;
  }

  PromoteOptions Opts(std::string alias = "champion", bool force = false, std::string reason = "") {
    PromoteOptions o;
    o.alias = std::move(alias);
    o.force = force;
    o.reason = std::move(reason);
    o.actor = "tester";
    return o;
  }

  TempDir dir_;
  store::Workspace ws_ = store::Workspace::Init(dir_.path() / "ws");
  tracking::TrackingStore t_{ws_.metadata(), ws_.artifacts()};
  ModelRegistry r_{ws_.metadata(), ws_.artifacts(), ws_.root()};
};

TEST(ModelRefTest, ParsesVersionsAliasesAndLatest) {
  ModelRef v = ParseModelRef("income@3");
  EXPECT_EQ(v.kind, ModelRef::Kind::kVersion);
  EXPECT_EQ(v.name, "income");
  EXPECT_EQ(v.version, 3);
  ModelRef a = ParseModelRef("income@champion");
  EXPECT_EQ(a.kind, ModelRef::Kind::kAlias);
  EXPECT_EQ(a.alias, "champion");
  EXPECT_EQ(ParseModelRef("income@latest").kind, ModelRef::Kind::kLatest);
  EXPECT_EQ(ParseModelRef("income").kind, ModelRef::Kind::kLatest);
  EXPECT_EQ(ParseModelRef("income@champion").ToString(), "income@champion");
  for (const char* bad : {"", "@3", "income@", "income@0", "income@-1", "income@3x", "a@b@c",
                          "in come@1", "income@_x"}) {
    SCOPED_TRACE(bad);
    ExpectError(ErrorCode::kInvalidArgument, {}, [&] { ParseModelRef(bad); });
  }
}

TEST_F(ModelRegistryTest, RegisterCopiesTheBundleAndNumbersVersions) {
  std::string run1 = FinishedRun("adult@1"), run2 = FinishedRun("adult@2");
  ModelVersion v1 = r_.Register(run1.substr(0, 8), "income", "first", "alice");
  ModelVersion v2 = r_.Register(run2, "income", "", "bob");
  EXPECT_EQ(v1.version, 1);
  EXPECT_EQ(v2.version, 2);
  EXPECT_EQ(v1.run_id, run1);
  EXPECT_EQ(v1.status, "READY");
  EXPECT_EQ(v1.created_by, "alice");
  EXPECT_EQ(v1.description, "first");
  EXPECT_EQ(v1.lineage["train"]["ref"], "adult@1");
  EXPECT_EQ(v2.lineage["train"]["ref"], "adult@2");
  EXPECT_EQ(v1.signature["output"], "probability");
  tracking::Run run = t_.GetRun(run1);
  EXPECT_EQ(v1.bundle_digest, run.artifacts[0].digest);
  RegisteredModel m = r_.GetModel("income");
  EXPECT_EQ(m.versions, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(r_.ListModels().size(), 1u);
  EXPECT_EQ(r_.Resolve(ParseModelRef("income")).version, 2);
  EXPECT_EQ(r_.Resolve(ParseModelRef("income@1")).run_id, run1);
  std::vector<AuditEntry> log = r_.AuditLog("income");
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].action, "register");
  EXPECT_EQ(log[0].actor, "alice");
  EXPECT_EQ(log[0].version, 1);
  EXPECT_EQ(log[0].prev_hash, std::string(64, '0'));
  EXPECT_EQ(log[1].prev_hash, log[0].hash);
}

TEST_F(ModelRegistryTest, RegisterRefusesUnfinishedRunsAndRunsWithoutABundle) {
  ExpectError(ErrorCode::kInvalidArgument, {"RUNNING", "FINISHED"},
              [&] { r_.Register(FinishedRun("x", true, false), "income"); });
  ExpectError(ErrorCode::kInvalidArgument, {"model/bundle.json"},
              [&] { r_.Register(FinishedRun("x", false), "income"); });
  ExpectError(ErrorCode::kNotFound, {"abcdef12"}, [&] { r_.Register("abcdef12", "income"); });
  ExpectError(ErrorCode::kInvalidArgument, {"model name 'a/b'"},
              [&] { r_.Register(FinishedRun(), "a/b"); });
  EXPECT_TRUE(r_.ListModels().empty());
  EXPECT_TRUE(r_.AuditLog().empty());
}

TEST_F(ModelRegistryTest, NotFoundErrorsNameWhatExists) {
  ExpectError(ErrorCode::kNotFound, {"'income'", "no model is registered"},
              [&] { r_.GetModel("income"); });
  for (int i = 0; i < 3; ++i) r_.Register(FinishedRun(), "income");
  r_.Promote("income", 2, Opts("champion", true, "first"));
  ExpectError(ErrorCode::kNotFound, {"'other'", "registered models: income"},
              [&] { r_.GetModel("other"); });
  ExpectError(ErrorCode::kNotFound,
              {"model 'income' has no version 7", "versions 1 to 3", "aliases: champion -> 2"},
              [&] { r_.GetVersion("income", 7); });
  ExpectError(ErrorCode::kNotFound, {"no alias 'prod'", "champion -> 2"},
              [&] { r_.Resolve(ParseModelRef("income@prod")); });
  EXPECT_EQ(r_.Resolve(ParseModelRef("income@champion")).version, 2);
}

TEST_F(ModelRegistryTest, TagsAndDescriptionsAreAuditedAndGateTagsAreReserved) {
  r_.Register(FinishedRun(), "income");
  r_.SetVersionTag("income", 1, "owner", "risk-team", "alice");
  r_.SetDescription("income", std::nullopt, "predicts income > 50K", "alice");
  r_.SetDescription("income", 1, "xgboost, 60 rounds", "alice");
  ModelVersion v = r_.GetVersion("income", 1);
  EXPECT_EQ(v.tags.at("owner"), "risk-team");
  EXPECT_EQ(v.description, "xgboost, 60 rounds");
  EXPECT_EQ(r_.GetModel("income").description, "predicts income > 50K");
  ExpectError(ErrorCode::kInvalidArgument, {"ready_for_deployment", "gates"},
              [&] { r_.SetVersionTag("income", 1, "ready_for_deployment", "true"); });
  ExpectError(ErrorCode::kInvalidArgument, {"gate.report"},
              [&] { r_.SetVersionTag("income", 1, "gate.report", kReport); });
  ExpectError(ErrorCode::kInvalidArgument, {"ready_for_deployment"},
              [&] { r_.DeleteVersionTag("income", 1, "ready_for_deployment"); });
  ExpectError(ErrorCode::kNotFound, {"no version 2"},
              [&] { r_.SetVersionTag("income", 2, "owner", "x"); });
  ExpectError(ErrorCode::kInvalidArgument, {"set_tag", "UTF-8"},
              [&] { r_.SetVersionTag("income", 1, "owner", "\xff"); });
  EXPECT_EQ(r_.GetVersion("income", 1).tags.at("owner"), "risk-team");
  r_.DeleteVersionTag("income", 1, "owner", "bob");
  EXPECT_FALSE(r_.GetVersion("income", 1).tags.count("owner"));
  ExpectError(ErrorCode::kInvalidArgument, {"no tag 'owner'"},
              [&] { r_.DeleteVersionTag("income", 1, "owner"); });
  std::vector<std::string> actions;
  for (const AuditEntry& e : r_.AuditLog()) actions.push_back(e.action);
  EXPECT_EQ(actions, (std::vector<std::string>{"register", "set_tag", "set_description",
                                               "set_description", "delete_tag"}));
  EXPECT_TRUE(r_.VerifyAudit().ok);
}

TEST_F(ModelRegistryTest, GateDecisionsSetTheTagsAndAreAuditedWithTheReport) {
  r_.Register(FinishedRun(), "income");
  r_.RecordGateDecision("income", 1, "REJECT", kReport, Json{{"failed", 2}}, "ci");
  ModelVersion v = r_.GetVersion("income", 1);
  EXPECT_EQ(v.tags.at("ready_for_deployment"), "false");
  EXPECT_EQ(v.tags.at("gate.decision"), "REJECT");
  EXPECT_EQ(v.tags.at("gate.report"), kReport);
  AuditEntry e = r_.AuditLog().back();
  EXPECT_EQ(e.action, "gate_decision");
  EXPECT_TRUE(Contains(e.reason, kReport));
  EXPECT_EQ(ParseJson(e.details_json, "details")["summary"]["failed"], 2);
  r_.RecordGateDecision("income", 1, "PROMOTE", kReport, Json::object(), "ci");
  EXPECT_EQ(r_.GetVersion("income", 1).tags.at("ready_for_deployment"), "true");
  ExpectError(ErrorCode::kInvalidArgument, {"'MAYBE'", "PROMOTE or REJECT"},
              [&] { r_.RecordGateDecision("income", 1, "MAYBE", kReport, {}); });
  ExpectError(ErrorCode::kInvalidArgument, {"'abc'", "SHA-256"},
              [&] { r_.RecordGateDecision("income", 1, "PROMOTE", "abc", {}); });
}

TEST_F(ModelRegistryTest, PromoteFollowsTheGateDecision) {
  r_.Register(FinishedRun(), "income");
  r_.Register(FinishedRun(), "income");
  ExpectError(ErrorCode::kFailedPrecondition, {"income@1", "no gate decision", "--force"},
              [&] { r_.Promote("income", 1, Opts()); });
  r_.RecordGateDecision("income", 1, "REJECT", kReport, {});
  ExpectError(ErrorCode::kFailedPrecondition, {"REJECT", kReport},
              [&] { r_.Promote("income", 1, Opts()); });
  ExpectError(ErrorCode::kInvalidArgument, {"--reason"},
              [&] { r_.Promote("income", 1, Opts("champion", true, "")); });
  EXPECT_TRUE(r_.GetModel("income").aliases.empty());

  AliasMove forced = r_.Promote("income", 1, Opts("champion", true, "incident 42"));
  EXPECT_TRUE(forced.changed);
  EXPECT_FALSE(forced.from_version);
  EXPECT_EQ(forced.to_version, 1);
  AuditEntry e = r_.AuditLog().back();
  EXPECT_EQ(e.action, "promote");
  EXPECT_EQ(e.reason, "incident 42");
  EXPECT_EQ(ParseJson(e.details_json, "d")["forced"], true);

  r_.RecordGateDecision("income", 2, "PROMOTE", kReport, {});
  AliasMove gated = r_.Promote("income", 2, Opts());
  EXPECT_EQ(gated.from_version, 1);
  EXPECT_EQ(gated.to_version, 2);
  EXPECT_EQ(r_.AuditLog().back().reason, "gate report " + kReport);
  EXPECT_EQ(r_.GetVersion("income", 2).aliases, std::vector<std::string>{"champion"});
  // Promoting where the alias already is changes nothing and logs nothing.
  size_t entries = r_.AuditLog().size();
  EXPECT_FALSE(r_.Promote("income", 2, Opts()).changed);
  EXPECT_EQ(r_.AuditLog().size(), entries);
  ExpectError(ErrorCode::kInvalidArgument, {"'latest'"},
              [&] { r_.Promote("income", 2, Opts("latest")); });
}

TEST_F(ModelRegistryTest, RollbackUndoesMovesInOrder) {
  for (int i = 0; i < 3; ++i) r_.Register(FinishedRun(), "income");
  ExpectError(ErrorCode::kFailedPrecondition, {"income@champion", "never moved"},
              [&] { r_.Rollback("income"); });
  ExpectError(ErrorCode::kNotFound, {"'nope'"}, [&] { r_.Rollback("nope"); });
  r_.Promote("income", 1, Opts("champion", true, "r"));
  ExpectError(ErrorCode::kFailedPrecondition, {"pointed nowhere"}, [&] { r_.Rollback("income"); });
  r_.Promote("income", 2, Opts("champion", true, "r"));
  r_.Promote("income", 3, Opts("champion", true, "r"));
  AliasMove back = r_.Rollback("income", "champion", "3 is slow", "oncall");
  EXPECT_EQ(back.from_version, 3);
  EXPECT_EQ(back.to_version, 2);
  EXPECT_EQ(r_.Rollback("income").to_version, 1);
  ExpectError(ErrorCode::kFailedPrecondition, {"pointed nowhere"}, [&] { r_.Rollback("income"); });
  AuditEntry e = r_.AuditLog()[r_.AuditLog().size() - 2];
  EXPECT_EQ(e.action, "rollback");
  EXPECT_EQ(e.actor, "oncall");
  EXPECT_EQ(e.reason, "3 is slow");
  // Another alias has its own history.
  ExpectError(ErrorCode::kFailedPrecondition, {"challenger"},
              [&] { r_.Rollback("income", "challenger"); });
}

TEST_F(ModelRegistryTest, VerifyFindsAChangedEntryABrokenChainAndAGap) {
  r_.Register(FinishedRun(), "income");
  r_.SetVersionTag("income", 1, "a", "1");
  r_.SetVersionTag("income", 1, "b", "2");
  r_.SetVersionTag("income", 1, "c", "3");
  AuditVerification ok = r_.VerifyAudit();
  EXPECT_TRUE(ok.ok);
  EXPECT_EQ(ok.checked, 4);
  store::MetadataStore& db = ws_.metadata();

  db.Exec("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2");
  AuditVerification bad = r_.VerifyAudit();
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.first_bad_seq, 2);
  EXPECT_EQ(bad.first_bad_action, "set_tag");
  EXPECT_TRUE(Contains(bad.problem, "hash mismatch")) << bad.problem;

  // Rehashing the changed entry breaks the link from the next one.
  AuditEntry e2 = r_.AuditLog()[1];
  db.Exec("UPDATE audit_log SET hash = ? WHERE seq = 2", {Sha256Hex(e2.CanonicalForm())});
  bad = r_.VerifyAudit();
  EXPECT_EQ(bad.first_bad_seq, 3);
  EXPECT_TRUE(Contains(bad.problem, "broken chain")) << bad.problem;

  db.Exec("DELETE FROM audit_log WHERE seq = 2");
  bad = r_.VerifyAudit();
  EXPECT_EQ(bad.first_bad_seq, 3);
  EXPECT_TRUE(Contains(bad.problem, "gap in seq")) << bad.problem;
}

TEST_F(ModelRegistryTest, ConcurrentRegistrationsGetDistinctVersionsAndOneChain) {
  std::vector<std::string> runs;
  for (int i = 0; i < 4; ++i) runs.push_back(FinishedRun());
  constexpr int kPerThread = 5;
  std::vector<std::thread> threads;
  std::vector<std::vector<int64_t>> got(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    threads.emplace_back([&, i] {
      // SQLite: one store per thread, as another process would have.
      store::Workspace ws = store::Workspace::Open(ws_.root());
      ModelRegistry r(ws.metadata(), ws.artifacts(), ws.root());
      for (int k = 0; k < kPerThread; ++k) got[i].push_back(r.Register(runs[i], "income").version);
    });
  }
  for (auto& t : threads) t.join();
  std::set<int64_t> all;
  for (const auto& g : got) all.insert(g.begin(), g.end());
  EXPECT_EQ(all.size(), runs.size() * kPerThread);
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), static_cast<int64_t>(runs.size() * kPerThread));
  AuditVerification v = r_.VerifyAudit();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.checked, static_cast<int64_t>(runs.size() * kPerThread));
}

TEST_F(ModelRegistryTest, AliasMovesWriteTheDeployFileAndSyncAppliesIt) {
  for (int i = 0; i < 3; ++i) r_.Register(FinishedRun(), "income");
  AliasMove m = r_.Promote("income", 2, Opts("champion", true, "r"));
  r_.Promote("income", 3, Opts("challenger", true, "r"));
  EXPECT_EQ(m.deploy_file, ws_.root() / "deploy" / "models" / "income.yaml");
  Json doc = ReadYamlFile(r_.DeployFile("income"));
  EXPECT_EQ(doc["model"], "income");
  EXPECT_EQ(doc["aliases"]["champion"]["version"], 2);
  EXPECT_EQ(doc["aliases"]["champion"]["run_id"], r_.GetVersion("income", 2).run_id);
  EXPECT_EQ(doc["aliases"]["champion"]["bundle_digest"], r_.GetVersion("income", 2).bundle_digest);
  EXPECT_EQ(doc["aliases"]["challenger"]["version"], 3);
  EXPECT_EQ(doc["traffic"]["champion"], 100);
  EXPECT_EQ(doc["traffic"]["challenger"], 0);

  // Point champion at 1 by hand (as a git revert would) and sync.
  std::string text = ReadFile(r_.DeployFile("income"));
  doc["aliases"]["champion"] = Json{{"version", 1}};
  WriteFileAtomic(r_.DeployFile("income"), ToYaml(doc));
  std::vector<AliasMove> moves = r_.Sync("income", "gitops");
  ASSERT_EQ(moves.size(), 2u);
  EXPECT_FALSE(moves[0].changed);  // challenger
  EXPECT_TRUE(moves[1].changed);
  EXPECT_EQ(moves[1].from_version, 2);
  EXPECT_EQ(r_.GetModel("income").aliases.at("champion"), 1);
  EXPECT_EQ(r_.AuditLog().back().action, "sync");
  EXPECT_EQ(r_.AuditLog().back().actor, "gitops");
  // The file was rewritten whole again.
  EXPECT_EQ(ReadYamlFile(r_.DeployFile("income"))["aliases"]["champion"]["run_id"],
            r_.GetVersion("income", 1).run_id);
  // A sync is a move like another: rollback undoes it.
  EXPECT_EQ(r_.Rollback("income").to_version, 2);

  // A version that does not exist is refused before anything changes.
  doc["aliases"]["champion"] = Json{{"version", 9}};
  WriteFileAtomic(r_.DeployFile("income"), ToYaml(doc));
  size_t entries = r_.AuditLog().size();
  ExpectError(ErrorCode::kInvalidArgument,
              {"income.yaml", "aliases.champion.version", "no version 9"}, [&] { r_.Sync(); });
  doc["aliases"]["champion"] = Json{{"version", 1}, {"bundle_digest", kReport}};
  WriteFileAtomic(r_.DeployFile("income"), ToYaml(doc));
  ExpectError(ErrorCode::kInvalidArgument, {"bundle_digest", "differs"}, [&] { r_.Sync(); });
  EXPECT_EQ(r_.AuditLog().size(), entries);
  EXPECT_EQ(r_.GetModel("income").aliases.at("champion"), 2);
  ExpectError(ErrorCode::kNotFound, {"other.yaml"}, [&] { r_.Sync("other"); });
}

TEST_F(ModelRegistryTest, InAGitRepositoryEachMoveIsACommitOfTheDeployFile) {
  ASSERT_EQ(internal::RunProcess({"git", "--version"}).exit_code, 0)
      << "git is needed (scripts/setup.sh installs it)";
  ASSERT_EQ(internal::RunProcess({"git", "init", "-q", ws_.root().string()}).exit_code, 0);
  // Something else staged must stay out of mloop's commit.
  test::WriteBytes(ws_.root() / "notes.txt", "mine");
  internal::RunProcess({"git", "-C", ws_.root().string(), "add", "notes.txt"});
  r_.Register(FinishedRun(), "income");
  r_.Register(FinishedRun(), "income");
  AliasMove m = r_.Promote("income", 1, Opts("champion", true, "first model"));
  EXPECT_TRUE(m.warnings.empty()) << m.warnings[0];
  EXPECT_EQ(m.git_commit.size(), 40u);
  internal::ProcessResult log =
      internal::RunProcess({"git", "-C", ws_.root().string(), "log", "--format=%s", "--name-only"});
  EXPECT_TRUE(Contains(log.output, "models: promote income@1 to champion (forced: first model)"))
      << log.output;
  EXPECT_TRUE(Contains(log.output, "deploy/models/income.yaml"));
  EXPECT_FALSE(Contains(log.output, "notes.txt"));
  AliasMove two = r_.Promote("income", 2, Opts("champion", true, "second"));
  EXPECT_NE(two.git_commit, m.git_commit);
  // git revert, then sync, rolls the registry back. (revert wants a clean index.)
  internal::RunProcess({"git", "-C", ws_.root().string(), "rm", "-q", "--cached", "notes.txt"});
  internal::ProcessResult revert =
      internal::RunProcess({"git", "-C", ws_.root().string(), "-c", "user.name=t", "-c",
                            "user.email=t@t", "revert", "--no-edit", two.git_commit});
  ASSERT_EQ(revert.exit_code, 0) << revert.output;
  std::vector<AliasMove> moves = r_.Sync();
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_EQ(moves[0].to_version, 1);
  EXPECT_TRUE(Contains(r_.AuditLog().back().reason, "at git commit"));
}

}  // namespace
}  // namespace mloop::registry
