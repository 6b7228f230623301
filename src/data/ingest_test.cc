#include "data/ingest.h"

#include <gtest/gtest.h>

#include "core/digest.h"
#include "core/testing.h"
#include "data/dataset_files.h"
#include "store/workspace.h"

namespace mloop::data {
namespace {

using test::ExpectError;
using test::TempDir;

constexpr std::string_view kContract = R"(
format:
  header: true
columns:
  id: {type: int64, unique: true}
  age: {type: int64, nullable: false, min: 0, max: 120}
  city: {type: string, allowed: [Oslo, Lima, Pune]}
  note: {type: string}
rows:
  - name: adults_only_in_pune
    expression: "city != 'Pune' or age >= 18"
)";

class IngestTest : public ::testing::Test {
 protected:
  std::filesystem::path Write(const std::string& name, std::string_view text) {
    std::filesystem::path path = dir_.path() / name;
    test::WriteBytes(path, text);
    return path;
  }
  IngestResult Run(
      std::vector<std::string> sources, const std::string& dataset = "people",
      uint64_t dedupe_before_checks_bytes = IngestRequest{}.dedupe_before_checks_bytes) {
    IngestRequest r;
    r.sources = std::move(sources);
    r.dataset = dataset;
    r.contract = contract_;
    r.dedupe_before_checks_bytes = dedupe_before_checks_bytes;
    return Ingest(ws_, r);
  }

  TempDir dir_;
  store::Workspace ws_ = store::Workspace::Init(dir_.path() / "ws");
  std::filesystem::path contract_ = Write("contract.yaml", kContract);
};

TEST_F(IngestTest, CleanRowsBecomeAVersionAndBadOnesTheQuarantineWithTheirText) {
  auto a = Write("a.csv",
                 "id,age,city,note\n"
                 "1,30,Oslo,fine\n"
                 "2,150,Lima,too old\n"              // line 3: max
                 "3,40,Paris,unknown city\n"         // line 4: allowed
                 "4,12,Pune,\"child,\n in Pune\"\n"  // line 5-6: row rule, quoted newline
                 "5,x,Oslo,not a number\n"           // line 7: malformed (fixed type)
                 "6,50,Oslo,fine\n");
  IngestResult r = Run({a.string()});
  ASSERT_TRUE(r.version.has_value());
  EXPECT_FALSE(r.reused);
  EXPECT_EQ(r.version->version, 1);
  EXPECT_EQ(r.version->rows, 2);
  EXPECT_EQ(r.ingestion.rows_in, 6);
  EXPECT_EQ(r.ingestion.rows_clean, 2);
  EXPECT_EQ(r.ingestion.rows_quarantined, 4);

  table::Table t = LoadVersionTable(ws_, *r.version);
  ASSERT_EQ(t.num_rows(), 2u);
  EXPECT_EQ(t.FindColumn("id")->IntAt(0), 1);
  EXPECT_EQ(t.FindColumn("id")->IntAt(1), 6);
  EXPECT_EQ(t.line_numbers(), (std::vector<int64_t>{2, 8}));

  std::string jsonl = ws_.artifacts().Get(r.ingestion.quarantine_artifact);
  std::vector<Json> records;
  size_t start = 0;
  while (start < jsonl.size()) {
    size_t end = jsonl.find('\n', start);
    records.push_back(ParseJson(jsonl.substr(start, end - start), "quarantine"));
    start = end + 1;
  }
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0]["line"], 3);
  EXPECT_EQ(records[0]["reasons"][0]["check"], "max");
  EXPECT_EQ(records[0]["text"], "2,150,Lima,too old");
  EXPECT_EQ(records[0]["source"], a.string());
  EXPECT_EQ(records[1]["reasons"][0]["check"], "allowed");
  EXPECT_EQ(records[2]["line"], 5);
  EXPECT_EQ(records[2]["reasons"][0]["check"], "row_rule");
  EXPECT_EQ(records[2]["text"], "4,12,Pune,\"child,\n in Pune\"");
  EXPECT_EQ(records[3]["line"], 7);
  EXPECT_EQ(records[3]["reasons"][0]["check"], "malformed");
  EXPECT_EQ(records[3]["text"], "5,x,Oslo,not a number");
}

