#include "data/dataset_files.h"

#include <string>
#include <vector>

#include "core/error.h"
#include "core/file.h"
#include "core/id.h"
#include "core/json.h"
#include "table/column.h"
#include "table/csv_writer.h"
#include "table/jsonl_writer.h"

namespace mloop::data {
namespace {

namespace fs = std::filesystem;

enum class FileFormat { kCsv, kTsv, kJsonl };

FileFormat OutputFormat(const fs::path& output, bool allow_tsv) {
  std::string ext = output.extension().string();
  if (ext == ".csv") return FileFormat::kCsv;
  if (ext == ".tsv" && allow_tsv) return FileFormat::kTsv;
  if (ext == ".jsonl" || ext == ".ndjson") return FileFormat::kJsonl;
  ThrowInvalidArgument(output.string() + ": the output's extension must be " +
                       (allow_tsv ? ".csv, .tsv, .jsonl or .ndjson" : ".csv, .jsonl or .ndjson"));
}

void CheckOutputFolder(const fs::path& output) {
  fs::path parent = fs::absolute(output).parent_path();
  std::error_code ec;
  if (!fs::is_directory(parent, ec)) {
    ThrowInvalidArgument(output.string() + ": the folder " + parent.string() + " does not exist");
  }
}

// A string column from values.

}  // namespace

table::Table LoadVersionTable(store::Workspace& workspace, const DatasetVersion& version,
                              const table::ColumnarReadOptions& options) {
  // The columnar reader reads a file; the artifact is copied (and verified) to a private one.
  fs::path tmp_dir = workspace.root() / ".mloop" / "tmp";
  fs::create_directories(tmp_dir);
  fs::path tmp = tmp_dir / ("read-" + NewId() + ".mlc");
  try {
    workspace.artifacts().CopyTo(version.data_artifact, tmp);
    table::Table t = table::ReadColumnarFile(tmp, options);
    std::error_code ec;
    fs::remove(tmp, ec);  // A leftover copy is only waste.
    return t;
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);  // Best effort: the error being thrown is the one to report.
    throw;
  }
}

stats::TableProfile LoadVersionProfile(store::Workspace& workspace, const DatasetVersion& version) {
  Json doc =
      ParseJson(workspace.artifacts().Get(version.profile_artifact), version.Ref() + " profile");
  return stats::TableProfile::FromJson(doc);
}

int64_t ExportVersion(store::Workspace& workspace, const DatasetVersion& version,
                      const fs::path& output) {
  FileFormat format = OutputFormat(output, true);
  CheckOutputFolder(output);
  table::Table t = LoadVersionTable(workspace, version);
  if (format == FileFormat::kJsonl) {
    table::WriteJsonl(t, output);
  } else {
    table::CsvWriteOptions o;
    o.delimiter = format == FileFormat::kTsv ? '\t' : ',';
    table::WriteCsv(t, output, o);
  }
  return static_cast<int64_t>(t.num_rows());
}

int64_t ExportQuarantine(store::Workspace& workspace, const IngestionRecord& ingestion,
                         const fs::path& output) {
  FileFormat format = OutputFormat(output, false);
  CheckOutputFolder(output);
  std::string jsonl = workspace.artifacts().Get(ingestion.quarantine_artifact);
  int64_t records = 0;
  for (char c : jsonl) records += c == '\n';
  if (format == FileFormat::kJsonl) {
    WriteFileAtomic(output, jsonl);
    return records;
  }
  std::vector<std::string> sources, checks, columns, details, texts;
  std::vector<int64_t> lines;
  size_t start = 0;
  int64_t n = 0;
  while (start < jsonl.size()) {
    size_t end = jsonl.find('\n', start);
    if (end == std::string::npos) end = jsonl.size();
    ++n;
    Json q = ParseJson(std::string_view(jsonl).substr(start, end - start),
                       "quarantine of ingestion " + ingestion.id + ", record " + std::to_string(n));
    start = end + 1;
    std::string check, column, detail;
    for (const Json& r : q["reasons"]) {
      std::string sep = check.empty() ? "" : "; ";
      check += sep + r["check"].get<std::string>();
      column += sep + (r["column"].is_string() ? r["column"].get<std::string>() : "");
      detail += sep + r["detail"].get<std::string>();
    }
    sources.push_back(q.value("source", ""));
    lines.push_back(q.value("line", int64_t{0}));
    checks.push_back(check);
    columns.push_back(column);
    details.push_back(detail);
    texts.push_back(q.contains("text") && q["text"].is_string() ? q["text"].get<std::string>()
                                                                : q["values"].dump());
  }
  table::Table t;
  t.AddColumn(table::Column::FromStringValues("source", sources));
  table::Bitmap valid;
  valid.AppendMany(true, lines.size());
  t.AddColumn(table::Column::FromInts("line", table::DataType::kInt64, lines, std::move(valid)));
  t.AddColumn(table::Column::FromStringValues("checks", checks));
  t.AddColumn(table::Column::FromStringValues("columns", columns));
  t.AddColumn(table::Column::FromStringValues("details", details));
  t.AddColumn(table::Column::FromStringValues("text", texts));
  std::vector<int64_t> numbers(lines.size());
  for (size_t i = 0; i < numbers.size(); ++i) numbers[i] = static_cast<int64_t>(i + 1);
  t.set_line_numbers(std::move(numbers));
  table::WriteCsv(t, output);
  return records;
}

}  // namespace mloop::data
