// Reading delimited text (CSV, TSV, ...) into a Table.
//
// The reader follows RFC 4180 (quoted fields, doubled quotes, newlines inside quotes)
// and accepts what real files do: LF or CRLF line ends, any one-byte delimiter, spaces
// after the delimiter, a header line or given names, missing-value markers, comment
// lines, lines to skip at the top, a UTF-8 byte-order mark. Every option left unset is
// detected by the sniffer (csv_sniffer.h) from a sample of the file.
//
// Rows that cannot be read (too many or too few fields, a quote that never closes,
// bytes that are not UTF-8, a field over the size limit, a value that does not fit a
// type the caller fixed) are never dropped silently: they come back in
// CsvReadResult::malformed with their line number, the reason and the raw text, and the
// caller decides (the ingestion step quarantines them). Blank lines and comment lines
// are skipped.
//
// Large inputs are parsed in chunks on the default thread pool; the result is the same
// as a sequential parse, row for row. The functions are thread-safe.
//
// Errors (mloop::Error): not_found for a missing file; invalid_argument for a
// directory, an empty file, bad options (two columns with one name, as many names as
// columns not matching), or a file with no parsable row at all to sniff from.
#ifndef MLOOP_TABLE_CSV_READER_H_
#define MLOOP_TABLE_CSV_READER_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "table/schema.h"
#include "table/table.h"

namespace mloop::table {

// What the caller knows about the file. Every unset field is sniffed.
struct CsvOptions {
  std::optional<char> delimiter;
  // The quote character; '\0' means fields are never quoted.
  std::optional<char> quote;
  std::optional<bool> header;
  // Column names. With a header line they replace its names; without one they name the
  // columns. Their count must equal the number of columns.
  std::vector<std::string> names;
  // Skip spaces after a delimiter (as in "39, State-gov, 77516").
  std::optional<bool> skip_initial_space;
  // Unquoted field texts read as missing. Unset: kDefaultNullValues.
  std::optional<std::vector<std::string>> null_values;
  // Lines whose first character is this are skipped. '\0': none.
  char comment = '\0';
  // Lines skipped at the top of the file, before the header.
  size_t skip_lines = 0;
  // Types fixed by the caller, by column name. A value that does not fit a fixed type
  // makes its row malformed. Columns not named here have their type inferred, and an
  // inferred type widens (int64 -> float64 -> string) when a later value needs it.
  std::map<std::string, DataType, std::less<>> column_types;
  // Text columns whose sample has few distinct values are read as category (dictionary
  // encoded) instead of string. Turn off to always read string.
  bool infer_category = true;
  // A field longer than this makes its row malformed instead of being read.
  size_t max_field_bytes = size_t{64} << 20;
  // Lines read by the sniffer to detect the dialect and types.
  size_t sample_lines = 20'000;
  // 0: as many threads as the default pool has; 1: sequential.
  size_t threads = 0;
  // ReadCsv reads a file larger than this without holding its text whole: the file is mapped
  // without reading it in, and each stretch of it (at most chunk_bytes / threads long) is
  // dropped from memory once its bytes are counted (but for the first chunk_bytes, which
  // are parsed first) and again once it is parsed, so that memory holds about this much
  // text besides the parsed columns. The table is the same as a whole-file read's: the rows
  // go straight into the final column buffers. 0: always hold the whole file.
  // ReadCsvBuffer ignores it.
  size_t chunk_bytes = size_t{32} << 20;
  // With `names` given: the file has exactly that many columns, and records with another count
  // are malformed, whatever most records of the sample have (for a caller reading a file in
  // parts: the parts after the first, which settled the width). Off: a count of names that
  // differs from the sample's usual record is an error.
  bool names_fix_width = false;
};

// "", "NA", "N/A", "NULL", "null", "NaN", "nan", "None": the markers pandas reads as
// missing, and "?", which UCI datasets use.
extern const std::vector<std::string> kDefaultNullValues;

// The dialect and columns actually used to read a file, sniffed or given.
struct CsvDialect {
  char delimiter = ',';
  char quote = '"';  // '\0': no quoting.
  bool header = true;
  bool skip_initial_space = false;
  char comment = '\0';
  size_t skip_lines = 0;
  std::vector<std::string> null_values;
  std::vector<std::string> names;
  std::vector<DataType> types;
  // true where the caller fixed the type; values that do not fit make a row malformed.
  std::vector<bool> type_fixed;
};

struct MalformedRow {
  int64_t line = 0;    // 1-based line where the record starts.
  std::string reason;  // "expected 15 fields, found 16", "invalid UTF-8 in field 3", ...
  std::string text;    // The raw record, as it was in the file (without its line end).
};

struct CsvReadResult {
  Table table;
  std::vector<MalformedRow> malformed;  // In line order.
  CsvDialect dialect;
  uint64_t bytes = 0;  // Size of the input.
  uint64_t lines = 0;  // Lines in the input.
};

CsvReadResult ReadCsv(const std::filesystem::path& path, const CsvOptions& options = {});

// Reads from memory; `source` names the input in error messages.
CsvReadResult ReadCsvBuffer(std::string_view data, std::string_view source,
                            const CsvOptions& options = {});

}  // namespace mloop::table

#endif  // MLOOP_TABLE_CSV_READER_H_
