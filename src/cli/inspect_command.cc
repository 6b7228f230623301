// `mloop inspect FILE`: sniff and load a CSV or JSON Lines file and print its schema,
// row count, per-column profile and the rows that could not be read.
#include <cmath>
#include <cstdio>
#include <map>

#include "cli/command.h"
#include "core/error.h"
#include "stats/profile.h"
#include "table/csv_reader.h"
#include "table/jsonl_reader.h"

namespace mloop::cli {
namespace {

struct InspectArgs {
  std::string file;
  std::string format = "auto";
  std::string delimiter;
  std::string quote;
  bool header = false;
  bool no_header = false;
  std::string names;
  std::vector<std::string> nulls;
  bool no_default_nulls = false;
  size_t skip_lines = 0;
  std::string comment;
  std::vector<std::string> types;
  bool no_category = false;
  size_t threads = 0;
  size_t max_malformed = 20;
};

char OneByte(const std::string& value, const char* option) {
  if (value == "\\t" || value == "tab") return '\t';
  if (value == "none" || value.empty()) return '\0';
  if (value.size() != 1) {
    ThrowInvalidArgument(std::string(option) + " must be one character, got '" + value + "'");
  }
  return value[0];
}

std::map<std::string, table::DataType, std::less<>> ParseTypes(
    const std::vector<std::string>& specs) {
  std::map<std::string, table::DataType, std::less<>> out;
  for (const auto& spec : specs) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos) {
      ThrowInvalidArgument("--type expects COLUMN=TYPE, got '" + spec + "'");
    }
    auto type = table::DataTypeFromName(spec.substr(eq + 1));
    if (!type) {
      ThrowInvalidArgument("--type " + spec + ": unknown type '" + spec.substr(eq + 1) +
                           "' (int64, float64, bool, string, category, date, timestamp)");
    }
    out[spec.substr(0, eq)] = *type;
  }
  return out;
}

bool IsJsonl(const InspectArgs& a) {
  if (a.format == "jsonl") return true;
  if (a.format == "csv") return false;
  if (a.format != "auto") {
    ThrowInvalidArgument("--format must be csv, jsonl or auto, got '" + a.format + "'");
  }
  auto ext = std::filesystem::path(a.file).extension().string();
  return ext == ".jsonl" || ext == ".ndjson";
}

std::string FormatNumber(const Json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  double d = v.get<double>();
  char buf[32];
  if (d != 0 && (std::fabs(d) >= 1e7 || std::fabs(d) < 1e-3)) {
    std::snprintf(buf, sizeof buf, "%.4g", d);
  } else {
    std::snprintf(buf, sizeof buf, "%.4f", d);
    // Trim trailing zeros of the fraction.
    std::string s(buf);
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s;
  }
  return buf;
}

std::string Summary(const Json& col) {
  std::string out;
  auto get = [&](const char* key) -> Json { return col.contains(key) ? col[key] : Json(); };
  if (col.contains("top_k") && col["top_k"].is_array() && !col["top_k"].empty()) {
    int shown = 0;
    for (const auto& item : col["top_k"]) {
      if (shown == 3) break;
      if (shown++ > 0) out += ", ";
      out += item["value"].get<std::string>() + " (" +
             std::to_string(item["count"].get<int64_t>()) + ")";
    }
    return out;
  }
  if (col.contains("true_count")) {
    return "true " + FormatNumber(get("true_count"));
  }
  if (!get("min").is_null()) {
    out = "min " + FormatNumber(col.contains("min_iso") ? col["min_iso"] : get("min")) + "  max " +
          FormatNumber(col.contains("max_iso") ? col["max_iso"] : get("max"));
    if (!get("mean").is_null() && !col.contains("min_iso")) {
      out += "  mean " + FormatNumber(get("mean"));
      if (!get("std").is_null()) out += "  std " + FormatNumber(get("std"));
    }
    if (col.contains("quantiles") && col["quantiles"].contains("p50") && !col.contains("min_iso")) {
      out += "  p50 " + FormatNumber(col["quantiles"]["p50"]);
    }
  }
  return out;
}

