#include "data/validate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/testing.h"
#include "table/csv_reader.h"

namespace mloop::data {
namespace {

using test::Contains;
using test::ExpectError;

ValidationReport ValidateCsv(std::string_view contract_yaml, std::string_view csv) {
  Contract contract = ParseContract(ParseYaml(contract_yaml, "c.yaml"), "c.yaml");
  table::CsvReadResult read = table::ReadCsvBuffer(csv, "t.csv", contract.ReadOptions());
  return Validate(contract, read.table, read.malformed, "t.csv");
}

const CheckResult* FindCheck(const ValidationReport& report, std::string_view check,
                             std::string_view column = "") {
  for (const auto& c : report.checks) {
    if (c.check == check && c.column == column) return &c;
  }
  return nullptr;
}

// Line -> the "check column" reasons of its quarantine record.
std::map<int64_t, std::set<std::string>> QuarantineByLine(const ValidationReport& report) {
  std::map<int64_t, std::set<std::string>> out;
  for (const auto& q : report.quarantine) {
    for (const auto& r : q.reasons) out[q.line].insert(r.check + " " + r.column);
  }
  return out;
}

// /work/shared/datasets/adult/adult.data: the source tree sits next to `shared/`.
std::filesystem::path AdultData() {
  return std::filesystem::path(MLOOP_DATA_TESTDATA) / ".." / ".." / ".." / ".." / "shared" /
         "datasets" / "adult" / "adult.data";
}

void ExpectCountsAddUp(const ValidationReport& r) {
  EXPECT_EQ(r.rows_in, r.rows_clean + r.rows_quarantined);
  EXPECT_EQ(r.rows_quarantined, static_cast<int64_t>(r.quarantine.size()));
}

constexpr std::string_view kPeopleContract = R"(
format: {header: true}
columns:
  id: {type: int64, nullable: false, unique: true}
  age: {type: int64, nullable: false, min: 0, max: 120}
  color: {type: string, allowed: [red, green, blue]}
  code: {type: string, pattern: "^[A-Z]{2}[0-9]{2}$"}
  gain: {type: int64}
  loss: {type: int64}
rows:
  - name: loss_within_gain
    expression: loss <= gain + 100
)";

TEST(ValidateTest, QuarantinesExactlyTheCorruptedRowsWithTheirReasons) {
  const std::string csv =
      "id,age,color,code,gain,loss\n"  // line 1
      "1,30,red,AB12,0,0\n"            // 2: clean
      "2,,green,CD34,0,0\n"            // 3: null age
      "3,150,blue,EF56,0,0\n"          // 4: age above max
      "4,40,purple,GH78,0,0\n"         // 5: unknown color
      "5,41,red,bad,0,0\n"             // 6: code does not match
      "6,42,red,IJ90,0,500\n"          // 7: breaks the row rule
      "7,43,red\n"                     // 8: too few fields
      "eight,44,red,KL12,0,0\n"        // 9: not an int64 in a fixed int64 column
      "9,200,pink,MN34,0,0\n"          // 10: two reasons
      "10,50,green,OP56,10,0\n"        // 11: clean
      "1,51,blue,QR78,0,0\n";          // 12: repeats id 1
  ValidationReport r = ValidateCsv(kPeopleContract, csv);
  ExpectCountsAddUp(r);
  EXPECT_EQ(r.rows_in, 11);
  EXPECT_EQ(r.rows_clean, 2);
  EXPECT_EQ(r.rows_quarantined, 9);
  // Error checks without `mostly` set their rows aside and let the batch go on.
  EXPECT_EQ(r.status, BatchStatus::kAccepted);

  std::map<int64_t, std::set<std::string>> expected = {
      {3, {"nullable age"}},  {4, {"max age"}},
      {5, {"allowed color"}}, {6, {"pattern code"}},
      {7, {"row_rule "}},     {8, {"malformed "}},
      {9, {"malformed "}},    {10, {"max age", "allowed color"}},
      {12, {"unique id"}},
  };
  EXPECT_EQ(QuarantineByLine(r), expected);

  for (const auto& q : r.quarantine) {
    if (q.line == 8) {
      ASSERT_TRUE(q.text.has_value());
      EXPECT_EQ(*q.text, "7,43,red");
      EXPECT_TRUE(Contains(q.reasons[0].detail, "field")) << q.reasons[0].detail;
    } else if (q.line == 9) {
      ASSERT_TRUE(q.text.has_value());
      EXPECT_EQ(*q.text, "eight,44,red,KL12,0,0");
    } else {
      EXPECT_FALSE(q.text.has_value());
      ASSERT_TRUE(q.values.is_object());
      EXPECT_EQ(q.values.size(), 6u);
    }
    if (q.line == 4) {
      EXPECT_EQ(q.values["age"], 150);
      EXPECT_TRUE(Contains(q.reasons[0].detail, "150")) << q.reasons[0].detail;
    }
    if (q.line == 3) {
      EXPECT_TRUE(q.values["age"].is_null());
    }
    if (q.line == 7) {
      EXPECT_TRUE(Contains(q.reasons[0].detail, "loss_within_gain"));
    }
    if (q.line == 12) {
      EXPECT_TRUE(Contains(q.reasons[0].detail, "'1'"));
    }
  }

  const CheckResult* max = FindCheck(r, "max", "age");
  ASSERT_NE(max, nullptr);
  EXPECT_EQ(max->unexpected_count, 2);
  EXPECT_EQ(max->element_count, 8);  // The 9 parsed rows less the null.
  EXPECT_DOUBLE_EQ(max->unexpected_percent, 25.0);
  EXPECT_EQ(max->sample, (std::vector<std::string>{"150", "200"}));
  EXPECT_EQ(max->passed, true);
  EXPECT_EQ(max->mostly, 0.0);
  const CheckResult* allowed = FindCheck(r, "allowed", "color");
  ASSERT_NE(allowed, nullptr);
  EXPECT_EQ(allowed->sample, (std::vector<std::string>{"purple", "pink"}));
  const CheckResult* rule = FindCheck(r, "row_rule");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->rule, "loss_within_gain");
  EXPECT_EQ(rule->unexpected_count, 1);
  const CheckResult* malformed = FindCheck(r, "malformed");
  ASSERT_NE(malformed, nullptr);
  EXPECT_EQ(malformed->unexpected_count, 2);
  EXPECT_EQ(FindCheck(r, "unique", "id")->unexpected_count, 1);
  EXPECT_EQ(FindCheck(r, "pattern", "code")->sample, (std::vector<std::string>{"bad"}));

