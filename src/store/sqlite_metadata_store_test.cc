#include "store/sqlite_metadata_store.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/testing.h"

namespace mloop::store {
namespace {

using namespace std::string_literals;
using test::ExpectError;
using test::TempDir;

class SqliteMetadataStoreTest : public ::testing::Test {
 protected:
  std::filesystem::path DbPath() const { return dir_.path() / "mloop.db"; }

  int64_t Count(MetadataStore& db, const std::string& table) {
    return AsInt64(db.Query("SELECT COUNT(*) FROM " + table)[0][0]);
  }

  TempDir dir_;
};

TEST_F(SqliteMetadataStoreTest, SetsUpWalFullSyncAndForeignKeys) {
  SqliteMetadataStore db(DbPath());
  EXPECT_EQ(AsText(db.Query("PRAGMA journal_mode")[0][0]), "wal");
  EXPECT_EQ(AsInt64(db.Query("PRAGMA synchronous")[0][0]), 2) << "2 is FULL";
  EXPECT_EQ(AsInt64(db.Query("PRAGMA foreign_keys")[0][0]), 1);
  EXPECT_EQ(db.dialect(), SqlDialect::kSqlite);
  EXPECT_EQ(db.url(), "sqlite:" + DbPath().string());
}

TEST_F(SqliteMetadataStoreTest, BindsAndReadsBackEveryValueType) {
  SqliteMetadataStore db(DbPath());
  // Columns without a declared type keep each value's own type.
  db.Exec("CREATE TABLE t (id BIGINT PRIMARY KEY, v)");
  const std::vector<Value> values = {
      Null(),
      int64_t{0},
      std::numeric_limits<int64_t>::min(),
      std::numeric_limits<int64_t>::max(),
      -0.5,
      1e300,
      std::string(),
      "plain text",
      "ünïcødé ✓",
      "text with a \0 NUL inside"s,
      Blob{},
      Blob{"\0\1\2\0\xff"s},
      Blob{std::string(100000, '\0')},
  };
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(db.Exec("INSERT INTO t (id, v) VALUES (?, ?)", {static_cast<int64_t>(i), values[i]}),
              1);
  }
  std::vector<Row> rows = db.Query("SELECT id, v FROM t ORDER BY id");
  ASSERT_EQ(rows.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(rows[i][1], values[i])
        << "value " << i << " came back as " << ValueTypeName(rows[i][1]);
  }

