// `mloop validate SOURCE --contract FILE`: read a CSV or JSON Lines file the way the contract
// says, check it against the contract and print the report. Writes nothing. Exit 0 when the
// batch would be accepted, 3 when rejected, 1 on an error (missing file, bad contract).
#include <filesystem>
#include <memory>
#include <string>

#include "cli/command.h"
#include "core/error.h"
#include "data/contract.h"
#include "data/validate.h"
#include "table/csv_reader.h"
#include "table/jsonl_reader.h"

namespace mloop::cli {
namespace {

struct ValidateArgs {
  std::string source;
  std::string contract;
  size_t show = 10;  // Quarantined rows and samples listed in the human summary.
};

bool IsJsonl(const std::string& file) {
  auto ext = std::filesystem::path(file).extension().string();
  return ext == ".jsonl" || ext == ".ndjson";
}

int RunValidate(const GlobalOptions& global, const ValidateArgs& a) {
  data::Contract contract = data::LoadContract(a.contract);
  if (!std::filesystem::exists(a.source)) ThrowNotFound(a.source + ": no such file");
  table::Table table;
  std::vector<table::MalformedRow> malformed;
  if (IsJsonl(a.source)) {
    table::JsonlOptions o;
    o.column_types = contract.ReadOptions().column_types;
    auto r = table::ReadJsonl(a.source, o);
    table = std::move(r.table);
    malformed = std::move(r.malformed);
  } else {
    auto r = table::ReadCsv(a.source, contract.ReadOptions());
    table = std::move(r.table);
    malformed = std::move(r.malformed);
  }
  data::ValidationReport report = data::Validate(contract, table, malformed, a.source);
  if (global.json) {
    Json doc = report.ToJson();
    // validate stores nothing, so there is no dataset version; ingest fills these.
    Json out;
    out["status"] = doc["status"];
    out["dataset"] = nullptr;
    out["version"] = nullptr;
    for (const auto& [k, v] : doc.items()) {
      if (!out.contains(k)) out[k] = v;
    }
    PrintJson(out);
  } else {
    PrintReportSummary(report.ToJson(), a.show);
  }
  return report.status == data::BatchStatus::kAccepted ? kExitOk : kExitChecksFailed;
}

}  // namespace

void AddValidateCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run) {
  CLI::App* cmd = app.add_subcommand(
      "validate", "Check a CSV or JSON Lines file against a contract; print the report");
  auto a = std::make_shared<ValidateArgs>();
  cmd->add_option("SOURCE", a->source, "The file to check")->required();
  cmd->add_option("--contract", a->contract, "The contract (YAML or JSON)")->required();
  cmd->add_option("--show", a->show, "Quarantined rows listed in the summary (default 10)");
  cmd->callback([&global, run, a] { *run = [&global, a] { return RunValidate(global, *a); }; });
}

}  // namespace mloop::cli
