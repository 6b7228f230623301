#include "data/suggest.h"

#include <gtest/gtest.h>

#include "data/contract.h"
#include "table/csv_reader.h"

namespace mloop::data {
namespace {

table::CsvReadResult Read(std::string_view text) {
  return table::ReadCsvBuffer(text, "batch.csv", {});
}

TEST(SuggestContractTest, TypesNullabilityRangesAllowedAndUnique) {
  auto r = Read(
      "id,age,score,city,note\n"
      "1,30,0.5,paris,a\n"
      "2,41,1.25,rome,\n"
      "3,25,2,paris,c\n"
      "4,67,-1.5,oslo,d\n");
  SuggestOptions o;
  o.name = "people";
  o.source = "batch.csv";
  Json doc = SuggestContract(r.table, &r.dialect, o);
  const Json& cols = doc["columns"];
  EXPECT_EQ(doc["name"], "people");
  EXPECT_EQ(cols["id"]["type"], "int64");
  EXPECT_EQ(cols["id"]["nullable"], false);
  EXPECT_EQ(cols["id"]["unique"], true);
  EXPECT_EQ(cols["age"]["min"], 25);
  EXPECT_EQ(cols["age"]["max"], 67);
  EXPECT_EQ(cols["score"]["type"], "float64");
  EXPECT_EQ(cols["score"]["min"], -1.5);
  EXPECT_EQ(cols["score"]["max"], 2);
  EXPECT_FALSE(cols["score"].contains("unique"));  // Floats are never identifiers.
  EXPECT_EQ(cols["city"]["allowed"], (Json{"oslo", "paris", "rome"}));
  EXPECT_FALSE(cols["city"].contains("unique"));
  EXPECT_FALSE(cols["note"].contains("nullable"));  // One empty field read as null.
  EXPECT_EQ(doc["format"]["header"], true);
  EXPECT_EQ(doc["format"]["delimiter"], ",");
}

TEST(SuggestContractTest, ManyDistinctValuesGetNoAllowedSet) {
  std::string text = "code\n";
  for (int i = 0; i < 60; ++i) text += "c" + std::to_string(i) + "\n";
  auto r = Read(text);
  SuggestOptions o;
  o.max_allowed = 50;
  Json doc = SuggestContract(r.table, &r.dialect, o);
  EXPECT_FALSE(doc["columns"]["code"].contains("allowed"));
  EXPECT_EQ(doc["columns"]["code"]["unique"], true);
  o.max_allowed = 60;
  doc = SuggestContract(r.table, &r.dialect, o);
  EXPECT_EQ(doc["columns"]["code"]["allowed"].size(), 60u);
}

TEST(SuggestContractTest, TheSuggestionLoadsAndReadsTheBatchTheSameWay) {
  auto r = Read("39, State-gov, <=50K\n50, Self-emp, >50K\n38, ?, <=50K\n");
  SuggestOptions o;
  o.source = "adult-like.csv";
  Json doc = SuggestContract(r.table, &r.dialect, o);
  // Through YAML and back, as a user gets it.
  Contract c = ParseContract(ParseYaml(ToYaml(doc), "suggested.yaml"), "suggested.yaml");
  ASSERT_EQ(c.columns.size(), 3u);
  EXPECT_EQ(c.columns[0].name, "column_1");
  EXPECT_FALSE(c.columns[0].nullable);
  auto again = table::ReadCsvBuffer("39, State-gov, <=50K\n", "next.csv", c.ReadOptions());
  EXPECT_EQ(again.table.num_rows(), 1u);
  EXPECT_EQ(again.table.column(1).StringAt(0), "State-gov");
  EXPECT_EQ(again.table.column(0).type(), table::DataType::kInt64);
}

}  // namespace
}  // namespace mloop::data
