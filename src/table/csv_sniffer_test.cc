#include "table/csv_sniffer.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace mloop::table {
namespace {

TEST(CsvSnifferTest, DetectsHeaderWhenFirstRowDoesNotFitTypes) {
  auto d = SniffCsv("x,y\n1,2\n3,4\n", "t", {});
  EXPECT_TRUE(d.header);
  EXPECT_EQ(d.names, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(d.types[0], DataType::kInt64);
}

TEST(CsvSnifferTest, NoHeaderWhenFirstRowFits) {
  auto d = SniffCsv("1,2\n3,4\n", "t", {});
  EXPECT_FALSE(d.header);
  EXPECT_EQ(d.names, (std::vector<std::string>{"column_1", "column_2"}));
}

TEST(CsvSnifferTest, AllTextHeaderByDistinctFirstRow) {
  auto d = SniffCsv("name,city\nann,paris\nbob,rome\nann,rome\n", "t", {});
  EXPECT_TRUE(d.header);
  auto d2 = SniffCsv("ann,paris\nbob,rome\nann,rome\n", "t", {});
  EXPECT_FALSE(d2.header);  // "ann" occurs again in its column.
}

TEST(CsvSnifferTest, OptionsOverrideDetection) {
  CsvOptions o;
  o.header = false;
  o.delimiter = ';';
  o.quote = '\'';
  auto d = SniffCsv("a,b;c\n1,2;3\n", "t", o);
  EXPECT_FALSE(d.header);
  EXPECT_EQ(d.delimiter, ';');
  EXPECT_EQ(d.quote, '\'');
  EXPECT_EQ(d.types.size(), 2u);
}

TEST(CsvSnifferTest, DuplicateAndEmptyHeaderNamesAreMadeUnique) {
  auto d = SniffCsv("a,a,\nx,1,2\ny,3,4\n", "t", {});
  EXPECT_EQ(d.names, (std::vector<std::string>{"a", "a_1", "column_3"}));
}

TEST(CsvSnifferTest, TypeLadder) {
  auto d = SniffCsv(
      "i,f,b,d,t,s\n"
      "1,1.5,true,2020-01-01,2020-01-01T10:00:00,x1\n"
      "-2,1e3,FALSE,2020-12-31,2020-01-01 10:00,y2\n",
      "t", {});
  EXPECT_EQ(d.types,
            (std::vector<DataType>{DataType::kInt64, DataType::kFloat64, DataType::kBool,
                                   DataType::kDate, DataType::kTimestamp, DataType::kString}));
}

TEST(CsvSnifferTest, QuotedDelimitersDoNotConfuseDelimiterChoice) {
  auto d = SniffCsv("a;b\n\"1,2\";3\n\"4,5\";6\n", "t", {});
  EXPECT_EQ(d.delimiter, ';');
}

TEST(CsvSnifferTest, SkipLinesAppliesBeforeSniffing) {
  CsvOptions o;
  o.skip_lines = 1;
  auto d = SniffCsv("|1x3 Cross validator\n25, Private\n38, Self-emp\n", "t", o);
  EXPECT_EQ(d.delimiter, ',');
  EXPECT_TRUE(d.skip_initial_space);
  EXPECT_EQ(d.types[0], DataType::kInt64);
}

TEST(CsvSnifferTest, SkipLinesHelper) {
  std::string_view s = "a\nb\nc";
  EXPECT_EQ(SkipLines(s, 0), s.data());
  EXPECT_EQ(SkipLines(s, 2), s.data() + 4);
  EXPECT_EQ(SkipLines(s, 9), s.data() + s.size());
}

}  // namespace
}  // namespace mloop::table
