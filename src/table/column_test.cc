// Tests of table/schema.h, table/column.h (Bitmap, Column) and table/table.h.
#include "table/column.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/testing.h"
#include "core/time.h"
#include "table/schema.h"
#include "table/table.h"

namespace mloop::table {
namespace {

using test::CatchError;
using test::ExpectError;

const DataType kAllTypes[] = {DataType::kInt64,    DataType::kFloat64,  DataType::kBool,
                              DataType::kString,   DataType::kCategory, DataType::kDate,
                              DataType::kTimestamp};

// ---------------------------------------------------------------------------
// Schema: data types and roles

TEST(SchemaDataTypeTest, NamesRoundTrip) {
  const std::pair<DataType, const char*> kNames[] = {
      {DataType::kInt64, "int64"},         {DataType::kFloat64, "float64"},
      {DataType::kBool, "bool"},           {DataType::kString, "string"},
      {DataType::kCategory, "category"},   {DataType::kDate, "date"},
      {DataType::kTimestamp, "timestamp"},
  };
  for (const auto& [type, name] : kNames) {
    EXPECT_EQ(DataTypeName(type), name);
    EXPECT_EQ(DataTypeFromName(name), type) << name;
  }
  for (DataType type : kAllTypes) {
    EXPECT_EQ(DataTypeFromName(DataTypeName(type)), type);
  }
}

TEST(SchemaDataTypeTest, Aliases) {
  EXPECT_EQ(DataTypeFromName("int"), DataType::kInt64);
  EXPECT_EQ(DataTypeFromName("integer"), DataType::kInt64);
  EXPECT_EQ(DataTypeFromName("float"), DataType::kFloat64);
  EXPECT_EQ(DataTypeFromName("double"), DataType::kFloat64);
  EXPECT_EQ(DataTypeFromName("boolean"), DataType::kBool);
  EXPECT_EQ(DataTypeFromName("str"), DataType::kString);
  EXPECT_EQ(DataTypeFromName("text"), DataType::kString);
  EXPECT_EQ(DataTypeFromName("datetime"), DataType::kTimestamp);
}

TEST(SchemaDataTypeTest, UnknownNames) {
  for (const char* name : {"", "INT64", "Int64", "int32", "number", "bytes", "categorical",
                           " int64", "int64 ", "time"}) {
    EXPECT_EQ(DataTypeFromName(name), std::nullopt) << "'" << name << "'";
  }
}

TEST(SchemaDataTypeTest, Predicates) {
  EXPECT_TRUE(IsNumeric(DataType::kInt64));
  EXPECT_TRUE(IsNumeric(DataType::kFloat64));
  EXPECT_TRUE(IsTextual(DataType::kString));
  EXPECT_TRUE(IsTextual(DataType::kCategory));
  EXPECT_TRUE(IsTemporal(DataType::kDate));
  EXPECT_TRUE(IsTemporal(DataType::kTimestamp));
  for (DataType type : kAllTypes) {
    int kinds = IsNumeric(type) + IsTextual(type) + IsTemporal(type);
    EXPECT_EQ(kinds, type == DataType::kBool ? 0 : 1) << DataTypeName(type);
  }
}

TEST(SchemaColumnRoleTest, NamesRoundTrip) {
  const std::pair<ColumnRole, const char*> kNames[] = {
      {ColumnRole::kFeature, "feature"},
      {ColumnRole::kLabel, "label"},
      {ColumnRole::kId, "id"},
      {ColumnRole::kEntity, "entity"},
      {ColumnRole::kEventTime, "event_time"},
      {ColumnRole::kSensitive, "sensitive"},
      {ColumnRole::kIgnore, "ignore"},
  };
  for (const auto& [role, name] : kNames) {
    EXPECT_EQ(ColumnRoleName(role), name);
    EXPECT_EQ(ColumnRoleFromName(name), role) << name;
  }
  for (const char* name : {"", "Feature", "target", "event-time", "eventtime"}) {
    EXPECT_EQ(ColumnRoleFromName(name), std::nullopt) << "'" << name << "'";
  }
}

TEST(SchemaTest, FieldDefaultsAndIndexOf) {
  Field f;
  EXPECT_EQ(f.type, DataType::kString);
  EXPECT_EQ(f.role, ColumnRole::kFeature);
  EXPECT_TRUE(f.nullable);

  Schema schema(
      {{"age", DataType::kInt64}, {"income", DataType::kFloat64, ColumnRole::kLabel, false}});
  schema.Add({"id", DataType::kString, ColumnRole::kId});
  ASSERT_EQ(schema.size(), 3u);
  EXPECT_EQ(schema.IndexOf("age"), 0);
  EXPECT_EQ(schema.IndexOf("income"), 1);
  EXPECT_EQ(schema.IndexOf("id"), 2);
  EXPECT_EQ(schema.IndexOf("missing"), -1);
  EXPECT_EQ(schema.IndexOf(""), -1);
  EXPECT_EQ(schema.field(1).role, ColumnRole::kLabel);
  EXPECT_FALSE(schema.field(1).nullable);

  Schema copy = schema;
  EXPECT_EQ(copy, schema);
  copy.mutable_field(0).role = ColumnRole::kSensitive;
  EXPECT_NE(copy, schema);
  EXPECT_EQ(copy.field(0).role, ColumnRole::kSensitive);
}

// ---------------------------------------------------------------------------
// Bitmap

// A reference bitmap: the bits as bools.
std::vector<bool> Bits(const Bitmap& b) {
  std::vector<bool> out;
  for (size_t i = 0; i < b.size(); ++i) out.push_back(b.Get(i));
  return out;
}

// Checks the documented word layout: enough words, and no bits set past size().
void ExpectWellFormed(const Bitmap& b) {
  ASSERT_EQ(b.words().size(), (b.size() + 63) / 64);
  if (b.size() & 63) {
    uint64_t tail = b.words().back() >> (b.size() & 63);
    EXPECT_EQ(tail, 0u) << "bits set past size " << b.size();
  }
}

Bitmap RandomBitmap(size_t n, std::mt19937_64& rng, std::vector<bool>* bits) {
  Bitmap b;
  for (size_t i = 0; i < n; ++i) {
    bool v = (rng() & 1) != 0;
    b.Append(v);
    bits->push_back(v);
  }
  return b;
}

TEST(BitmapTest, AppendGetSetAndCount) {
  Bitmap b;
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.CountSet(), 0u);
  EXPECT_TRUE(b.words().empty());
  for (int i = 0; i < 130; ++i) b.Append(i % 3 == 0);
  EXPECT_EQ(b.size(), 130u);
  EXPECT_EQ(b.CountSet(), 44u);  // 0, 3, ..., 129
  for (int i = 0; i < 130; ++i) EXPECT_EQ(b.Get(i), i % 3 == 0) << i;
  ExpectWellFormed(b);

