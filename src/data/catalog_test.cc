#include "data/catalog.h"

#include <gtest/gtest.h>

#include "core/testing.h"
#include "store/workspace.h"

namespace mloop::data {
namespace {

using test::ExpectError;
using test::TempDir;

IngestionRecord MakeIngestion(const std::string& dataset, const std::string& key,
                              const std::string& status = "accepted") {
  IngestionRecord i;
  i.id = NewId();
  i.dataset = dataset;
  i.status = status;
  i.ingest_key = key;
  i.contract_digest = std::string(64, 'c');
  i.report_artifact = std::string(64, 'a');
  i.report_html_artifact = std::string(64, 'b');
  i.quarantine_artifact = std::string(64, 'd');
  i.rows_in = 10;
  i.rows_clean = 9;
  i.rows_quarantined = 1;
  i.bytes_in = 100;
  i.seconds = 0.5;
  i.started_at = "2026-11-26T10:00:00Z";
  i.finished_at = "2026-11-26T10:00:01Z";
  i.mloop_version = "0.1.0";
  i.host = "h";
  i.user = "u";
  i.sources.push_back({"/data/a.csv", std::string(64, 'e'), 100, 10, 1});
  return i;
}

NewVersion MakeVersion() {
  NewVersion v;
  v.data_artifact = std::string(64, '1');
  v.profile_artifact = std::string(64, '2');
  v.schema =
      table::Schema({{"age", table::DataType::kInt64, table::ColumnRole::kFeature, false},
                     {"income", table::DataType::kCategory, table::ColumnRole::kLabel, true}});
  v.rows = 9;
  v.data_bytes = 1234;
  return v;
}

class CatalogTest : public ::testing::Test {
 protected:
  TempDir dir_;
  store::Workspace ws_ = store::Workspace::Init(dir_.path() / "ws");
  DatasetCatalog catalog_{ws_.metadata()};
};

TEST(DatasetRefTest, ParsesNamesVersionsAndLatest) {
  EXPECT_EQ(ParseDatasetRef("adult@3").name, "adult");
  EXPECT_EQ(*ParseDatasetRef("adult@3").version, 3);
  EXPECT_FALSE(ParseDatasetRef("adult").version.has_value());
  EXPECT_FALSE(ParseDatasetRef("adult@latest").version.has_value());
  EXPECT_EQ(ParseDatasetRef("bike.hourly_v2@12").ToString(), "bike.hourly_v2@12");
  EXPECT_EQ(ParseDatasetRef("adult").ToString(), "adult@latest");
}

TEST(DatasetRefTest, RejectsBadReferencesNamingThem) {
  ExpectError(ErrorCode::kInvalidArgument, {"adult@0", "version"},
              [] { ParseDatasetRef("adult@0"); });
  ExpectError(ErrorCode::kInvalidArgument, {"adult@x1"}, [] { ParseDatasetRef("adult@x1"); });
  ExpectError(ErrorCode::kInvalidArgument, {"adult@"}, [] { ParseDatasetRef("adult@"); });
  ExpectError(ErrorCode::kInvalidArgument, {"'a/b'"}, [] { ParseDatasetRef("a/b@1"); });
  ExpectError(ErrorCode::kInvalidArgument, {"-x"}, [] { CheckDatasetName("-x"); });
  ExpectError(ErrorCode::kInvalidArgument, {"dataset name"},
              [] { CheckDatasetName(std::string(129, 'a')); });
}

TEST_F(CatalogTest, VersionsNumberUpAndResolve) {
  auto v1 = catalog_.CommitIngestion(MakeIngestion("adult", "k1"), MakeVersion());
  auto v2 = catalog_.CommitIngestion(MakeIngestion("adult", "k2"), MakeVersion());
  auto other = catalog_.CommitIngestion(MakeIngestion("bike", "k1"), MakeVersion());
  ASSERT_TRUE(v1 && v2 && other);
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(other->version, 1);

  DatasetVersion latest = catalog_.Resolve(ParseDatasetRef("adult"));
  EXPECT_EQ(latest.version, 2);
  DatasetVersion first = catalog_.Resolve(ParseDatasetRef("adult@1"));
  EXPECT_EQ(first.version, 1);
  EXPECT_EQ(first.schema, MakeVersion().schema);
  EXPECT_EQ(first.rows, 9);
  EXPECT_EQ(first.ingestion_id, v1->ingestion_id);

  auto list = catalog_.List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "adult");
  EXPECT_EQ(list[0].versions, 2);
  EXPECT_EQ(*list[0].latest_version, 2);
  EXPECT_EQ(list[0].latest_rows, 9);
}

TEST_F(CatalogTest, MissingThingsAreNotFoundNamingThem) {
  ExpectError(ErrorCode::kNotFound, {"'nope'"},
              [&] { catalog_.Resolve(ParseDatasetRef("nope@1")); });
  catalog_.CommitIngestion(MakeIngestion("adult", "k1"), MakeVersion());
  ExpectError(ErrorCode::kNotFound, {"adult@7", "1 to 1"},
              [&] { catalog_.Resolve(ParseDatasetRef("adult@7")); });
  ExpectError(ErrorCode::kNotFound, {"abcdef12"}, [&] { catalog_.Ingestion("abcdef12"); });
  ExpectError(ErrorCode::kInvalidArgument, {"'zz'"}, [&] { catalog_.Ingestion("zz"); });
}

TEST_F(CatalogTest, RejectedIngestionsAreKeptWithoutAVersion) {
  IngestionRecord rejected = MakeIngestion("adult", "k1", "rejected");
  auto v = catalog_.CommitIngestion(rejected, std::nullopt);
  EXPECT_FALSE(v.has_value());
  ExpectError(ErrorCode::kNotFound, {"no version"},
              [&] { catalog_.Resolve(ParseDatasetRef("adult")); });
  auto ingestions = catalog_.Ingestions("adult");
  ASSERT_EQ(ingestions.size(), 1u);
  EXPECT_EQ(ingestions[0].status, "rejected");
  EXPECT_FALSE(ingestions[0].version.has_value());
  ASSERT_EQ(ingestions[0].sources.size(), 1u);
  EXPECT_EQ(ingestions[0].sources[0].path, "/data/a.csv");
  EXPECT_EQ(catalog_.Ingestion(rejected.id.substr(0, 8)).id, rejected.id);
  // A rejected batch is no reason to reuse: the same key is not found as a version.
  EXPECT_FALSE(catalog_.FindByIngestKey("adult", "k1").has_value());
}

TEST_F(CatalogTest, SameIngestKeyAnswersWithTheExistingVersion) {
  auto first = catalog_.CommitIngestion(MakeIngestion("adult", "same"), MakeVersion());
  IngestionRecord again = MakeIngestion("adult", "same");
  auto second = catalog_.CommitIngestion(again, MakeVersion());
  ASSERT_TRUE(first && second);
  EXPECT_EQ(second->version, first->version);
  EXPECT_EQ(second->ingestion_id, first->ingestion_id);
  EXPECT_EQ(catalog_.Ingestions("adult").size(), 1u);  // The second recorded nothing.
  EXPECT_EQ(catalog_.FindByIngestKey("adult", "same")->version, 1);
}

TEST_F(CatalogTest, ParentsAreRecorded) {
  catalog_.CommitIngestion(MakeIngestion("adult", "k1"), MakeVersion());
  NewVersion child = MakeVersion();
  child.parents.push_back({"adult", 1, "split"});
  auto v = catalog_.CommitIngestion(MakeIngestion("adult_train", "k2"), child);
  DatasetVersion got = catalog_.Resolve(ParseDatasetRef("adult_train@1"));
  ASSERT_EQ(got.parents.size(), 1u);
  EXPECT_EQ(got.parents[0].dataset, "adult");
  EXPECT_EQ(got.parents[0].relation, "split");
  // A parent that does not exist breaks the foreign key; nothing of the ingestion is kept.
  NewVersion orphan = MakeVersion();
  orphan.parents.push_back({"adult", 9, "split"});
  ExpectError(ErrorCode::kInvalidArgument, {},
              [&] { catalog_.CommitIngestion(MakeIngestion("adult_test", "k3"), orphan); });
  EXPECT_EQ(catalog_.List().size(), 2u);
}

}  // namespace
}  // namespace mloop::data
