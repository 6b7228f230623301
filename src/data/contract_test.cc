#include "data/contract.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

#include "core/digest.h"
#include "core/file.h"
#include "core/testing.h"

namespace mloop::data {
namespace {

using table::ColumnRole;
using table::DataType;
using test::ExpectError;

const std::filesystem::path kAdult =
    std::filesystem::path(MLOOP_DATA_TESTDATA) / "adult_contract.yaml";

Contract ParseYamlText(std::string_view yaml) {
  return ParseContract(ParseYaml(yaml, "c.yaml"), "c.yaml");
}

// Expects `yaml` to be rejected with a message that names the source, `path` and `fact`.
void ExpectRejected(std::string_view yaml, std::string_view path, std::string_view fact,
                    std::source_location where = std::source_location::current()) {
  std::string prefix = "c.yaml: " + std::string(path) + ":";
  ExpectError(
      ErrorCode::kInvalidArgument, {prefix, fact}, [&] { ParseYamlText(yaml); }, where);
}

TEST(ContractTest, AdultContractFromTheDocsParses) {
  Contract c = LoadContract(kAdult);
  EXPECT_EQ(c.name, "adult");
  EXPECT_EQ(c.source, kAdult.string());
  EXPECT_TRUE(IsSha256Hex(c.digest));

  // format
  EXPECT_EQ(c.format.delimiter, ',');
  EXPECT_EQ(c.format.header, false);
  EXPECT_FALSE(c.format.quote.has_value());               // sniffed
  EXPECT_FALSE(c.format.skip_initial_space.has_value());  // sniffed
  ASSERT_TRUE(c.format.null_values.has_value());
  EXPECT_EQ(*c.format.null_values, std::vector<std::string>{"?"});
  EXPECT_EQ(c.format.comment, '|');
  ASSERT_EQ(c.format.names.size(), 15u);
  EXPECT_EQ(c.format.names.front(), "age");
  EXPECT_EQ(c.format.names.back(), "income");

  // columns, in the order written
  ASSERT_EQ(c.columns.size(), 15u);
  for (size_t i = 0; i < 15; ++i) EXPECT_EQ(c.columns[i].name, c.format.names[i]);
  const ColumnContract* age = c.FindColumn("age");
  ASSERT_NE(age, nullptr);
  EXPECT_EQ(age->type, DataType::kInt64);
  EXPECT_FALSE(age->nullable);
  ASSERT_TRUE(age->min && age->max);
  EXPECT_EQ(age->min->value, 17);
  EXPECT_EQ(age->max->value, 90);
  EXPECT_EQ(age->max->options.severity, Severity::kError);
  EXPECT_EQ(age->max->options.mostly, 1.0);

  const ColumnContract* workclass = c.FindColumn("workclass");
  EXPECT_TRUE(workclass->nullable);
  ASSERT_TRUE(workclass->allowed);
  EXPECT_EQ(workclass->allowed->strings.size(), 8u);
  EXPECT_TRUE(workclass->allowed->numbers.empty());
  EXPECT_EQ(c.FindColumn("education")->allowed->strings.size(), 16u);

  ASSERT_TRUE(c.FindColumn("fnlwgt")->exclusive_min);
  EXPECT_EQ(c.FindColumn("fnlwgt")->exclusive_min->value, 0);
  EXPECT_EQ(c.FindColumn("capital_gain")->max->options.severity, Severity::kWarn);
  EXPECT_EQ(c.FindColumn("race")->role, ColumnRole::kSensitive);

  const ColumnContract* country = c.FindColumn("native_country");
  ASSERT_TRUE(country->pattern && country->length);
  EXPECT_EQ(country->pattern->options.severity, Severity::kWarn);
  EXPECT_EQ(country->length->min, 2);
  EXPECT_EQ(country->length->max, 30);
  EXPECT_DOUBLE_EQ(country->length->options.mostly, 0.999);

  // The income pattern accepts adult.data's and adult.test's spellings, and nothing else.
  const ColumnContract* income = c.FindColumn("income");
  EXPECT_EQ(income->role, ColumnRole::kLabel);
  ASSERT_TRUE(income->pattern);
  for (const char* ok : {"<=50K", ">50K", "<=50K.", ">50K."}) {
    EXPECT_TRUE(std::regex_search(ok, income->pattern->regex)) << ok;
  }
  for (const char* bad : {"<=50", ">50K..", " >50K", "50K"}) {
    EXPECT_FALSE(std::regex_search(bad, income->pattern->regex)) << bad;
  }

  // rows
  ASSERT_EQ(c.rows.size(), 3u);
  EXPECT_EQ(c.rows[0].name, "loss_within_gain");
  EXPECT_EQ(c.rows[0].expression.text(), "capital_loss <= capital_gain + 5000");
  EXPECT_TRUE(c.rows[0].expression.bound());  // All its columns are typed: checked at load.
  EXPECT_EQ(c.rows[1].options.severity, Severity::kWarn);
  EXPECT_DOUBLE_EQ(c.rows[2].options.mostly, 0.999);

  // table
  ASSERT_TRUE(c.table.row_count);
  EXPECT_EQ(c.table.row_count->min, 1000);
  EXPECT_FALSE(c.table.row_count->max);
  ASSERT_TRUE(c.table.columns_exact);
  EXPECT_EQ(*c.table.columns_exact, c.format.names);
  ASSERT_EQ(c.table.columns.size(), 5u);
  EXPECT_EQ(c.table.columns[0].column, "workclass");
  EXPECT_EQ(c.table.columns[0].null_share->max, 0.07);
  const ColumnStatsExpectation& age_stats = c.table.columns[3];
  EXPECT_EQ(age_stats.column, "age");
  EXPECT_EQ(age_stats.mean->min, 36);
  ASSERT_EQ(age_stats.quantiles.size(), 2u);
  EXPECT_EQ(age_stats.quantiles[1].q, 0.99);
  EXPECT_EQ(age_stats.quantiles[1].range.max, 80);
  EXPECT_EQ(age_stats.quantiles[1].range.severity, Severity::kWarn);
  EXPECT_EQ(c.table.columns[4].distinct->min, 16);
  EXPECT_EQ(c.table.quarantine_share->max, 0.01);
  ASSERT_TRUE(c.table.distribution);
  EXPECT_EQ(c.table.distribution->reference_name, "adult");
  EXPECT_EQ(c.table.distribution->reference_version, "latest");
  EXPECT_EQ(c.table.distribution->columns.size(), 3u);
  EXPECT_EQ(c.table.distribution->severity, Severity::kWarn);

  // The reader options carry the declared types.
  table::CsvOptions read = c.ReadOptions();
  EXPECT_EQ(read.column_types.size(), 15u);
  EXPECT_EQ(read.column_types.at("workclass"), DataType::kCategory);
}

TEST(ContractTest, DocsExampleIsTheTestedFile) {
  std::string docs = ReadFile(std::filesystem::path(MLOOP_DOCS_DIR) / "contracts.md");
  size_t section = docs.find("## Example: UCI Adult");
  ASSERT_NE(section, std::string::npos);
  size_t begin = docs.find("```yaml\n", section);
  ASSERT_NE(begin, std::string::npos);
  begin += 8;
  size_t end = docs.find("```", begin);
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(docs.substr(begin, end - begin), ReadFile(kAdult));
}

TEST(ContractTest, DigestIgnoresFormattingButNotValues) {
  const char* block = R"(
# a comment
columns:
  age:
    type: int64     # trailing comment
    min: 17
    allowed: [1, 2]
rows:
  - name: r
    expression: "age > 0"
)";
  const char* flow = R"({"columns": {"age": {type: 'int64', min: 17, allowed: [1,
  2]}}, rows: [{name: r, expression: age > 0}]})";
  const char* changed = R"(