  b.Set(1, true);
  b.Set(0, false);
  b.Set(129, false);
  b.Set(64, true);
  EXPECT_TRUE(b.Get(1));
  EXPECT_FALSE(b.Get(0));
  EXPECT_FALSE(b.Get(129));
  EXPECT_TRUE(b.Get(64));
  EXPECT_EQ(b.CountSet(), 44u + 1 - 1 - 1 + 1);
}

TEST(BitmapTest, AppendManyAtEveryAlignment) {
  for (size_t prefix : {0, 1, 5, 63, 64, 65, 127, 128}) {
    for (size_t n : {0, 1, 2, 63, 64, 65, 128, 200}) {
      for (bool v : {false, true}) {
        Bitmap b;
        std::vector<bool> expected;
        for (size_t i = 0; i < prefix; ++i) {
          b.Append(i % 2 == 1);
          expected.push_back(i % 2 == 1);
        }
        b.AppendMany(v, n);
        expected.insert(expected.end(), n, v);
        b.Append(!v);  // A bit after the run lands in the right place too.
        expected.push_back(!v);
        SCOPED_TRACE(::testing::Message() << "prefix " << prefix << " n " << n << " v " << v);
        EXPECT_EQ(b.size(), prefix + n + 1);
        EXPECT_EQ(Bits(b), expected);
        size_t set = 0;
        for (bool bit : expected) set += bit;
        EXPECT_EQ(b.CountSet(), set);
        ExpectWellFormed(b);
      }
    }
  }
}

TEST(BitmapTest, AppendBitmapAtUnalignedOffsets) {
  std::mt19937_64 rng(42);
  for (size_t dest_size : {0, 1, 7, 63, 64, 65, 100, 127, 128, 129}) {
    for (size_t src_size : {0, 1, 2, 63, 64, 65, 128, 130, 300}) {
      std::vector<bool> expected;
      Bitmap dest = RandomBitmap(dest_size, rng, &expected);
      std::vector<bool> src_bits;
      Bitmap src = RandomBitmap(src_size, rng, &src_bits);
      dest.AppendBitmap(src);
      expected.insert(expected.end(), src_bits.begin(), src_bits.end());
      SCOPED_TRACE(::testing::Message() << "dest " << dest_size << " src " << src_size);
      EXPECT_EQ(dest.size(), dest_size + src_size);
      EXPECT_EQ(Bits(dest), expected);
      size_t set = 0;
      for (bool bit : expected) set += bit;
      EXPECT_EQ(dest.CountSet(), set);
      ExpectWellFormed(dest);
      // Appending after the joined bitmap still works.
      dest.Append(true);
      EXPECT_TRUE(dest.Get(dest_size + src_size));
      ExpectWellFormed(dest);
    }
  }
}

TEST(BitmapTest, AppendBitmapOfAllOnesKeepsTailClear) {
  for (size_t dest_size : {1, 30, 63, 65}) {
    Bitmap dest;
    dest.AppendMany(false, dest_size);
    Bitmap ones;
    ones.AppendMany(true, 70);
    dest.AppendBitmap(ones);
    EXPECT_EQ(dest.size(), dest_size + 70);
    EXPECT_EQ(dest.CountSet(), 70u);
    ExpectWellFormed(dest);
  }
}

TEST(BitmapTest, FromWordsMasksBitsPastSize) {
  Bitmap b = Bitmap::FromWords({~uint64_t{0}, ~uint64_t{0}}, 70);
  EXPECT_EQ(b.size(), 70u);
  EXPECT_EQ(b.CountSet(), 70u);
  EXPECT_EQ(b.words()[1], (uint64_t{1} << 6) - 1);
  ExpectWellFormed(b);

  Bitmap exact = Bitmap::FromWords({0x5, 0x8000000000000000}, 128);
  EXPECT_EQ(exact.CountSet(), 3u);
  EXPECT_TRUE(exact.Get(0));
  EXPECT_FALSE(exact.Get(1));
  EXPECT_TRUE(exact.Get(2));
  EXPECT_TRUE(exact.Get(127));

  Bitmap empty = Bitmap::FromWords({}, 0);
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.CountSet(), 0u);
}

TEST(BitmapTest, FromWordsRejectsWrongWordCount) {
  Error too_few = CatchError([] { Bitmap::FromWords({1}, 65); });
  EXPECT_EQ(too_few.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(too_few.message(), "bitmap: 1 words cannot hold 65 bits");

  Error too_many = CatchError([] { Bitmap::FromWords({1, 2}, 64); });
  EXPECT_EQ(too_many.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(too_many.message(), "bitmap: 2 words cannot hold 64 bits");

  Error none = CatchError([] { Bitmap::FromWords({}, 1); });
  EXPECT_EQ(none.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(none.message(), "bitmap: 0 words cannot hold 1 bits");
}

TEST(BitmapTest, FromWordsThenAppend) {
  Bitmap b = Bitmap::FromWords({~uint64_t{0}}, 3);
  b.Append(false);
  b.Append(true);
  EXPECT_EQ(Bits(b), (std::vector<bool>{true, true, true, false, true}));
  ExpectWellFormed(b);
}

// ---------------------------------------------------------------------------
// Column: appends and reads

TEST(ColumnTest, NewColumnIsEmpty) {
  for (DataType type : kAllTypes) {
    Column c("x", type);
    EXPECT_EQ(c.name(), "x");
    EXPECT_EQ(c.type(), type);
    EXPECT_EQ(c.size(), 0u);
    EXPECT_EQ(c.null_count(), 0u);
  }
  Column s("s", DataType::kString);
  EXPECT_EQ(s.offsets(), std::vector<uint64_t>{0});
}

TEST(ColumnTest, SetName) {
  Column c("old", DataType::kInt64);
  c.set_name("new");
  EXPECT_EQ(c.name(), "new");
}

TEST(ColumnTest, Int64AppendsAndNulls) {
  Column c("age", DataType::kInt64);
  c.AppendInt(39);
  c.AppendNull();
  c.AppendInt(-5);
  c.AppendInt(std::numeric_limits<int64_t>::min());
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c.null_count(), 1u);
  EXPECT_TRUE(c.IsValid(0));
  EXPECT_TRUE(c.IsNull(1));
  EXPECT_FALSE(c.IsValid(1));
  EXPECT_EQ(c.IntAt(0), 39);
  EXPECT_EQ(c.IntAt(1), 0);  // A null slot holds 0.
  EXPECT_EQ(c.IntAt(2), -5);
  EXPECT_EQ(c.ints().ToWide(),
            (std::vector<int64_t>{39, 0, -5, std::numeric_limits<int64_t>::min()}));
  EXPECT_DOUBLE_EQ(c.NumberAt(2), -5.0);
}

TEST(ColumnTest, Float64AppendsAndNulls) {
  Column c("income", DataType::kFloat64);
  c.AppendDouble(1.5);
  c.AppendNull();
  c.AppendDouble(std::nan(""));  // NaN is a value, not a null.
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c.null_count(), 1u);
  EXPECT_DOUBLE_EQ(c.DoubleAt(0), 1.5);
  EXPECT_EQ(c.DoubleAt(1), 0.0);
  EXPECT_TRUE(c.IsValid(2));
  EXPECT_TRUE(std::isnan(c.DoubleAt(2)));
  EXPECT_DOUBLE_EQ(c.NumberAt(0), 1.5);
  EXPECT_EQ(c.doubles().size(), 3u);
}

TEST(ColumnTest, BoolAppendsAndNulls) {
  Column c("flag", DataType::kBool);
  c.AppendBool(true);
  c.AppendBool(false);
  c.AppendNull();
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c.null_count(), 1u);
  EXPECT_TRUE(c.BoolAt(0));
  EXPECT_FALSE(c.BoolAt(1));
  EXPECT_FALSE(c.BoolAt(2));
  EXPECT_EQ(c.bools(), (std::vector<uint8_t>{1, 0, 0}));
  EXPECT_EQ(c.NumberAt(0), 1.0);
  EXPECT_EQ(c.NumberAt(1), 0.0);
}

