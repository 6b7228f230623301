#include "cli/command.h"
#include "core/version.h"

namespace mloop::cli {

void AddVersionCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run) {
  CLI::App* cmd = app.add_subcommand("version", "Print mloop's version");
  cmd->callback([&global, run] {
    *run = [&global] {
      if (global.json) {
        PrintJson(Json{{"version", kVersion}});
      } else {
        std::printf("mloop %s\n", kVersion);
      }
      return kExitOk;
    };
  });
}

}  // namespace mloop::cli
