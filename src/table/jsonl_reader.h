// Reading JSON Lines (one JSON object per line) into a Table.
//
// Columns are the union of the objects' keys, in order of first appearance; a key
// missing from an object is a null. Types are inferred over all rows: JSON integers are
// int64, numbers with a fraction or exponent float64 (an int64 column meeting one
// widens), booleans bool, strings string (or category when few distinct values, date or
// timestamp when every value is an ISO date or timestamp), and nested arrays or objects
// are kept as their JSON text in a string column. Types the caller fixes win; values
// that do not fit them make their row malformed.
//
// Lines that are not a JSON object (invalid JSON, an array, bytes that are not UTF-8)
// are reported in `malformed` with their line numbers, never dropped silently. Blank
// lines are skipped. Thread-safe.
//
// Errors (mloop::Error): not_found for a missing file, invalid_argument for a directory
// or an empty file.
#ifndef MLOOP_TABLE_JSONL_READER_H_
#define MLOOP_TABLE_JSONL_READER_H_

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "table/csv_reader.h"
#include "table/table.h"

namespace mloop::table {

struct JsonlOptions {
  std::map<std::string, DataType, std::less<>> column_types;
  bool infer_category = true;
};

struct JsonlReadResult {
  Table table;
  std::vector<MalformedRow> malformed;
  uint64_t bytes = 0;
  uint64_t lines = 0;
};

JsonlReadResult ReadJsonl(const std::filesystem::path& path, const JsonlOptions& options = {});
JsonlReadResult ReadJsonlBuffer(std::string_view data, std::string_view source,
                                const JsonlOptions& options = {});

}  // namespace mloop::table

#endif  // MLOOP_TABLE_JSONL_READER_H_