  Json doc = r.ToJson();
  EXPECT_EQ(doc["status"], "accepted");
  EXPECT_EQ(doc["rows_in"], 11);
  EXPECT_EQ(doc["rows_clean"], 2);
  EXPECT_EQ(doc["rows_quarantined"], 9);
  for (const char* key : {"check", "column", "severity", "passed", "unexpected_count",
                          "unexpected_percent", "sample", "observed_value"}) {
    EXPECT_TRUE(doc["checks"][0].contains(key)) << key;
  }
  EXPECT_EQ(doc["quarantine"][0]["line"], 3);
  EXPECT_EQ(doc["quarantine"][0]["reasons"][0]["check"], "nullable");
}

// 20 rows (age, n): the first `null_rows` ages are null, the next `bad_rows` are 200, the rest
// 20 + n.
std::string TwentyRows(int bad_rows, int null_rows = 0) {
  std::string csv = "age,n\n";
  for (int i = 0; i < 20; ++i) {
    if (i < null_rows) {
      csv += "";
    } else if (i < null_rows + bad_rows) {
      csv += "200";
    } else {
      csv += std::to_string(20 + i);
    }
    csv += "," + std::to_string(i) + "\n";
  }
  return csv;
}

std::string AgeContract(std::string_view max) {
  return "format: {header: true, null_values: ['']}\ncolumns:\n  age: {type: int64, max: " +
         std::string(max) + "}\n";
}

TEST(ValidateTest, MostlyFollowsGreatExpectations) {
  // 1 of 20 fails: 95% pass.
  ValidationReport loose = ValidateCsv(AgeContract("{value: 90, mostly: 0.9}"), TwentyRows(1));
  const CheckResult* c = FindCheck(loose, "max", "age");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->passed, true);
  EXPECT_DOUBLE_EQ(c->unexpected_percent, 5.0);
  EXPECT_EQ(loose.status, BatchStatus::kAccepted);
  // The failing row is still quarantined: the severity is error.
  EXPECT_EQ(loose.rows_quarantined, 1);
  ExpectCountsAddUp(loose);

  ValidationReport strict = ValidateCsv(AgeContract("{value: 90, mostly: 0.99}"), TwentyRows(1));
  EXPECT_EQ(FindCheck(strict, "max", "age")->passed, false);
  EXPECT_EQ(strict.status, BatchStatus::kRejected);

  // Exactly at the threshold passes.
  ValidationReport edge = ValidateCsv(AgeContract("{value: 90, mostly: 0.95}"), TwentyRows(1));
  EXPECT_EQ(FindCheck(edge, "max", "age")->passed, true);
}

