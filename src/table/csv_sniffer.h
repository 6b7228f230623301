// The CSV sniffer: detects a file's dialect (delimiter, quote, spaces after the
// delimiter, header line) and its columns' names and types from a sample, in the manner
// of DuckDB's sniffer: try each candidate delimiter on the sample, keep the one that
// splits the most rows into the same number of fields, then infer each column's
// narrowest type (bool, int64, float64, date, timestamp, else string or category) and
// decide the header by whether the first row fits those types. Every detection yields
// to an option the caller set. Thread-safe.
#ifndef MLOOP_TABLE_CSV_SNIFFER_H_
#define MLOOP_TABLE_CSV_SNIFFER_H_

#include <string_view>

#include "table/csv_reader.h"

namespace mloop::table {

// `data` is the whole input with any byte-order mark removed; `source` names it in
// errors. Throws Error invalid_argument when the input has no record to sniff from, when
// the names given do not match the number of columns, or when column_types names a
// column the file does not have.
CsvDialect SniffCsv(std::string_view data, std::string_view source, const CsvOptions& options);

// The position after the first `n` lines of `data` (its end when it has fewer).
const char* SkipLines(std::string_view data, size_t n);

}  // namespace mloop::table

#endif  // MLOOP_TABLE_CSV_SNIFFER_H_
