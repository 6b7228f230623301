#include "store/metadata_store.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "core/testing.h"
#include "core/time.h"
#include "store/migrations.h"
#include "store/sqlite_metadata_store.h"

namespace mloop::store {
namespace {

using test::ExpectError;
using test::TempDir;

class MigrateTest : public ::testing::Test {
 protected:
  std::filesystem::path DbPath() const { return dir_.path() / "mloop.db"; }

  TempDir dir_;
};

TEST_F(MigrateTest, AppliesEachMigrationOnceAndIsIdempotent) {
  SqliteMetadataStore db(DbPath());
  EXPECT_EQ(db.SchemaVersion(), 0);
  EXPECT_FALSE(db.TableExists("schema_migrations"));

  EXPECT_EQ(db.Migrate(), LatestSchemaVersion());
  EXPECT_EQ(db.SchemaVersion(), LatestSchemaVersion());
  EXPECT_TRUE(db.TableExists("workspace"));

  std::vector<Row> rows = db.Query(
      "SELECT version, name, applied_at FROM schema_migrations ORDER BY "
      "version");
  ASSERT_EQ(rows.size(), Migrations().size());
  EXPECT_EQ(AsInt64(rows[0][0]), 1);
  EXPECT_EQ(AsText(rows[0][1]), "workspace");
  EXPECT_TRUE(ParseIsoTimestamp(AsText(rows[0][2])).has_value())
      << "applied_at is an ISO 8601 timestamp: " << AsText(rows[0][2]);

  EXPECT_EQ(db.Migrate(), 0);
  SqliteMetadataStore again(DbPath());
  EXPECT_EQ(again.Migrate(), 0);
  EXPECT_EQ(again.SchemaVersion(), LatestSchemaVersion());
  EXPECT_EQ(AsInt64(again.Query("SELECT COUNT(*) FROM schema_migrations")[0][0]),
            LatestSchemaVersion());
}

TEST_F(MigrateTest, AppliesOnlyTheNewMigrationsInOrder) {
  std::vector<Migration> v1 = {
      {1, "create_a", {"CREATE TABLE a (x BIGINT)"}},
      {2, "fill_a", {"INSERT INTO a VALUES (1)", "INSERT INTO a VALUES (2)"}},
  };
  std::vector<Migration> v2 = v1;
  v2.push_back({3, "add_b", {"CREATE TABLE b (y TEXT)", "INSERT INTO b VALUES ('z')"}});

  SqliteMetadataStore db(DbPath());
  EXPECT_EQ(db.Migrate(v1), 2);
  EXPECT_EQ(db.SchemaVersion(), 2);
  EXPECT_EQ(db.Migrate(v2), 1);
  EXPECT_EQ(db.SchemaVersion(), 3);
  // Migration 2 ran once, not again when the list grew.
  EXPECT_EQ(AsInt64(db.Query("SELECT COUNT(*) FROM a")[0][0]), 2);
  EXPECT_EQ(AsText(db.Query("SELECT y FROM b")[0][0]), "z");
}

TEST_F(MigrateTest, FailingMigrationIsRolledBackAndEarlierOnesStay) {
  std::vector<Migration> migrations = {
      {1, "create_a", {"CREATE TABLE a (x BIGINT)"}},
      {2, "broken", {"CREATE TABLE b (y TEXT)", "INSERT INTO no_such_table VALUES (1)"}},
  };
  SqliteMetadataStore db(DbPath());
  ExpectError(ErrorCode::kInternal, {"no_such_table"}, [&] { db.Migrate(migrations); });
  EXPECT_EQ(db.SchemaVersion(), 1);
  EXPECT_TRUE(db.TableExists("a"));
  EXPECT_FALSE(db.TableExists("b")) << "the failed migration's first statement stays";
}

TEST_F(MigrateTest, RefusesADatabaseNewerThanThisBinary) {
  {
    SqliteMetadataStore db(DbPath());
    db.Migrate();
    db.Exec(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, "
        "?, ?)",
        {LatestSchemaVersion() + 5, "from_the_future", "2099-01-01T00:00:00Z"});
  }
  SqliteMetadataStore db(DbPath());
  ExpectError(ErrorCode::kFailedPrecondition,
              {"schema version " + std::to_string(LatestSchemaVersion() + 5), "newer",
               "upgrade mloop", DbPath().string()},
              [&] { db.Migrate(); });
}

TEST_F(MigrateTest, RejectsAMisnumberedList) {
  std::vector<Migration> migrations = {
      {1, "one", {"CREATE TABLE a (x BIGINT)"}},
      {3, "three", {"CREATE TABLE c (x BIGINT)"}},
  };
  SqliteMetadataStore db(DbPath());
  ExpectError(ErrorCode::kInternal, {"'three' has version 3, expected 2"},
              [&] { db.Migrate(migrations); });
  EXPECT_FALSE(db.TableExists("a")) << "nothing is applied from a bad list";
}

TEST(MigrationsTest, AreNumberedFromOne) {
  int64_t expected = 1;
  for (const Migration& m : Migrations()) {
    EXPECT_EQ(m.version, expected++) << m.name;
    EXPECT_FALSE(m.statements.empty()) << m.name;
  }
  EXPECT_EQ(LatestSchemaVersion(), expected - 1);
}

TEST(ValueTest, TypedAccessorsCheckTheType) {
  EXPECT_TRUE(IsNull(Value()));
  EXPECT_EQ(AsInt64(Value(int64_t{7})), 7);
  EXPECT_EQ(AsDouble(Value(int64_t{7})), 7.0);
  EXPECT_EQ(AsDouble(Value(2.5)), 2.5);
  EXPECT_EQ(AsText(Value("x")), "x");
  EXPECT_EQ(AsBlob(Value(Blob{"b"})), "b");

  ExpectError(ErrorCode::kInternal, {"expected a cell of type integer, got text"},
              [] { AsInt64(Value("12")); });
  ExpectError(ErrorCode::kInternal, {}, [] { AsText(Value(Blob{"b"})); });
  ExpectError(ErrorCode::kInternal, {}, [] { AsBlob(Value("b")); });
  EXPECT_EQ(ValueTypeName(Value(1.0)), "double");
}

}  // namespace
}  // namespace mloop::store
