// `mloop models register|list|show|promote|rollback|tag|sync`: the model registry
// (registry/model_registry.h).
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "core/error.h"
#include "core/time.h"
#include "registry/model_registry.h"
#include "store/workspace.h"

namespace mloop::cli {
namespace {

std::string Millis(int64_t ms) { return FormatIsoTimestamp(ms * 1000).substr(0, 19); }

struct Registry {
  explicit Registry(const GlobalOptions& global)
      : ws(store::Workspace::Open(global.WorkspaceDir())),
        registry(ws.metadata(), ws.artifacts(), ws.root()) {}
  store::Workspace ws;
  registry::ModelRegistry registry;
};

// NAME@VERSION or NAME@ALIAS: a version must be named, not taken as the latest.
registry::ModelRef ExplicitRef(const std::string& text) {
  registry::ModelRef ref = registry::ParseModelRef(text);
  if (text.find('@') == std::string::npos) {
    ThrowInvalidArgument("'" + text + "': name the version, as NAME@VERSION or NAME@ALIAS");
  }
  return ref;
}

void PrintWarnings(const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) std::cerr << "mloop: warning: " << w << "\n";
}

void PrintMove(const registry::AliasMove& m, const char* verb) {
  if (!m.changed) {
    std::printf("%s@%s already points at version %lld; nothing changed\n", m.name.c_str(),
                m.alias.c_str(), static_cast<long long>(m.to_version));
    return;
  }
  std::printf("%s %s@%s: ", verb, m.name.c_str(), m.alias.c_str());
  if (m.from_version) std::printf("version %lld -> ", static_cast<long long>(*m.from_version));
  std::printf("version %lld\n", static_cast<long long>(m.to_version));
  if (!m.deploy_file.empty()) std::printf("  wrote %s\n", m.deploy_file.c_str());
  if (!m.git_commit.empty()) std::printf("  committed %s\n", m.git_commit.substr(0, 12).c_str());
}

std::string Gate(const registry::ModelVersion& v) {
  auto find = [&](const std::string& k) {
    auto it = v.tags.find(k);
    return it == v.tags.end() ? std::string() : it->second;
  };
  std::string decision = find("gate.decision");
  if (decision.empty()) return "-";
  return decision + " (report " + find("gate.report").substr(0, 12) + ")";
}

Json GateJson(const registry::ModelVersion& v) {
  auto it = v.tags.find("gate.decision");
  if (it == v.tags.end()) return Json();
  return Json{{"decision", it->second},
              {"report", v.tags.count("gate.report") ? Json(v.tags.at("gate.report")) : Json()},
              {"ready_for_deployment", v.tags.count(std::string(registry::kReadyTag))
                                           ? Json(v.tags.at(std::string(registry::kReadyTag)))
                                           : Json()}};
}

void PrintVersion(const registry::ModelVersion& v) {
  std::printf("%s@%lld", v.name.c_str(), static_cast<long long>(v.version));
  for (const auto& a : v.aliases) std::printf(" [%s]", a.c_str());
  std::printf("\n  run %s, registered %s by %s, %s\n", v.run_id.c_str(),
              Millis(v.creation_time).c_str(), v.created_by.c_str(), v.status.c_str());
  std::printf("  bundle sha256 %s\n", v.bundle_digest.c_str());
  if (!v.description.empty()) std::printf("  %s\n", v.description.c_str());
  std::printf("  gate: %s\n", Gate(v).c_str());
  if (v.lineage.contains("train")) std::printf("  lineage: %s\n", v.lineage.dump().c_str());
  for (const auto& [k, val] : v.tags) std::printf("  tag %-28s %s\n", k.c_str(), val.c_str());
}

struct RegisterArgs {
  std::string run, name, description;
};

int RunRegister(const GlobalOptions& global, const RegisterArgs& a) {
  Registry r(global);
  registry::ModelVersion v = r.registry.Register(a.run, a.name, a.description);
  if (global.json) {
    PrintJson(v.ToJson());
  } else {
    std::printf("Registered run %s as %s@%lld\n", v.run_id.substr(0, 8).c_str(), v.name.c_str(),
                static_cast<long long>(v.version));
  }
  return kExitOk;
}

int RunList(const GlobalOptions& global) {
  Registry r(global);
  std::vector<registry::RegisteredModel> models = r.registry.ListModels();
  if (global.json) {
    Json out = Json::array();
    for (const auto& m : models) out.push_back(m.ToJson());
    PrintJson(Json{{"models", out}});
    return kExitOk;
  }
  if (models.empty()) {
    std::printf("No registered models; `mloop models register RUN --name NAME` adds one.\n");
    return kExitOk;
  }
  std::printf("%-24s %8s %-40s %s\n", "MODEL", "LATEST", "ALIASES", "UPDATED");
  for (const auto& m : models) {
    std::string aliases;
    for (const auto& [a, v] : m.aliases) {
      aliases += (aliases.empty() ? "" : ", ") + a + "=" + std::to_string(v);
    }
    std::printf("%-24s %8lld %-40s %s\n", m.name.c_str(),
                static_cast<long long>(m.versions.empty() ? 0 : m.versions.back()),
                aliases.empty() ? "-" : aliases.c_str(), Millis(m.last_updated_time).c_str());
  }
  return kExitOk;
}

int RunShow(const GlobalOptions& global, const std::string& text) {
  Registry r(global);
  registry::ModelRef ref = registry::ParseModelRef(text);
  if (text.find('@') != std::string::npos) {
    registry::ModelVersion v = r.registry.Resolve(ref);
    if (global.json) {
      Json out = v.ToJson();
      out["gate"] = GateJson(v);
      PrintJson(out);
    } else {
      PrintVersion(v);
    }
    return kExitOk;
  }
  registry::RegisteredModel m = r.registry.GetModel(ref.name);
  std::vector<registry::ModelVersion> versions = r.registry.ListVersions(ref.name);
  if (global.json) {
    Json out = m.ToJson();
    out["versions"] = Json::array();
    for (const auto& v : versions) {
      Json j = v.ToJson();
      j["gate"] = GateJson(v);
      out["versions"].push_back(j);
    }
    PrintJson(out);
    return kExitOk;
  }
  std::printf("model %s, created %s\n", m.name.c_str(), Millis(m.creation_time).c_str());
  if (!m.description.empty()) std::printf("  %s\n", m.description.c_str());
  for (const auto& [a, v] : m.aliases) {
    std::printf("  alias %-16s -> version %lld\n", a.c_str(), static_cast<long long>(v));
  }
  std::printf("%8s %-10s %-20s %-12s %-28s %s\n", "VERSION", "RUN", "REGISTERED", "BY", "GATE",
              "ALIASES");
  for (const auto& v : versions) {
    std::string aliases;
    for (const auto& a : v.aliases) aliases += (aliases.empty() ? "" : ", ") + a;
    std::printf("%8lld %-10s %-20s %-12s %-28s %s\n", static_cast<long long>(v.version),
                v.run_id.substr(0, 8).c_str(), Millis(v.creation_time).c_str(),
                v.created_by.substr(0, 12).c_str(), Gate(v).c_str(), aliases.c_str());
  }
  return kExitOk;
}

struct PromoteArgs {
  std::string ref;
  registry::PromoteOptions options;
};

int RunPromote(const GlobalOptions& global, const PromoteArgs& a) {
  Registry r(global);
  registry::ModelVersion v = r.registry.Resolve(ExplicitRef(a.ref));
  registry::AliasMove m = r.registry.Promote(v.name, v.version, a.options);
  PrintWarnings(m.warnings);
  if (global.json) {
    PrintJson(m.ToJson());
  } else {
    PrintMove(m, "Promoted");
  }
  return kExitOk;
}

struct RollbackArgs {
  std::string name, alias = std::string(registry::kChampion), reason;
};

int RunRollback(const GlobalOptions& global, const RollbackArgs& a) {
  Registry r(global);
  registry::AliasMove m = r.registry.Rollback(a.name, a.alias, a.reason);
  PrintWarnings(m.warnings);
  if (global.json) {
    PrintJson(m.ToJson());
  } else {
    PrintMove(m, "Rolled back");
  }
  return kExitOk;
}

struct TagArgs {
  std::string ref, key, value;
  bool remove = false;
};

int RunTag(const GlobalOptions& global, const TagArgs& a) {
  Registry r(global);
  registry::ModelVersion v = r.registry.Resolve(ExplicitRef(a.ref));
  if (a.remove) {
    r.registry.DeleteVersionTag(v.name, v.version, a.key);
  } else {
    r.registry.SetVersionTag(v.name, v.version, a.key, a.value);
  }
  v = r.registry.GetVersion(v.name, v.version);
  if (global.json) {
    PrintJson(v.ToJson());
  } else if (a.remove) {
    std::printf("Removed tag %s of %s@%lld\n", a.key.c_str(), v.name.c_str(),
                static_cast<long long>(v.version));
  } else {
    std::printf("Tagged %s@%lld %s=%s\n", v.name.c_str(), static_cast<long long>(v.version),
                a.key.c_str(), a.value.c_str());
  }
  return kExitOk;
}

int RunSync(const GlobalOptions& global, const std::string& name) {
  Registry r(global);
  std::vector<registry::AliasMove> moves =
      r.registry.Sync(name.empty() ? std::nullopt : std::optional<std::string>(name));
  for (const auto& m : moves) PrintWarnings(m.warnings);
  if (global.json) {
    Json out = Json::array();
    for (const auto& m : moves) out.push_back(m.ToJson());
    PrintJson(Json{{"moves", out}});
    return kExitOk;
  }
  if (moves.empty()) std::printf("No desired-state files in deploy/models/; nothing to sync.\n");
  for (const auto& m : moves) PrintMove(m, "Synced");
  return kExitOk;
}

}  // namespace

void AddModelsCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run) {
  CLI::App* cmd =
      app.add_subcommand("models", "The model registry: versions, aliases, promotion, rollback");
  cmd->require_subcommand(1);

  auto reg = std::make_shared<RegisterArgs>();
  CLI::App* c = cmd->add_subcommand("register", "Register a finished run's model as a new version");
  c->add_option("RUN", reg->run, "The run id, or 6 or more of its first characters")->required();
  c->add_option("--name", reg->name, "The registered model's name")->required();
  c->add_option("--description", reg->description, "What this version is");
  c->callback([&global, run, reg] { *run = [&global, reg] { return RunRegister(global, *reg); }; });

  c = cmd->add_subcommand("list", "Registered models with their latest version and aliases");
  c->callback([&global, run] { *run = [&global] { return RunList(global); }; });

  auto show = std::make_shared<std::string>();
  c = cmd->add_subcommand("show", "A model's versions, aliases and gate decisions, or one version");
  c->add_option("REF", *show, "NAME, NAME@VERSION or NAME@ALIAS")->required();
  c->callback([&global, run, show] { *run = [&global, show] { return RunShow(global, *show); }; });

  auto promote = std::make_shared<PromoteArgs>();
  c = cmd->add_subcommand("promote", "Point an alias at a version that passed its gates");
  c->add_option("REF", promote->ref, "NAME@VERSION (or NAME@ALIAS)")->required();
  c->add_option("--alias", promote->options.alias, "The alias to move (default: champion)");
  c->add_flag("--force", promote->options.force,
              "Promote without a PROMOTE gate decision (needs --reason)");
  c->add_option("--reason", promote->options.reason, "Why; kept in the audit log");
  c->callback([&global, run, promote] {
    *run = [&global, promote] { return RunPromote(global, *promote); };
  });

  auto rollback = std::make_shared<RollbackArgs>();
  c = cmd->add_subcommand("rollback", "Move an alias back to where it pointed before");
  c->add_option("NAME", rollback->name, "The model")->required();
  c->add_option("--alias", rollback->alias, "The alias (default: champion)");
  c->add_option("--reason", rollback->reason, "Why; kept in the audit log");
  c->callback([&global, run, rollback] {
    *run = [&global, rollback] { return RunRollback(global, *rollback); };
  });

  auto tag = std::make_shared<TagArgs>();
  c = cmd->add_subcommand("tag", "Set (or --delete) a tag of a version");
  c->add_option("REF", tag->ref, "NAME@VERSION or NAME@ALIAS")->required();
  c->add_option("KEY", tag->key, "The tag's key")->required();
  c->add_option("VALUE", tag->value, "The tag's value");
  c->add_flag("--delete", tag->remove, "Delete the tag instead");
  c->callback([&global, run, tag] {
    *run = [&global, tag]() -> int {
      if (!tag->remove && tag->value.empty()) {
        ThrowInvalidArgument("models tag: give KEY and VALUE, or KEY --delete");
      }
      return RunTag(global, *tag);
    };
  });

  auto sync = std::make_shared<std::string>();
  c = cmd->add_subcommand("sync", "Apply deploy/models/NAME.yaml (or all of them) to the registry");
  c->add_option("NAME", *sync, "One model (default: every file in deploy/models/)");
  c->callback([&global, run, sync] { *run = [&global, sync] { return RunSync(global, *sync); }; });
}

}  // namespace mloop::cli