TEST(ColumnTest, DateAndTimestampHoldInts) {
  Column d("day", DataType::kDate);
  d.AppendInt(19782);
  d.AppendNull();
  d.AppendInt(-1);
  EXPECT_EQ(d.size(), 3u);
  EXPECT_EQ(d.null_count(), 1u);
  EXPECT_EQ(d.IntAt(0), 19782);
  EXPECT_EQ(d.IntAt(2), -1);
  EXPECT_DOUBLE_EQ(d.NumberAt(0), 19782.0);

  Column t("at", DataType::kTimestamp);
  t.AppendInt(1709210096000000);
  t.AppendNull();
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.null_count(), 1u);
  EXPECT_EQ(t.IntAt(0), 1709210096000000);
  EXPECT_DOUBLE_EQ(t.NumberAt(0), 1709210096000000.0);
}

TEST(ColumnTest, StringAppendsAndNulls) {
  Column c("name", DataType::kString);
  c.AppendString("alpha");
  c.AppendNull();
  c.AppendString("");
  c.AppendString(std::string_view("n\0l", 3));
  c.AppendString("z");
  ASSERT_EQ(c.size(), 5u);
  EXPECT_EQ(c.null_count(), 1u);
  EXPECT_EQ(c.StringAt(0), "alpha");
  EXPECT_EQ(c.StringAt(1), "");  // A null slot holds the empty string.
  EXPECT_TRUE(c.IsNull(1));
  EXPECT_EQ(c.StringAt(2), "");
  EXPECT_TRUE(c.IsValid(2));  // An empty string is a value.
  EXPECT_EQ(c.StringAt(3), std::string_view("n\0l", 3));
  EXPECT_EQ(c.StringAt(4), "z");
  EXPECT_EQ(c.offsets(), (std::vector<uint64_t>{0, 5, 5, 5, 8, 9}));
  EXPECT_EQ(c.chars(), std::string("alphan\0lz", 9));
  EXPECT_TRUE(std::isnan(c.NumberAt(0)));
}

TEST(ColumnTest, CategoryDictionaryDeduplicates) {
  Column c("workclass", DataType::kCategory);
  for (const char* v : {"Private", "State-gov", "Private", "", "State-gov"}) {
    c.AppendString(v);
  }
  c.AppendNull();
  c.AppendString("Self-emp");
  ASSERT_EQ(c.size(), 7u);
  EXPECT_EQ(c.null_count(), 1u);
  EXPECT_EQ(c.dictionary(), (std::vector<std::string>{"Private", "State-gov", "", "Self-emp"}));
  EXPECT_EQ(c.codes().ToWide(), (std::vector<int32_t>{0, 1, 0, 2, 1, 0, 3}));
  EXPECT_EQ(c.StringAt(0), "Private");
  EXPECT_EQ(c.StringAt(1), "State-gov");
  EXPECT_EQ(c.StringAt(3), "");
  EXPECT_EQ(c.StringAt(6), "Self-emp");
  EXPECT_EQ(c.CodeAt(4), 1);
  EXPECT_TRUE(c.IsNull(5));
  EXPECT_TRUE(std::isnan(c.NumberAt(0)));
}

