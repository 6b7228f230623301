#include "table/jsonl_reader.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/testing.h"

namespace mloop::table {
namespace {

using test::ExpectError;

TEST(JsonlReaderTest, UnionOfKeysAndTypes) {
  auto r = ReadJsonlBuffer(
      "{\"a\": 1, \"b\": \"x\", \"c\": true}\n"
      "{\"a\": 2.5, \"d\": \"2024-01-02\", \"b\": \"x\"}\n"
      "\n"
      "{\"a\": null, \"e\": [1, 2], \"d\": \"2024-02-03\"}\n",
      "t.jsonl");
  const Table& t = r.table;
  ASSERT_EQ(t.num_rows(), 3u);
  ASSERT_EQ(t.num_columns(), 5u);
  EXPECT_EQ(t.column(0).name(), "a");
  EXPECT_EQ(t.column(0).type(), DataType::kFloat64);
  EXPECT_DOUBLE_EQ(t.column(0).DoubleAt(0), 1.0);
  EXPECT_TRUE(t.column(0).IsNull(2));
  EXPECT_TRUE(t.column(1).IsNull(2));  // Missing key.
  EXPECT_EQ(t.column(2).type(), DataType::kBool);
  EXPECT_EQ(t.column(3).name(), "d");
  EXPECT_EQ(t.column(3).type(), DataType::kDate);
  EXPECT_EQ(t.column(4).StringAt(2), "[1,2]");
  EXPECT_EQ(t.line_numbers(), (std::vector<int64_t>{1, 2, 4}));
}

TEST(JsonlReaderTest, MalformedLinesAreReported) {
  auto r = ReadJsonlBuffer("{\"a\": 1}\n{\"a\": \n[1,2]\n{\"a\": \"\xff\"}\n{\"a\": 3}\n", "t");
  ASSERT_EQ(r.table.num_rows(), 2u);
  ASSERT_EQ(r.malformed.size(), 3u);
  EXPECT_EQ(r.malformed[0].line, 2);
  EXPECT_EQ(r.malformed[0].reason, "invalid JSON");
  EXPECT_EQ(r.malformed[1].line, 3);
  EXPECT_EQ(r.malformed[1].reason, "expected a JSON object, found array");
  EXPECT_EQ(r.malformed[2].reason, "invalid UTF-8");
}

TEST(JsonlReaderTest, FixedTypes) {
  JsonlOptions o;
  o.column_types["a"] = DataType::kInt64;
  auto r = ReadJsonlBuffer("{\"a\": 1, \"b\": 1}\n{\"a\": \"x\", \"b\": 2}\n{\"a\": 3, \"b\": 3}\n",
                           "t", o);
  ASSERT_EQ(r.table.num_rows(), 2u);
  ASSERT_EQ(r.malformed.size(), 1u);
  EXPECT_EQ(r.malformed[0].line, 2);
  EXPECT_EQ(r.malformed[0].reason, "key 'a': x is not a valid int64");
  EXPECT_EQ(r.table.column(1).IntAt(1), 3);
}

TEST(JsonlReaderTest, EmptyIsAnError) {
  ExpectError(ErrorCode::kInvalidArgument, {"t.jsonl: empty file"},
              [] { ReadJsonlBuffer("", "t.jsonl"); });
  EXPECT_THROW(ReadJsonlBuffer("\n  \n", "t"), Error);
}

}  // namespace
}  // namespace mloop::table
