#include "table/csv_sniffer.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/testing.h"

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

// With the header, the names and every column's type given (an ingest with a contract),
// nothing is guessed and only the first records' fields are kept, but the usual field count
// is still that of the whole sample: a file whose first 150 records have one field more than
// the 1,000 after them has the names' width, and the reverse file does not.
TEST(CsvSnifferTest, GivenNamesAndTypesStillCountTheWholeSample) {
  CsvOptions o;
  o.header = true;
  o.names = {"a", "b", "c"};
  for (const std::string& n : o.names) o.column_types[n] = DataType::kInt64;
  auto file = [](int first, int first_fields, int rest_fields) {
    std::string text = "a,b,c\n";
    for (int r = 0; r < first + 1000; ++r) {
      const int fields = r < first ? first_fields : rest_fields;
      for (int f = 0; f < fields; ++f) text += (f == 0 ? "" : ",") + std::to_string(r + f);
      text += "\n";
    }
    return text;
  };
  const CsvDialect d = SniffCsv(file(150, 4, 3), "t", o);
  EXPECT_EQ(d.names, o.names);
  EXPECT_EQ(d.types, std::vector<DataType>(3, DataType::kInt64));
  const Error e = test::CatchError([&] { SniffCsv(file(150, 3, 4), "t", o); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.message(), "t: 3 column names given, but the file has 4 columns");
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
