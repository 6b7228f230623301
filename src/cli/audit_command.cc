// `mloop audit log [NAME]` and `mloop audit verify`: the registry's hash-chained audit log
// (registry/model_registry.h). verify exits 3 when the chain does not verify.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/command.h"
#include "core/time.h"
#include "registry/model_registry.h"
#include "store/workspace.h"

namespace mloop::cli {
namespace {

int RunLog(const GlobalOptions& global, const std::string& name) {
  store::Workspace ws = store::Workspace::Open(global.WorkspaceDir());
  registry::ModelRegistry r(ws.metadata(), ws.artifacts(), ws.root());
  if (!name.empty()) r.GetModel(name);  // An unknown model is an error, not an empty log.
  std::vector<registry::AuditEntry> entries =
      r.AuditLog(name.empty() ? std::nullopt : std::optional<std::string>(name));
  if (global.json) {
    Json out = Json::array();
    for (const auto& e : entries) out.push_back(e.ToJson());
    PrintJson(Json{{"entries", out}});
    return kExitOk;
  }
  if (entries.empty()) {
    std::printf("The audit log is empty.\n");
    return kExitOk;
  }
  std::printf("%6s %-20s %-12s %-15s %-20s %s\n", "SEQ", "TIME", "ACTOR", "ACTION", "MODEL",
              "WHY / WHAT");
  for (const auto& e : entries) {
    std::string model = e.model.value_or("-");
    if (e.version) model += "@" + std::to_string(*e.version);
    std::string why = e.reason.empty() ? e.details_json : e.reason;
    if (why.size() > 80) why = why.substr(0, 77) + "...";
    std::printf("%6lld %-20s %-12s %-15s %-20s %s\n", static_cast<long long>(e.seq),
                FormatIsoTimestamp(e.time * 1000).substr(0, 19).c_str(),
                e.actor.substr(0, 12).c_str(), e.action.c_str(), model.c_str(), why.c_str());
  }
  return kExitOk;
}

int RunVerify(const GlobalOptions& global) {
  store::Workspace ws = store::Workspace::Open(global.WorkspaceDir());
  registry::ModelRegistry r(ws.metadata(), ws.artifacts(), ws.root());
  registry::AuditVerification v = r.VerifyAudit();
  if (global.json) {
    PrintJson(v.ToJson());
  } else if (v.ok) {
    std::printf("Audit log verified: %lld entries, the hash chain is intact.\n",
                static_cast<long long>(v.checked));
  } else {
    std::printf("Audit log does NOT verify at entry %lld (%s): %s\n",
                static_cast<long long>(*v.first_bad_seq), v.first_bad_action.c_str(),
                v.problem.c_str());
  }
  if (!v.ok && global.json) {
    std::fprintf(stderr, "mloop: audit log does not verify at entry %lld (%s): %s\n",
                 static_cast<long long>(*v.first_bad_seq), v.first_bad_action.c_str(),
                 v.problem.c_str());
  }
  return v.ok ? kExitOk : kExitChecksFailed;
}

}  // namespace

void AddAuditCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run) {
  CLI::App* cmd = app.add_subcommand("audit", "The registry's audit log: list and verify");
  cmd->require_subcommand(1);

  auto name = std::make_shared<std::string>();
  CLI::App* log = cmd->add_subcommand("log", "Audit entries, oldest first");
  log->add_option("NAME", *name, "Only the entries about this model");
  log->callback([&global, run, name] { *run = [&global, name] { return RunLog(global, *name); }; });

  CLI::App* verify =
      cmd->add_subcommand("verify", "Check the hash chain; exit 3 naming the first bad entry");
  verify->callback([&global, run] { *run = [&global] { return RunVerify(global); }; });
}

}  // namespace mloop::cli