TEST(ValidateTest, WithoutMostlyAnErrorCheckQuarantinesAndAWarnCheckFails) {
  ValidationReport error = ValidateCsv(AgeContract("90"), TwentyRows(3));
  EXPECT_EQ(FindCheck(error, "max", "age")->passed, true);
  EXPECT_EQ(FindCheck(error, "max", "age")->unexpected_count, 3);
  EXPECT_EQ(error.rows_quarantined, 3);
  EXPECT_EQ(error.status, BatchStatus::kAccepted);
  // Written out, mostly: 1 makes every row count again: one bad row rejects the batch.
  ValidationReport all = ValidateCsv(AgeContract("{value: 90, mostly: 1}"), TwentyRows(1));
  EXPECT_EQ(FindCheck(all, "max", "age")->passed, false);
  EXPECT_EQ(all.status, BatchStatus::kRejected);
  EXPECT_EQ(all.rows_quarantined, 1);
}

TEST(ValidateTest, MostlyCountsNonNullRowsOnly) {
  // 10 nulls, 1 bad of the 10 non-null: 10% unexpected.
  ValidationReport pass = ValidateCsv(AgeContract("{value: 90, mostly: 0.9}"), TwentyRows(1, 10));
  const CheckResult* c = FindCheck(pass, "max", "age");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->element_count, 10);
  EXPECT_DOUBLE_EQ(c->unexpected_percent, 10.0);
  EXPECT_EQ(c->passed, true);
  ValidationReport fail = ValidateCsv(AgeContract("{value: 90, mostly: 0.95}"), TwentyRows(1, 10));
  EXPECT_EQ(FindCheck(fail, "max", "age")->passed, false);
}

TEST(ValidateTest, WarnRecordsButDoesNotQuarantine) {
  ValidationReport r = ValidateCsv(AgeContract("{value: 90, severity: warn}"), TwentyRows(3));
  const CheckResult* c = FindCheck(r, "max", "age");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->passed, false);
  EXPECT_EQ(c->unexpected_count, 3);
  EXPECT_EQ(c->sample, (std::vector<std::string>{"200"}));  // Distinct values only.
  EXPECT_EQ(r.rows_quarantined, 0);
  EXPECT_EQ(r.rows_clean, 20);
  EXPECT_EQ(r.status, BatchStatus::kAccepted);
}

TEST(ValidateTest, IntegerBoundsCompareTheValuesAsDoubles) {
  // Integer columns are checked by comparing integers; a value still fails a bound exactly when
  // it does as a double (int64 values past 2^53 round when converted), nulls never, and rows
  // span several 64-row words.
  const std::vector<int64_t> values = {9007199254740991,
                                       9007199254740992,
                                       9007199254740993,
                                       9007199254740994,
                                       9007199254740995,
                                       9007199254740997,
                                       -9007199254740993,
                                       17,
                                       16,
                                       0,
                                       std::numeric_limits<int64_t>::max(),
                                       std::numeric_limits<int64_t>::min()};
  std::string csv = "v\n";
  std::vector<std::optional<int64_t>> rows;
  for (size_t r = 0; r < 300; ++r) {
    if (r % 7 == 3) {
      rows.push_back(std::nullopt);
      csv += "\n";
      continue;
    }
    rows.push_back(values[(r * 5) % values.size()]);
    csv += std::to_string(*rows.back()) + "\n";
  }
  const double lo = 9007199254740994.0;
  const double hi = 9007199254740996.0;
  ValidationReport r = ValidateCsv(
      "format: {header: true}\ncolumns:\n  v: {type: int64, min: {value: 9007199254740994, "
      "severity: warn}, max: {value: 9007199254740996, severity: warn}, exclusive_min: {value: "
      "9007199254740994, severity: warn}, exclusive_max: {value: 9007199254740996, severity: "
      "warn}}\n",
      csv);
  auto expected = [&](auto holds) {
    int64_t failing = 0;
    for (const auto& v : rows) failing += v && !holds(static_cast<double>(*v));
    return failing;
  };
  ASSERT_NE(FindCheck(r, "min", "v"), nullptr);
  EXPECT_EQ(FindCheck(r, "min", "v")->unexpected_count,
            expected([&](double v) { return v >= lo; }));
  EXPECT_EQ(FindCheck(r, "max", "v")->unexpected_count,
            expected([&](double v) { return v <= hi; }));
  EXPECT_EQ(FindCheck(r, "exclusive_min", "v")->unexpected_count,
            expected([&](double v) { return v > lo; }));
  EXPECT_EQ(FindCheck(r, "exclusive_max", "v")->unexpected_count,
            expected([&](double v) { return v < hi; }));
  EXPECT_GT(FindCheck(r, "min", "v")->unexpected_count, 0);
  EXPECT_GT(FindCheck(r, "exclusive_max", "v")->unexpected_count, 0);
}

