#include "table/jsonl_writer.h"

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
#include "table/jsonl_reader.h"

namespace mloop::table {
namespace {

using test::ExpectError;
using test::TempDir;

std::string ToJsonl(const Table& t) {
  std::ostringstream out;
  WriteJsonl(t, out);
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

Table AllTypes() {
  Column i("id", DataType::kInt64);
  Column f("price", DataType::kFloat64);
  Column b("ok", DataType::kBool);
  Column d("day", DataType::kDate);
  Column ts("at", DataType::kTimestamp);
  const std::vector<double> doubles = {1.0, 0.1, -2.5e-300, 1e300, 123456789.125, -0.0, 7};
  for (size_t r = 0; r < doubles.size(); ++r) {
    i.AppendInt(r == 6 ? std::numeric_limits<int64_t>::min() : static_cast<int64_t>(r) * 1000 - 3);
    f.AppendDouble(doubles[r]);
    b.AppendBool(r % 3 == 0);
    d.AppendInt(static_cast<int64_t>(r) * 400 - 800);
    ts.AppendInt(int64_t{1'700'000'000'123'456} + static_cast<int64_t>(r) * 1'000'000);
  }
  for (Column* c : {&i, &f, &b, &d, &ts}) c->AppendNull();
  Column s = Strings("name \"q\" \\ é", {"plain", "say \"hi\"", "back\\slash", "line1\nline2\r\t",
                                         "\x01\x1f\b\f", "", "héllo 世界 🙂", nullptr});
  Column cat = Strings("color", {"red", "blue", "red", "x\"y", "red", "blue", "red", nullptr},
                       DataType::kCategory);
  Table t;
  for (Column* c : {&i, &f, &b, &s, &cat, &d, &ts}) t.AddColumn(std::move(*c));
  return t;
}

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
      EXPECT_EQ(g.ValueToString(r), w.ValueToString(r)) << w.name() << " row " << r;
    }
  }
}

TEST(JsonlWriterTest, RoundTripsEveryType) {
  Table t = AllTypes();
  auto r = ReadJsonlBuffer(ToJsonl(t), "written.jsonl");
  ASSERT_TRUE(r.malformed.empty()) << r.malformed[0].reason;
  ExpectSameValues(r.table, t);
}

TEST(JsonlWriterTest, ExactText) {
  Column i("n", DataType::kInt64);
  Column f("v", DataType::kFloat64);
  Column b("b", DataType::kBool);
  Column d("d", DataType::kDate);
  Column ts("t", DataType::kTimestamp);
  i.AppendInt(-4);
  f.AppendDouble(2);
  b.AppendBool(true);
  d.AppendInt(0);
  ts.AppendInt(1'500'000);
  i.AppendNull();
  f.AppendDouble(0.25);
  b.AppendNull();
  d.AppendNull();
  ts.AppendInt(0);
  Table t;
  for (Column* c : {&i, &f, &b, &d, &ts}) t.AddColumn(std::move(*c));
  t.AddColumn(Strings("s\n", {"a\"\\\x02", nullptr}));
  EXPECT_EQ(
      ToJsonl(t),
      "{\"n\":-4,\"v\":2.0,\"b\":true,\"d\":\"1970-01-01\",\"t\":\"1970-01-01T00:00:01.500000Z\","
      "\"s\\n\":\"a\\\"\\\\\\u0002\"}\n"
      "{\"n\":null,\"v\":0.25,\"b\":null,\"d\":null,\"t\":\"1970-01-01T00:00:00Z\","
      "\"s\\n\":null}\n");
}

TEST(JsonlWriterTest, NaNAndInfinitiesAreNull) {
  Column f("x", DataType::kFloat64);
  f.AppendDouble(std::nan(""));
  f.AppendDouble(std::numeric_limits<double>::infinity());
  f.AppendDouble(-std::numeric_limits<double>::infinity());
  f.AppendDouble(1e21);
  Table t;
  t.AddColumn(std::move(f));
  EXPECT_EQ(ToJsonl(t), "{\"x\":null}\n{\"x\":null}\n{\"x\":null}\n{\"x\":1e+21}\n");
  auto r = ReadJsonlBuffer(ToJsonl(t), "t.jsonl");
  ASSERT_EQ(r.table.num_rows(), 4u);
  EXPECT_EQ(r.table.column(0).type(), DataType::kFloat64);
  EXPECT_EQ(r.table.column(0).null_count(), 3u);
  EXPECT_EQ(r.table.column(0).DoubleAt(3), 1e21);
}

TEST(JsonlWriterTest, NoColumnsWriteEmptyObjects) {
  Table t;
  t.set_line_numbers({1, 2});
  EXPECT_EQ(ToJsonl(t), "{}\n{}\n");
}

TEST(JsonlWriterTest, PathRoundTripAndStreamAgree) {
  TempDir dir;
  auto path = dir.path() / "out.jsonl";
  Table t = AllTypes();
  WriteJsonl(t, path);
  EXPECT_EQ(ReadFile(path), ToJsonl(t));
  ExpectSameValues(ReadJsonl(path).table, t);
  EXPECT_EQ(test::EntriesOf(dir.path()), (std::set<std::string>{"out.jsonl"}));
}

TEST(JsonlWriterTest, LargeTableStreamsInPieces) {
  Column s("s", DataType::kString);
  for (int r = 0; r < 100'000; ++r) s.AppendString("value number " + std::to_string(r));
  Table t;
  t.AddColumn(std::move(s));
  std::string text = ToJsonl(t);
  EXPECT_GT(text.size(), size_t{2} << 20);
  ExpectSameValues(ReadJsonlBuffer(text, "big.jsonl").table, t);
}

TEST(JsonlWriterTest, MissingFolderIsAnErrorNamingThePath) {
  TempDir dir;
  auto path = dir.path() / "missing" / "out.jsonl";
  ExpectError(ErrorCode::kInvalidArgument, {path.string()}, [&] { WriteJsonl(AllTypes(), path); });
}

TEST(JsonlWriterTest, FailingStreamIsDataLoss) {
  std::ostringstream out;
  out.setstate(std::ios::badbit);
  ExpectError(ErrorCode::kDataLoss, {"JSON Lines"}, [&] { WriteJsonl(AllTypes(), out); });
}

}  // namespace
}  // namespace mloop::table