  // NULL parameters compare as NULL: the IS operator finds the row, = does not.
  EXPECT_EQ(db.Query("SELECT id FROM t WHERE v IS ?", {Null()}).size(), 1u);
  EXPECT_EQ(db.Query("SELECT id FROM t WHERE v = ?", {Null()}).size(), 0u);
  // A blob and a text of the same bytes are different values.
  EXPECT_EQ(db.Query("SELECT id FROM t WHERE v = ?", {Blob{"plain text"}}).size(), 0u);
  std::optional<Row> row = db.QueryRow("SELECT id FROM t WHERE v = ?", {Blob{"\0\1\2\0\xff"s}});
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(AsInt64((*row)[0]), 11);
  EXPECT_FALSE(db.QueryRow("SELECT id FROM t WHERE id = ?", {int64_t{999}}).has_value());
}

TEST_F(SqliteMetadataStoreTest, ExecReportsChangedRows) {
  SqliteMetadataStore db(DbPath());
  EXPECT_EQ(db.Exec("CREATE TABLE t (x BIGINT)"), 0);
  EXPECT_EQ(db.Exec("INSERT INTO t VALUES (1), (2), (3)"), 3);
  EXPECT_EQ(db.Exec("UPDATE t SET x = x + 10 WHERE x >= ?", {int64_t{2}}), 2);
  EXPECT_EQ(db.Exec("CREATE INDEX t_x ON t (x)"), 0) << "DDL changes no rows";
  EXPECT_EQ(db.Exec("DELETE FROM t WHERE x > 100"), 0);
  EXPECT_EQ(db.Exec("DELETE FROM t"), 3);
}

TEST_F(SqliteMetadataStoreTest, InsertReturningIdGivesTheNewRowsId) {
  SqliteMetadataStore db(DbPath());
  db.Exec("CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
  EXPECT_EQ(db.InsertReturningId("INSERT INTO runs (name) VALUES (?) RETURNING id", {"a"}), 1);
  EXPECT_EQ(db.InsertReturningId("INSERT INTO runs (name) VALUES (?) RETURNING id", {"b"}), 2);
  ExpectError(ErrorCode::kInternal, {"got 0 rows"},
              [&] { db.InsertReturningId("INSERT INTO runs (name) VALUES ('c')"); });
}

TEST_F(SqliteMetadataStoreTest, TransactionCommitsAllRows) {
  SqliteMetadataStore db(DbPath());
  db.Exec("CREATE TABLE t (x BIGINT)");
  db.InTransaction([&] {
    for (int64_t i = 0; i < 10; ++i) db.Exec("INSERT INTO t VALUES (?)", {i});
  });
  SqliteMetadataStore other(DbPath());
  EXPECT_EQ(Count(other, "t"), 10);
}

TEST_F(SqliteMetadataStoreTest, CloseKeepsTheLogAndTheNextOpenReadsIt) {
  {
    SqliteMetadataStore db(DbPath());
    db.Exec("CREATE TABLE t (x BIGINT)");
    db.InTransaction([&] {
      for (int64_t i = 0; i < 5; ++i) db.Exec("INSERT INTO t VALUES (?)", {i});
    });
  }
  // Not checkpointed on close: the commits are in the log, which stays.
  const std::filesystem::path wal = DbPath().string() + "-wal";
  ASSERT_TRUE(std::filesystem::exists(wal));
  EXPECT_GT(std::filesystem::file_size(wal), 0u);
  SqliteMetadataStore again(DbPath());
  EXPECT_EQ(Count(again, "t"), 5);
  again.Exec("INSERT INTO t VALUES (5)");
  EXPECT_EQ(Count(again, "t"), 6);
}

TEST_F(SqliteMetadataStoreTest, ExceptionInsideTransactionRollsBackAllRows) {
  SqliteMetadataStore db(DbPath());
  db.Exec("CREATE TABLE t (x BIGINT)");
  db.Exec("INSERT INTO t VALUES (-1)");
  EXPECT_THROW(db.InTransaction([&] {
    for (int64_t i = 0; i < 10; ++i) db.Exec("INSERT INTO t VALUES (?)", {i});
    db.Exec("UPDATE t SET x = 100");
    throw std::runtime_error("stop");
  }),
               std::runtime_error)
      << "the body's exception propagates unchanged";
  EXPECT_EQ(Count(db, "t"), 1);
  EXPECT_EQ(AsInt64(db.Query("SELECT x FROM t")[0][0]), -1);

  // An Error from a statement rolls back too, and the store is usable
  // afterwards.
  db.Exec("CREATE TABLE u (k TEXT PRIMARY KEY)");
  ExpectError(ErrorCode::kAlreadyExists, {}, [&] {
    db.InTransaction([&] {
      db.Exec("INSERT INTO u VALUES ('a')");
      db.Exec("INSERT INTO u VALUES ('a')");
    });
  });
  EXPECT_EQ(Count(db, "u"), 0);
  db.InTransaction([&] { db.Exec("INSERT INTO u VALUES ('a')"); });
  EXPECT_EQ(Count(db, "u"), 1);
}

TEST_F(SqliteMetadataStoreTest, NestedTransactionJoinsTheOuterOne) {
  SqliteMetadataStore db(DbPath());
  db.Exec("CREATE TABLE t (x BIGINT)");
  SqliteMetadataStore observer(DbPath());
  db.InTransaction([&] {
    db.Exec("INSERT INTO t VALUES (1)");
    db.InTransaction([&] { db.Exec("INSERT INTO t VALUES (2)"); });
    EXPECT_EQ(Count(db, "t"), 2);
    EXPECT_EQ(Count(observer, "t"), 0) << "nothing is committed before the outer end";
  });
  EXPECT_EQ(Count(observer, "t"), 2);

  // An exception escaping the outermost body undoes the nested body's rows too.
  EXPECT_THROW(db.InTransaction([&] {
    db.InTransaction([&] { db.Exec("INSERT INTO t VALUES (3)"); });
    throw std::runtime_error("outer fails");
  }),
               std::runtime_error);
  EXPECT_EQ(Count(db, "t"), 2);

  // A nested failure that the outer body catches undoes only the nested rows.
  db.InTransaction([&] {
    db.Exec("INSERT INTO t VALUES (4)");
    EXPECT_THROW(db.InTransaction([&] {
      db.Exec("INSERT INTO t VALUES (5)");
      db.InTransaction([&] { db.Exec("INSERT INTO t VALUES (6)"); });
      throw std::runtime_error("inner fails");
    }),
                 std::runtime_error);
    db.Exec("INSERT INTO t VALUES (7)");
  });
  std::vector<Row> rows = db.Query("SELECT x FROM t ORDER BY x");
  std::vector<int64_t> xs;
  for (const Row& r : rows) xs.push_back(AsInt64(r[0]));
  EXPECT_EQ(xs, (std::vector<int64_t>{1, 2, 4, 7}));
}

TEST_F(SqliteMetadataStoreTest, ConstraintViolationsMapToErrorCodes) {
  SqliteMetadataStore db(DbPath());
  db.Exec("CREATE TABLE parent (id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE)");
  db.Exec("CREATE TABLE child (parent_id BIGINT NOT NULL REFERENCES parent (id))");
  db.Exec("INSERT INTO parent VALUES (1, 'adult')");

  ExpectError(ErrorCode::kAlreadyExists,
              {"UNIQUE constraint failed: parent.name", "INSERT INTO parent", DbPath().string()},
              [&] { db.Exec("INSERT INTO parent VALUES (2, ?)", {"adult"}); });
  ExpectError(ErrorCode::kAlreadyExists, {},
              [&] { db.Exec("INSERT INTO parent VALUES (1, 'other')"); });
  ExpectError(ErrorCode::kInvalidArgument, {"NOT NULL"},
              [&] { db.Exec("INSERT INTO parent VALUES (3, ?)", {Null()}); });
  ExpectError(ErrorCode::kInvalidArgument, {"FOREIGN KEY"},
              [&] { db.Exec("INSERT INTO child VALUES (42)"); });
}

TEST_F(SqliteMetadataStoreTest, ProgrammingErrorsAreInternalAndNameTheSql) {
  SqliteMetadataStore db(DbPath());
  ExpectError(ErrorCode::kInternal, {"SELEKT 1", "prepare"}, [&] { db.Exec("SELEKT 1"); });
  ExpectError(ErrorCode::kInternal, {"no such table: missing"},
              [&] { db.Query("SELECT * FROM missing"); });
  ExpectError(ErrorCode::kInternal, {"has 2 parameters, 1 were given"},
              [&] { db.Query("SELECT ?, ?", {int64_t{1}}); });
  ExpectError(ErrorCode::kInternal, {"more than one statement"},
              [&] { db.Exec("SELECT 1; SELECT 2"); });

  // A trailing semicolon is one statement.
  EXPECT_EQ(AsInt64(db.Query("SELECT 5;  ")[0][0]), 5);
}

TEST_F(SqliteMetadataStoreTest, MissingFileIsNotFoundWhenNotCreating) {
  SqliteOptions options;
  options.create_if_missing = false;
  ExpectError(ErrorCode::kNotFound, {DbPath().string()},
              [&] { SqliteMetadataStore db(DbPath(), options); });
  EXPECT_FALSE(std::filesystem::exists(DbPath()));
}

TEST_F(SqliteMetadataStoreTest, MissingFolderIsFailedPrecondition) {
  std::filesystem::path path = dir_.path() / "no" / "such" / "folder" / "x.db";
  ExpectError(ErrorCode::kFailedPrecondition, {path.string()},
              [&] { SqliteMetadataStore db(path); });
}

TEST_F(SqliteMetadataStoreTest, FileThatIsNotADatabaseIsDataLoss) {
  dir_.Write("mloop.db", std::string(8192, 'x'));
  ExpectError(ErrorCode::kDataLoss, {"not a database", DbPath().string()},
              [&] { SqliteMetadataStore db(DbPath()); });
}

TEST_F(SqliteMetadataStoreTest, WriterWaitingPastTheBusyTimeoutIsUnavailable) {
  SqliteMetadataStore holder(DbPath());
  holder.Exec("CREATE TABLE t (x BIGINT)");
  SqliteOptions impatient;
  impatient.busy_timeout = std::chrono::milliseconds(100);
  SqliteMetadataStore waiter(DbPath(), impatient);
  holder.InTransaction([&] {
    holder.Exec("INSERT INTO t VALUES (1)");
    ExpectError(ErrorCode::kUnavailable, {"BEGIN IMMEDIATE", "busy timeout"},
                [&] { waiter.InTransaction([&] { waiter.Exec("INSERT INTO t VALUES (2)"); }); });
    // Readers are not blocked by the writer (WAL).
    EXPECT_EQ(Count(waiter, "t"), 0);
  });
  EXPECT_EQ(Count(waiter, "t"), 1);
}

// One read-modify-write transaction that bumps the counter and logs the value
// it saw, then one write outside any transaction. A lost update or a failed
// write would show in the final counts.
void Bump(MetadataStore& db, int64_t worker) {
  db.InTransaction([&] {
    int64_t n = AsInt64(db.Query("SELECT n FROM counter")[0][0]);
    db.Exec("UPDATE counter SET n = ?", {n + 1});
    db.Exec("INSERT INTO log (worker, seen) VALUES (?, ?)", {worker, n});
  });
  db.Exec("INSERT INTO solo (worker) VALUES (?)", {worker});
}

void CreateCounterTables(MetadataStore& db) {
  db.InTransaction([&] {
    db.Exec("CREATE TABLE counter (n BIGINT NOT NULL)");
    db.Exec("INSERT INTO counter VALUES (0)");
    db.Exec(
        "CREATE TABLE log (worker BIGINT NOT NULL, seen BIGINT NOT NULL "
        "UNIQUE)");
    db.Exec("CREATE TABLE solo (worker BIGINT NOT NULL)");
  });
}

TEST_F(SqliteMetadataStoreTest, ConcurrentWritersFromThreadsAndProcessesAllSucceed) {
  constexpr int kThreads = 4;
  constexpr int kProcesses = 2;
  constexpr int kTransactions = 200;
  {
    SqliteMetadataStore db(DbPath());
    CreateCounterTables(db);
  }

  // Children start first so that they run alongside the threads. Each opens its
  // own connection after the fork and leaves with _exit, running no test
  // machinery.
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0) << "fork failed";
    if (pid == 0) {
      int status = 0;
      try {
        SqliteMetadataStore db(DbPath());
        for (int i = 0; i < kTransactions; ++i) Bump(db, 100 + p);
      } catch (...) {
        status = 1;
      }
      ::_exit(status);
    }
    children.push_back(pid);
  }

