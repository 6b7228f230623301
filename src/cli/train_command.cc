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
  std::unique_ptr<ProgressBar> bar;
  auto on_round = [&bar](int64_t round, int64_t rounds, const std::map<std::string, double>&) {
    if (!bar) bar = std::make_unique<ProgressBar>("train", static_cast<uint64_t>(rounds), "rounds");
    bar->Set(static_cast<uint64_t>(round + 1));
  };
  train::TrainOutcome out = train::Train(ws, config, on_round);
  bar.reset();
  if (global.json) {
    PrintJson(out.ToJson());
    return kExitOk;
  }
  std::printf("run %s in experiment '%s': %lld rounds", out.run_id.c_str(), out.experiment.c_str(),
              static_cast<long long>(out.rounds));
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
