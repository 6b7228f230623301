// `mloop predict --model RUN --input FILE|NAME@V --output FILE`: batch predictions with a run's
// model bundle (train/predict.h).
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "cli/command.h"
#include "core/progress.h"
#include "registry/model_registry.h"
#include "store/workspace.h"
#include "train/predict.h"

namespace mloop::cli {

void AddPredictCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run) {
  CLI::App* cmd = app.add_subcommand("predict", "Predict a file or dataset with a run's model");
  auto r = std::make_shared<train::PredictRequest>();
  auto output = std::make_shared<std::string>();
  cmd->add_option("--model", r->model,
                  "A run id (or 6+ characters), or a registered NAME@VERSION or NAME@ALIAS")
      ->required();
  cmd->add_option("--input", r->input, "A CSV or JSON Lines file, or a dataset NAME@VERSION")
      ->required();
  cmd->add_option("--output", *output, "FILE.csv, FILE.tsv or FILE.jsonl")->required();
  cmd->add_flag("--features", r->include_features,
                "Also write the model's input features, as feature.NAME columns");
  cmd->add_option("--engine", r->engine,
                  "mloop (compiled trees, the default) or xgboost (XGBoost's own library)");
  cmd->callback([&global, run, r, output] {
    *run = [&global, r, output] {
      r->output = *output;
      store::Workspace ws = store::Workspace::Open(global.WorkspaceDir());
      // NAME@VERSION or NAME@ALIAS: the registered version's run (run ids never hold '@').
      if (r->model.find('@') != std::string::npos) {
        registry::ModelRegistry models(ws.metadata(), ws.artifacts(), ws.root());
        r->model = models.Resolve(registry::ParseModelRef(r->model)).run_id;
      }
      std::unique_ptr<ProgressBar> bar;
      std::once_flag made;
      r->on_progress = [&bar, &made](int64_t done, int64_t total) {
        std::call_once(made, [&] {
          bar = std::make_unique<ProgressBar>("predict", static_cast<uint64_t>(total), "rows");
        });
        bar->Set(static_cast<uint64_t>(done));
      };
      train::PredictOutcome out = train::PredictToFile(ws, *r);
      bar.reset();
      if (global.json) {
        PrintJson(out.ToJson());
      } else {
        std::printf("Wrote %lld predictions of run %s to %s (%.2f s)\n",
                    static_cast<long long>(out.rows), out.run_id.substr(0, 8).c_str(),
                    out.output.c_str(), out.seconds);
      }
      return kExitOk;
    };
  });
}

}  // namespace mloop::cli