TEST(ValidateTest, UniqueKeepsTheFirstOccurrence) {
  ValidationReport r =
      ValidateCsv("format: {header: true}\ncolumns:\n  k: {type: string, unique: true}\n",
                  "k\na\nb\na\nc\na\nb\n");
  const CheckResult* c = FindCheck(r, "unique", "k");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->unexpected_count, 3);
  EXPECT_EQ(c->sample, (std::vector<std::string>{"a", "b"}));
  std::map<int64_t, std::set<std::string>> expected = {
      {4, {"unique k"}}, {6, {"unique k"}}, {7, {"unique k"}}};
  EXPECT_EQ(QuarantineByLine(r), expected);
  ExpectCountsAddUp(r);
}

TEST(ValidateTest, TableExpectations) {
  const std::string base =
      "format: {header: true, null_values: ['']}\ncolumns:\n  age: {type: int64}\n";
  // 3 nulls, 1 value out of range of 20 rows.
  std::string csv = TwentyRows(0, 3);
  ValidationReport ok = ValidateCsv(base + R"(
table:
  row_count: {min: 10, max: 20}
  columns_include: [age]
  columns: {age: {null_share: {max: 0.2}, mean: {min: 20, max: 40}, distinct: {min: 17, max: 17}}}
  quarantine_share: {max: 0.01}
)",
                                    csv);
  EXPECT_EQ(ok.status, BatchStatus::kAccepted);
  const CheckResult* rows = FindCheck(ok, "row_count");
  ASSERT_NE(rows, nullptr);
  EXPECT_EQ(rows->observed_value, 20);
  EXPECT_TRUE(rows->table_level);
  const CheckResult* nulls = FindCheck(ok, "null_share", "age");
  ASSERT_NE(nulls, nullptr);
  EXPECT_DOUBLE_EQ(nulls->observed_value.get<double>(), 0.15);
  EXPECT_EQ(FindCheck(ok, "distinct", "age")->passed, true);

  ValidationReport bad = ValidateCsv(base + R"(
table:
  row_count: {min: 100}
  columns: {age: {null_share: {max: 0.1}}}
)",
                                     csv);
  EXPECT_EQ(bad.status, BatchStatus::kRejected);
  EXPECT_EQ(FindCheck(bad, "row_count")->passed, false);
  EXPECT_EQ(FindCheck(bad, "null_share", "age")->passed, false);
  EXPECT_EQ(bad.rows_quarantined, 0);  // Batch-level: no row is blamed.

  ValidationReport warned = ValidateCsv(base + R"(
table:
  row_count: {min: 100, severity: warn}
)",
                                        csv);
  EXPECT_EQ(warned.status, BatchStatus::kAccepted);
  EXPECT_EQ(FindCheck(warned, "row_count")->passed, false);

  // quarantine_share counts malformed rows too: 1 of 4.
  ValidationReport share =
      ValidateCsv(base + "table:\n  quarantine_share: {max: 0.2}\n", "age,n\n1,1\n2,2\n3,3\nx,4\n");
  const CheckResult* q = FindCheck(share, "quarantine_share");
  ASSERT_NE(q, nullptr);
  EXPECT_DOUBLE_EQ(q->observed_value.get<double>(), 0.25);
  EXPECT_EQ(share.status, BatchStatus::kRejected);
  EXPECT_EQ(share.rows_in, 4);
  ExpectCountsAddUp(share);
}