  std::atomic<int> failures{0};
  std::vector<std::string> messages(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        SqliteMetadataStore db(DbPath());
        for (int i = 0; i < kTransactions; ++i) Bump(db, t);
      } catch (const std::exception& e) {
        ++failures;
        messages[t] = e.what();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "a child process failed its transactions";
  }
  EXPECT_EQ(failures.load(), 0);
  for (const std::string& m : messages) EXPECT_EQ(m, "");

  SqliteMetadataStore db(DbPath());
  const int64_t total = (kThreads + kProcesses) * kTransactions;
  EXPECT_EQ(AsInt64(db.Query("SELECT n FROM counter")[0][0]), total);
  EXPECT_EQ(Count(db, "log"), total);
  EXPECT_EQ(Count(db, "solo"), total);
  for (int64_t worker : {0, 1, 2, 3, 100, 101}) {
    EXPECT_EQ(AsInt64(db.Query("SELECT COUNT(*) FROM log WHERE worker = ?", {worker})[0][0]),
              kTransactions)
        << "worker " << worker;
  }
}

TEST_F(SqliteMetadataStoreTest, OneStoreSharedByThreadsSerializesTransactions) {
  SqliteMetadataStore db(DbPath());
  CreateCounterTables(db);
  constexpr int kThreads = 4;
  constexpr int kTransactions = 100;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < kTransactions; ++i) Bump(db, t);
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(AsInt64(db.Query("SELECT n FROM counter")[0][0]), kThreads * kTransactions);
}

}  // namespace
}  // namespace mloop::store
