// The `mloop` command line: parses, dispatches to one subcommand, maps errors to exit
// codes (ARCHITECTURE.md): 0 success, 1 error, 2 usage error, 3 checks said no.
#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "core/error.h"
#include "core/progress.h"

namespace mloop::cli {

void PrintJson(const Json& doc) { std::cout << doc.dump(2) << std::endl; }

std::vector<std::string> SplitComma(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t comma = text.find(',', start);
    out.push_back(text.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

namespace {

int Main(int argc, char** argv) {
  CLI::App app{"mloop: the machine-learning loop in one program", "mloop"};
  app.require_subcommand(1);
  app.fallthrough();
  GlobalOptions global;
  app.add_option("--workspace", global.workspace,
                 "Workspace folder (default: $MLOOP_WORKSPACE, else the current folder "
                 "or the nearest parent holding mloop.yaml)");
  app.add_flag("--json", global.json, "Print one JSON document on stdout");

  CommandRunner run;
  AddInitCommand(app, global, &run);
  AddVersionCommand(app, global, &run);
  AddInspectCommand(app, global, &run);
  AddContractCommand(app, global, &run);
  AddValidateCommand(app, global, &run);
  AddIngestCommand(app, global, &run);
  AddDatasetsCommand(app, global, &run);
  AddRunsCommand(app, global, &run);
  AddTrainCommand(app, global, &run);
  AddPredictCommand(app, global, &run);
  AddModelsCommand(app, global, &run);
  AddAuditCommand(app, global, &run);
  AddEvaluateCommand(app, global, &run);
  AddExplainCommand(app, global, &run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "mloop: usage error: " << e.what() << "\n"
              << "Run 'mloop --help' for the commands and options.\n";
    return kExitUsage;
  }
  if (global.json) ProgressBar::SetEnabled(false);
  try {
    return run ? run() : kExitUsage;
  } catch (const Error& e) {
    std::cerr << "mloop: error: " << e.what() << "\n";
    if (global.json) {
      PrintJson(Json{{"error", {{"code", ErrorCodeName(e.code())}, {"message", e.what()}}}});
    }
    return ExitCodeFor(e.code());
  } catch (const std::bad_alloc&) {
    std::cerr << "mloop: error: out of memory\n";
    return kExitError;
  } catch (const std::exception& e) {
    // Anything else is a bug in mloop; say so rather than crash.
    std::cerr << "mloop: internal error: " << e.what() << "\n";
    return kExitError;
  }
}

}  // namespace
}  // namespace mloop::cli

int main(int argc, char** argv) { return mloop::cli::Main(argc, argv); }