// The table expectations measured over several 64-row words of the validity bitmap, with nulls
// and quarantined rows, against values computed here from the kept rows: quantiles of an
// integer column (found by counting) and of a float column (by selection), mean, std, min,
// max, distinct and null_share.
TEST(ValidateTest, TableStatisticsOverKeptRowsMatchADirectComputation) {
  std::string csv = "n,x,c\n";
  std::vector<double> kept_n, kept_x;
  std::set<std::string> kept_c;
  int kept_rows = 0, kept_null_n = 0;
  for (int r = 0; r < 300; ++r) {
    bool n_null = r % 7 == 3;
    long n = (r * 37) % 101 - (r % 50 == 11 ? 500 : 0);  // Some below min: quarantined.
    double x = (r * 13 % 17) * 0.25 - 1;
    std::string c = "v" + std::to_string(r % 9);
    bool x_null = r % 11 == 5;
    csv += (n_null ? "" : std::to_string(n)) + "," + (x_null ? "" : std::to_string(x)) + "," + c +
           "\n";
    if (!n_null && n < 0) continue;  // Quarantined by `min: 0`.
    ++kept_rows;
    if (n_null) ++kept_null_n;
    if (!n_null) kept_n.push_back(static_cast<double>(n));
    if (!x_null) kept_x.push_back(x);
    kept_c.insert(c);
  }
  ValidationReport report = ValidateCsv(R"(
format: {header: true, null_values: ['']}
columns:
  n: {type: int64, min: 0}
  x: {type: float64}
  c: {type: category}
table:
  columns:
    n:
      null_share: {max: 1}
      mean: {min: -1000, max: 1000}
      std: {min: 0, max: 1000}
      min: {min: -1000}
      max: {max: 1000}
      quantiles: [{q: 0, max: 1000}, {q: 0.25, max: 1000}, {q: 0.5, max: 1000},
                  {q: 0.99, max: 1000}, {q: 1, max: 1000}]
    x:
      quantiles: [{q: 0.1, max: 1000}, {q: 0.5, max: 1000}, {q: 0.75, max: 1000}]
    c: {distinct: {min: 1}}
)",
                                        csv);
  ASSERT_EQ(report.rows_in, 300);
  EXPECT_EQ(report.rows_clean, kept_rows);
  auto quantile = [](std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    double pos = q * static_cast<double>(v.size() - 1);
    auto lo = static_cast<size_t>(std::floor(pos));
    double b = lo + 1 < v.size() ? v[lo + 1] : v[lo];
    return v[lo] + (pos - static_cast<double>(lo)) * (b - v[lo]);
  };
  std::map<std::string, std::vector<double>> observed;
  for (const CheckResult& c : report.checks) {
    if (!c.table_level || c.observed_value.is_null()) continue;
    observed[c.check + " " + c.column].push_back(c.observed_value.get<double>());
  }
  EXPECT_EQ(observed["quantile n"],
            (std::vector<double>{quantile(kept_n, 0), quantile(kept_n, 0.25), quantile(kept_n, 0.5),
                                 quantile(kept_n, 0.99), quantile(kept_n, 1)}));
  EXPECT_EQ(
      observed["quantile x"],
      (std::vector<double>{quantile(kept_x, 0.1), quantile(kept_x, 0.5), quantile(kept_x, 0.75)}));
  // An integer column's values are counted, so its mean is the exact one (the exact integer sum,
  // divided once) and its standard deviation agrees with the exact one but for rounding.
  int64_t count = 0, sum = 0, sum_squares = 0;
  for (double v : kept_n) {
    ++count;
    sum += static_cast<int64_t>(v);
    sum_squares += static_cast<int64_t>(v * v);
  }
  EXPECT_EQ(observed["mean n"],
            std::vector<double>{static_cast<double>(sum) / static_cast<double>(count)});
  const double variance = static_cast<double>(count * sum_squares - sum * sum) /
                          static_cast<double>(count * (count - 1));
  ASSERT_EQ(observed["std n"].size(), 1u);
  EXPECT_DOUBLE_EQ(observed["std n"][0], std::sqrt(variance));
  EXPECT_EQ(observed["column_min n"],
            std::vector<double>{*std::min_element(kept_n.begin(), kept_n.end())});
  EXPECT_EQ(observed["column_max n"],
            std::vector<double>{*std::max_element(kept_n.begin(), kept_n.end())});
  EXPECT_EQ(observed["null_share n"],
            std::vector<double>{static_cast<double>(kept_null_n) / kept_rows});
  EXPECT_EQ(observed["distinct c"], std::vector<double>{static_cast<double>(kept_c.size())});
}

TEST(ValidateTest, RuleOnAnUnknownColumnIsAnError) {
  ExpectError(ErrorCode::kInvalidArgument, {"nope"}, [] {
    ValidateCsv(
        "format: {header: true}\ncolumns:\n  a: {type: int64}\nrows:\n"
        "  - {name: r, expression: nope > 1}\n",
        "a\n1\n");
  });
}

