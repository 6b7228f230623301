// MetadataStore is the interface to the database that holds all of mloop's metadata:
// datasets, runs, models, and the workspace itself. It is a small SQL-level interface over
// the subset of SQL that SQLite and PostgreSQL share, so that modules write their queries
// once and a workspace can move from the embedded SQLite database (SqliteMetadataStore) to
// PostgreSQL without changing callers.
//
// Thread-safety is up to each implementation; SqliteMetadataStore documents its own.
//
// Errors (mloop::Error), each naming the statement or operation and the database:
//   invalid_argument     a value breaks a constraint other than uniqueness (NOT NULL,
//                        CHECK, FOREIGN KEY) or has the wrong type for its column.
//   already_exists       a UNIQUE or PRIMARY KEY constraint was violated.
//   not_found            the database to open does not exist (when not creating it).
//   failed_precondition  the database's schema is newer than this mloop knows, or the
//                        database cannot be opened or written (permissions, read-only).
//   data_loss            the database file is corrupt, not a database, or an I/O error
//                        happened.
//   unavailable          the database stayed locked by other writers for longer than the
//                        busy timeout, or the disk is full; retrying may help.
//   internal             a bug: malformed SQL, a wrong number of parameters, reading a
//                        cell as the wrong type.
//
// SQL written for this interface:
//   - Parameters are positional `?` placeholders, bound in order from `params`. A
//     PostgreSQL implementation rewrites them to `$1, $2, ...`, so `?` must not appear
//     anywhere else (not inside string literals; use a parameter instead), and the `?NNN`,
//     `:name`, `@name` and `$name` forms are not allowed.
//   - One statement per call.
//   - Types: BIGINT for integers, DOUBLE PRECISION for floats, TEXT for text; blobs are
//     BLOB in SQLite and BYTEA in PostgreSQL, so a migration that creates a blob column is
//     written per dialect (see dialect()).
//   - New rows' ids come back with `INSERT ... RETURNING id` (InsertReturningId), which
//     both databases support; there is no "last insert id".
//
// Schema format versioning. The schema version of a database is the number of the last
// migration applied to it (schema_migrations holds one row per applied migration: version,
// name, applied_at). The rule:
//   - Every change to the schema (a table, column, index or constraint added, changed or
//     dropped, or existing rows rewritten) is a new migration appended to the list in
//     migrations.cc with the next version number. This bumps the schema version.
//   - A migration that has been released is never edited or removed: databases out there
//     have already applied it.
//   - Changes that need no schema change (a new query, a new value in a TEXT column that
//     old binaries tolerate) do not bump the version.
//   - Migrate() upgrades an older database in place. A binary refuses a database whose
//     schema version is newer than its own latest migration (failed_precondition), because
//     it cannot know what the newer migrations changed. There is no "compatible minor
//     version": downgrading mloop means restoring a backup.
#ifndef MLOOP_STORE_METADATA_STORE_H_
#define MLOOP_STORE_METADATA_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mloop::store {

struct Migration;

// Bytes stored as a BLOB (BYTEA in PostgreSQL), as opposed to TEXT. May hold
// NUL bytes.
struct Blob {
  std::string bytes;

  friend bool operator==(const Blob&, const Blob&) = default;
};

// SQL NULL.
using Null = std::monostate;

// A parameter or a result cell: NULL, a 64-bit integer, a double, UTF-8 text or
// a blob. A `const char*` or `std::string` converts to text; wrap bytes in
// Blob.
using Value = std::variant<Null, int64_t, double, std::string, Blob>;

// The parameters of one statement, bound to its `?` placeholders in order.
using Params = std::vector<Value>;

// One result row: its cells in the order of the SELECT list.
using Row = std::vector<Value>;

// "null", "integer", "double", "text" or "blob".
std::string_view ValueTypeName(const Value& value);

