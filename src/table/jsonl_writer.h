// Writing a Table as JSON Lines: one JSON object per row, "column name": value, keys in
// column order, so that the JSON Lines reader (jsonl_reader.h) reads it back to the same
// values.
//
// Values: a null as null; int64 as a JSON integer; float64 as the shortest number that
// reads back to the same double, with ".0" added to whole numbers (1.0, not 1) so that
// the column reads back as float64; NaN and the infinities, which JSON cannot express,
// as null (as pandas' to_json does); bool as true and false; string and category as
// JSON strings; date as "YYYY-MM-DD" and timestamp as ISO 8601 in UTC
// ("2024-01-02T03:04:05.5Z"), both strings. Strings are escaped by hand: quotes,
// backslashes and control characters; other bytes are copied, since the readers
// guarantee valid UTF-8. Lines end in LF.
//
// The functions are thread-safe: they only read the table.
//
// Errors (mloop::Error): to a path, those of WriteFileAtomic (core/file.h), naming the
// path (invalid_argument when the file cannot be created, such as a missing folder;
// data_loss when writing fails); the file is then unchanged. To a stream, data_loss
// when the stream fails.
#ifndef MLOOP_TABLE_JSONL_WRITER_H_
#define MLOOP_TABLE_JSONL_WRITER_H_

#include <filesystem>
#include <ostream>

#include "table/table.h"

namespace mloop::table {

// Writes to `out` in pieces of about a megabyte, so memory stays small for any table.
void WriteJsonl(const Table& table, std::ostream& out);

// Writes the file atomically (a temporary file, fsync, rename): readers see the old
// file or the whole new one. The whole text is built in memory first.
void WriteJsonl(const Table& table, const std::filesystem::path& path);

}  // namespace mloop::table

#endif  // MLOOP_TABLE_JSONL_WRITER_H_