columns:
  age:
    type: int64
    min: 18
    allowed: [1, 2]
rows:
  - name: r
    expression: "age > 0"
)";
  std::string d1 = ParseYamlText(block).digest;
  EXPECT_EQ(d1, ParseYamlText(flow).digest);
  EXPECT_NE(d1, ParseYamlText(changed).digest);
  // The rule: SHA-256 of the compact JSON dump, keys in the order written.
  EXPECT_EQ(d1, Sha256Hex(R"({"columns":{"age":{"type":"int64","min":17,"allowed":[1,2]}},)"
                          R"("rows":[{"name":"r","expression":"age > 0"}]})"));

  // The Adult file reformatted (comments dropped, re-emitted by the YAML writer) keeps its
  // digest; one changed bound changes it.
  Contract adult = LoadContract(kAdult);
  Json doc = ReadYamlFile(kAdult);
  test::TempDir dir;
  std::filesystem::path same = dir.Write("same.yaml", ToYaml(doc));
  EXPECT_NE(ReadFile(same), ReadFile(kAdult));
  EXPECT_EQ(LoadContract(same).digest, adult.digest);
  doc["columns"]["age"]["max"] = 91;
  std::filesystem::path other = dir.Write("other.yaml", ToYaml(doc));
  EXPECT_NE(LoadContract(other).digest, adult.digest);
}

