// `mloop datasets list|show|lineage|export|quarantine`: read the dataset catalog
// (data/catalog.h) and the stored files of its versions (data/dataset_files.h).
#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.h"
#include "core/error.h"
#include "core/file.h"
#include "data/catalog.h"
#include "data/dataset_files.h"
#include "store/workspace.h"

namespace mloop::cli {
namespace {

namespace fs = std::filesystem;

// A version reference, or an ingestion id (for a rejected batch, which has no version).
bool LooksLikeIngestionId(const std::string& text) {
  if (text.size() < 6 || text.find('@') != std::string::npos) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

int RunList(const GlobalOptions& global) {
  store::Workspace ws = store::Workspace::Open(global.WorkspaceDir());
  data::DatasetCatalog catalog(ws.metadata());
  auto list = catalog.List();
  if (global.json) {
    Json out = Json::array();
    for (const auto& d : list) {
      out.push_back({{"name", d.name},
                     {"created_at", d.created_at},
                     {"versions", d.versions},
                     {"latest_version", d.latest_version ? Json(*d.latest_version) : Json()},
                     {"latest_rows", d.latest_rows},
                     {"ingestions", d.ingestions},
                     {"rejected", d.rejected}});
    }
    PrintJson(Json{{"datasets", out}});
    return kExitOk;
  }
  if (list.empty()) {
    std::printf("No datasets yet (mloop ingest SOURCE --dataset NAME).\n");
    return kExitOk;
  }
  std::printf("%-24s %8s %8s %12s %10s %9s  %s\n", "NAME", "VERSIONS", "LATEST", "ROWS", "INGESTS",
              "REJECTED", "CREATED");
  for (const auto& d : list) {
    std::printf("%-24s %8lld %8s %12lld %10lld %9lld  %s\n", d.name.c_str(),
                static_cast<long long>(d.versions),
                d.latest_version ? std::to_string(*d.latest_version).c_str() : "-",
                static_cast<long long>(d.latest_rows), static_cast<long long>(d.ingestions),
                static_cast<long long>(d.rejected), d.created_at.c_str());
  }
  return kExitOk;
}

Json ProfileSummary(const Json& profile) {
  // The user-facing statistics; the sketches' state is for merging, not for reading.
  Json out = profile;
  if (out.contains("columns")) {
    for (Json& c : out["columns"]) c.erase("sketches");
  }
  out.erase("sketches");
  return out;
}

// A dataset's ingestions, accepted and rejected, oldest first.
Json History(const std::vector<data::IngestionRecord>& ingestions) {
  Json out = Json::array();
  for (const auto& i : ingestions) {
    out.push_back({{"ingestion", i.id},
                   {"status", i.status},
                   {"version", i.version ? Json(*i.version) : Json()},
                   {"rows_in", i.rows_in},
                   {"rows_quarantined", i.rows_quarantined},
                   {"started_at", i.started_at}});
  }
  return out;
}

int RunShow(const GlobalOptions& global, const std::string& ref_text, const std::string& html) {
  store::Workspace ws = store::Workspace::Open(global.WorkspaceDir());
  data::DatasetCatalog catalog(ws.metadata());
  data::DatasetRef ref = data::ParseDatasetRef(ref_text);
  auto ingestions = catalog.Ingestions(ref.name);
  if (!ref.version && catalog.Versions(ref.name).empty()) {
    // Every ingestion was rejected: there is no version to show, only the history.
    if (global.json) {
      PrintJson({{"dataset", ref.name}, {"version", nullptr}, {"history", History(ingestions)}});
      return kExitOk;
    }
    std::printf("%s: no version yet; every ingestion was rejected\nhistory:\n", ref.name.c_str());
    for (const auto& i : ingestions) {
      std::printf("  %s  %-8s ingestion %s  rows %lld, quarantined %lld\n", i.started_at.c_str(),
                  i.status.c_str(), i.id.c_str(), static_cast<long long>(i.rows_in),
                  static_cast<long long>(i.rows_quarantined));
    }
    return kExitOk;
  }
  data::DatasetVersion v = catalog.Resolve(ref);
  data::IngestionRecord ingestion;
  Json report, profile;
  if (v.ingestion_id) {
    ingestion = catalog.Ingestion(*v.ingestion_id);
    report = ParseJson(ws.artifacts().Get(ingestion.report_artifact), v.Ref() + " report");
  }
  profile = ProfileSummary(ParseJson(ws.artifacts().Get(v.profile_artifact), v.Ref() + " profile"));
  if (!html.empty()) {
    if (!v.ingestion_id) ThrowNotFound(v.Ref() + " was not ingested, so it has no report");
    WriteFileAtomic(html, ws.artifacts().Get(ingestion.report_html_artifact));
  }
  if (global.json) {
    Json out = v.ToJson();
    out["contract"] = v.ingestion_id ? ingestion.ToJson()["contract"] : Json();
    out["ingestion"] = v.ingestion_id ? ingestion.ToJson() : Json();
    out["report"] = report;
    out["profile"] = profile;
    out["history"] = History(ingestions);
    PrintJson(out);
    return kExitOk;
  }
  std::printf("%s: %lld rows, %lld bytes stored, created %s\n", v.Ref().c_str(),
              static_cast<long long>(v.rows), static_cast<long long>(v.data_bytes),
              v.created_at.c_str());
  if (v.ingestion_id) {
    std::printf("contract: %s\n", ingestion.contract_digest
                                      ? ("sha256 " + *ingestion.contract_digest).c_str()
                                      : "none");
  }
  std::printf("schema:\n");
  const Json& columns = profile.contains("columns") ? profile["columns"] : Json::array();
  for (size_t i = 0; i < v.schema.size(); ++i) {
    const auto& f = v.schema.field(i);
    std::string stats;
    for (const Json& c : columns) {
      if (c.value("name", "") != f.name) continue;
      stats = "nulls " + c.value("nulls", Json(0)).dump();
      if (c.contains("mean")) stats += ", mean " + c["mean"].dump();
      if (c.contains("min")) stats += ", min " + c["min"].dump();
      if (c.contains("max")) stats += ", max " + c["max"].dump();
      if (c.contains("distinct_approx")) stats += ", distinct ~" + c["distinct_approx"].dump();
      if (c.contains("top_k") && c["top_k"].is_array() && !c["top_k"].empty()) {
        const Json& top = c["top_k"][0];
        if (top.contains("value")) stats += ", top " + top["value"].dump();
      }
    }
    std::printf("  %-24s %-10s %-10s %-9s %s\n", f.name.c_str(),
                std::string(table::DataTypeName(f.type)).c_str(),
                std::string(table::ColumnRoleName(f.role)).c_str(),
                f.nullable ? "nullable" : "not null", stats.c_str());
  }
  if (!report.is_null()) PrintReportSummary(report, 0);
  std::printf("history:\n");
  for (const auto& i : ingestions) {
    std::printf("  %s  %-8s %-6s ingestion %s  rows %lld, quarantined %lld\n", i.started_at.c_str(),
                i.status.c_str(), i.version ? ("@" + std::to_string(*i.version)).c_str() : "-",
                i.id.c_str(), static_cast<long long>(i.rows_in),
                static_cast<long long>(i.rows_quarantined));
  }
  if (!html.empty()) std::printf("HTML report written to %s\n", html.c_str());
  return kExitOk;
}

int RunLineage(const GlobalOptions& global, const std::string& ref_text) {
  store::Workspace ws = store::Workspace::Open(global.WorkspaceDir());
  data::DatasetCatalog catalog(ws.metadata());
  data::DatasetVersion v = catalog.Resolve(data::ParseDatasetRef(ref_text));
  Json out;
  out["ref"] = v.Ref();
  out["data_artifact"] = v.data_artifact;
  out["created_at"] = v.created_at;
  out["parents"] = v.ToJson()["parents"];
  if (v.ingestion_id) {
    data::IngestionRecord i = catalog.Ingestion(*v.ingestion_id);
    Json ij = i.ToJson();
    out["ingestion"] = i.id;
    out["sources"] = ij["sources"];
    out["contract"] = ij["contract"];
    out["mloop_version"] = i.mloop_version;
    out["host"] = i.host;
    out["user"] = i.user;
    out["started_at"] = i.started_at;
    out["finished_at"] = i.finished_at;
  }
  if (global.json) {
    PrintJson(out);
    return kExitOk;
  }
  std::printf("%s  (data sha256 %s)\n", v.Ref().c_str(), v.data_artifact.c_str());
  if (out.contains("sources")) {
    std::printf("  ingested %s by %s on %s with mloop %s (ingestion %s)\n",
                out["started_at"].get<std::string>().c_str(),
                out["user"].get<std::string>().c_str(), out["host"].get<std::string>().c_str(),
                out["mloop_version"].get<std::string>().c_str(),
                out["ingestion"].get<std::string>().c_str());
    for (const Json& s : out["sources"]) {
      std::printf("  source   %s  sha256 %s  %lld bytes\n", s["path"].get<std::string>().c_str(),
                  s["sha256"].get<std::string>().c_str(),
                  static_cast<long long>(s["bytes"].get<int64_t>()));
    }
    const Json& c = out["contract"]["digest"];
    std::printf("  contract %s\n",
                c.is_null() ? "none" : ("sha256 " + c.get<std::string>()).c_str());
  }
  for (const Json& p : out["parents"]) {
    std::printf("  parent   %s@%lld (%s)\n", p["dataset"].get<std::string>().c_str(),
                static_cast<long long>(p["version"].get<int64_t>()),
                p["relation"].get<std::string>().c_str());
  }
  return kExitOk;
}

int RunExport(const GlobalOptions& global, const std::string& ref_text, const std::string& output) {
  store::Workspace ws = store::Workspace::Open(global.WorkspaceDir());
  data::DatasetCatalog catalog(ws.metadata());
  data::DatasetVersion v = catalog.Resolve(data::ParseDatasetRef(ref_text));
  int64_t rows = data::ExportVersion(ws, v, output);
  if (global.json) {
    PrintJson(Json{{"ref", v.Ref()}, {"output", output}, {"rows", rows}});
  } else {
    std::printf("Wrote %lld rows of %s to %s\n", static_cast<long long>(rows), v.Ref().c_str(),
                output.c_str());
  }
  return kExitOk;
}

int RunQuarantine(const GlobalOptions& global, const std::string& ref_text,
                  const std::string& output) {
  store::Workspace ws = store::Workspace::Open(global.WorkspaceDir());
  data::DatasetCatalog catalog(ws.metadata());
  data::IngestionRecord ingestion;
  if (LooksLikeIngestionId(ref_text)) {
    ingestion = catalog.Ingestion(ref_text);
  } else {
    data::DatasetVersion v = catalog.Resolve(data::ParseDatasetRef(ref_text));
    if (!v.ingestion_id) ThrowNotFound(v.Ref() + " was not ingested, so it has no quarantine");
    ingestion = catalog.Ingestion(*v.ingestion_id);
  }
  if (output.empty()) {
    // No file: the records go to stdout as JSON Lines.
    std::string jsonl = ws.artifacts().Get(ingestion.quarantine_artifact);
    std::fwrite(jsonl.data(), 1, jsonl.size(), stdout);
    return kExitOk;
  }
  int64_t n = data::ExportQuarantine(ws, ingestion, output);
  if (global.json) {
    PrintJson(Json{{"ingestion", ingestion.id}, {"output", output}, {"records", n}});
  } else {
    std::printf("Wrote %lld quarantined records of ingestion %s to %s\n", static_cast<long long>(n),
                ingestion.id.c_str(), output.c_str());
  }
  return kExitOk;
}

}  // namespace

void AddDatasetsCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run) {
  CLI::App* cmd = app.add_subcommand("datasets", "List and read dataset versions");
  cmd->require_subcommand(1);

  CLI::App* list = cmd->add_subcommand("list", "Every dataset with its versions");
  list->callback([&global, run] { *run = [&global] { return RunList(global); }; });

  struct Args {
    std::string ref;
    std::string output;
    std::string html;
  };
  auto show_args = std::make_shared<Args>();
  CLI::App* show = cmd->add_subcommand(
      "show", "A version's schema, counts, profile, contract, report and the dataset's history");
  show->add_option("REF", show_args->ref, "NAME, NAME@VERSION or NAME@latest")->required();
  show->add_option("--html", show_args->html, "Also write the ingestion's HTML report here");
  show->callback([&global, run, show_args] {
    *run = [&global, show_args] { return RunShow(global, show_args->ref, show_args->html); };
  });

  auto lineage_args = std::make_shared<Args>();
  CLI::App* lineage = cmd->add_subcommand(
      "lineage", "Where a version came from: sources, contract, parents, mloop version, time");
  lineage->add_option("REF", lineage_args->ref, "NAME@VERSION")->required();
  lineage->callback([&global, run, lineage_args] {
    *run = [&global, lineage_args] { return RunLineage(global, lineage_args->ref); };
  });

  auto export_args = std::make_shared<Args>();
  CLI::App* exp = cmd->add_subcommand("export", "Write a version's rows as CSV, TSV or JSON Lines");
  exp->add_option("REF", export_args->ref, "NAME@VERSION")->required();
  exp->add_option("--output", export_args->output, "FILE.csv, FILE.tsv or FILE.jsonl")->required();
  exp->callback([&global, run, export_args] {
    *run = [&global, export_args] {
      return RunExport(global, export_args->ref, export_args->output);
    };
  });

  auto q_args = std::make_shared<Args>();
  CLI::App* q = cmd->add_subcommand(
      "quarantine", "Write the quarantined records of a version's (or a rejected) ingestion");
  q->add_option("REF", q_args->ref, "NAME@VERSION, or an ingestion id for a rejected batch")
      ->required();
  q->add_option("--output", q_args->output,
                "FILE.jsonl (as stored) or FILE.csv; without it, JSON Lines on stdout");
  q->callback([&global, run, q_args] {
    *run = [&global, q_args] { return RunQuarantine(global, q_args->ref, q_args->output); };
  });
}

}  // namespace mloop::cli
