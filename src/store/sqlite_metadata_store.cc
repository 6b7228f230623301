#include "store/sqlite_metadata_store.h"

#include <sqlite3.h>

#include <cctype>
#include <limits>
#include <utility>

#include "core/error.h"
#include "core/log.h"

namespace mloop::store {

namespace fs = std::filesystem;

namespace {

// Bounds the statement cache; real workloads use a few dozen distinct
// statements.
constexpr size_t kMaxCachedStatements = 256;

ErrorCode ErrorCodeForSqlite(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_IOERR:
      return ErrorCode::kDataLoss;
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY ||
          rc == SQLITE_CONSTRAINT_ROWID) {
        return ErrorCode::kAlreadyExists;
      }
      return ErrorCode::kInvalidArgument;
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
      return ErrorCode::kInvalidArgument;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
      return ErrorCode::kUnavailable;
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return ErrorCode::kFailedPrecondition;
    default:
      return ErrorCode::kInternal;
  }
}

// Resets a statement and clears its bindings when a use of it ends, however it
// ends, so that the cached statement is ready for the next use and holds no
// pointers into the caller's parameters.
class StatementUse {
 public:
  explicit StatementUse(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StatementUse() {
    // sqlite3_reset repeats the error of the last step, which was already
    // checked and thrown; it cannot fail otherwise. Same for clearing bindings.
    (void)sqlite3_reset(stmt_);
    (void)sqlite3_clear_bindings(stmt_);
  }
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

std::string SavepointName(int depth) { return "mloop_savepoint_" + std::to_string(depth); }

bool OnlySeparatorsLeft(const char* tail, const char* end) {
  for (; tail != nullptr && tail < end; ++tail) {
    if (!std::isspace(static_cast<unsigned char>(*tail)) && *tail != ';') {
      return false;
    }
  }
  return true;
}

}  // namespace

void SqliteMetadataStore::CloseDb::operator()(sqlite3* db) const {
  // sqlite3_close_v2 only fails on a null or already-closed handle; statements
  // still open would defer the close, and all of them are finalized first.
  (void)sqlite3_close_v2(db);
}

void SqliteMetadataStore::FinalizeStmt::operator()(sqlite3_stmt* stmt) const {
  // sqlite3_finalize repeats the error of the last step, already reported.
  (void)sqlite3_finalize(stmt);
}

SqliteMetadataStore::SqliteMetadataStore(const fs::path& path, const SqliteOptions& options)
    : path_(fs::absolute(path)), busy_timeout_(options.busy_timeout) {
  if (!options.create_if_missing && !fs::exists(path_)) {
    ThrowNotFound(url() + ": the database file does not exist");
  }
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (options.create_if_missing) flags |= SQLITE_OPEN_CREATE;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path_.c_str(), &raw, flags, nullptr);
  db_.reset(raw);  // Owned even when opening failed, so that it is closed.
  if (db_ == nullptr) ThrowInternal(url() + ": sqlite3_open_v2: out of memory");
  Check(rc, "open", "");
  Check(sqlite3_extended_result_codes(db_.get(), 1), "enable extended codes", "");
  int64_t timeout_ms = options.busy_timeout.count();
  if (timeout_ms > std::numeric_limits<int>::max()) {
    timeout_ms = std::numeric_limits<int>::max();
  }
  Check(sqlite3_busy_timeout(db_.get(), static_cast<int>(timeout_ms)), "set busy timeout", "");

