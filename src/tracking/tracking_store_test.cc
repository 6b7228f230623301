#include "tracking/tracking_store.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/testing.h"
#include "store/workspace.h"

namespace mloop::tracking {
namespace {

using test::ExpectError;
using test::TempDir;

NewRun MakeRun(int64_t experiment, std::string name = "",
               std::optional<std::string> parent = std::nullopt,
               std::map<std::string, std::string> tags = {},
               std::optional<int64_t> start = std::nullopt) {
  NewRun r;
  r.experiment_id = experiment;
  r.run_name = std::move(name);
  r.parent_run_id = std::move(parent);
  r.tags = std::move(tags);
  r.start_time = start;
  return r;
}

class TrackingStoreTest : public ::testing::Test {
 protected:
  TempDir dir_;
  store::Workspace ws_ = store::Workspace::Init(dir_.path() / "ws");
  TrackingStore t_{ws_.metadata(), ws_.artifacts()};
};

TEST_F(TrackingStoreTest, ExperimentsAreCreatedOnceAndDefaultIsZero) {
  Experiment d = t_.GetOrCreateExperiment("Default");
  EXPECT_EQ(d.experiment_id, 0);
  Experiment a = t_.GetOrCreateExperiment("adult");
  Experiment again = t_.GetOrCreateExperiment("adult");
  EXPECT_EQ(a.experiment_id, 1);
  EXPECT_EQ(again.experiment_id, a.experiment_id);
  EXPECT_EQ(t_.GetOrCreateExperiment("bike").experiment_id, 2);
  EXPECT_EQ(t_.ListExperiments().size(), 3u);
  EXPECT_EQ(t_.GetExperimentByName("bike").name, "bike");
  ExpectError(ErrorCode::kNotFound, {"'nope'"}, [&] { t_.GetExperimentByName("nope"); });
  ExpectError(ErrorCode::kNotFound, {"experiment 9"}, [&] { t_.GetExperiment(9); });
}

TEST_F(TrackingStoreTest, ARunKeepsParamsMetricsTagsAndArtifacts) {
  Experiment e = t_.GetOrCreateExperiment("adult");
  tracking::Run run =
      t_.CreateRun(MakeRun(e.experiment_id, "xgb", std::nullopt, {{"mloop.source", "test"}}));
  EXPECT_EQ(run.status, RunStatus::kRunning);
  EXPECT_EQ(run.run_id.size(), 32u);
  t_.LogParams(run.run_id, {{"max_depth", "6"}, {"eta", "0.3"}});
  t_.LogParam(run.run_id, "max_depth", "6");  // The same value again is fine.
  for (int step = 0; step < 3; ++step) {
    t_.LogMetrics(run.run_id, {{"valid-auc", 0.8 + 0.05 * step, 1000 + step, step},
                               {"valid-logloss", 0.5 - 0.1 * step, 1000 + step, step}});
  }
  t_.LogMetric(run.run_id, {"note", std::numeric_limits<double>::quiet_NaN(), 5, 0});
  t_.SetTag(run.run_id, "stage", "a");
  t_.SetTag(run.run_id, "stage", "b");
  std::string digest = t_.LogArtifact(run.run_id, "model/model.ubj", "bytes");
  t_.EndRun(run.run_id, RunStatus::kFinished, 2000);

  tracking::Run got = t_.GetRun(run.run_id.substr(0, 8));
  EXPECT_EQ(got.run_name, "xgb");
  EXPECT_EQ(got.status, RunStatus::kFinished);
  EXPECT_EQ(got.end_time, 2000);
  EXPECT_EQ(got.params.at("max_depth"), "6");
  EXPECT_DOUBLE_EQ(got.metrics.at("valid-auc").value, 0.9);
  EXPECT_EQ(got.metrics.at("valid-auc").step, 2);
  EXPECT_TRUE(std::isnan(got.metrics.at("note").value));
  EXPECT_EQ(got.tags.at("stage"), "b");
  EXPECT_EQ(got.tags.at("mloop.source"), "test");
  ASSERT_EQ(got.artifacts.size(), 1u);
  EXPECT_EQ(got.artifacts[0].digest, digest);
  EXPECT_EQ(ws_.artifacts().Get(digest), "bytes");
  auto history = t_.MetricHistory(run.run_id, "valid-logloss");
  ASSERT_EQ(history.size(), 3u);
  EXPECT_DOUBLE_EQ(history[2].value, 0.3);
  Json j = got.ToJson();
  EXPECT_EQ(j["status"], "FINISHED");
  EXPECT_EQ(j["params"]["eta"], "0.3");
}

TEST_F(TrackingStoreTest, TheLatestMetricIsTheLargestStepNotTheLastLogged) {
  tracking::Run run = t_.CreateRun(MakeRun(t_.GetOrCreateExperiment("x").experiment_id));
  t_.LogMetric(run.run_id, {"m", 5.0, 100, 10});
  t_.LogMetric(run.run_id, {"m", 1.0, 200, 3});  // Logged later, for an earlier step.
  EXPECT_DOUBLE_EQ(t_.GetRun(run.run_id).metrics.at("m").value, 5.0);
  t_.LogMetric(run.run_id, {"m", 7.0, 50, 10});  // Same step, earlier timestamp.
  EXPECT_DOUBLE_EQ(t_.GetRun(run.run_id).metrics.at("m").value, 5.0);
  t_.LogMetric(run.run_id, {"m", 2.0, 300, 11});
  EXPECT_DOUBLE_EQ(t_.GetRun(run.run_id).metrics.at("m").value, 2.0);
  EXPECT_EQ(t_.MetricHistory(run.run_id, "m").size(), 4u);
}

TEST_F(TrackingStoreTest, MLflowRulesAreErrorsThatNameTheKey) {
  tracking::Run run = t_.CreateRun(MakeRun(t_.GetOrCreateExperiment("x").experiment_id));
  t_.LogParam(run.run_id, "depth", "6");
  ExpectError(ErrorCode::kInvalidArgument, {"'depth'", "'6'", "'7'"},
              [&] { t_.LogParam(run.run_id, "depth", "7"); });
  ExpectError(ErrorCode::kInvalidArgument, {"param key"},
              [&] { t_.LogParam(run.run_id, "", "1"); });
  ExpectError(ErrorCode::kInvalidArgument, {"metric key"}, [&] {
    t_.LogMetric(run.run_id, {std::string(300, 'k'), 1, 0, 0});
  });
  ExpectError(ErrorCode::kInvalidArgument, {"adult@1", "no such dataset version"}, [&] {
    t_.LogInput(run.run_id, {"adult", 1, "training", ""});
  });
  ExpectError(ErrorCode::kInvalidArgument, {"'../x'"},
              [&] { t_.LogArtifact(run.run_id, "../x", "b"); });
  ExpectError(ErrorCode::kNotFound, {"'abcdef12'"}, [&] { t_.GetRun("abcdef12"); });
  ExpectError(ErrorCode::kInvalidArgument, {"not RUNNING"},
              [&] { t_.EndRun(run.run_id, RunStatus::kRunning); });
  t_.EndRun(run.run_id, RunStatus::kFailed);
  ExpectError(ErrorCode::kInvalidArgument, {"has ended", "FAILED"}, [&] {
    t_.LogMetric(run.run_id, {"m", 1, 0, 0});
  });
  t_.SetTag(run.run_id, "review", "ok");  // Tags may still change.
  ExpectError(ErrorCode::kNotFound, {"experiment 42"}, [&] { t_.CreateRun(MakeRun(42)); });
}

TEST_F(TrackingStoreTest, ChildRunsAndListingNewestFirst) {
  int64_t e = t_.GetOrCreateExperiment("search").experiment_id;
  tracking::Run parent = t_.CreateRun(MakeRun(e, "search", std::nullopt, {}, 1000));
  tracking::Run child1 = t_.CreateRun(MakeRun(e, "trial-1", parent.run_id, {}, 2000));
  tracking::Run child2 = t_.CreateRun(MakeRun(e, "trial-2", parent.run_id, {}, 3000));
  t_.CreateRun(
      MakeRun(t_.GetOrCreateExperiment("other").experiment_id, "", std::nullopt, {}, 4000));
  auto runs = t_.ListRuns({e});
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].run_id, child2.run_id);
  EXPECT_EQ(runs[2].run_id, parent.run_id);
  EXPECT_EQ(runs[0].parent_run_id, parent.run_id);
  EXPECT_EQ(t_.ListRuns().size(), 4u);
  EXPECT_EQ(t_.GetRun(child1.run_id).run_name, "trial-1");
}

}  // namespace
}  // namespace mloop::tracking