TEST_F(IngestTest, SeveralSourcesMakeOneVersionAndTheQuarantineNamesEachSource) {
  auto a = Write("part-1.csv", "id,age,city,note\n1,30,Oslo,a\n2,150,Oslo,b\n");
  auto b = Write("part-2.csv", "id,age,city,note\n3,31,Lima,c\n1,32,Lima,dup id\n");
  IngestResult r = Run({(dir_.path() / "part-*.csv").string()});
  ASSERT_TRUE(r.version.has_value());
  EXPECT_EQ(r.version->rows, 2);
  ASSERT_EQ(r.ingestion.sources.size(), 2u);
  EXPECT_EQ(r.ingestion.sources[0].path, a.string());
  EXPECT_EQ(r.ingestion.sources[0].sha256, Sha256FileHex(a));
  EXPECT_EQ(r.ingestion.sources[1].path, b.string());
  EXPECT_EQ(r.ingestion.sources[1].rows_in, 2);
  std::string jsonl = ws_.artifacts().Get(r.ingestion.quarantine_artifact);
  // The repeated id is caught across files, and each record names its own file and line.
  EXPECT_NE(jsonl.find("\"source\":\"" + a.string() + "\",\"line\":3"), std::string::npos);
  EXPECT_NE(jsonl.find("\"source\":\"" + b.string() + "\",\"line\":3"), std::string::npos);
  EXPECT_NE(jsonl.find("\"check\":\"unique\""), std::string::npos);
}

TEST_F(IngestTest, TheSameBytesAgainReuseTheVersion) {
  auto a = Write("a.csv", "id,age,city,note\n1,30,Oslo,a\n");
  IngestResult first = Run({a.string()});
  IngestResult again = Run({a.string()});
  EXPECT_TRUE(again.reused);
  EXPECT_EQ(again.version->version, first.version->version);
  EXPECT_EQ(again.ingestion.id, first.ingestion.id);
  EXPECT_EQ(again.report["reused"], true);
  // Another dataset, or another byte, is a new version.
  EXPECT_FALSE(Run({a.string()}, "people2").reused);
  auto b = Write("b.csv", "id,age,city,note\n1,31,Oslo,a\n");
  IngestResult changed = Run({b.string()});
  EXPECT_FALSE(changed.reused);
  EXPECT_EQ(changed.version->version, 2);
}

// A batch above dedupe_before_checks_bytes is checked and profiled before its digests are
// waited for, and matched with an earlier batch only then: the same answer, and nothing new
// recorded.
TEST_F(IngestTest, ALargeBatchIngestedAgainIsFoundAfterItsChecks) {
  auto a = Write("a.csv", "id,age,city,note\n1,30,Oslo,a\n2,150,Oslo,b\n");
  IngestResult first = Run({a.string()}, "people", 0);
  ASSERT_TRUE(first.version.has_value());
  EXPECT_FALSE(first.reused);
  EXPECT_EQ(first.ingestion.sources.at(0).sha256.size(), 64u);
  IngestResult again = Run({a.string()}, "people", 0);
  EXPECT_TRUE(again.reused);
  EXPECT_EQ(again.version->version, first.version->version);
  EXPECT_EQ(again.ingestion.id, first.ingestion.id);
  EXPECT_EQ(again.report["reused"], true);
  // Either path finds the other's batch.
  EXPECT_TRUE(Run({a.string()}).reused);
  DatasetCatalog catalog(ws_.metadata());
  EXPECT_EQ(catalog.Ingestions("people").size(), 1u);
  auto b = Write("b.csv", "id,age,city,note\n1,31,Oslo,a\n");
  IngestResult changed = Run({b.string()}, "people", 0);
  EXPECT_FALSE(changed.reused);
  EXPECT_EQ(changed.version->version, 2);
  EXPECT_EQ(changed.ingestion.sources.at(0).sha256,
            Sha256Hex(std::string("id,age,city,note\n1,31,Oslo,a\n")));
}

TEST_F(IngestTest, ARejectedBatchKeepsItsReportAndQuarantineButMakesNoVersion) {
  Write("strict.yaml", std::string(kContract) + "table:\n  row_count: {min: 100}\n");
  contract_ = dir_.path() / "strict.yaml";
  auto a = Write("a.csv", "id,age,city,note\n1,30,Oslo,a\n2,150,Oslo,b\n");
  IngestResult r = Run({a.string()});
  EXPECT_FALSE(r.version.has_value());
  EXPECT_EQ(r.ingestion.status, "rejected");
  EXPECT_EQ(r.report["status"], "rejected");
  DatasetCatalog catalog(ws_.metadata());
  auto history = catalog.Ingestions("people");
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].rows_quarantined, 1);
  EXPECT_NE(ws_.artifacts().Get(history[0].quarantine_artifact).find("150"), std::string::npos);
  ExpectError(ErrorCode::kNotFound, {"no version"},
              [&] { catalog.Resolve(ParseDatasetRef("people")); });
}