  // Switching to WAL is persistent in the file; it is a no-op once done. It
  // fails on filesystems without shared memory (some network filesystems),
  // where SQLite answers with the mode it kept.
  std::vector<Row> mode;
  Run("PRAGMA journal_mode=WAL", {}, &mode);
  std::string got = "unknown";
  if (!mode.empty() && !mode[0].empty() && std::holds_alternative<std::string>(mode[0][0])) {
    got = AsText(mode[0][0]);
  }
  if (got != "wal") {
    throw Error(ErrorCode::kFailedPrecondition,
                url() + ": cannot switch the database to WAL mode (it stays in '" + got +
                    "' mode); is it on a network filesystem? mloop needs a local "
                    "filesystem for its SQLite store");
  }
  // FULL: a commit syncs the write-ahead log, so it is durable once it returns. The log is
  // then not checkpointed into the database when the connection closes (SQLite does so when
  // the last connection to a file closes): each mloop command closed with a checkpoint and
  // its three or four syncs, which its commits no longer need; SQLite checkpoints as the log
  // grows (every 1000 pages) instead. The -wal and -shm files stay beside the database.
  Run("PRAGMA synchronous=FULL", {}, nullptr);
  Check(sqlite3_db_config(db_.get(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr),
        "keep the write-ahead log on close", "");
  Run("PRAGMA foreign_keys=ON", {}, nullptr);
}

SqliteMetadataStore::~SqliteMetadataStore() {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  statements_.clear();
}

void SqliteMetadataStore::Check(int rc, std::string_view operation, std::string_view sql) const {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
  std::string message = url() + ": " + std::string(operation) + " failed: ";
  const char* detail = db_ != nullptr ? sqlite3_errmsg(db_.get()) : nullptr;
  message += detail != nullptr ? detail : sqlite3_errstr(rc);
  message += " (" + std::string(sqlite3_errstr(rc)) + ", code " + std::to_string(rc) + ")";
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
    message += "; other writers kept the database locked past the busy timeout of " +
               std::to_string(busy_timeout_.count()) + " ms";
  }
  if (!sql.empty()) message += " in: " + std::string(sql);
  throw Error(ErrorCodeForSqlite(rc), message);
}

sqlite3_stmt* SqliteMetadataStore::Prepare(std::string_view sql) {
  auto it = statements_.find(std::string(sql));
  if (it != statements_.end()) return it->second.get();

  if (sql.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    ThrowInternal(url() + ": statement too long");
  }
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &raw, &tail);
  StmtPtr stmt(raw);
  Check(rc, "prepare", sql);
  if (stmt == nullptr) {
    ThrowInternal(url() + ": empty statement: '" + std::string(sql) + "'");
  }
  if (!OnlySeparatorsLeft(tail, sql.data() + sql.size())) {
    ThrowInternal(url() + ": more than one statement in one call: " + std::string(sql));
  }
  // No cached statement is in use between calls, so dropping them all is safe.
  if (statements_.size() >= kMaxCachedStatements) statements_.clear();
  return statements_.emplace(std::string(sql), std::move(stmt)).first->second.get();
}

void SqliteMetadataStore::Bind(sqlite3_stmt* stmt, std::string_view sql, const Params& params) {
  int expected = sqlite3_bind_parameter_count(stmt);
  if (static_cast<size_t>(expected) != params.size()) {
    ThrowInternal(url() + ": the statement has " + std::to_string(expected) + " parameters, " +
                  std::to_string(params.size()) + " were given: " + std::string(sql));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    int index = static_cast<int>(i) + 1;
    const Value& value = params[i];
    int rc = SQLITE_OK;
    // SQLITE_STATIC: the parameters outlive the statement's use, and
    // StatementUse clears the bindings before the call returns.
    if (std::holds_alternative<Null>(value)) {
      rc = sqlite3_bind_null(stmt, index);
    } else if (const auto* i64 = std::get_if<int64_t>(&value)) {
      rc = sqlite3_bind_int64(stmt, index, *i64);
    } else if (const auto* d = std::get_if<double>(&value)) {
      rc = sqlite3_bind_double(stmt, index, *d);
    } else if (const auto* text = std::get_if<std::string>(&value)) {
      rc = sqlite3_bind_text64(stmt, index, text->data(), text->size(), SQLITE_STATIC, SQLITE_UTF8);
    } else if (const auto* blob = std::get_if<Blob>(&value)) {
      // std::string::data() is never null, so an empty blob binds as an empty
      // blob, not as NULL.
      rc = sqlite3_bind_blob64(stmt, index, blob->bytes.data(), blob->bytes.size(), SQLITE_STATIC);
    }
    Check(rc, "bind parameter " + std::to_string(index), sql);
  }
}

