// `mloop contract suggest SOURCE [--output FILE]`: write a contract from a batch the user
// trusts (data/suggest.h), as YAML on stdout or into FILE.
#include <cstdio>
#include <filesystem>

#include "cli/command.h"
#include "core/error.h"
#include "core/file.h"
#include "data/contract.h"
#include "data/suggest.h"
#include "table/csv_reader.h"
#include "table/jsonl_reader.h"

namespace mloop::cli {
namespace {

struct SuggestArgs {
  std::string source;
  std::string output;
  std::string name;
  size_t max_allowed = 50;
  std::string names;
  size_t skip_lines = 0;
  bool force = false;
};

int RunSuggest(const GlobalOptions& global, const SuggestArgs& a) {
  namespace fs = std::filesystem;
  data::SuggestOptions o;
  o.max_allowed = a.max_allowed;
  o.source = fs::path(a.source).filename().string();
  o.name = a.name.empty() ? fs::path(a.source).stem().string() : a.name;
  Json doc;
  size_t malformed = 0;
  auto ext = fs::path(a.source).extension().string();
  if (ext == ".jsonl" || ext == ".ndjson") {
    auto r = table::ReadJsonl(a.source);
    malformed = r.malformed.size();
    doc = data::SuggestContract(r.table, nullptr, o);
  } else {
    table::CsvOptions csv;
    csv.skip_lines = a.skip_lines;
    if (!a.names.empty()) csv.names = SplitComma(a.names);
    auto r = table::ReadCsv(a.source, csv);
    malformed = r.malformed.size();
    doc = data::SuggestContract(r.table, &r.dialect, o);
  }
  if (malformed > 0) {
    // A contract suggested from data with unreadable rows would describe the wrong batch.
    ThrowInvalidArgument(a.source + ": " + std::to_string(malformed) +
                         " malformed rows; `mloop inspect` lists them. Suggest from a batch "
                         "that reads cleanly.");
  }
  // Prove the suggestion loads before handing it over.
  std::string yaml = ToYaml(doc);
  data::ParseContract(ParseYaml(yaml, "suggested contract"), "suggested contract");
  if (!a.output.empty()) {
    if (fs::exists(a.output) && !a.force) {
      throw Error(ErrorCode::kAlreadyExists,
                  a.output + ": already exists (use --force to replace it)");
    }
    WriteFileAtomic(a.output, yaml);
  }
  if (global.json) {
    PrintJson(Json{{"contract", doc}, {"output", a.output.empty() ? Json() : Json(a.output)}});
  } else if (a.output.empty()) {
    std::fputs(yaml.c_str(), stdout);
  } else {
    std::printf("Wrote %s (%zu columns). Edit it, then check a batch with `mloop validate`.\n",
                a.output.c_str(), doc["columns"].size());
  }
  return kExitOk;
}

}  // namespace

void AddContractCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run) {
  CLI::App* cmd = app.add_subcommand("contract", "Data contracts");
  cmd->require_subcommand(1);
  CLI::App* suggest = cmd->add_subcommand(
      "suggest", "Write a contract from a batch you trust: types, nullability, ranges, sets");
  auto a = std::make_shared<SuggestArgs>();
  suggest->add_option("SOURCE", a->source, "A CSV or JSON Lines file")->required();
  suggest->add_option("--output,-o", a->output, "Write the YAML here instead of stdout");
  suggest->add_flag("--force", a->force, "Replace --output if it exists");
  suggest->add_option("--name", a->name, "The contract's name (default: the file's stem)");
  suggest->add_option("--max-allowed", a->max_allowed,
                      "Text columns with at most this many distinct values get an `allowed` "
                      "set (default 50)");
  suggest->add_option("--names", a->names, "Column names, comma-separated (no header line)");
  suggest->add_option("--skip-lines", a->skip_lines, "Lines to skip at the top");
  suggest->callback([&global, run, a] { *run = [&global, a] { return RunSuggest(global, *a); }; });
}

}  // namespace mloop::cli