int RunInspect(const GlobalOptions& global, const InspectArgs& a) {
  table::Table table;
  std::vector<table::MalformedRow> malformed;
  Json doc;
  doc["source"] = a.file;
  if (IsJsonl(a)) {
    table::JsonlOptions o;
    o.column_types = ParseTypes(a.types);
    o.infer_category = !a.no_category;
    auto r = table::ReadJsonl(a.file, o);
    doc["format"] = "jsonl";
    doc["bytes"] = r.bytes;
    table = std::move(r.table);
    malformed = std::move(r.malformed);
  } else {
    table::CsvOptions o;
    if (!a.delimiter.empty()) o.delimiter = OneByte(a.delimiter, "--delimiter");
    if (!a.quote.empty()) o.quote = OneByte(a.quote, "--quote");
    if (a.header && a.no_header) ThrowInvalidArgument("--header and --no-header contradict");
    if (a.header) o.header = true;
    if (a.no_header) o.header = false;
    if (!a.names.empty()) o.names = SplitComma(a.names);
    if (!a.nulls.empty() || a.no_default_nulls) {
      std::vector<std::string> nulls =
          a.no_default_nulls ? std::vector<std::string>{} : table::kDefaultNullValues;
      nulls.insert(nulls.end(), a.nulls.begin(), a.nulls.end());
      o.null_values = nulls;
    }
    if (!a.comment.empty()) o.comment = OneByte(a.comment, "--comment");
    o.skip_lines = a.skip_lines;
    o.column_types = ParseTypes(a.types);
    o.infer_category = !a.no_category;
    o.threads = a.threads;
    auto r = table::ReadCsv(a.file, o);
    doc["format"] = "csv";
    doc["bytes"] = r.bytes;
    const auto& d = r.dialect;
    doc["dialect"] = {{"delimiter", std::string(1, d.delimiter)},
                      {"quote", d.quote ? std::string(1, d.quote) : ""},
                      {"header", d.header},
                      {"skip_initial_space", d.skip_initial_space},
                      {"skip_lines", d.skip_lines},
                      {"null_values", d.null_values}};
    table = std::move(r.table);
    malformed = std::move(r.malformed);
  }

  stats::TableProfile profile = stats::ProfileTable(table);
  Json profile_json = profile.ToJson();
  doc["rows"] = table.num_rows();
  doc["columns"] = Json::array();
  for (size_t c = 0; c < table.num_columns(); ++c) {
    Json col = {{"name", table.column(c).name()},
                {"type", table::DataTypeName(table.column(c).type())},
                {"nulls", table.column(c).null_count()}};
    for (const auto& [k, v] : profile_json["columns"][c].items()) {
      // The sketches' raw state is for merging stored profiles, not for reading.
      if (k == "sketches") continue;
      if (!col.contains(k)) col[k] = v;
    }
    doc["columns"].push_back(std::move(col));
  }
  doc["malformed_count"] = malformed.size();
  doc["malformed_rows"] = Json::array();
  for (const auto& m : malformed) {
    doc["malformed_rows"].push_back({{"line", m.line}, {"reason", m.reason}});
  }

  if (global.json) {
    PrintJson(doc);
  } else {
    std::printf("%s: %zu rows, %zu columns (%s", a.file.c_str(), table.num_rows(),
                table.num_columns(), doc["format"].get<std::string>().c_str());
    if (doc.contains("dialect")) {
      const auto& d = doc["dialect"];
      std::string delim = d["delimiter"].get<std::string>();
      if (delim == "\t") delim = "\\t";
      std::printf(", delimiter '%s'%s%s", delim.c_str(),
                  d["header"].get<bool>() ? ", header" : ", no header",
                  d["skip_initial_space"].get<bool>() ? ", spaces after delimiter" : "");
    }
    std::printf(")\n\n");
    size_t name_w = 6;
    for (const auto& col : doc["columns"]) {
      name_w = std::max(name_w, col["name"].get<std::string>().size());
    }
    std::printf("  %-*s  %-9s  %8s  %9s  %s\n", static_cast<int>(name_w), "column", "type", "nulls",
                "distinct", "summary");
    for (const auto& col : doc["columns"]) {
      std::string distinct =
          col.contains("distinct_approx") ? "~" + FormatNumber(col["distinct_approx"]) : "";
      std::printf("  %-*s  %-9s  %8lld  %9s  %s\n", static_cast<int>(name_w),
                  col["name"].get<std::string>().c_str(), col["type"].get<std::string>().c_str(),
                  static_cast<long long>(col["nulls"].get<int64_t>()), distinct.c_str(),
                  Summary(col).c_str());
    }
    if (!malformed.empty()) {
      std::printf("\n%zu malformed rows:\n", malformed.size());
      for (size_t i = 0; i < malformed.size() && i < a.max_malformed; ++i) {
        std::printf("  line %lld: %s\n", static_cast<long long>(malformed[i].line),
                    malformed[i].reason.c_str());
      }
      if (malformed.size() > a.max_malformed) {
        std::printf("  ... and %zu more (--json lists them all)\n",
                    malformed.size() - a.max_malformed);
      }
    }
  }
  if (!malformed.empty()) {
    std::fprintf(stderr, "mloop: error: %s: %zu malformed rows (first at line %lld: %s)\n",
                 a.file.c_str(), malformed.size(), static_cast<long long>(malformed[0].line),
                 malformed[0].reason.c_str());
    return kExitError;
  }
  return kExitOk;
}

}  // namespace

void AddInspectCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run) {
  CLI::App* cmd = app.add_subcommand(
      "inspect", "Sniff and load a CSV or JSON Lines file; print its schema and profile");
  auto a = std::make_shared<InspectArgs>();
  cmd->add_option("FILE", a->file, "The file to read")->required();
  cmd->add_option("--format", a->format, "csv, jsonl or auto (by extension; default)");
  cmd->add_option("--delimiter", a->delimiter, "Field delimiter, one byte ('\\t' for tab)");
  cmd->add_option("--quote", a->quote, "Quote character, or 'none'");
  cmd->add_flag("--header", a->header, "The first line names the columns");
  cmd->add_flag("--no-header", a->no_header, "The first line is data");
  cmd->add_option("--names", a->names, "Column names, comma-separated");
  cmd->add_option("--null", a->nulls, "A text read as missing (repeatable; adds to the defaults)");
  cmd->add_flag("--no-default-nulls", a->no_default_nulls,
                "Only the --null texts are missing (by default: '', NA, N/A, NULL, null, NaN, "
                "nan, None, ?)");
  cmd->add_option("--skip-lines", a->skip_lines, "Lines to skip at the top");
  cmd->add_option("--comment", a->comment, "Lines starting with this character are skipped");
  cmd->add_option("--type", a->types, "Fix a column's type: COLUMN=TYPE (repeatable)");
  cmd->add_flag("--no-category", a->no_category, "Read text columns as string, never category");
  cmd->add_option("--threads", a->threads, "Parser threads (0: all cores)");
  cmd->add_option("--show-malformed", a->max_malformed, "Malformed rows listed (default 20)");
  cmd->callback([&global, run, a] { *run = [&global, a] { return RunInspect(global, *a); }; });
}

}  // namespace mloop::cli