TEST(ContractTest, MinimalAndShorthandForms) {
  Contract c = ParseYamlText(R"(
columns:
  id: {type: int64, unique: true}
  code: {unique: {severity: warn}, allowed: {value: ["a", "b"], mostly: 0.9}}
  note:
  x: {type: float64, min: {value: 0, mostly: 0.95, severity: warn}}
)");
  ASSERT_EQ(c.columns.size(), 4u);
  EXPECT_TRUE(c.columns[0].unique);
  EXPECT_EQ(c.columns[0].unique->options.severity, Severity::kError);
  EXPECT_EQ(c.columns[1].unique->options.severity, Severity::kWarn);
  EXPECT_DOUBLE_EQ(c.columns[1].allowed->options.mostly, 0.9);
  EXPECT_EQ(c.columns[1].type, std::nullopt);
  EXPECT_EQ(c.columns[2].name, "note");
  EXPECT_EQ(c.columns[3].min->value, 0);
  EXPECT_DOUBLE_EQ(c.columns[3].min->options.mostly, 0.95);
  EXPECT_EQ(c.columns[3].min->options.severity, Severity::kWarn);
  EXPECT_FALSE(ParseYamlText("columns: {a: {unique: false}}").columns[0].unique);
  Contract empty = ParseYamlText("{}");
  EXPECT_TRUE(empty.columns.empty());
  EXPECT_FALSE(empty.format.delimiter);
  // unique_together, both spellings.
  Contract u = ParseYamlText(R"(
columns: {a: {}, b: {}}
table:
  unique_together: [[a, b], {columns: [a], severity: warn}]
  columns_include: [a]
)");
  ASSERT_EQ(u.table.unique_together.size(), 2u);
  EXPECT_EQ(u.table.unique_together[0].columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(u.table.unique_together[1].severity, Severity::kWarn);
  // A tab delimiter and no quoting.
  Contract tsv = ParseYamlText("format: {delimiter: \"\\t\", quote: \"\", skip_lines: 2}");
  EXPECT_EQ(tsv.format.delimiter, '\t');
  EXPECT_EQ(tsv.format.quote, '\0');
  EXPECT_EQ(tsv.format.skip_lines, 2u);
}

TEST(ContractTest, UnknownKeysAreErrorsEverywhere) {
  ExpectRejected("colums: {}", "colums", "unknown key");
  ExpectRejected("format: {delimeter: ','}", "format.delimeter", "unknown key");
  ExpectRejected("columns: {age: {typ: int64}}", "columns.age.typ", "unknown key");
  ExpectRejected("columns: {age: {min: {value: 1, mostyl: 0.5}}}", "columns.age.min.mostyl",
                 "unknown key");
  ExpectRejected("columns: {a: {length: {min: 1, maximum: 3}}}", "columns.a.length.maximum",
                 "unknown key");
  ExpectRejected("rows: [{name: r, expression: '1 = 1', level: warn}]", "rows[0].level",
                 "unknown key");
  ExpectRejected("table: {row_count: {min: 1, mean: 3}}", "table.row_count.mean", "unknown key");
  ExpectRejected("table: {columns: {a: {median: {max: 1}}}}", "table.columns.a.median",
                 "unknown key");
  ExpectRejected("table: {columns: {a: {quantiles: [{q: 0.5, min: 1, p: 2}]}}}",
                 "table.columns.a.quantiles[0].p", "unknown key");
  ExpectRejected("table: {distribution: {reference: a@1, psi: 0.1}}", "table.distribution.psi",
                 "unknown key");
}

TEST(ContractTest, WrongTypesNameKeyPathAndTypes) {
  ExpectRejected("columns: {age: {min: '17'}}", "columns.age.min",
                 "expected a number or a mapping with value, got string");
  ExpectRejected("columns: {age: {min: {value: abc}}}", "columns.age.min.value",
                 "expected a number, got string");
  ExpectRejected("columns: {age: {nullable: yes}}", "columns.age.nullable",
                 "expected true or false, got string");
  ExpectRejected("columns: [age]", "columns", "expected a mapping of column names, got list");
  ExpectRejected("columns: {age: 3}", "columns.age", "expected a mapping, got number");
  ExpectRejected("format: {header: 1}", "format.header", "expected true or false, got number");
  ExpectRejected("format: {names: [a, 2]}", "format.names[1]", "expected a string, got number");
  ExpectRejected("format: {null_values: '?'}", "format.null_values",
                 "expected a list of strings, got string");
  ExpectRejected("format: {skip_lines: 1.5}", "format.skip_lines",
                 "expected an integer, got number");
  ExpectRejected("format: {skip_lines: -1}", "format.skip_lines", "expected an integer >= 0");
  ExpectRejected("format: {delimiter: ';;'}", "format.delimiter", "expected one character");
  ExpectRejected("columns: {a: {allowed: [x, 2]}}", "columns.a.allowed[1]",
                 "expected a string like the first value, got number");
  ExpectRejected("rows: {name: r}", "rows", "expected a list of rules, got mapping");
  ExpectRejected("rows: [{name: r, expression: 5}]", "rows[0].expression",
                 "expected a string, got number");
  ExpectRejected("table: {unique_together: [[a, 3]]}", "table.unique_together[0][1]",
                 "expected a string, got number");
  ExpectRejected("table: {columns_exact: a}", "table.columns_exact",
                 "expected a list of column names, got string");
  ExpectError(ErrorCode::kInvalidArgument, {"c.yaml", "expected a mapping, got list"},
              [] { ParseYamlText("[1, 2]"); });
}

TEST(ContractTest, BadValuesNameKeyPath) {
  ExpectRejected("columns: {a: {type: integr}}", "columns.a.type", "unknown type \"integr\"");
  ExpectRejected("columns: {a: {role: target}}", "columns.a.role", "unknown role \"target\"");
  ExpectRejected("columns: {a: {min: {value: 1, mostly: 1.5}}}", "columns.a.min.mostly",
                 "between 0 and 1");
  ExpectRejected("columns: {a: {unique: {severity: fatal}}}", "columns.a.unique.severity",
                 "expected error or warn, got \"fatal\"");
  ExpectRejected("columns: {a: {min: 5, max: 1}}", "columns.a", "lower bound is greater");
  ExpectRejected("columns: {a: {length: {min: 5, max: 1}}}", "columns.a.length",
                 "min is greater than max");
  ExpectRejected("columns: {a: {length: {mostly: 0.5}}}", "columns.a.length",
                 "expected min, max or both");
  ExpectRejected("columns: {a: {type: string, min: 1}}", "columns.a.min",
                 "min needs a numeric column, a is string");
  ExpectRejected("columns: {a: {type: int64, pattern: '^x$'}}", "columns.a.pattern",
                 "needs a string or category column");
  ExpectRejected("columns: {a: {type: int64, allowed: [x]}}", "columns.a.allowed",
                 "strings are not allowed values of a int64 column");
  ExpectRejected("columns: {a: {allowed: []}}", "columns.a.allowed", "at least one value");
  ExpectRejected("format: {names: [a, b, a]}", "format.names[2]", "listed twice");
  ExpectRejected("format: {names: [a]}\ncolumns: {b: {}}", "columns.b", "not among format.names");
  ExpectRejected("table: {row_count: {}}", "table.row_count", "expected min, max or both");
  ExpectRejected("table: {columns: {a: {null_share: {max: 2}}}}", "table.columns.a.null_share.max",
                 "between 0 and 1");
  ExpectRejected("table: {columns_exact: [a], columns_include: [a]}", "table.columns_include",
                 "not both");
  ExpectRejected("table: {distribution: {reference: adult}}", "table.distribution.reference",
                 "expected NAME@VERSION");
  ExpectRejected("columns: {a: {}}\ntable: {unique_together: [[a, b]]}",
                 "table.unique_together[0][1]", "column 'b' is not in columns");
  ExpectRejected("columns: {a: {}}\ntable: {columns: {z: {mean: {min: 1}}}}", "table.columns.z",
                 "column 'z' is not in columns");
  ExpectRejected("rows: [{name: r, expression: '1 = 1'}, {name: r, expression: '2 = 2'}]",
                 "rows[1].name", "used twice");
  ExpectRejected("rows: [{expression: '1 = 1'}]", "rows[0].name", "missing");
}

TEST(ContractTest, BadRegexNamesColumnAndKey) {
  ExpectRejected("columns: {zip: {pattern: '^[0-9+$'}}", "columns.zip.pattern",
                 "invalid regular expression \"^[0-9+$\"");
  ExpectRejected("columns: {zip: {pattern: {value: '(ab', severity: warn}}}",
                 "columns.zip.pattern.value", "invalid regular expression");
}

TEST(ContractTest, RowRulesAreCheckedAtLoad) {
  ExpectRejected("rows: [{name: r, expression: 'a <= b +'}]", "rows[0].expression", "col 9");
  ExpectRejected("columns: {a: {type: int64}}\nrows: [{name: r, expression: 'a <= nope'}]",
                 "rows[0].expression", "column 'nope' is not in columns");
  ExpectRejected(
      "columns: {a: {type: int64}, s: {type: string}}\nrows: [{name: r, expression: 'a = s'}]",
      "rows[0].expression", "cannot compare a number with text");
  ExpectRejected("columns: {a: {type: int64}}\nrows: [{name: r, expression: 'a + 1'}]",
                 "rows[0].expression", "must be a condition");
  // An untyped column leaves type checks to the batch.
  Contract c = ParseYamlText("columns: {a: {}}\nrows: [{name: r, expression: 'a = 1'}]");
  EXPECT_FALSE(c.rows[0].expression.bound());
}

TEST(ContractTest, LoadErrors) {
  test::TempDir dir;
  ExpectError(ErrorCode::kNotFound, {"missing.yaml"},
              [&] { LoadContract(dir.path() / "missing.yaml"); });
  std::filesystem::path bad = dir.Write("bad.yaml", "columns:\n  age: {min: 1\n");
  ExpectError(ErrorCode::kInvalidArgument, {"bad.yaml"}, [&] { LoadContract(bad); });
  std::filesystem::path typo = dir.Write("typo.yaml", "columns:\n  age: {mn: 1}\n");
  ExpectError(ErrorCode::kInvalidArgument, {"typo.yaml: columns.age.mn: unknown key"},
              [&] { LoadContract(typo); });
}

}  // namespace
}  // namespace mloop::data
