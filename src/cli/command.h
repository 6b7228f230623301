// What every `mloop` subcommand shares: the global options, and how results and errors
// are printed. Subcommands only parse their arguments, call the modules and print;
// they hold no logic of their own (ARCHITECTURE.md).
#ifndef MLOOP_CLI_COMMAND_H_
#define MLOOP_CLI_COMMAND_H_

#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"

namespace mloop::cli {

// Exit codes of ARCHITECTURE.md.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitChecksFailed = 3;

struct GlobalOptions {
  std::string workspace;  // --workspace; empty means: find it (see store/workspace.h).
  bool json = false;      // --json: one JSON document on stdout.

  std::optional<std::filesystem::path> WorkspaceDir() const {
    if (workspace.empty()) return std::nullopt;
    return std::filesystem::path(workspace);
  }
};

// "a,b,c" -> {"a", "b", "c"}: list options such as --names.
std::vector<std::string> SplitComma(const std::string& text);

// Prints `doc` as the command's one JSON document on stdout.
void PrintJson(const Json& doc);

// Prints the human summary of a validation report in its JSON form (data/validate.h's
// ValidationReport::ToJson, or a stored ingestion report): status, counts, failing checks with
// samples, and up to `show` quarantined rows when the report lists them.
void PrintReportSummary(const Json& report, size_t show);

// Each subcommand registers itself on `app` and sets the callback that runs it. The
// callback returns the exit code.
using CommandRunner = std::function<int()>;
void AddInitCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run);
void AddVersionCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run);
void AddInspectCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run);
void AddContractCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run);
void AddValidateCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run);
void AddIngestCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run);
void AddDatasetsCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run);
void AddRunsCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run);
void AddTrainCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run);
void AddPredictCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run);
void AddModelsCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run);
void AddAuditCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run);
void AddEvaluateCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run);
void AddExplainCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run);

}  // namespace mloop::cli

#endif  // MLOOP_CLI_COMMAND_H_
