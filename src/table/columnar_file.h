// The columnar file: mloop's binary format for a Table on disk. Dataset versions are stored
// in it as artifacts. Each column's buffers (validity bitmap, values, string offsets and
// text, category codes and dictionary) and the table's source line numbers are compressed
// separately with zstd, so a reader can decode only the columns it asks for. A JSON footer
// holds the schema, the row count and, for every buffer, its place, sizes and SHA-256; a
// fixed trailer holds the footer's SHA-256. Every byte of a file is covered by one of these
// digests, so corruption and truncation are detected. docs/columnar-format.md gives the
// exact byte layout and the versioning rules.
//
// The functions are thread-safe: they share no state. A file is written under a temporary
// name, fsynced and renamed, so readers never see a half-written file.
//
// Errors (mloop::Error), each naming the file (and the column, for a column's bytes):
//   not_found            the file does not exist.
//   invalid_argument     not an mloop columnar file (wrong magic bytes); a footer whose
//                        digest matches but whose contents are inconsistent (a file crafted
//                        or written by a buggy writer); a bad option (unknown projected
//                        column, compression level out of range, a schema that does not
//                        match the table).
//   failed_precondition  the file's major format version is newer than this reader's.
//   data_loss            bytes that do not match their digest, or a truncated file; also
//                        an I/O failure while writing.
#ifndef MLOOP_TABLE_COLUMNAR_FILE_H_
#define MLOOP_TABLE_COLUMNAR_FILE_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "table/schema.h"
#include "table/table.h"

namespace mloop::table {

// The newest format version this build reads and writes. It reads every older
// major version too, and a file of a larger minor version of a major it knows,
// ignoring what that minor version added; it refuses a larger major version.
// A writer writes the lowest version that describes its file: 2.0 when an
// integer buffer is packed (2.0 added the packed encodings), else 1.0.
// docs/columnar-format.md lists the changes that bump each.
inline constexpr int kColumnarFormatMajor = 2;
inline constexpr int kColumnarFormatMinor = 0;

struct ColumnarWriteOptions {
  // zstd level, from ZSTD_minCLevel() (negative: faster, larger) to
  // ZSTD_maxCLevel() (22: slowest, smallest); 0 means zstd's default (3).
  int compression_level = 3;
  // Roles and nullability to record for the columns. Table carries only names
  // and types; when set, this must list the table's columns in order with the
  // same names and types, and a field marked non-nullable must have no nulls.
  // Unset records the role "feature" and nullable = true for every column.
  std::optional<Schema> schema;
};

struct ColumnarReadOptions {
  // When set, only these columns are decoded and returned, in this order; the
  // bytes of the other columns are not read. An empty list reads only the row
  // count and the line numbers. A name that is not in the file, or repeated, is
  // invalid_argument.
  std::optional<std::vector<std::string>> columns;
};

// Sizes of one column as stored, from the footer.
struct ColumnarColumnInfo {
  std::string name;
  uint64_t null_count = 0;
  uint64_t compressed_bytes = 0;    // its buffers' bytes in the file
  uint64_t uncompressed_bytes = 0;  // its buffers' bytes once decompressed
};

// What ReadColumnarFileInfo learns from the header, footer and trailer alone.
struct ColumnarFileInfo {
  int format_major = 0;
  int format_minor = 0;
  uint64_t rows = 0;
  uint64_t file_bytes = 0;
  Schema schema;                            // with the roles the writer recorded
  std::vector<ColumnarColumnInfo> columns;  // in schema order
  // Lowercase hex SHA-256 over the header, the footer and its length (the
  // trailer's digest). The footer holds every buffer's SHA-256, so this names
  // the whole content: two files with the same checksum hold the same bytes.
  std::string checksum;
  std::string created_by;  // "mloop 0.1.0"; informational
};

// Writes `table` to `path` atomically, replacing any file there. Throws Error
// invalid_argument for a bad option or when the folder cannot be written,
// data_loss when writing, fsync or rename fail; `path` is unchanged on failure.
void WriteColumnarFile(const Table& table, const std::filesystem::path& path,
                       const ColumnarWriteOptions& options = {});

// The bytes WriteColumnarFile would write, for a caller that stores them
// elsewhere (the artifact store); `name` names the table in error messages.
// Buffers are compressed in parallel on ThreadPool::Default(). Throws as
// WriteColumnarFile, without the I/O errors.
std::string EncodeColumnarFile(const Table& table, std::string_view name,
                               const ColumnarWriteOptions& options = {});

// Reads the table, with its line numbers, verifying the digest of every byte it
// reads. Throws as described at the top of this file.
Table ReadColumnarFile(const std::filesystem::path& path, const ColumnarReadOptions& options = {});

// Reads the header, footer and trailer only; column data is neither read nor
// verified, so a corrupt data byte is found by ReadColumnarFile, not here.
// Throws as ReadColumnarFile.
ColumnarFileInfo ReadColumnarFileInfo(const std::filesystem::path& path);

}  // namespace mloop::table

#endif  // MLOOP_TABLE_COLUMNAR_FILE_H_
