#include <cstdio>

#include "cli/command.h"
#include "store/workspace.h"

namespace mloop::cli {

void AddInitCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run) {
  CLI::App* cmd = app.add_subcommand(
      "init", "Create a workspace: mloop.yaml and .mloop/ (metadata store, artifacts)");
  auto dir = std::make_shared<std::string>(".");
  cmd->add_option("DIR", *dir, "Folder to make the workspace in (created if missing)");
  cmd->callback([&global, run, dir] {
    *run = [&global, dir] {
      store::Workspace ws = store::Workspace::Init(*dir);
      if (global.json) {
        PrintJson(Json{{"workspace", ws.root().string()}, {"created", true}});
      } else {
        std::printf("Initialized mloop workspace in %s\n", ws.root().c_str());
      }
      return kExitOk;
    };
  });
}

}  // namespace mloop::cli