TEST(ColumnTest, CategoryAppendCodeAndLaterAppendString) {
  Column c = Column::FromCategory("c", {1, 0}, {"a", "b"}, Bitmap::FromWords({0b11}, 2));
  c.AppendCode(1);
  c.AppendString("a");  // Found in the dictionary that came from FromCategory.
  c.AppendString("c");
  EXPECT_EQ(c.codes().ToWide(), (std::vector<int32_t>{1, 0, 1, 0, 2}));
  EXPECT_EQ(c.dictionary(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(c.StringAt(2), "b");
}

TEST(ColumnTest, ReserveKeepsSize) {
  for (DataType type : kAllTypes) {
    Column c("r", type);
    c.Reserve(1000);
    EXPECT_EQ(c.size(), 0u);
    c.AppendNull();
    EXPECT_EQ(c.size(), 1u);
    EXPECT_EQ(c.null_count(), 1u);
  }
}

TEST(ColumnTest, CopiesAreIndependentValues) {
  Column original("cat", DataType::kCategory);
  original.AppendString("a");
  original.AppendString("b");
  Column copy = original;
  copy.AppendString("c");
  original.AppendString("d");
  copy.AppendString("d");
  original.AppendString("c");
  EXPECT_EQ(original.dictionary(), (std::vector<std::string>{"a", "b", "d", "c"}));
  EXPECT_EQ(original.codes().ToWide(), (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(copy.dictionary(), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(copy.codes().ToWide(), (std::vector<int32_t>{0, 1, 2, 3}));
}

TEST(ColumnTest, CopiesCanBeAppendedOnSeveralThreads) {
  // A Column is a value: copies of one prototype, each appended by its own
  // thread, share nothing mutable.
  Column prototype("cat", DataType::kCategory);
  for (int i = 0; i < 10; ++i) prototype.AppendString("v" + std::to_string(i));
  std::vector<Column> copies(4, prototype);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < copies.size(); ++t) {
    threads.emplace_back([&copies, t] {
      for (int i = 0; i < 2000; ++i) {
        copies[t].AppendString("t" + std::to_string(t) + "_" + std::to_string(i % 300));
      }
    });
  }
  for (auto& th : threads) th.join();
  for (size_t t = 0; t < copies.size(); ++t) {
    const Column& c = copies[t];
    ASSERT_EQ(c.size(), 2010u);
    ASSERT_EQ(c.dictionary().size(), 310u);
    for (size_t i = 10; i < c.size(); ++i) {
      ASSERT_EQ(c.StringAt(i), "t" + std::to_string(t) + "_" + std::to_string((i - 10) % 300));
    }
  }
  EXPECT_EQ(prototype.dictionary().size(), 10u);
}

// ---------------------------------------------------------------------------
// Column: AppendFrom and AppendColumn

TEST(ColumnTest, AppendFromEachType) {
  Column ints("i", DataType::kInt64);
  ints.AppendInt(7);
  ints.AppendNull();
  Column doubles("d", DataType::kFloat64);
  doubles.AppendDouble(2.5);
  doubles.AppendNull();
  Column bools("b", DataType::kBool);
  bools.AppendBool(true);
  bools.AppendNull();
  Column strings("s", DataType::kString);
  strings.AppendString("hello");
  strings.AppendNull();
  Column cats("c", DataType::kCategory);
  cats.AppendString("x");
  cats.AppendNull();

  for (const Column* src : {&ints, &doubles, &bools, &strings, &cats}) {
    Column dst("out", src->type());
    dst.AppendFrom(*src, 1);  // null
    dst.AppendFrom(*src, 0);
    ASSERT_EQ(dst.size(), 2u);
    EXPECT_TRUE(dst.IsNull(0)) << DataTypeName(src->type());
    EXPECT_TRUE(dst.IsValid(1)) << DataTypeName(src->type());
    EXPECT_EQ(dst.ValueToString(1), src->ValueToString(0));
  }
}

TEST(ColumnTest, AppendFromCategoryLooksUpText) {
  Column src("c", DataType::kCategory);
  src.AppendString("b");
  src.AppendString("a");
  Column dst("c", DataType::kCategory);
  dst.AppendString("a");
  dst.AppendFrom(src, 0);
  dst.AppendFrom(src, 1);
  EXPECT_EQ(dst.dictionary(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(dst.codes().ToWide(), (std::vector<int32_t>{0, 1, 0}));
}

TEST(ColumnTest, AppendColumnInts) {
  Column a("n", DataType::kInt64);
  a.AppendInt(1);
  a.AppendNull();
  Column b("n", DataType::kInt64);
  b.AppendNull();
  b.AppendInt(4);
  a.AppendColumn(b);
  EXPECT_EQ(a.ints().ToWide(), (std::vector<int64_t>{1, 0, 0, 4}));
  EXPECT_EQ(Bits(a.validity()), (std::vector<bool>{true, false, false, true}));
  EXPECT_EQ(a.null_count(), 2u);
}

TEST(ColumnTest, AppendColumnDoublesBoolsDatesTimestamps) {
  Column d("d", DataType::kFloat64);
  d.AppendDouble(0.5);
  Column d2("d", DataType::kFloat64);
  d2.AppendDouble(-1.0);
  d2.AppendNull();
  d.AppendColumn(d2);
  EXPECT_EQ(d.doubles(), (std::vector<double>{0.5, -1.0, 0.0}));
  EXPECT_EQ(d.null_count(), 1u);

  Column b("b", DataType::kBool);
  b.AppendBool(true);
  Column b2("b", DataType::kBool);
  b2.AppendNull();
  b2.AppendBool(false);
  b.AppendColumn(b2);
  EXPECT_EQ(b.bools(), (std::vector<uint8_t>{1, 0, 0}));
  EXPECT_TRUE(b.IsNull(1));

  for (DataType type : {DataType::kDate, DataType::kTimestamp}) {
    Column t("t", type);
    t.AppendInt(10);
    Column t2("t", type);
    t2.AppendInt(-20);
    t.AppendColumn(t2);
    EXPECT_EQ(t.ints().ToWide(), (std::vector<int64_t>{10, -20}));
  }
}

TEST(ColumnTest, AppendColumnStringsRebasesOffsets) {
  Column a("s", DataType::kString);
  a.AppendString("ab");
  a.AppendNull();
  a.AppendString("cde");
  Column b("s", DataType::kString);
  b.AppendString("");
  b.AppendString("fg");
  b.AppendNull();
  b.AppendString("h");
  a.AppendColumn(b);
  ASSERT_EQ(a.size(), 7u);
  EXPECT_EQ(a.offsets(), (std::vector<uint64_t>{0, 2, 2, 5, 5, 7, 7, 8}));
  EXPECT_EQ(a.chars(), "abcdefgh");
  const char* expected[] = {"ab", "", "cde", "", "fg", "", "h"};
  for (size_t i = 0; i < 7; ++i) EXPECT_EQ(a.StringAt(i), expected[i]) << i;
  EXPECT_EQ(Bits(a.validity()), (std::vector<bool>{true, false, true, true, true, false, true}));
  EXPECT_EQ(a.null_count(), 2u);
}

TEST(ColumnTest, AppendColumnStringsIntoAndFromEmpty) {
  Column empty("s", DataType::kString);
  Column b("s", DataType::kString);
  b.AppendString("xy");
  b.AppendNull();
  empty.AppendColumn(b);
  EXPECT_EQ(empty.offsets(), (std::vector<uint64_t>{0, 2, 2}));
  EXPECT_EQ(empty.StringAt(0), "xy");
  EXPECT_TRUE(empty.IsNull(1));

  Column nothing("s", DataType::kString);
  b.AppendColumn(nothing);
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(b.offsets(), (std::vector<uint64_t>{0, 2, 2}));
}

TEST(ColumnTest, AppendColumnCategoriesRecodesAcrossDictionaries) {
  Column a("c", DataType::kCategory);
  a.AppendString("red");
  a.AppendString("green");
  a.AppendNull();
  Column b("c", DataType::kCategory);
  b.AppendString("blue");
  b.AppendString("red");
  b.AppendNull();
  b.AppendString("green");
  b.AppendString("blue");
  a.AppendColumn(b);
  ASSERT_EQ(a.size(), 8u);
  EXPECT_EQ(a.dictionary(), (std::vector<std::string>{"red", "green", "blue"}));
  EXPECT_EQ(a.null_count(), 2u);
  const char* expected[] = {"red", "green", nullptr, "blue", "red", nullptr, "green", "blue"};
  for (size_t i = 0; i < a.size(); ++i) {
    if (i == 2 || i == 5) {
      EXPECT_TRUE(a.IsNull(i)) << i;
      EXPECT_EQ(a.ValueToString(i), "") << i;
    } else {
      EXPECT_TRUE(a.IsValid(i)) << i;
      EXPECT_EQ(a.StringAt(i), expected[i]) << i;
    }
  }
  // Codes index this column's dictionary, not b's.
  EXPECT_EQ(a.CodeAt(3), 2);
  EXPECT_EQ(a.CodeAt(4), 0);
  EXPECT_EQ(a.CodeAt(6), 1);
  EXPECT_EQ(a.CodeAt(7), 2);
}

TEST(ColumnTest, AppendColumnCategoryWithNullCodesOutsideTheDictionaryUse) {
  // A null row's code is not looked up, whatever it holds.
  Bitmap validity;
  validity.Append(true);
  validity.Append(false);
  Column b = Column::FromCategory("c", {0, 0}, {"only"}, validity);
  Column a("c", DataType::kCategory);
  a.AppendString("first");
  a.AppendColumn(b);
  EXPECT_EQ(a.dictionary(), (std::vector<std::string>{"first", "only"}));
  EXPECT_EQ(a.StringAt(1), "only");
  EXPECT_TRUE(a.IsNull(2));
  // Appends after the merge still find existing entries.
  a.AppendString("only");
  EXPECT_EQ(a.CodeAt(3), 1);
  EXPECT_EQ(a.dictionary().size(), 2u);
}

TEST(ColumnTest, AppendColumnOfItself) {
  Column s("s", DataType::kString);
  s.AppendString("a");
  s.AppendNull();
  s.AppendString("bc");
  s.AppendColumn(s);
  ASSERT_EQ(s.size(), 6u);
  EXPECT_EQ(s.chars(), "abcabc");
  for (size_t i : {0, 3}) EXPECT_EQ(s.StringAt(i), "a");
  for (size_t i : {2, 5}) EXPECT_EQ(s.StringAt(i), "bc");
  EXPECT_EQ(s.null_count(), 2u);

  Column c("c", DataType::kCategory);
  c.AppendString("x");
  c.AppendString("y");
  c.AppendColumn(c);
  EXPECT_EQ(c.codes().ToWide(), (std::vector<int32_t>{0, 1, 0, 1}));
  EXPECT_EQ(c.dictionary().size(), 2u);

  Column n("n", DataType::kInt64);
  for (int i = 0; i < 70; ++i) n.AppendInt(i);
  n.AppendNull();
  n.AppendColumn(n);
  ASSERT_EQ(n.size(), 142u);
  EXPECT_EQ(n.IntAt(71 + 69), 69);
  EXPECT_TRUE(n.IsNull(141));
  EXPECT_EQ(n.null_count(), 2u);
}

TEST(ColumnTest, AppendColumnOfOtherTypeIsInternalError) {
  Column a("age", DataType::kInt64);
  Column b("age", DataType::kFloat64);
  b.AppendDouble(1.0);
  ExpectError(ErrorCode::kInternal, {"'age'", "int64", "float64"}, [&] { a.AppendColumn(b); });
  EXPECT_EQ(a.size(), 0u);  // Unchanged.
}

// ---------------------------------------------------------------------------
// Column: ValueToString

TEST(ColumnTest, ValueToStringForEachType) {
  Column i("i", DataType::kInt64);
  i.AppendInt(-42);
  i.AppendInt(std::numeric_limits<int64_t>::max());
  EXPECT_EQ(i.ValueToString(0), "-42");
  EXPECT_EQ(i.ValueToString(1), "9223372036854775807");

  Column d("d", DataType::kFloat64);
  for (double v : {1.5, 0.1, -2.0, 1e20, 123456.789}) d.AppendDouble(v);
  EXPECT_EQ(d.ValueToString(0), "1.5");
  EXPECT_EQ(d.ValueToString(1),
            "0.1");  // Shortest text that reads back exactly.
  EXPECT_EQ(d.ValueToString(2), "-2");
  EXPECT_EQ(d.ValueToString(3), "1e+20");
  EXPECT_EQ(d.ValueToString(4), "123456.789");
  for (size_t k = 0; k < d.size(); ++k) {
    EXPECT_EQ(std::stod(d.ValueToString(k)), d.DoubleAt(k));
  }

  Column b("b", DataType::kBool);
  b.AppendBool(true);
  b.AppendBool(false);
  EXPECT_EQ(b.ValueToString(0), "true");
  EXPECT_EQ(b.ValueToString(1), "false");

  Column date("date", DataType::kDate);
  date.AppendInt(*ParseIsoDate("2024-02-29"));
  date.AppendInt(-1);
  EXPECT_EQ(date.ValueToString(0), "2024-02-29");
  EXPECT_EQ(date.ValueToString(1), "1969-12-31");

  Column ts("ts", DataType::kTimestamp);
  ts.AppendInt(*ParseIsoTimestamp("2024-02-29T12:34:56Z"));
  ts.AppendInt(*ParseIsoTimestamp("2024-02-29T12:34:56.5+01:00"));
  ts.AppendInt(-1);
  EXPECT_EQ(ts.ValueToString(0), "2024-02-29T12:34:56Z");
  EXPECT_EQ(ts.ValueToString(1), "2024-02-29T11:34:56.500000Z");
  EXPECT_EQ(ts.ValueToString(2), "1969-12-31T23:59:59.999999Z");

  Column s("s", DataType::kString);
  s.AppendString("a,b \"quoted\"");
  EXPECT_EQ(s.ValueToString(0), "a,b \"quoted\"");

  Column c("c", DataType::kCategory);
  c.AppendString("Private");
  EXPECT_EQ(c.ValueToString(0), "Private");
}

TEST(ColumnTest, ValueToStringOfNullIsEmptyForEveryType) {
  for (DataType type : kAllTypes) {
    Column c("n", type);
    c.AppendNull();
    EXPECT_EQ(c.ValueToString(0), "") << DataTypeName(type);
  }
}

// ---------------------------------------------------------------------------
// Column: bulk construction

TEST(ColumnTest, FromBuffers) {
  Bitmap two;
  two.Append(true);
  two.Append(false);

  Column ints = Column::FromInts("day", DataType::kDate, {5, 0}, two);
  EXPECT_EQ(ints.type(), DataType::kDate);
  EXPECT_EQ(ints.name(), "day");
  EXPECT_EQ(ints.ValueToString(0), "1970-01-06");
  EXPECT_TRUE(ints.IsNull(1));

  Column doubles = Column::FromDoubles("x", {0.25, 0.0}, two);
  EXPECT_EQ(doubles.type(), DataType::kFloat64);
  EXPECT_EQ(doubles.DoubleAt(0), 0.25);
  EXPECT_EQ(doubles.null_count(), 1u);

  Column bools = Column::FromBools("f", {1, 0}, two);
  EXPECT_EQ(bools.type(), DataType::kBool);
  EXPECT_TRUE(bools.BoolAt(0));

  Column strings = Column::FromStrings("s", {0, 3, 3}, "abc", two);
  EXPECT_EQ(strings.type(), DataType::kString);
  EXPECT_EQ(strings.StringAt(0), "abc");
  strings.AppendString("de");  // Appends continue after bulk buffers.
  EXPECT_EQ(strings.StringAt(2), "de");

  Column cats = Column::FromCategory("c", {1, 0}, {"p", "q"}, two);
  EXPECT_EQ(cats.type(), DataType::kCategory);
  EXPECT_EQ(cats.StringAt(0), "q");

  // An all-null category column may have an empty dictionary.
  Bitmap null_only;
  null_only.Append(false);
  Column all_null = Column::FromCategory("c", {0}, {}, null_only);
  EXPECT_EQ(all_null.null_count(), 1u);
}

TEST(ColumnTest, FromBuffersRejectSizeMismatchNamingTheColumn) {
  Bitmap three;
  three.AppendMany(true, 3);
  Error ints = CatchError([&] { Column::FromInts("age", DataType::kInt64, {1, 2}, three); });
  EXPECT_EQ(ints.code(), ErrorCode::kInternal);
  EXPECT_EQ(ints.message(), "column 'age': 2 values but 3 validity bits");

  Error doubles = CatchError([&] { Column::FromDoubles("x", {1.0}, three); });
  EXPECT_EQ(doubles.code(), ErrorCode::kInternal);
  EXPECT_EQ(doubles.message(), "column 'x': 1 values but 3 validity bits");

  ExpectError(ErrorCode::kInternal, {"'f'"}, [&] { Column::FromBools("f", {}, three); });

  Error strings = CatchError([&] { Column::FromStrings("s", {0, 1, 2}, "ab", three); });
  EXPECT_EQ(strings.code(), ErrorCode::kInternal);
  EXPECT_EQ(strings.message(), "column 's': 2 values but 3 validity bits");

  Error offsets = CatchError([&] { Column::FromStrings("s", {0, 1}, "abc", Bitmap()); });
  EXPECT_EQ(offsets.code(), ErrorCode::kInternal);
  EXPECT_EQ(offsets.message(), "column 's': string offsets do not end at the text's size");

  ExpectError(ErrorCode::kInternal, {}, [&] { Column::FromStrings("s", {}, "", Bitmap()); });

  Error codes = CatchError([&] { Column::FromCategory("c", {0, 2, 1}, {"a", "b"}, three); });
  EXPECT_EQ(codes.code(), ErrorCode::kInternal);
  EXPECT_EQ(codes.message(), "column 'c': category code 2 is outside the dictionary");

  ExpectError(ErrorCode::kInternal, {"code -1"}, [&] {
    Column::FromCategory("c", {0, -1, 1}, {"a", "b"}, three);
  });
}

// ---------------------------------------------------------------------------
// Narrow storage (TwoWidthVector)

TEST(TwoWidthVectorTest, PushBackWidensOnceAValueDoesNotFit) {
  IntVector v;
  EXPECT_TRUE(v.is_narrow());
  v.PushBack(-5);
  v.PushBack(std::numeric_limits<int32_t>::max());
  EXPECT_TRUE(v.is_narrow());
  EXPECT_EQ(v.narrow(), (std::vector<int32_t>{-5, std::numeric_limits<int32_t>::max()}));
  v.PushBack(int64_t{1} << 31);
  EXPECT_FALSE(v.is_narrow());
  EXPECT_TRUE(v.narrow().empty());
  v.PushBack(7);
  EXPECT_EQ(v.wide(),
            (std::vector<int64_t>{-5, std::numeric_limits<int32_t>::max(), int64_t{1} << 31, 7}));
  EXPECT_EQ(v[2], int64_t{1} << 31);
  EXPECT_EQ(v.size(), 4u);
}

TEST(TwoWidthVectorTest, AppendOfNarrowAndWideGivesWide) {
  CodeVector a(std::vector<uint8_t>{1, 255});
  CodeVector b(std::vector<uint8_t>{0});
  a.Append(b);
  EXPECT_TRUE(a.is_narrow());
  EXPECT_EQ(a.ToWide(), (std::vector<int32_t>{1, 255, 0}));
  a.Append(CodeVector(std::vector<int32_t>{300}));
  EXPECT_FALSE(a.is_narrow());
  EXPECT_EQ(a.ToWide(), (std::vector<int32_t>{1, 255, 0, 300}));
  CodeVector c(std::vector<int32_t>{4});
  c.Append(CodeVector(std::vector<uint8_t>{9}));
  EXPECT_EQ(c.wide(), (std::vector<int32_t>{4, 9}));
  // Visit hands the loop the buffer of the width there is.
  int64_t sum = 0;
  size_t width = 0;
  c.Visit([&](const auto* codes) {
    width = sizeof(*codes);
    for (size_t i = 0; i < c.size(); ++i) sum += codes[i];
  });
  EXPECT_EQ(width, 4u);
  EXPECT_EQ(sum, 13);
}

TEST(ColumnTest, AppendsWidenNarrowColumns) {
  Column ints("n", DataType::kInt64);
  ints.AppendInt(1);
  ints.AppendNull();
  EXPECT_TRUE(ints.ints().is_narrow());
  ints.AppendInt(std::numeric_limits<int64_t>::min());
  EXPECT_FALSE(ints.ints().is_narrow());
  EXPECT_EQ(ints.ints().ToWide(),
            (std::vector<int64_t>{1, 0, std::numeric_limits<int64_t>::min()}));

  // The 257th distinct value of a category column takes code 256.
  Column cat("c", DataType::kCategory);
  for (int i = 0; i < 256; ++i) cat.AppendString("v" + std::to_string(i));
  cat.AppendNull();
  EXPECT_TRUE(cat.codes().is_narrow());
  cat.AppendString("v0");
  EXPECT_TRUE(cat.codes().is_narrow());
  cat.AppendString("new");
  EXPECT_FALSE(cat.codes().is_narrow());
  EXPECT_EQ(cat.CodeAt(258), 256);
  EXPECT_EQ(cat.StringAt(258), "new");
  EXPECT_EQ(cat.StringAt(255), "v255");
  EXPECT_EQ(cat.StringAt(257), "v0");

  // AppendCode too; and AppendColumn of a wide column into a narrow one.
  Column small("c", DataType::kCategory);
  small.AppendString("a");
  small.AppendCode(0);
  EXPECT_TRUE(small.codes().is_narrow());
  small.AppendColumn(cat);
  EXPECT_FALSE(small.codes().is_narrow());
  EXPECT_EQ(small.size(), 2 + cat.size());
  EXPECT_EQ(small.StringAt(2 + 258), "new");
  EXPECT_EQ(small.StringAt(2 + 1), "v1");
  EXPECT_TRUE(small.IsNull(2 + 256));

  Column narrow_ints = Column::FromInts("n", DataType::kInt64, std::vector<int32_t>{3}, [] {
    Bitmap b;
    b.Append(true);
    return b;
  }());
  narrow_ints.AppendColumn(ints);
  EXPECT_EQ(narrow_ints.ints().ToWide(),
            (std::vector<int64_t>{3, 1, 0, std::numeric_limits<int64_t>::min()}));
}

TEST(ColumnTest, FromCategoryChecksOneByteCodesToo) {
  Bitmap three;
  three.AppendMany(true, 3);
  ExpectError(ErrorCode::kInternal, {"category code 2 is outside the dictionary"}, [&] {
    Column::FromCategory("c", std::vector<uint8_t>{0, 2, 1}, {"a", "b"}, three);
  });
  Column c = Column::FromCategory("c", std::vector<uint8_t>{0, 1, 1}, {"a", "b"}, three);
  EXPECT_TRUE(c.codes().is_narrow());
  EXPECT_EQ(c.StringAt(1), "b");
}

// ---------------------------------------------------------------------------
// Table

Column IntColumn(const std::string& name, std::vector<int64_t> values) {
  Column c(name, DataType::kInt64);
  for (int64_t v : values) c.AppendInt(v);
  return c;
}

TEST(TableTest, EmptyTable) {
  Table t;
  EXPECT_EQ(t.num_rows(), 0u);
  EXPECT_EQ(t.num_columns(), 0u);
  EXPECT_EQ(t.FindColumn("x"), nullptr);
  EXPECT_EQ(t.ColumnIndex("x"), -1);
  EXPECT_EQ(t.schema().size(), 0u);
}

TEST(TableTest, AddColumnsAndFindThem) {
  Table t;
  t.AddColumn(IntColumn("age", {39, 50, 38}));
  Column name("name", DataType::kString);
  for (const char* v : {"a", "b", "c"}) name.AppendString(v);
  t.AddColumn(name);
  Column cat("workclass", DataType::kCategory);
  cat.AppendString("Private");
  cat.AppendNull();
  cat.AppendString("Private");
  t.AddColumn(cat);

  EXPECT_EQ(t.num_rows(), 3u);
  EXPECT_EQ(t.num_columns(), 3u);
  // The first column sets the row count; rows without a source line have line
  // 0.
  EXPECT_EQ(t.line_numbers(), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(t.ColumnIndex("age"), 0);
  EXPECT_EQ(t.ColumnIndex("name"), 1);
  EXPECT_EQ(t.ColumnIndex("workclass"), 2);
  EXPECT_EQ(t.ColumnIndex("Age"), -1);
  ASSERT_NE(t.FindColumn("name"), nullptr);
  EXPECT_EQ(t.FindColumn("name"), &t.column(1));
  EXPECT_EQ(t.FindColumn("name")->StringAt(2), "c");
  EXPECT_EQ(t.FindColumn("missing"), nullptr);
  EXPECT_EQ(t.columns().size(), 3u);

  t.mutable_column(0).set_name("years");
  EXPECT_EQ(t.ColumnIndex("years"), 0);
  EXPECT_EQ(t.ColumnIndex("age"), -1);
}

TEST(TableTest, AddColumnSizeMismatchNamesTheColumn) {
  Table t;
  t.AddColumn(IntColumn("a", {1, 2, 3}));
  Error e = CatchError([&] { t.AddColumn(IntColumn("b", {1, 2})); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.message(), "column 'b' has 2 rows, the table 3");
  EXPECT_EQ(t.num_columns(), 1u);
  EXPECT_EQ(t.ColumnIndex("b"), -1);

  ExpectError(ErrorCode::kInvalidArgument, {"'c'", "4 rows"}, [&] {
    t.AddColumn(IntColumn("c", {1, 2, 3, 4}));
  });
}

TEST(TableTest, AddColumnDuplicateNameIsInvalidArgument) {
  Table t;
  t.AddColumn(IntColumn("id", {1, 2}));
  Error e = CatchError([&] { t.AddColumn(IntColumn("id", {3, 4})); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.message(), "duplicate column name 'id'");
  EXPECT_EQ(t.num_columns(), 1u);
  EXPECT_EQ(t.column(0).IntAt(0), 1);
}

TEST(TableTest, LineNumbersSetTheRowCountForTheFirstColumn) {
  Table t;
  t.set_line_numbers({2, 3, 5});
  EXPECT_EQ(t.num_rows(), 3u);
  Error e = CatchError([&] { t.AddColumn(IntColumn("x", {1})); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.message(), "column 'x' has 1 rows, the table 3");
  t.AddColumn(IntColumn("x", {1, 2, 3}));
  EXPECT_EQ(t.line_numbers(), (std::vector<int64_t>{2, 3, 5}));
}

TEST(TableTest, LineNumbersRunsReadGatherAndConcatenateAsValues) {
  using Storage = LineNumbers::Storage;
  const LineNumbers run = LineNumbers::Consecutive(5, 4);
  EXPECT_EQ(run.storage(), Storage::kRuns);
  EXPECT_EQ(run.runs(), (std::vector<LineNumbers::Run>{{0, 5}}));
  EXPECT_EQ(run.size(), 4u);
  EXPECT_EQ(run, (std::vector<int64_t>{5, 6, 7, 8}));
  EXPECT_EQ(run.ToVector(), (std::vector<int64_t>{5, 6, 7, 8}));
  EXPECT_EQ(LineNumbers::None(3), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(run, LineNumbers({5, 6, 7, 8}));
  EXPECT_FALSE(run == LineNumbers({5, 6, 7}));
  EXPECT_FALSE(run == LineNumbers({5, 6, 7, 9}));

  const std::vector<size_t> rows = {3, 0, 0, 2};
  EXPECT_EQ(run.Gather(rows), (std::vector<int64_t>{8, 5, 5, 7}));
  EXPECT_EQ(LineNumbers({2, 4, 9, 11}).Gather(rows), (std::vector<int64_t>{11, 2, 2, 9}));
  EXPECT_EQ(LineNumbers::None(4).Gather(rows).storage(), Storage::kNone);

  const LineNumbers listed({1, 3});
  const LineNumbers none = LineNumbers::None(2);
  const std::vector<const LineNumbers*> parts = {&run, &listed, &none};
  EXPECT_EQ(LineNumbers::Concat(parts), (std::vector<int64_t>{5, 6, 7, 8, 1, 3, 0, 0}));
  const std::vector<const LineNumbers*> nones = {&none, &none};
  EXPECT_EQ(LineNumbers::Concat(nones).storage(), Storage::kNone);
  EXPECT_EQ(LineNumbers::Concat(nones).size(), 4u);

  Table t;
  t.set_line_numbers(run);
  t.AddColumn(IntColumn("x", {1, 2, 3, 4}));
  EXPECT_EQ(t.num_rows(), 4u);
  EXPECT_EQ(t.line_numbers()[3], 8);
}

TEST(TableTest, LineNumbersAreRunsUnlessAValuePerRowTakesLessMemory) {
  using Run = LineNumbers::Run;
  using Storage = LineNumbers::Storage;
  // Three runs: rows 0-3 on lines 2-5, 4-5 on 7-8 (a blank line before), 6-9 on 3-6.
  const std::vector<int64_t> values = {2, 3, 4, 5, 7, 8, 3, 4, 5, 6};
  const LineNumbers lines(values);
  ASSERT_EQ(lines.storage(), Storage::kRuns);
  EXPECT_EQ(lines.runs(), (std::vector<Run>{{0, 2}, {4, 7}, {6, 3}}));
  for (size_t r = 0; r < values.size(); ++r) EXPECT_EQ(lines[r], values[r]) << r;
  EXPECT_EQ(lines.ToVector(), values);
  EXPECT_EQ(LineNumbers::FromRuns({{0, 2}, {4, 7}, {6, 3}}, 10), values);
  // Runs that continue the one before are joined.
  EXPECT_EQ(LineNumbers::FromRuns({{0, 2}, {2, 4}, {4, 7}, {6, 3}}, 10).runs(),
            (std::vector<Run>{{0, 2}, {4, 7}, {6, 3}}));
  // Gathered rows make runs of their own: ascending rows, backwards, and across runs.
  const std::vector<size_t> ascending = {1, 2, 3, 4, 5, 8, 9};
  const LineNumbers gathered = lines.Gather(ascending);
  EXPECT_EQ(gathered, (std::vector<int64_t>{3, 4, 5, 7, 8, 5, 6}));
  EXPECT_EQ(gathered.runs(), (std::vector<Run>{{0, 3}, {3, 7}, {5, 5}}));
  const std::vector<size_t> mixed = {9, 0, 5, 6, 4, 3};
  EXPECT_EQ(lines.Gather(mixed), (std::vector<int64_t>{6, 2, 8, 3, 7, 5}));
  // A jump to a far run and back, past the run the last row was in.
  const std::vector<size_t> jumps = {0, 1, 8, 9, 2, 3, 6};
  EXPECT_EQ(lines.Gather(jumps), (std::vector<int64_t>{2, 3, 5, 6, 4, 5, 3}));
  // Concatenated, the first part's last run goes on into the second's first.
  const LineNumbers head = LineNumbers::Consecutive(1, 3);
  const LineNumbers tail = LineNumbers::FromRuns({{0, 4}, {2, 10}}, 3);
  const std::vector<const LineNumbers*> both = {&head, &tail};
  const LineNumbers joined = LineNumbers::Concat(both);
  EXPECT_EQ(joined, (std::vector<int64_t>{1, 2, 3, 4, 5, 10}));
  EXPECT_EQ(joined.runs(), (std::vector<Run>{{0, 1}, {5, 10}}));

  // A run for nearly every row would take twice the memory: a value per row then.
  const LineNumbers scattered({10, 3, 7, 1, 2});
  EXPECT_EQ(scattered.storage(), Storage::kValues);
  EXPECT_EQ(scattered.values(), (std::vector<int64_t>{10, 3, 7, 1, 2}));
  EXPECT_EQ(LineNumbers::FromRuns({{0, 9}, {1, 1}, {2, 5}}, 3).storage(), Storage::kValues);
  EXPECT_EQ(lines.Gather(mixed).storage(), Storage::kValues);

  // Lines at the top of int64 (a crafted file's) go on modulo 2^64, without overflow.
  const int64_t max = std::numeric_limits<int64_t>::max();
  const int64_t min = std::numeric_limits<int64_t>::min();
  const std::vector<int64_t> wrapping = {max, min, min + 1, min + 2, 0, 1, 2, 3};
  const LineNumbers top(wrapping);
  EXPECT_EQ(top.runs(), (std::vector<Run>{{0, max}, {4, 0}}));
  EXPECT_EQ(top.ToVector(), wrapping);
  EXPECT_EQ(top[2], min + 1);
  // Shuffled rows of a long run: each a run of its own, so a value per row, built without a
  // run per row first.
  std::vector<size_t> shuffled(1000);
  for (size_t i = 0; i < shuffled.size(); ++i) shuffled[i] = (i * 7919) % shuffled.size();
  const LineNumbers many = LineNumbers::Consecutive(1, 1000).Gather(shuffled);
  EXPECT_EQ(many.storage(), Storage::kValues);
  for (size_t i = 0; i < shuffled.size(); ++i) {
    EXPECT_EQ(many[i], static_cast<int64_t>(shuffled[i]) + 1);
  }

  // Runs out of order, or not from row 0, are the caller's bug.
  EXPECT_EQ(CatchError([] { LineNumbers::FromRuns({{1, 2}}, 3); }).code(), ErrorCode::kInternal);
  const std::vector<std::vector<Run>> bad = {{{0, 2}, {0, 5}}, {{0, 2}, {3, 5}}};
  for (const std::vector<Run>& runs : bad) {
    EXPECT_EQ(CatchError([&] { LineNumbers::FromRuns(runs, 3); }).code(), ErrorCode::kInternal);
  }
  EXPECT_EQ(CatchError([] { LineNumbers::FromRuns({{0, 2}}, 0); }).code(), ErrorCode::kInternal);
  EXPECT_TRUE(LineNumbers::FromRuns({}, 0).empty());
}

TEST(TableTest, EmptyFirstColumnFixesZeroRows) {
  Table t;
  t.AddColumn(Column("empty", DataType::kString));
  EXPECT_EQ(t.num_rows(), 0u);
  Error e = CatchError([&] { t.AddColumn(IntColumn("x", {1})); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.message(), "column 'x' has 1 rows, the table 0");
}

TEST(TableTest, SchemaListsNamesAndTypesWithDefaults) {
  Table t;
  t.AddColumn(IntColumn("age", {1}));
  Column when("when", DataType::kTimestamp);
  when.AppendNull();
  t.AddColumn(when);
  Column label("label", DataType::kBool);
  label.AppendBool(true);
  t.AddColumn(label);

  Schema s = t.schema();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s.field(0), (Field{"age", DataType::kInt64}));
  EXPECT_EQ(s.field(1), (Field{"when", DataType::kTimestamp}));
  EXPECT_EQ(s.field(2).name, "label");
  EXPECT_EQ(s.field(2).type, DataType::kBool);
  EXPECT_EQ(s.field(2).role, ColumnRole::kFeature);
  EXPECT_TRUE(s.field(2).nullable);
  EXPECT_EQ(s.IndexOf("when"), 1);
  EXPECT_EQ(s, Schema({{"age", DataType::kInt64},
                       {"when", DataType::kTimestamp},
                       {"label", DataType::kBool}}));
}

TEST(TableTest, CopyIsIndependent) {
  Table t;
  t.AddColumn(IntColumn("a", {1, 2}));
  Table copy = t;
  copy.mutable_column(0).AppendInt(3);  // Only the copy's column grows.
  EXPECT_EQ(t.column(0).size(), 2u);
  EXPECT_EQ(copy.column(0).size(), 3u);
}

}  // namespace
}  // namespace mloop::table
