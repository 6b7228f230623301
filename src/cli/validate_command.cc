// `mloop validate SOURCE --contract FILE`: read a CSV or JSON Lines file the way the contract
// says, check it against the contract and print the report. Writes nothing. Exit 0 when the
// batch would be accepted, 3 when rejected, 1 on an error (missing file, bad contract).
#include <algorithm>
#include <cstdio>
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

std::string Percent(double percent) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", percent);
  return buf;
}

void PrintSummary(const data::ValidationReport& report, size_t show) {
  std::printf("%s: %s\n", report.source.c_str(),
              std::string(data::BatchStatusName(report.status)).c_str());
  std::printf("  rows in %lld, clean %lld, quarantined %lld\n",
              static_cast<long long>(report.rows_in), static_cast<long long>(report.rows_clean),
              static_cast<long long>(report.rows_quarantined));
  size_t passed = 0, not_evaluated = 0;
  std::vector<const data::CheckResult*> failing;
  for (const auto& c : report.checks) {
    if (!c.passed) {
      ++not_evaluated;
    } else if (*c.passed && c.unexpected_count == 0) {
      ++passed;
    } else {
      failing.push_back(&c);
    }
  }
  std::printf("  checks: %zu passed clean, %zu with failures, %zu not evaluated\n", passed,
              failing.size(), not_evaluated);
  for (const data::CheckResult* c : failing) {
    if (c->check == "malformed") {
      std::printf("  %lld malformed rows (quarantined)\n",
                  static_cast<long long>(c->unexpected_count));
      continue;
    }
    std::string what = c->check;
    if (!c->column.empty()) what += " " + c->column;
    if (!c->rule.empty()) what += " " + c->rule;
    std::string verdict = !*c->passed ? "FAILED" : "passed (mostly)";
    std::printf("  %-5s %s: %s, expected %s", std::string(data::SeverityName(c->severity)).c_str(),
                what.c_str(), verdict.c_str(), c->expectation.c_str());
    if (c->table_level) {
      std::printf(", observed %s\n", c->observed_value.dump().c_str());
    } else {
      std::printf("; %lld unexpected (%s)\n", static_cast<long long>(c->unexpected_count),
                  Percent(c->unexpected_percent).c_str());
      if (!c->sample.empty()) {
        std::string sample;
        for (size_t i = 0; i < c->sample.size() && i < 5; ++i) {
          sample += (i ? ", " : "") + c->sample[i];
        }
        std::printf("        e.g. %s\n", sample.c_str());
      }
    }
  }
  if (!report.quarantine.empty()) {
    std::printf("  quarantined rows:\n");
    for (size_t i = 0; i < report.quarantine.size() && i < show; ++i) {
      const auto& q = report.quarantine[i];
      std::string why;
      for (const auto& r : q.reasons) {
        why += (why.empty() ? "" : "; ") + r.check + (r.column.empty() ? "" : " " + r.column) +
               ": " + r.detail;
      }
      std::printf("    line %lld: %s\n", static_cast<long long>(q.line), why.c_str());
    }
    if (report.quarantine.size() > show) {
      std::printf("    ... and %zu more (--json lists them all)\n",
                  report.quarantine.size() - show);
    }
  }
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
    PrintSummary(report, a.show);
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
