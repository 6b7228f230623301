// SqliteMetadataStore is the embedded MetadataStore: one SQLite database file,
// the default store of a workspace (.mloop/mloop.db).
//
// The database runs in WAL mode with synchronous=FULL (a commit is durable once
// it returns: it survives a crash of mloop and a power cut) and foreign keys
// enforced. The write-ahead log is checkpointed as it grows, not when a
// connection closes, so mloop.db-wal and mloop.db-shm stay beside the database:
// a copy of the database is the three files. Several processes and several
// SqliteMetadataStore objects may use the same file at once: readers never
// block; writers wait for each other for up to the busy timeout (30 s by
// default), and every InTransaction begins with BEGIN IMMEDIATE, so a
// transaction never fails half-way with "database is locked".
//
// Thread-safety: an object holds one connection and serializes its calls with a
// mutex, so it may be shared between threads. A transaction holds the object
// for its whole duration: other threads' calls on the same object wait until it
// ends (they do not join it). `body` must therefore not wait for another thread
// that uses the same object. For parallel work, give each thread its own
// object; SQLite still serializes the writes.
//
// Errors: as metadata_store.h lists, with messages that name the SQLite
// operation, the statement and the database file. SQLite's codes map as:
// CORRUPT, NOTADB, IOERR -> data_loss; CONSTRAINT (UNIQUE, PRIMARY KEY) ->
// already_exists; other CONSTRAINT, MISMATCH, TOOBIG -> invalid_argument; BUSY,
// LOCKED (after the timeout), FULL -> unavailable; CANTOPEN, READONLY, PERM,
// AUTH -> failed_precondition; anything else (a syntax error, "no such table")
// -> internal.
#ifndef MLOOP_STORE_SQLITE_METADATA_STORE_H_
#define MLOOP_STORE_SQLITE_METADATA_STORE_H_

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/metadata_store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace mloop::store {

struct SqliteOptions {
  // Create the database file when it does not exist. When false, a missing file
  // is Error not_found.
  bool create_if_missing = true;
  // How long a writer waits for other writers before giving up with Error
  // unavailable.
  std::chrono::milliseconds busy_timeout{30'000};
};

class SqliteMetadataStore final : public MetadataStore {
 public:
  // Opens (or creates) the database at `path` and sets it up as the header
  // says. Does not migrate: call Migrate(). Throws Error not_found (missing and
  // not to be created), failed_precondition (cannot be opened: no such folder,
  // permissions), data_loss (not an SQLite database, or corrupt), unavailable
  // (locked for longer than the busy timeout while switching to WAL).
  explicit SqliteMetadataStore(const std::filesystem::path& path,
                               const SqliteOptions& options = {});
  ~SqliteMetadataStore() override;

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  std::string url() const override { return "sqlite:" + path_.string(); }

  const std::filesystem::path& path() const { return path_; }

 private:
  struct CloseDb {
    void operator()(sqlite3* db) const;
  };
  struct FinalizeStmt {
    void operator()(sqlite3_stmt* stmt) const;
  };
  using DbPtr = std::unique_ptr<sqlite3, CloseDb>;
  using StmtPtr = std::unique_ptr<sqlite3_stmt, FinalizeStmt>;

  int64_t DoExec(std::string_view sql, const Params& params) override;
  std::vector<Row> DoQuery(std::string_view sql, const Params& params) override;
  void DoInTransaction(const std::function<void()>& body) override;
  bool DoTableExists(std::string_view table) override;

  // Returns the cached prepared statement for `sql`, preparing it on first use.
  sqlite3_stmt* Prepare(std::string_view sql);
  // Binds `params` to the `?` placeholders of `stmt`, which was prepared from
  // `sql`.
  void Bind(sqlite3_stmt* stmt, std::string_view sql, const Params& params);
  // Runs one statement to completion; appends its rows to `rows` unless null.
  // Returns the number of rows it inserted, updated or deleted.
  int64_t Run(std::string_view sql, const Params& params, std::vector<Row>* rows);
  // Throws when a transaction is open on our side but SQLite rolled it back
  // after an error (an I/O error, a full disk): running on would commit
  // statement by statement.
  void CheckTransactionAlive(std::string_view sql) const;
  // Throws the Error that SQLite result code `rc` maps to, naming `operation`
  // and `sql`, when `rc` is not OK, ROW or DONE.
  void Check(int rc, std::string_view operation, std::string_view sql) const;
  // Rolls back what InTransaction began at `depth` after `body` threw; never
  // throws.
  void RollBackAfterFailure(int depth) noexcept;

  std::filesystem::path path_;
  std::chrono::milliseconds busy_timeout_;
  std::recursive_mutex mutex_;
  DbPtr db_;
  // Prepared statements by SQL text. Declared after db_ so that they are
  // finalized before the connection closes.
  std::unordered_map<std::string, StmtPtr> statements_;
  // How many InTransaction calls are running: 0 outside, 1 in the outermost, 2
  // in a nested one (a savepoint), ...
  int transaction_depth_ = 0;
};

}  // namespace mloop::store

#endif  // MLOOP_STORE_SQLITE_METADATA_STORE_H_
