// `mloop explain --model REF --input FILE|NAME@V --output FILE`: per-row SHAP values of a model
// (eval/explain.h).
#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.h"
#include "eval/explain.h"
#include "store/workspace.h"

namespace mloop::cli {

void AddExplainCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run) {
  CLI::App* cmd = app.add_subcommand("explain", "Per-row SHAP values of a model's predictions");
  auto r = std::make_shared<eval::ExplainRequest>();
  auto output = std::make_shared<std::string>();
  cmd->add_option("--model", r->model, "A run id, NAME@VERSION or NAME@ALIAS")->required();
  cmd->add_option("--input", r->input, "A CSV or JSON Lines file, or a dataset NAME@VERSION")
      ->required();
  cmd->add_option("--output", *output, "FILE.csv, FILE.tsv or FILE.jsonl")->required();
  cmd->callback([&global, run, r, output] {
    *run = [&global, r, output] {
      r->output = *output;
      store::Workspace ws = store::Workspace::Open(global.WorkspaceDir());
      eval::ExplainOutcome out = eval::ExplainToFile(ws, *r);
      if (global.json) {
        PrintJson(out.ToJson());
      } else {
        std::printf(
            "Wrote SHAP values of %lld rows x %lld features (run %s) to %s; they sum to "
            "the margin within %.2g (%.2f s)\n",
            static_cast<long long>(out.rows), static_cast<long long>(out.features),
            out.run_id.substr(0, 8).c_str(), out.output.c_str(), out.max_sum_error, out.seconds);
      }
      return kExitOk;
    };
  });
}

}  // namespace mloop::cli
