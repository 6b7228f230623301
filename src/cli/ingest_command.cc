// `mloop ingest SOURCE... --dataset NAME [--contract FILE]`: validate a batch and keep it as a
// new version of NAME (data/ingest.h). Exit 0 when accepted (with or without quarantined rows),
// 3 when rejected, 1 on an error.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "data/ingest.h"
#include "store/workspace.h"

namespace mloop::cli {
namespace {

struct IngestArgs {
  std::vector<std::string> sources;
  std::string dataset;
  std::string contract;
  size_t show = 10;
};

int RunIngest(const GlobalOptions& global, const IngestArgs& a) {
  store::Workspace ws = store::Workspace::Open(global.WorkspaceDir());
  data::IngestRequest request;
  request.sources = a.sources;
  request.dataset = a.dataset;
  if (!a.contract.empty()) request.contract = a.contract;
  data::IngestResult result = data::Ingest(ws, request);
  const bool accepted = result.ingestion.status == "accepted";
  if (global.json) {
    PrintJson(result.report);
  } else if (result.reused) {
    std::printf(
        "%s: these sources were already ingested with this contract as %s "
        "(ingestion %s); no new version\n",
        result.dataset.c_str(), result.version->Ref().c_str(), result.ingestion.id.c_str());
  } else {
    PrintReportSummary(result.report, a.show);
    if (result.version) {
      std::printf("  -> %s (%lld rows; ingestion %s, %.2f s)\n", result.version->Ref().c_str(),
                  static_cast<long long>(result.version->rows), result.ingestion.id.c_str(),
                  result.ingestion.seconds);
    } else {
      std::printf(
          "  -> rejected: no version written; report and quarantine kept as "
          "ingestion %s\n",
          result.ingestion.id.c_str());
    }
    if (result.ingestion.rows_quarantined > 0) {
      std::printf("  quarantine: mloop datasets quarantine %s --output FILE.jsonl\n",
                  result.version ? result.version->Ref().c_str() : result.ingestion.id.c_str());
    }
  }
  return accepted ? kExitOk : kExitChecksFailed;
}

}  // namespace

void AddIngestCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run) {
  CLI::App* cmd = app.add_subcommand(
      "ingest",
      "Validate CSV or JSON Lines files against a contract and keep them as a dataset version");
  auto a = std::make_shared<IngestArgs>();
  cmd->add_option("SOURCE", a->sources, "Files or glob patterns; together they make one batch")
      ->required();
  cmd->add_option("--dataset", a->dataset, "The dataset to add a version to")->required();
  cmd->add_option("--contract", a->contract,
                  "The contract (YAML or JSON); without one only "
                  "well-formedness is checked");
  cmd->add_option("--show", a->show, "Quarantined rows listed in the summary (default 10)");
  cmd->callback([&global, run, a] { *run = [&global, a] { return RunIngest(global, *a); }; });
}

}  // namespace mloop::cli