TEST_F(IngestTest, ACleanBatchGivesTheSameVersionWhenItsStatusIsFinalLate) {
  // A clean batch's version is encoded while it is validated; it is stored before the profile
  // is done, unless an error-severity `distribution` expectation could still reject it. Both
  // ways store the same bytes and profile.
  std::string rows = "id,age,city,note\n";
  for (int i = 0; i < 40; ++i) {
    rows += std::to_string(i) + "," + std::to_string(20 + i % 30) + "," +
            (i % 3 == 0   ? "Oslo"
             : i % 3 == 1 ? "Lima"
                          : "Pune") +
            ",n" + std::to_string(i) + "\n";
  }
  auto a = Write("a.csv", rows);
  IngestResult plain = Run({a.string()}, "plain");
  Write("late.yaml", std::string(kContract) +
                         "table:\n  distribution:\n    reference: late@latest\n"
                         "    columns: [age]\n    psi_max: 0.2\n");
  contract_ = dir_.path() / "late.yaml";
  IngestResult late = Run({a.string()}, "late");
  ASSERT_TRUE(plain.version.has_value());
  ASSERT_TRUE(late.version.has_value());
  EXPECT_EQ(plain.ingestion.rows_quarantined, 0);
  EXPECT_EQ(late.version->rows, 40);
  EXPECT_EQ(late.version->data_artifact, plain.version->data_artifact);
  EXPECT_EQ(late.version->profile_artifact, plain.version->profile_artifact);
  // The second batch of `late` is compared with the first, and accepted.
  IngestResult again = Run({Write("b.csv", rows + "40,33,Oslo,x\n").string()}, "late");
  ASSERT_TRUE(again.version.has_value());
  EXPECT_EQ(again.version->rows, 41);
}

TEST_F(IngestTest, ACleanBatchRejectedByATableExpectationMakesNoVersion) {
  Write("strict.yaml", std::string(kContract) + "table:\n  row_count: {min: 100}\n");
  contract_ = dir_.path() / "strict.yaml";
  IngestResult r = Run({Write("a.csv", "id,age,city,note\n1,30,Oslo,a\n").string()});
  EXPECT_FALSE(r.version.has_value());
  EXPECT_EQ(r.ingestion.status, "rejected");
  EXPECT_EQ(r.ingestion.rows_quarantined, 0);
}

TEST_F(IngestTest, HistoryChecksFlagAnOutlyingRowCount) {
  for (int i = 0; i < 4; ++i) {
    Write("h.csv", "id,age,city,note\n1,30,Oslo," + std::to_string(i) + "\n2,31,Oslo,x\n");
    IngestResult r = Run({(dir_.path() / "h.csv").string()});
    ASSERT_TRUE(r.version.has_value());
  }
  std::string big = "id,age,city,note\n";
  for (int i = 0; i < 50; ++i) big += std::to_string(i) + ",30,Oslo,x\n";
  IngestResult r = Run({Write("big.csv", big).string()});
  ASSERT_TRUE(r.version.has_value());  // History checks warn; they never reject.
  bool found = false;
  for (const Json& c : r.report["checks"]) {
    if (c["check"] != "history_row_count") continue;
    found = true;
    EXPECT_EQ(c["passed"], false);
    EXPECT_EQ(c["severity"], "warn");
    EXPECT_EQ(c["observed_value"], 50.0);
  }
  EXPECT_TRUE(found);
}

TEST_F(IngestTest, MissingSourcesAndBadNamesAreErrorsThatNameThem) {
  ExpectError(ErrorCode::kNotFound, {"nope.csv"}, [&] { Run({"nope.csv"}); });
  ExpectError(ErrorCode::kNotFound, {"zz-*.csv", "no file matches"},
              [&] { Run({(dir_.path() / "zz-*.csv").string()}); });
  auto a = Write("a.csv", "id,age,city,note\n1,30,Oslo,a\n");
  ExpectError(ErrorCode::kInvalidArgument, {"'bad/name'"}, [&] { Run({a.string()}, "bad/name"); });
  ExpectError(ErrorCode::kInvalidArgument, {"not a regular file"},
              [&] { Run({dir_.path().string()}); });
  // Nothing was recorded by the failed attempts.
  EXPECT_TRUE(DatasetCatalog(ws_.metadata()).List().empty());
}

}  // namespace
}  // namespace mloop::data