int64_t SqliteMetadataStore::Run(std::string_view sql, const Params& params,
                                 std::vector<Row>* rows) {
  sqlite3_stmt* stmt = Prepare(sql);
  StatementUse use(stmt);
  Bind(stmt, sql, params);
  sqlite3* db = db_.get();
  const int64_t changes_before = sqlite3_total_changes64(db);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    if (rows == nullptr) continue;
    const int columns = sqlite3_column_count(stmt);
    Row& row = rows->emplace_back();
    row.reserve(static_cast<size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_INTEGER:
          row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c)));
          break;
        case SQLITE_FLOAT:
          row.emplace_back(sqlite3_column_double(stmt, c));
          break;
        case SQLITE_TEXT: {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
          const int size = sqlite3_column_bytes(stmt, c);
          row.emplace_back(std::string(text, static_cast<size_t>(size)));
          break;
        }
        case SQLITE_BLOB: {
          // The pointer is null for an empty blob.
          const auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt, c));
          const int size = sqlite3_column_bytes(stmt, c);
          row.emplace_back(Blob{bytes == nullptr ? std::string()
                                                 : std::string(bytes, static_cast<size_t>(size))});
          break;
        }
        default:
          row.emplace_back(Null());
          break;
      }
    }
  }
  Check(rc, "step", sql);
  // sqlite3_changes64 keeps the count of the last INSERT, UPDATE or DELETE,
  // even after other statements; report 0 for statements that changed no row.
  if (sqlite3_total_changes64(db) == changes_before) return 0;
  return sqlite3_changes64(db);
}

void SqliteMetadataStore::CheckTransactionAlive(std::string_view sql) const {
  if (transaction_depth_ > 0 && sqlite3_get_autocommit(db_.get()) != 0) {
    throw Error(ErrorCode::kFailedPrecondition,
                url() +
                    ": the transaction was rolled back by SQLite after an "
                    "earlier error; not running: " +
                    std::string(sql));
  }
}

int64_t SqliteMetadataStore::DoExec(std::string_view sql, const Params& params) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  CheckTransactionAlive(sql);
  return Run(sql, params, nullptr);
}

std::vector<Row> SqliteMetadataStore::DoQuery(std::string_view sql, const Params& params) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  CheckTransactionAlive(sql);
  std::vector<Row> rows;
  Run(sql, params, &rows);
  return rows;
}

bool SqliteMetadataStore::DoTableExists(std::string_view table) {
  return !DoQuery(
              "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') "
              "AND name = ?",
              {std::string(table)})
              .empty();
}

void SqliteMetadataStore::DoInTransaction(const std::function<void()>& body) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  const int depth = transaction_depth_ + 1;
  if (depth == 1) {
    // IMMEDIATE takes the write lock now, waiting up to the busy timeout,
    // instead of at the first write, where SQLite could only fail with
    // SQLITE_BUSY.
    Run("BEGIN IMMEDIATE", {}, nullptr);
  } else {
    CheckTransactionAlive("SAVEPOINT");
    Run("SAVEPOINT " + SavepointName(depth), {}, nullptr);
  }
  transaction_depth_ = depth;
  try {
    body();
    CheckTransactionAlive(depth == 1 ? "COMMIT" : "RELEASE");
    if (depth == 1) {
      Run("COMMIT", {}, nullptr);
    } else {
      Run("RELEASE " + SavepointName(depth), {}, nullptr);
    }
  } catch (...) {
    RollBackAfterFailure(depth);
    transaction_depth_ = depth - 1;
    throw;
  }
  transaction_depth_ = depth - 1;
}

void SqliteMetadataStore::RollBackAfterFailure(int depth) noexcept {
  sqlite3* db = db_.get();
  // After some errors (I/O, full disk) SQLite has already rolled back the whole
  // transaction; then there is nothing left to undo here.
  if (sqlite3_get_autocommit(db) != 0) return;
  std::string sql =
      depth == 1 ? std::string("ROLLBACK")
                 : "ROLLBACK TO " + SavepointName(depth) + "; RELEASE " + SavepointName(depth);
  char* message = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    // The original exception is what the caller needs to see; the failed
    // rollback is logged, and SQLite rolls back an open transaction when the
    // connection closes.
    LogError(url() + ": " + sql +
             " failed: " + (message != nullptr ? message : sqlite3_errstr(rc)));
  }
  sqlite3_free(message);
}

}  // namespace mloop::store