// Typed access to a cell. Each throws Error internal naming the expected and
// the actual type when the cell holds something else; AsDouble also accepts an
// integer.
bool IsNull(const Value& value);
int64_t AsInt64(const Value& value);
double AsDouble(const Value& value);
const std::string& AsText(const Value& value);
const std::string& AsBlob(const Value& value);

// The SQL dialect of an implementation, for the rare statement (mostly DDL in
// migrations) that must be written differently for each.
enum class SqlDialect {
  kSqlite,      // SqliteMetadataStore.
  kPostgresql,  // A future PostgreSQL store.
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;
  MetadataStore(const MetadataStore&) = delete;
  MetadataStore& operator=(const MetadataStore&) = delete;

  // Runs one statement that returns no rows the caller wants (INSERT, UPDATE,
  // DELETE, DDL) and returns the number of rows it inserted, updated or
  // deleted. Outside InTransaction the statement is its own transaction. Throws
  // as the header says.
  int64_t Exec(std::string_view sql, const Params& params = {});

  // Runs one statement and returns all its rows. Throws as the header says.
  std::vector<Row> Query(std::string_view sql, const Params& params = {});

  // Runs one statement and returns its first row, or nullopt when there is
  // none.
  std::optional<Row> QueryRow(std::string_view sql, const Params& params = {});

  // Runs an `INSERT ... RETURNING <integer column>` and returns that column of
  // the one inserted row. Throws Error internal when the statement does not
  // return exactly one row whose first cell is an integer, besides what Exec
  // throws.
  int64_t InsertReturningId(std::string_view sql, const Params& params = {});

  // Runs `body` in a transaction: every statement `body` runs through this
  // store is committed together when `body` returns, or rolled back when it
  // throws (the exception then propagates unchanged). Transactions are write
  // transactions: they take the database's write lock when they begin, so a
  // transaction never fails half-way because another writer got there first;
  // other writers wait.
  //
  // Called inside another InTransaction on the same store, it joins the outer
  // transaction: nothing is committed until the outermost body returns. A
  // nested body that throws undoes only its own statements (a savepoint), so an
  // outer body that catches the exception can go on; if the exception escapes
  // the outermost body, everything is rolled back.
  //
  // Throws what `body` throws, or Error unavailable when the write lock could
  // not be taken within the busy timeout, or the errors listed in the header
  // for COMMIT.
  void InTransaction(const std::function<void()>& body);

  // True when a table (or view) of that name exists. Throws as the header says.
  bool TableExists(std::string_view table);

  // The number of the last migration applied to this database; 0 for a database
  // no migration was applied to (a new one). Does not change the database.
  int64_t SchemaVersion();

  // Applies, in order, each migration of `migrations` (default: Migrations()
  // from migrations.h) newer than SchemaVersion(), each in its own transaction
  // together with its row in schema_migrations. Several processes may call it
  // at once: each migration is applied exactly once. Returns how many
  // migrations this call applied (0 when the database was up to date).
  //
  // Throws Error failed_precondition, before changing anything, when the
  // database's schema version is newer than the last of `migrations`, naming
  // both versions; Error internal when `migrations` is not numbered 1, 2, 3,
  // ...; and what a failing migration statement throws (that migration is then
  // rolled back entirely, the ones before it stay applied).
  int64_t Migrate();
  int64_t Migrate(std::span<const Migration> migrations);

  virtual SqlDialect dialect() const = 0;

  // Where the database is, for messages: "sqlite:/abs/path/mloop.db".
  virtual std::string url() const = 0;

 protected:
  MetadataStore() = default;

 private:
  // The operations each implementation provides; the public methods above
  // document their contracts.
  virtual int64_t DoExec(std::string_view sql, const Params& params) = 0;
  virtual std::vector<Row> DoQuery(std::string_view sql, const Params& params) = 0;
  virtual void DoInTransaction(const std::function<void()>& body) = 0;
  virtual bool DoTableExists(std::string_view table) = 0;
};

}  // namespace mloop::store

#endif  // MLOOP_STORE_METADATA_STORE_H_
