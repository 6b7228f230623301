#include "table/csv_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/file.h"
#include "core/testing.h"
#include "table/csv_reader.h"

namespace mloop::table {
namespace {

using test::ExpectError;
using test::TempDir;

std::string ToCsv(const Table& t, const CsvWriteOptions& o = {}) {
  std::ostringstream out;
  WriteCsv(t, out, o);
  return out.str();
}

Column Strings(std::string name, const std::vector<const char*>& values,
               DataType type = DataType::kString) {
  Column c(std::move(name), type);
  for (const char* v : values) {
    if (v == nullptr) {
      c.AppendNull();
    } else {
      c.AppendString(v);
    }
  }
  return c;
}

// Each type, with a null in every column, and text that needs every kind of quoting.
Table AllTypes() {
  Column i("id", DataType::kInt64);
  Column f("price", DataType::kFloat64);
  Column b("ok", DataType::kBool);
  Column d("day", DataType::kDate);
  Column ts("at", DataType::kTimestamp);
  const std::vector<double> doubles = {
      1.0, 0.1, -2.5e-300, 1e300, 123456789.125, std::numeric_limits<double>::infinity(), 0, 0};
  for (size_t r = 0; r < doubles.size(); ++r) {
    i.AppendInt(r == 7 ? std::numeric_limits<int64_t>::min() : static_cast<int64_t>(r) * 1000 - 3);
    f.AppendDouble(doubles[r]);
    b.AppendBool(r % 3 == 0);
    d.AppendInt(static_cast<int64_t>(r) * 400 - 800);
    ts.AppendInt(int64_t{1'700'000'000'123'456} + static_cast<int64_t>(r) * 1'000'000);
  }
  for (Column* c : {&i, &f, &b, &d, &ts}) {
    c->AppendNull();
  }
  Column s =
      Strings("name, \"quoted\"", {"plain", "a,b", "say \"hi\"", "line1\nline2", "cr\rlf\r\n",
                                   "  padded ", "", "héllo 世界 🙂", nullptr});
  Column na = Strings("markers", {"NA", "null", "NaN", "?", "None", "N/A", "x", "NULL", nullptr});
  Column cat =
      Strings("color", {"red", "blue", "red", "with,comma", "red", "blue", "", "red", nullptr},
              DataType::kCategory);
  Table t;
  for (Column* c : {&i, &f, &b, &s, &na, &cat, &d, &ts}) t.AddColumn(std::move(*c));
  return t;
}

// Every cell's text, "<null>" for a null; category and string compare alike.
void ExpectSameValues(const Table& got, const Table& want) {
  ASSERT_EQ(got.num_rows(), want.num_rows());
  ASSERT_EQ(got.num_columns(), want.num_columns());
  for (size_t j = 0; j < want.num_columns(); ++j) {
    const Column& g = got.column(j);
    const Column& w = want.column(j);
    EXPECT_EQ(g.name(), w.name());
    if (IsTextual(w.type())) {
      EXPECT_TRUE(IsTextual(g.type())) << w.name();
    } else {
      EXPECT_EQ(g.type(), w.type()) << w.name();
    }
    for (size_t r = 0; r < want.num_rows(); ++r) {
      ASSERT_EQ(g.IsNull(r), w.IsNull(r)) << w.name() << " row " << r;
      if (w.type() == DataType::kFloat64 && w.IsValid(r) && std::isnan(w.DoubleAt(r))) {
        EXPECT_TRUE(std::isnan(g.DoubleAt(r))) << w.name() << " row " << r;
        continue;
      }
      EXPECT_EQ(g.ValueToString(r), w.ValueToString(r)) << w.name() << " row " << r;
    }
  }
}

TEST(CsvWriterTest, RoundTripsEveryType) {
  Table t = AllTypes();
  std::string text = ToCsv(t);
  auto r = ReadCsvBuffer(text, "written.csv");
  ASSERT_TRUE(r.malformed.empty()) << r.malformed[0].reason;
  ExpectSameValues(r.table, t);
}

TEST(CsvWriterTest, NaNIsWrittenQuotedAndReadsBackAsNaN) {
  Column f("x", DataType::kFloat64);
  f.AppendDouble(1.5);
  f.AppendDouble(std::nan(""));
  f.AppendDouble(-std::numeric_limits<double>::infinity());
  f.AppendNull();
  Table t;
  t.AddColumn(std::move(f));
  t.AddColumn(Strings("y", {"a", "b", "c", "d"}));
  EXPECT_EQ(ToCsv(t), "x,y\n1.5,a\n\"NaN\",b\n-inf,c\n,d\n");
  ExpectSameValues(ReadCsvBuffer(ToCsv(t), "t.csv").table, t);
}

TEST(CsvWriterTest, ExactTextAndQuoting) {
  Column i("n", DataType::kInt64);
  Column f("v", DataType::kFloat64);
  for (int r = 0; r < 5; ++r) {
    i.AppendInt(r - 1);
    f.AppendDouble(r * 0.5);
  }
  Table t;
  t.AddColumn(std::move(i));
  t.AddColumn(std::move(f));
  t.AddColumn(Strings("s", {"a,b", "q\"q", "", nullptr, " x"}));
  t.AddColumn(Strings("a b", {"NA", "nan", "NaNa", "line\nend", "x "}));
  EXPECT_EQ(ToCsv(t),
            "n,v,s,a b\n"
            "-1,0.0,\"a,b\",\"NA\"\n"
            "0,0.5,\"q\"\"q\",\"nan\"\n"
            "1,1.0,\"\",NaNa\n"
            "2,1.5,,\"line\nend\"\n"
            "3,2.0,\" x\",\"x \"\n");
}

TEST(CsvWriterTest, Options) {
  Table t;
  t.AddColumn(Strings("a;b", {"x;y", "NA", nullptr, ""}));
  t.AddColumn(Strings("c", {"1", "2", "3", nullptr}));
  CsvWriteOptions o;
  o.delimiter = ';';
  o.header = false;
  o.null_text = "NA";
  EXPECT_EQ(ToCsv(t, o), "\"x;y\";1\n\"NA\";2\nNA;3\n\"\";NA\n");
  o.delimiter = '\t';
  o.header = true;
  o.null_text = "-";
  EXPECT_EQ(ToCsv(t, o), "a;b\tc\nx;y\t1\n\"NA\"\t2\n-\t3\n\"\"\t-\n");
  o.delimiter = '"';
  ExpectError(ErrorCode::kInvalidArgument, {"delimiter"}, [&] { ToCsv(t, o); });
}

TEST(CsvWriterTest, OneColumnNullIsNotABlankLine) {
  Table t;
  t.AddColumn(Strings("s", {"a", nullptr, "b"}));
  EXPECT_EQ(ToCsv(t), "s\na\n\"\"\nb\n");
  EXPECT_EQ(ReadCsvBuffer(ToCsv(t), "t.csv").table.num_rows(), 3u);
}

TEST(CsvWriterTest, NoColumnsWriteNothing) {
  Table t;
  t.set_line_numbers({1, 2});
  EXPECT_EQ(ToCsv(t), "");
}

TEST(CsvWriterTest, LargeTableStreamsAndFileAreTheSame) {
  Column i("i", DataType::kInt64);
  Column s("s", DataType::kString);
  for (int r = 0; r < 200'000; ++r) {
    i.AppendInt(r);
    s.AppendString(r % 10 == 0 ? "with, comma" : "text");
  }
  Table t;
  t.AddColumn(std::move(i));
  t.AddColumn(std::move(s));
  std::string text = ToCsv(t);
  EXPECT_GT(text.size(), size_t{2} << 20);  // More than one flush.
  TempDir dir;
  WriteCsv(t, dir.path() / "big.csv");
  EXPECT_EQ(ReadFile(dir.path() / "big.csv"), text);
  auto r = ReadCsv(dir.path() / "big.csv");
  ExpectSameValues(r.table, t);
}

TEST(CsvWriterTest, PathRoundTripAndReplace) {
  TempDir dir;
  auto path = dir.path() / "out.csv";
  Table t = AllTypes();
  WriteCsv(t, path);
  ExpectSameValues(ReadCsv(path).table, t);
  Table small;
  small.AddColumn(Strings("z", {"1"}));
  WriteCsv(small, path);
  EXPECT_EQ(ReadFile(path), "z\n1\n");
  EXPECT_EQ(test::EntriesOf(dir.path()), (std::set<std::string>{"out.csv"}));  // No temp left.
}

TEST(CsvWriterTest, MissingFolderIsAnErrorNamingThePath) {
  TempDir dir;
  auto path = dir.path() / "missing" / "out.csv";
  ExpectError(ErrorCode::kInvalidArgument, {path.string()}, [&] { WriteCsv(AllTypes(), path); });
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(CsvWriterTest, FailingStreamIsDataLoss) {
  std::ostringstream out;
  out.setstate(std::ios::badbit);
  ExpectError(ErrorCode::kDataLoss, {"CSV"}, [&] { WriteCsv(AllTypes(), out); });
}

}  // namespace
}  // namespace mloop::table
