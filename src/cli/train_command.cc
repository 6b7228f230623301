// `mloop train --config FILE`: train a model as the config says and track the run
// (train/trainer.h). Prints the run id, the final metrics and where the bundle is.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.h"
#include "core/progress.h"
#include "store/workspace.h"
#include "train/config.h"
#include "train/trainer.h"

namespace mloop::cli {
namespace {

int RunTrain(const GlobalOptions& global, const std::string& config_path) {
  train::TrainConfig config = train::LoadTrainConfig(config_path);
  store::Workspace ws = store::Workspace::Open(global.WorkspaceDir());
  // One bar at a time: folds of a cross-validation, then the final model's rounds; or a
  // search's trials.
  std::unique_ptr<ProgressBar> bar;
  std::string bar_unit;
  auto on_progress = [&bar, &bar_unit](const train::TrainProgress& p) {
    if (!bar || bar_unit != p.unit) {
      bar.reset();
      bar_unit = p.unit;
      bar = std::make_unique<ProgressBar>("train", static_cast<uint64_t>(p.total), p.unit);
    }
    bar->Set(static_cast<uint64_t>(p.done));
  };
  train::TrainOutcome out = train::Train(ws, config, on_progress);
  bar.reset();
  if (global.json) {
    PrintJson(out.ToJson());
    return kExitOk;
  }
  if (!out.trials.empty()) {
    std::printf("search: %zu trials (child runs of %s); best %s\n", out.trials.size(),
                out.run_id.c_str(), out.best_trial.c_str());
    for (const train::TrialOutcome& t : out.trials) {
      std::string params;
      for (const auto& [k, v] : t.params) params += (params.empty() ? "" : " ") + k + "=" + v;
      if (t.score) {
        std::printf("  %s  %-12.6g %s%s\n", t.run_id.substr(0, 8).c_str(), *t.score, params.c_str(),
                    t.run_id == out.best_trial ? "  <- best" : "");
      } else {
        std::printf("  %s  %-12s %s  (%s)\n", t.run_id.substr(0, 8).c_str(), "FAILED",
                    params.c_str(), t.error.c_str());
      }
    }
  }
  std::printf("run %s in experiment '%s': %s, ", out.run_id.c_str(), out.experiment.c_str(),
              out.estimator.c_str());
  if (out.estimator == "xgboost") {
    std::printf("%lld rounds", static_cast<long long>(out.rounds));
  } else {
    std::printf("%lld solver iterations", static_cast<long long>(out.rounds));
  }
  if (out.best_round) std::printf(" (best round %lld)", static_cast<long long>(*out.best_round));
  std::printf(", %lld training rows, %lld validation rows, %lld features, %.2f s\n",
              static_cast<long long>(out.train_rows), static_cast<long long>(out.validation_rows),
              static_cast<long long>(out.features), out.seconds);
  for (const auto& [k, v] : out.metrics) std::printf("  %-24s %.6g\n", k.c_str(), v);
  std::printf("  bundle sha256 %s (mloop runs show %s)\n", out.bundle_digest.c_str(),
              out.run_id.substr(0, 8).c_str());
  return kExitOk;
}

}  // namespace

void AddTrainCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run) {
  CLI::App* cmd = app.add_subcommand("train", "Train a model as a config says; track the run");
  auto config = std::make_shared<std::string>();
  cmd->add_option("--config", *config, "The training config (YAML or JSON)")->required();
  cmd->callback(
      [&global, run, config] { *run = [&global, config] { return RunTrain(global, *config); }; });
}

}  // namespace mloop::cli
