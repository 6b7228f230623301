#include "data/html_report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/testing.h"
#include "stats/profile.h"
#include "table/column.h"
#include "table/csv_reader.h"
#include "table/table.h"

namespace mloop::data {
namespace {

using table::Column;
using table::DataType;
using test::Contains;

constexpr std::string_view kScript = "<script>alert(1)</script>";
constexpr std::string_view kEscapedScript = "&lt;script&gt;alert(1)&lt;/script&gt;";
constexpr std::string_view kQuotes = "\"'&";
constexpr std::string_view kEscapedQuotes = "&quot;&#39;&amp;";
// A column name and values as an untrusted file may have them.
const std::string kNastyColumn = "note" + std::string(kScript) + std::string(kQuotes);
const std::string kNastyValue = "say " + std::string(kQuotes) + std::string(kScript);

// The same name in YAML: single-quoted, a quote doubled.
constexpr std::string_view kContract = R"(
columns:
  id: {type: int64, nullable: false, unique: true}
  score: {type: float64, min: 0, max: {value: 1, severity: warn}}
  'note<script>alert(1)</script>"''&': {type: string, allowed: {value: [ok, fine], mostly: 1}}
  flag: {type: bool}
  day: {type: date}
rows:
  - name: score_above_tenth
    expression: score >= 0.1
    severity: warn
table:
  row_count: {min: 1}
  quarantine_share: {max: 0.5}
)";

size_t Occurrences(std::string_view haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

table::Bitmap AllValid(size_t n) {
  table::Bitmap bits;
  bits.AppendMany(true, n);
  return bits;
}

// Six rows on lines 2..7. Row 4 has a score above 1 (a warning); rows 3 and 5 have note values
// outside the allowed set (quarantined).
table::Table SmallTable() {
  table::Table t;
  t.AddColumn(Column::FromInts("id", DataType::kInt64, {1, 2, 3, 4, 5, 6}, AllValid(6)));
  t.AddColumn(Column::FromDoubles("score", {0.1, 0.5, 0.9, 1.7, 0.25, 0.75}, AllValid(6)));
  Column note(kNastyColumn, DataType::kString);
  for (std::string_view v :
       {std::string_view("ok"), std::string_view("fine"), kScript, std::string_view("ok"),
        std::string_view(kNastyValue), std::string_view("ok")}) {
    note.AppendString(v);
  }
  t.AddColumn(std::move(note));
  t.AddColumn(Column::FromBools("flag", {1, 0, 1, 1, 0, 1}, AllValid(6)));
  // 2024-01-01 and the days after it.
  t.AddColumn(Column::FromInts("day", DataType::kDate, {19723, 19724, 19725, 19726, 19727, 19728},
                               AllValid(6)));
  t.set_line_numbers({2, 3, 4, 5, 6, 7});
  return t;
}

// A row the reader could not parse, on line 8.
std::vector<table::MalformedRow> OneMalformedRow() {
  return {{8, "expected 5 fields, found 2", std::string(kScript) + "," + std::string(kQuotes)}};
}

ValidationReport ValidateSmallTable() {
  Contract contract = ParseContract(ParseYaml(kContract, "c.yaml"), "c.yaml");
  return Validate(contract, SmallTable(), OneMalformedRow(), "small.csv");
}

HtmlReportContext SmallContext() {
  return {"small@1", {{"Source digest", "sha256:0123abcd"}, {"Note", std::string(kScript)}}};
}

std::string RenderSmall(bool with_profile = true) {
  ValidationReport report = ValidateSmallTable();
  stats::TableProfile profile = stats::ProfileTable(SmallTable());
  return RenderHtmlReport(report, with_profile ? &profile : nullptr, SmallContext());
}

TEST(HtmlReportTest, ShowsTheStatusTheRowCountsAndEveryCheck) {
  ValidationReport report = ValidateSmallTable();
  ASSERT_EQ(report.status, BatchStatus::kRejected);
  ASSERT_EQ(report.rows_in, 7);
  ASSERT_EQ(report.rows_quarantined, 3);
  stats::TableProfile profile = stats::ProfileTable(SmallTable());
  const std::string html = RenderHtmlReport(report, &profile, SmallContext());

  EXPECT_TRUE(Contains(html, "<span class=\"status rejected\">rejected</span>"));
  EXPECT_TRUE(Contains(html, "<title>small@1 &mdash; rejected</title>"));
  EXPECT_TRUE(Contains(
      html, "Rows in <b>7</b> = clean <b>4</b> + quarantined <b>3</b> (42.9% quarantined)"));
  EXPECT_TRUE(Contains(html, "sha256:0123abcd"));
  EXPECT_TRUE(Contains(html, "small.csv"));
  ASSERT_FALSE(report.checks.empty());
  for (const CheckResult& c : report.checks) {
    EXPECT_TRUE(Contains(html, "<td class=\"check\"><code>" + c.check + "</code></td>")) << c.check;
  }
  EXPECT_EQ(Occurrences(html, "<td class=\"check\"><code>"), report.checks.size());
  // The failing allowed check (error), the score above max (warn), the row rule not failing.
  EXPECT_TRUE(Contains(html, "<td class=\"fail\">fail</td>"));
  EXPECT_TRUE(Contains(html, "<td class=\"warn\">fail</td>"));
  EXPECT_TRUE(Contains(html, "<td class=\"pass\">pass</td>"));
  // Failed error checks first, then failed warnings, then the rest; the header names the
  // checks that rejected the batch.
  EXPECT_LT(html.find("<td class=\"fail\">fail</td>"), html.find("<td class=\"warn\">fail</td>"));
  EXPECT_LT(html.find("<td class=\"warn\">fail</td>"), html.find("<td class=\"pass\">pass</td>"));
  EXPECT_TRUE(
      Contains(html, "<p><span class=\"fail\">Rejected by:</span> <code>allowed</code> note" +
                         std::string(kEscapedScript) + std::string(kEscapedQuotes) + "</p>"));
  EXPECT_TRUE(Contains(html, "<span class=\"chip mono\">1.7</span>"));
  EXPECT_TRUE(Contains(html, "score_above_tenth"));
  // The quarantine: the two rows with their values, and the malformed row as text.
  EXPECT_TRUE(Contains(html, "3 quarantined records."));
  EXPECT_TRUE(Contains(html, "<tr><td class=\"n\">4</td>"));
  EXPECT_TRUE(Contains(html, "<tr><td class=\"n\">6</td>"));
  EXPECT_TRUE(Contains(html, "<tr><td class=\"n\">8</td>"));
  EXPECT_TRUE(Contains(html, "expected 5 fields, found 2"));
  EXPECT_TRUE(Contains(html, "<span class=\"chip mono\">id=3</span>"));
  // One card per column.
  EXPECT_EQ(Occurrences(html, "<section class=\"card\">"), 5u);
  EXPECT_TRUE(Contains(html, "<span class=\"type\">float64</span>"));
  EXPECT_TRUE(Contains(html, "<dt>Min</dt><dd>2024-01-01</dd>"));
  EXPECT_TRUE(Contains(html, "<dt>Max</dt><dd>2024-01-06</dd>"));
}

TEST(HtmlReportTest, EscapesEveryPieceOfDataText) {
  const std::string html = RenderSmall();
  // The script appears in a column name, sample values, quarantined values, the malformed
  // row's text, a fact and a top value; never as markup.
  EXPECT_FALSE(Contains(html, kScript));
  EXPECT_FALSE(Contains(html, "<script"));
  EXPECT_FALSE(Contains(html, kQuotes));
  EXPECT_TRUE(Contains(html, "<h3>note" + std::string(kEscapedScript) +
                                 std::string(kEscapedQuotes) +
                                 "<span class=\"type\">string</span></h3>"));
  // The sample of the allowed check.
  EXPECT_TRUE(
      Contains(html, "<span class=\"chip mono\">" + std::string(kEscapedScript) + "</span>"));
  EXPECT_TRUE(Contains(html, "<span class=\"chip mono\">say " + std::string(kEscapedQuotes) +
                                 std::string(kEscapedScript) + "</span>"));
  EXPECT_TRUE(Contains(html, "<code class=\"raw\">" + std::string(kEscapedScript) + "," +
                                 std::string(kEscapedQuotes) + "</code>"));
  EXPECT_GE(Occurrences(html, kEscapedScript), 6u);
}

TEST(HtmlReportTest, ReplacesInvalidUtf8AndControlCharacters) {
  ValidationReport report;
  report.source = "bad\xff\xfe.csv";
  CheckResult c;
  c.check = "pattern";
  c.column = "code";
  c.passed = false;
  c.sample = {"a\x01z", "\xc3\x28", "caf\xc3\xa9", std::string(500, 'x')};
  report.checks.push_back(c);
  const std::string html = RenderHtmlReport(report, nullptr, {});
  const std::string replacement = "\xEF\xBF\xBD";
  EXPECT_TRUE(Contains(html, "bad" + replacement + replacement + ".csv"));
  EXPECT_TRUE(Contains(html, "a" + replacement + "z"));
  EXPECT_TRUE(Contains(html, replacement + "("));
  EXPECT_TRUE(Contains(html, "caf\xc3\xa9"));  // Valid UTF-8 is kept.
  EXPECT_FALSE(Contains(html, "\xff"));
  EXPECT_FALSE(Contains(html, "\x01"));
  // A 500-byte value is cut at 200 characters, with its size stated.
  EXPECT_TRUE(Contains(html, std::string(200, 'x') + "\xE2\x80\xA6 [500 bytes in all]"));
  EXPECT_FALSE(Contains(html, std::string(201, 'x')));
  // No title given: the source names the page.
  EXPECT_TRUE(Contains(html, "<h1>bad" + replacement + replacement + ".csv<span"));
}

TEST(HtmlReportTest, IsOneSelfContainedDocument) {
  const std::string html = RenderSmall();
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
  EXPECT_TRUE(html.ends_with("</html>\n"));
  EXPECT_EQ(Occurrences(html, "<html"), 1u);
  EXPECT_EQ(Occurrences(html, "</html>"), 1u);
  EXPECT_EQ(Occurrences(html, "<body>"), 1u);
  EXPECT_EQ(Occurrences(html, "</body>"), 1u);
  EXPECT_TRUE(Contains(html, "<meta charset=\"utf-8\">"));
  for (std::string_view external :
       {"http://", "https://", "src=", "<link", "@import", "url(", "<script", "@font-face"}) {
    EXPECT_FALSE(Contains(html, external)) << external;
  }
  // Balanced tags, and a histogram for the numeric columns.
  for (std::string_view tag : {"table", "tr", "svg", "section", "dl", "style", "code"}) {
    EXPECT_EQ(Occurrences(html, "<" + std::string(tag) + ">") +
                  Occurrences(html, "<" + std::string(tag) + " "),
              Occurrences(html, "</" + std::string(tag) + ">"))
        << tag;
  }
  EXPECT_TRUE(Contains(html,
                       "<svg width=\"300\" height=\"70.0\" viewBox=\"0 0 300 70.0\" "
                       "role=\"img\" aria-label=\"histogram\">"));
  // id, score and day have histograms; the note's top values and the flag have bars; and the
  // header has the clean / quarantined bar.
  EXPECT_EQ(Occurrences(html, "aria-label=\"histogram\""), 3u);
  EXPECT_EQ(Occurrences(html, "aria-label=\"top values\""), 1u);
  EXPECT_EQ(Occurrences(html, "aria-label=\"true and false\""), 1u);
  EXPECT_EQ(Occurrences(html, "<svg"), 6u);
}

TEST(HtmlReportTest, IsDeterministic) {
  EXPECT_EQ(RenderSmall(), RenderSmall());
  EXPECT_EQ(RenderSmall(false), RenderSmall(false));
}

TEST(HtmlReportTest, LeavesOutTheColumnsWithoutAProfile) {
  const std::string html = RenderSmall(false);
  EXPECT_FALSE(Contains(html, "<h2>Columns</h2>"));
  EXPECT_FALSE(Contains(html, "class=\"card\""));
  EXPECT_FALSE(Contains(html, "aria-label=\"histogram\""));
  EXPECT_TRUE(Contains(html, "<h2>Checks</h2>"));
  EXPECT_TRUE(Contains(html, "<h2>Quarantine</h2>"));
}

TEST(HtmlReportTest, AcceptedBatchWithoutQuarantine) {
  Contract contract =
      ParseContract(ParseYaml("columns:\n  id: {type: int64, unique: true}\n", "c.yaml"), "c.yaml");
  ValidationReport report = Validate(contract, SmallTable(), {}, "small.csv");
  ASSERT_EQ(report.status, BatchStatus::kAccepted);
  const std::string html = RenderHtmlReport(report, nullptr, {"small@2", {}});
  EXPECT_TRUE(Contains(html, "<span class=\"status accepted\">accepted</span>"));
  EXPECT_TRUE(Contains(html, "No record was quarantined."));
  EXPECT_TRUE(Contains(html, "Rows in <b>6</b> = clean <b>6</b> + quarantined <b>0</b>"));
  EXPECT_FALSE(Contains(html, "class=\"fail\""));
}

TEST(HtmlReportTest, ListsTheFirstHundredQuarantinedRecords) {
  ValidationReport report;
  report.status = BatchStatus::kRejected;
  report.rows_in = 1500;
  report.rows_clean = 1350;
  report.rows_quarantined = 150;
  for (int64_t i = 0; i < 150; ++i) {
    QuarantineRecord q;
    q.source = i < 75 ? "part-1.csv" : "part-2.csv";
    q.line = 1001 + i;
    q.reasons.push_back({"max", "age", "150 > max 90"});
    q.values = {{"age", 150}, {"name", nullptr}};
    report.quarantine.push_back(std::move(q));
  }
  const std::string html = RenderHtmlReport(report, nullptr, {"big", {}});
  EXPECT_TRUE(Contains(html, "The first 100 of 150 quarantined records."));
  EXPECT_TRUE(Contains(html, "<tr><td class=\"n\">1100</td><td>part-2.csv</td>"));
  EXPECT_FALSE(Contains(html, "<td class=\"n\">1101</td>"));
  EXPECT_EQ(Occurrences(html, "<span class=\"reason\">"), 100u);
  EXPECT_TRUE(Contains(html, "<span class=\"chip mono bad\">age=150</span>"));
  EXPECT_TRUE(Contains(html, "<span class=\"chip mono\">name=<i class=\"muted\">null</i></span>"));
  EXPECT_TRUE(Contains(html, "Rows in <b>1,500</b> = clean <b>1,350</b> + quarantined <b>150</b>"));
}

TEST(HtmlReportTest, DescribesColumnsWithoutValuesAndOfEveryType) {
  table::Table t;
  table::Bitmap none;
  none.AppendMany(false, 3);
  t.AddColumn(Column::FromInts("empty", DataType::kInt64, {0, 0, 0}, none));
  const double inf = std::numeric_limits<double>::infinity();
  t.AddColumn(Column::FromDoubles("odd", {std::nan(""), inf, 2.5}, AllValid(3)));
  // 2024-01-01T00:00:00Z and a second and a minute later.
  t.AddColumn(Column::FromInts("at", DataType::kTimestamp,
                               {1704067200000000, 1704067201000000, 1704067260000000},
                               AllValid(3)));
  Column city("city", DataType::kCategory);
  for (std::string_view v : {"Oslo", "", "Oslo"}) city.AppendString(v);
  t.AddColumn(std::move(city));
  stats::TableProfile profile = stats::ProfileTable(t);
  const std::string html = RenderHtmlReport(ValidationReport{}, &profile, {"odd", {}});

  EXPECT_EQ(Occurrences(html, "<section class=\"card\">"), 4u);
  EXPECT_TRUE(Contains(html, "<dt>Nulls</dt><dd>3 (100%)</dd>"));
  EXPECT_TRUE(Contains(html, "No finite value."));
  EXPECT_TRUE(Contains(html, "<dt>NaN</dt><dd>1</dd>"));
  EXPECT_TRUE(Contains(html, "<dt>Min</dt><dd>2024-01-01T00:00:00Z</dd>"));
  EXPECT_TRUE(Contains(html, "<dt>Max</dt><dd>2024-01-01T00:01:00Z</dd>"));
  EXPECT_TRUE(Contains(html, "<text x=\"0\" y=\"28.0\">(empty)</text>"));
  EXPECT_TRUE(Contains(html, "<title>Oslo: 2 (66.7%)</title>"));
  // No rows: no bar, no quarantine, no checks table.
  EXPECT_TRUE(Contains(html, "Rows in <b>0</b> = clean <b>0</b> + quarantined <b>0</b></p>"));
  EXPECT_TRUE(Contains(html, "0 checks:"));
  EXPECT_FALSE(Contains(html, "clean and quarantined rows"));
}

// /work/shared/datasets/adult/adult.data: the source tree sits next to `shared/`.
std::filesystem::path AdultData() {
  return std::filesystem::path(MLOOP_DATA_TESTDATA) / ".." / ".." / ".." / ".." / "shared" /
         "datasets" / "adult" / "adult.data";
}

// The whole Adult data with a few bad records appended. Set MLOOP_HTML_REPORT_SAMPLE to a path
// to keep the page and look at it.
TEST(HtmlReportTest, RendersTheAdultData) {
  const std::filesystem::path data = AdultData();
  ASSERT_TRUE(std::filesystem::exists(data))
      << data << " is not there: ../shared/datasets is needed";
  std::ifstream in(data);
  std::stringstream text;
  text << in.rdbuf();
  std::string csv = text.str();
  if (!csv.ends_with("\n")) csv += "\n";
  csv +=
      "150, Private, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, "
      "Male, 2174, 0, 40, United-States, <=50K\n"
      "39, <script>alert(1)</script>, 77516, Bachelors, 13, Never-married, Adm-clerical, "
      "Not-in-family, White, Male, 2174, 0, 40, United-States, <=50K\n"
      "abc, Private, 77516\n";
  test::TempDir dir;
  const std::filesystem::path file = dir.Write("adult.data", csv);

  const std::filesystem::path testdata = MLOOP_DATA_TESTDATA;
  Contract contract = LoadContract(testdata / "adult_contract.yaml");
  table::CsvReadResult read = table::ReadCsv(file, contract.ReadOptions());
  ValidationReport report = Validate(contract, read.table, read.malformed, "adult.data");
  stats::TableProfile profile = stats::ProfileTable(read.table);
  HtmlReportContext context{"adult: corrupted copy",
                            {{"Source", "adult.data + 3 bad records"}, {"Rows read", "32,564"}}};
  const std::string html = RenderHtmlReport(report, &profile, context);

  EXPECT_EQ(report.rows_quarantined, 3);
  EXPECT_TRUE(Contains(html, "Rows in <b>32,564</b> = clean <b>32,561</b> + quarantined <b>3</b>"));
  EXPECT_FALSE(Contains(html, kScript));
  EXPECT_EQ(Occurrences(html, "<section class=\"card\">"), 15u);
  EXPECT_EQ(Occurrences(html, "aria-label=\"histogram\""), 6u);
  EXPECT_TRUE(Contains(html, "<td class=\"check\"><code>distribution</code></td>"));
  EXPECT_TRUE(Contains(html, "<td class=\"na\">not evaluated</td>"));
  EXPECT_EQ(html, RenderHtmlReport(report, &profile, context));

  if (const char* sample = std::getenv("MLOOP_HTML_REPORT_SAMPLE")) {
    test::WriteBytes(sample, html);
  }
}

}  // namespace
}  // namespace mloop::data