TEST(ValidateTest, AdultDataPassesTheAdultContract) {
  const std::filesystem::path testdata = MLOOP_DATA_TESTDATA;
  const std::filesystem::path data = AdultData();
  ASSERT_TRUE(std::filesystem::exists(data))
      << data << " is not there: ../shared/datasets is needed";
  Contract contract = LoadContract(testdata / "adult_contract.yaml");
  table::CsvReadResult read = table::ReadCsv(data, contract.ReadOptions());
  ValidationReport r = Validate(contract, read.table, read.malformed, data.string());
  EXPECT_EQ(r.status, BatchStatus::kAccepted);
  EXPECT_EQ(r.rows_in, 32561);
  ExpectCountsAddUp(r);
  const CheckResult* rows = FindCheck(r, "row_count");
  ASSERT_NE(rows, nullptr);
  EXPECT_EQ(rows->passed, true);
  // The distribution against a stored version cannot be measured without a workspace.
  const CheckResult* psi = FindCheck(r, "distribution", "age, hours_per_week, education");
  ASSERT_NE(psi, nullptr);
  EXPECT_FALSE(psi->passed.has_value());
}

// The issue's acceptance test: known corruptions injected into a copy of real data.
TEST(ValidateTest, CorruptedCopyOfAdultQuarantinesExactlyTheCorruptions) {
  const std::filesystem::path testdata = MLOOP_DATA_TESTDATA;
  const std::filesystem::path data = AdultData();
  ASSERT_TRUE(std::filesystem::exists(data))
      << data << " is not there: ../shared/datasets is needed";
  std::ifstream in(data);
  std::vector<std::vector<std::string>> rows;  // 100 records, fields split at ", ".
  for (std::string line; rows.size() < 100 && std::getline(in, line);) {
    std::vector<std::string> fields;
    size_t start = 0;
    for (size_t comma; (comma = line.find(", ", start)) != std::string::npos; start = comma + 2) {
      fields.push_back(line.substr(start, comma - start));
    }
    fields.push_back(line.substr(start));
    ASSERT_EQ(fields.size(), 15u) << line;
    rows.push_back(std::move(fields));
  }
  // Record i is on line i + 1. Columns: 0 age, 1 workclass, 10 capital_gain, 11 capital_loss,
  // 14 income.
  rows[4][0] = "?";        // line 5: null age
  rows[9][0] = "150";      // line 10: age above max
  rows[14][1] = "Pirate";  // line 15: unknown workclass
  rows[19].pop_back();     // line 20: a field short
  rows[24][0] = "abc";     // line 25: not an int64
  rows[29][10] = "0";      // line 30: capital_loss above max, and the loss rule broken
  rows[29][11] = "9000";
  rows[34][14] = "maybe";  // line 35: income does not match its pattern
  std::string text;
  for (const auto& fields : rows) {
    for (size_t i = 0; i < fields.size(); ++i) text += (i ? ", " : "") + fields[i];
    text += "\n";
  }
  test::TempDir dir;
  test::WriteBytes(dir.path() / "adult_corrupted.data", text);

  Contract contract = LoadContract(testdata / "adult_contract.yaml");
  table::CsvReadResult read =
      table::ReadCsv(dir.path() / "adult_corrupted.data", contract.ReadOptions());
  ValidationReport r = Validate(contract, read.table, read.malformed, "adult_corrupted.data");
  std::map<int64_t, std::set<std::string>> expected = {
      {5, {"nullable age"}},    {10, {"max age"}},    {15, {"allowed workclass"}},
      {20, {"malformed "}},     {25, {"malformed "}}, {30, {"max capital_loss", "row_rule "}},
      {35, {"pattern income"}},
  };
  EXPECT_EQ(QuarantineByLine(r), expected);
  EXPECT_EQ(r.rows_in, 100);
  EXPECT_EQ(r.rows_quarantined, 7);
  EXPECT_EQ(r.rows_clean, 93);
  ExpectCountsAddUp(r);
  // 7% quarantined and only 100 rows: the table expectations reject the batch.
  EXPECT_EQ(r.status, BatchStatus::kRejected);
  EXPECT_EQ(FindCheck(r, "quarantine_share")->passed, false);
  EXPECT_EQ(FindCheck(r, "row_count")->passed, false);
}

}  // namespace
}  // namespace mloop::data
