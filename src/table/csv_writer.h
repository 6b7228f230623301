// Writing a Table as delimited text (CSV, TSV, ...), so that the CSV reader
// (csv_reader.h) reads it back to the same values.
//
// Fields follow RFC 4180: a field is quoted when it contains the delimiter, a quote, CR
// or LF, when it starts or ends with a space, and when a value would otherwise read as
// a null: an empty string (written "" when the null text is empty), a value equal to
// the null text, and a value equal to one of the markers the reader takes as missing by
// default (kDefaultNullValues: "NA", "null", "NaN", ...), because a quoted marker is
// text to the reader. Quotes inside a field are doubled. Lines end in LF.
//
// Values: int64 as integers; float64 as the shortest text that reads back to the same
// double, with ".0" added to whole numbers (1.0, not 1) so that the column reads back
// as float64; NaN as "NaN" (quoted, see above: unquoted it would read as a null), the
// infinities as inf and -inf; bool as true and false; string and category as their
// text; date as YYYY-MM-DD; timestamp as ISO 8601 in UTC (2024-01-02T03:04:05.5Z).
//
// Limits of the format: in a one-column table, a null written as an empty field would
// be a blank line, which readers skip; it is written "" and so reads back as an empty
// string. A table with no columns is written as nothing at all.
//
// The functions are thread-safe: they only read the table.
//
// Errors (mloop::Error): to a path, those of WriteFileAtomic (core/file.h), naming the
// path (invalid_argument when the file cannot be created, such as a missing folder;
// data_loss when writing fails); the file is then unchanged. To a stream, data_loss
// when the stream fails.
#ifndef MLOOP_TABLE_CSV_WRITER_H_
#define MLOOP_TABLE_CSV_WRITER_H_

#include <filesystem>
#include <ostream>
#include <string>

#include "table/table.h"

namespace mloop::table {

struct CsvWriteOptions {
  // One byte between fields. A quote, CR or LF is invalid_argument.
  char delimiter = ',';
  // Write the column names as the first line.
  bool header = true;
  // The text written for a null, unquoted. Non-null values equal to it are quoted.
  std::string null_text;
};

// Writes to `out` in pieces of about a megabyte, so memory stays small for any table.
void WriteCsv(const Table& table, std::ostream& out, const CsvWriteOptions& options = {});

// Writes the file atomically (a temporary file, fsync, rename): readers see the old
// file or the whole new one. The whole text is built in memory first.
void WriteCsv(const Table& table, const std::filesystem::path& path,
              const CsvWriteOptions& options = {});

}  // namespace mloop::table

#endif  // MLOOP_TABLE_CSV_WRITER_H_
