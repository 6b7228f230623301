#include "table/columnar_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/digest.h"
#include "core/error.h"
#include "core/file.h"
#include "core/json.h"
#include "core/testing.h"

namespace mloop::table {
namespace {

namespace fs = std::filesystem;
using test::CatchError;
using test::EntriesOf;
using test::ExpectError;
using test::TempDir;

// Layout constants the tests need to build odd files; docs/columnar-format.md.
constexpr size_t kHeaderSize = 12;
constexpr size_t kTrailerSize = 80;

class ColumnarFileTest : public ::testing::Test {
 protected:
  fs::path Path(const std::string& name) const { return dir_.path() / name; }

  TempDir dir_;
};

uint64_t GetU64(std::string_view bytes, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

// The footer of a file's bytes, as JSON.
Json Footer(std::string_view bytes) {
  uint64_t length = GetU64(bytes, bytes.size() - kTrailerSize);
  return ParseJson(bytes.substr(bytes.size() - kTrailerSize - length, length), "footer");
}

// The major format version in a file's header.
uint16_t MajorOf(std::string_view bytes) {
  return static_cast<uint16_t>(static_cast<unsigned char>(bytes[8]) |
                               (static_cast<unsigned char>(bytes[9]) << 8));
}

// Rebuilds a file with a new version and footer and a correct digest, as a
// future writer would produce it.
std::string Rewrite(std::string_view bytes, uint16_t major, uint16_t minor, const Json& footer) {
  uint64_t old_length = GetU64(bytes, bytes.size() - kTrailerSize);
  std::string header(bytes.substr(0, kHeaderSize));
  header[8] = static_cast<char>(major & 0xff);
  header[9] = static_cast<char>(major >> 8);
  header[10] = static_cast<char>(minor & 0xff);
  header[11] = static_cast<char>(minor >> 8);
  std::string text = footer.dump();
  std::string length;
  for (int i = 0; i < 8; ++i) length.push_back(static_cast<char>((text.size() >> (8 * i)) & 0xff));
  Sha256 h;
  h.Update(header);
  h.Update(text);
  h.Update(length);
  std::string out = header;
  out.append(bytes.substr(kHeaderSize, bytes.size() - kTrailerSize - old_length - kHeaderSize));
  out += text + length + h.FinishHex();
  out.append(bytes.substr(bytes.size() - 8));
  return out;
}

Bitmap Validity(const std::vector<bool>& bits) {
  Bitmap b;
  for (bool v : bits) b.Append(v);
  return b;
}

ColumnarWriteOptions Level(int level) {
  ColumnarWriteOptions options;
  options.compression_level = level;
  return options;
}

ColumnarWriteOptions WithSchema(const Schema& schema) {
  ColumnarWriteOptions options;
  options.schema = schema;
  return options;
}

// A small table with every type, nulls, and the awkward values.
Table EveryTypeTable() {
  Table t;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  Column ints("ints", DataType::kInt64);
  for (int64_t v : {std::numeric_limits<int64_t>::min(), int64_t{-1}, int64_t{0},
                    std::numeric_limits<int64_t>::max()}) {
    ints.AppendInt(v);
  }
  ints.AppendNull();
  Column doubles("doubles", DataType::kFloat64);
  for (double v : {nan, inf, -inf, -0.0}) doubles.AppendDouble(v);
  doubles.AppendNull();
  Column bools("bools", DataType::kBool);
  bools.AppendBool(true);
  bools.AppendNull();
  bools.AppendBool(false);
  bools.AppendBool(true);
  bools.AppendBool(false);
  Column strings("strings", DataType::kString);
  for (std::string_view v : {std::string_view(""), std::string_view("naïve 日本語 🙂"),
                             std::string_view("a\0b", 3), std::string_view("plain")}) {
    strings.AppendString(v);
  }
  strings.AppendNull();
  Column category("category", DataType::kCategory);
  for (std::string_view v : {"red", "", "red", "grün"}) category.AppendString(v);
  category.AppendNull();
  Column dates("dates", DataType::kDate);
  dates.AppendInt(0);
  dates.AppendInt(19000);
  dates.AppendNull();
  dates.AppendInt(-719162);
  dates.AppendInt(2932896);
  Column stamps("stamps", DataType::kTimestamp);
  stamps.AppendNull();
  stamps.AppendInt(1700000000123456);
  stamps.AppendInt(-1);
  stamps.AppendInt(0);
  stamps.AppendInt(253402300799999999);
  for (Column* c : {&ints, &doubles, &bools, &strings, &category, &dates, &stamps}) {
    t.AddColumn(std::move(*c));
  }
  t.set_line_numbers({2, 3, 5, 8, 0});
  return t;
}

template <typename T>
void ExpectSameBytes(const std::vector<T>& a, const std::vector<T>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  if (a.empty()) return;  // memcmp must not see the null data() of an empty vector.
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(T))) << what;
}

// Equal column by column and buffer by buffer; doubles compare by bits (NaN,
// -0.0).
void ExpectTablesEqual(const Table& a, const Table& b) {
  ASSERT_EQ(a.num_rows(), b.num_rows());
  ASSERT_EQ(a.num_columns(), b.num_columns());
  EXPECT_EQ(a.line_numbers(), b.line_numbers());
  for (size_t i = 0; i < a.num_columns(); ++i) {
    const Column& x = a.column(i);
    const Column& y = b.column(i);
    SCOPED_TRACE("column " + x.name());
    EXPECT_EQ(x.name(), y.name());
    ASSERT_EQ(x.type(), y.type());
    EXPECT_EQ(x.validity().words(), y.validity().words());
    EXPECT_EQ(x.null_count(), y.null_count());
    EXPECT_EQ(x.ints().ToWide(), y.ints().ToWide());
    ExpectSameBytes(x.doubles(), y.doubles(), "doubles");
    EXPECT_EQ(x.bools(), y.bools());
    EXPECT_EQ(x.offsets(), y.offsets());
    EXPECT_EQ(x.chars(), y.chars());
    EXPECT_EQ(x.codes().ToWide(), y.codes().ToWide());
    EXPECT_EQ(x.dictionary(), y.dictionary());
    for (size_t r = 0; r < x.size(); ++r) EXPECT_EQ(x.ValueToString(r), y.ValueToString(r));
  }
}

TEST_F(ColumnarFileTest, ColumnarRoundTripsEveryType) {
  Table t = EveryTypeTable();
  WriteColumnarFile(t, Path("t.mlcol"));
  Table back = ReadColumnarFile(Path("t.mlcol"));
  ExpectTablesEqual(t, back);
  EXPECT_TRUE(std::isnan(back.FindColumn("doubles")->DoubleAt(0)));
  EXPECT_TRUE(std::signbit(back.FindColumn("doubles")->DoubleAt(3)));
  EXPECT_EQ(back.FindColumn("strings")->StringAt(2), std::string_view("a\0b", 3));
  EXPECT_EQ(back.FindColumn("category")->dictionary(),
            (std::vector<std::string>{"red", "", "grün"}));
  EXPECT_EQ(back.line_numbers(), (std::vector<int64_t>{2, 3, 5, 8, 0}));
}

TEST_F(ColumnarFileTest, ColumnarRoundTripsBulkBuiltColumns) {
  // Null slots holding non-zero values and an all-null category with an empty
  // dictionary come back exactly as stored.
  Table t;
  t.AddColumn(Column::FromInts("i", DataType::kInt64, {7, 8, 9}, Validity({1, 0, 1})));
  t.AddColumn(Column::FromCategory("c", {0, 0, 0}, {}, Validity({0, 0, 0})));
  t.AddColumn(Column::FromStrings("s", {0, 0, 0, 0}, "", Validity({1, 1, 1})));
  WriteColumnarFile(t, Path("t.mlcol"));
  ExpectTablesEqual(t, ReadColumnarFile(Path("t.mlcol")));
}

// Whether a column holds its values narrow (one-byte codes, int32 integers) or wide is not
// in the file: both encode to the same bytes. Reading gives the narrow storage when the
// values fit it.
TEST_F(ColumnarFileTest, ColumnarNarrowAndWideStorageEncodeAlike) {
  const size_t n = 5000;
  std::vector<int32_t> ints32(n);
  std::vector<uint8_t> codes8(n);
  std::vector<int32_t> big_codes(n);
  std::vector<int64_t> big_ints(n);
  for (size_t i = 0; i < n; ++i) {
    ints32[i] = static_cast<int32_t>(i * 7919 % 100003) - 50000;
    codes8[i] = static_cast<uint8_t>(i % 3 == 0 ? 0 : i * 31 % 200);
    big_codes[i] = static_cast<int32_t>(i % 300);
    big_ints[i] = static_cast<int64_t>(i) << 33;
  }
  std::vector<std::string> dictionary, big_dictionary;
  for (int i = 0; i < 200; ++i) dictionary.push_back("v" + std::to_string(i));
  for (int i = 0; i < 300; ++i) big_dictionary.push_back("w" + std::to_string(i));
  auto valid = [&] { return Validity(std::vector<bool>(n, true)); };
  auto table = [&](bool narrow) {
    Table t;
    t.AddColumn(Column::FromInts(
        "i", DataType::kInt64,
        narrow ? IntVector(ints32) : IntVector(std::vector<int64_t>(ints32.begin(), ints32.end())),
        valid()));
    t.AddColumn(Column::FromInts("d", DataType::kDate,
                                 narrow ? IntVector(std::vector<int32_t>(n, 19000))
                                        : IntVector(std::vector<int64_t>(n, 19000)),
                                 valid()));
    t.AddColumn(Column::FromCategory(
        "c",
        narrow ? CodeVector(codes8)
               : CodeVector(std::vector<int32_t>(codes8.begin(), codes8.end())),
        dictionary, valid()));
    t.AddColumn(Column::FromCategory("wide_codes", big_codes, big_dictionary, valid()));
    t.AddColumn(Column::FromInts("wide_ints", DataType::kInt64, big_ints, valid()));
    // Packed to one byte from a negative base.
    std::vector<int64_t> small(n);
    for (size_t i = 0; i < n; ++i) small[i] = static_cast<int64_t>(i % 201) - 100;
    t.AddColumn(Column::FromInts(
        "small", DataType::kInt64,
        narrow ? IntVector(std::vector<int32_t>(small.begin(), small.end())) : IntVector(small),
        valid()));
    // From 0, four bytes wide: as int32, the values are their own packed bytes (stored in
    // place, as one-byte codes from 0 are).
    std::vector<int64_t> counts(n);
    for (size_t i = 0; i < n; ++i) counts[i] = static_cast<int64_t>(i * 41 % 4999);
    counts[7] = 70000;
    t.AddColumn(Column::FromInts(
        "counts", DataType::kInt64,
        narrow ? IntVector(std::vector<int32_t>(counts.begin(), counts.end())) : IntVector(counts),
        valid()));
    return t;
  };
  const Table narrow = table(true);
  const Table wide = table(false);
  ASSERT_TRUE(narrow.column(0).ints().is_narrow());
  ASSERT_FALSE(wide.column(0).ints().is_narrow());
  EXPECT_EQ(EncodeColumnarFile(narrow, "t"), EncodeColumnarFile(wide, "t"));
  WriteColumnarFile(wide, Path("w.mlcol"));
  Table back = ReadColumnarFile(Path("w.mlcol"));
  ExpectTablesEqual(narrow, back);
  EXPECT_TRUE(back.column(0).ints().is_narrow());
  EXPECT_TRUE(back.column(1).ints().is_narrow());
  EXPECT_TRUE(back.column(2).codes().is_narrow());
  EXPECT_FALSE(back.column(3).codes().is_narrow());
  EXPECT_FALSE(back.column(4).ints().is_narrow());
  EXPECT_TRUE(back.column(5).ints().is_narrow());
  EXPECT_EQ(back.column(5).IntAt(0), -100);
  EXPECT_EQ(back.column(3).CodeAt(299), 299);
  EXPECT_EQ(back.column(4).IntAt(n - 1), static_cast<int64_t>(n - 1) << 33);
  EXPECT_EQ(back.column(6).IntAt(7), 70000);
  const Json f = Footer(ReadFile(Path("w.mlcol")));
  const Json& counts = f["buffers"][f["columns"][6]["buffers"]["values"].get<size_t>()];
  EXPECT_EQ(counts["encoding"], "packed");
  EXPECT_EQ(counts["width"], 4u);
  EXPECT_EQ(counts["base"], 0);
}

TEST_F(ColumnarFileTest, ColumnarRoundTripsEmptyTables) {
  Table no_rows;
  for (DataType type : {DataType::kInt64, DataType::kFloat64, DataType::kBool, DataType::kString,
                        DataType::kCategory, DataType::kDate, DataType::kTimestamp}) {
    no_rows.AddColumn(Column(std::string(DataTypeName(type)), type));
  }
  WriteColumnarFile(no_rows, Path("rows.mlcol"));
  Table back = ReadColumnarFile(Path("rows.mlcol"));
  ExpectTablesEqual(no_rows, back);
  EXPECT_EQ(back.num_columns(), 7u);

  Table nothing;
  WriteColumnarFile(nothing, Path("nothing.mlcol"));
  back = ReadColumnarFile(Path("nothing.mlcol"));
  EXPECT_EQ(back.num_rows(), 0u);
  EXPECT_EQ(back.num_columns(), 0u);

  // No columns, but rows: the line numbers carry the row count.
  Table lines_only;
  lines_only.set_line_numbers({4, 5, 6});
  WriteColumnarFile(lines_only, Path("lines.mlcol"));
  back = ReadColumnarFile(Path("lines.mlcol"));
  EXPECT_EQ(back.num_rows(), 3u);
  EXPECT_EQ(back.line_numbers(), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(ReadColumnarFileInfo(Path("lines.mlcol")).rows, 3u);
}

TEST_F(ColumnarFileTest, ColumnarLargeTableRoundTripsAndCompresses) {
  constexpr size_t kRows = 200000;
  Column id("id", DataType::kInt64), score("score", DataType::kFloat64),
      flag("flag", DataType::kBool), city("city", DataType::kCategory),
      note("note", DataType::kString);
  const char* cities[] = {"Lisbon", "Oslo", "Quito", "Hanoi"};
  std::vector<int64_t> lines;
  for (size_t i = 0; i < kRows; ++i) {
    id.AppendInt(static_cast<int64_t>(i));
    if (i % 97 == 0) {
      score.AppendNull();
    } else {
      score.AppendDouble(static_cast<double>(i % 100) * 0.25);
    }
    flag.AppendBool(i % 3 == 0);
    city.AppendString(cities[i % 4]);
    note.AppendString(i % 2 ? "repeated text" : "other text");
    lines.push_back(static_cast<int64_t>(i) + 2);
  }
  Table t;
  for (Column* c : {&id, &score, &flag, &city, &note}) t.AddColumn(std::move(*c));
  t.set_line_numbers(std::move(lines));

  WriteColumnarFile(t, Path("big.mlcol"));
  ExpectTablesEqual(t, ReadColumnarFile(Path("big.mlcol")));

  ColumnarFileInfo info = ReadColumnarFileInfo(Path("big.mlcol"));
  EXPECT_EQ(info.rows, kRows);
  uint64_t compressed = 0, uncompressed = 0;
  for (const ColumnarColumnInfo& c : info.columns) {
    EXPECT_LT(c.compressed_bytes, c.uncompressed_bytes) << c.name;
    compressed += c.compressed_bytes;
    uncompressed += c.uncompressed_bytes;
  }
  // About 8.2 MB of column buffers in memory, 5.4 MB once the integers are packed (ids to
  // 4 bytes, city codes to 1, note offsets and line numbers delta-packed to 1); repetitive
  // data must shrink well.
  EXPECT_GT(uncompressed, 5'000'000u);
  EXPECT_LT(info.file_bytes * 5, uncompressed);
  EXPECT_LT(compressed, info.file_bytes);
  EXPECT_EQ(info.file_bytes, fs::file_size(Path("big.mlcol")));
}

TEST_F(ColumnarFileTest, ColumnarRoundTripsAtAnyCompressionLevel) {
  Column c("x", DataType::kInt64);
  for (int i = 0; i < 50000; ++i) c.AppendInt(i % 1000);
  Table t;
  t.AddColumn(std::move(c));
  for (int level : {-5, 0, 1, 19}) {
    SCOPED_TRACE(level);
    WriteColumnarFile(t, Path("t.mlcol"), Level(level));
    ExpectTablesEqual(t, ReadColumnarFile(Path("t.mlcol")));
  }
}

TEST_F(ColumnarFileTest, ColumnarInfoDescribesTheFile) {
  Table t = EveryTypeTable();
  Schema schema = t.schema();
  schema.mutable_field(0).role = ColumnRole::kId;
  schema.mutable_field(4).role = ColumnRole::kLabel;
  WriteColumnarFile(t, Path("t.mlcol"), WithSchema(schema));
  ColumnarFileInfo info = ReadColumnarFileInfo(Path("t.mlcol"));
  EXPECT_EQ(info.format_major, kColumnarFormatMajor);
  EXPECT_EQ(info.format_minor, kColumnarFormatMinor);
  EXPECT_EQ(info.rows, 5u);
  EXPECT_EQ(info.schema, schema);
  ASSERT_EQ(info.columns.size(), 7u);
  EXPECT_EQ(info.columns[0].name, "ints");
  EXPECT_EQ(info.columns[0].null_count, 1u);
  EXPECT_EQ(info.columns[1].uncompressed_bytes,
            8u + 5 * 8);  // one validity word, values
  EXPECT_TRUE(IsSha256Hex(info.checksum));
  EXPECT_EQ(info.created_by.rfind("mloop ", 0), 0u);

  // The checksum follows the content, not the file's name or time.
  WriteColumnarFile(t, Path("same.mlcol"), WithSchema(schema));
  EXPECT_EQ(ReadColumnarFileInfo(Path("same.mlcol")).checksum, info.checksum);
  WriteColumnarFile(t, Path("other.mlcol"));
  EXPECT_NE(ReadColumnarFileInfo(Path("other.mlcol")).checksum, info.checksum);
}

TEST_F(ColumnarFileTest, ColumnarRejectsBadWriteOptions) {
  Table t = EveryTypeTable();
  ExpectError(ErrorCode::kInvalidArgument, {"1000"},
              [&] { WriteColumnarFile(t, Path("t.mlcol"), Level(1000)); });

  Schema wrong = t.schema();
  wrong.mutable_field(2).type = DataType::kInt64;
  ExpectError(ErrorCode::kInvalidArgument, {"bools"},
              [&] { WriteColumnarFile(t, Path("t.mlcol"), WithSchema(wrong)); });

  Schema non_null = t.schema();
  non_null.mutable_field(0).nullable = false;
  ExpectError(ErrorCode::kInvalidArgument, {"ints"},
              [&] { WriteColumnarFile(t, Path("t.mlcol"), WithSchema(non_null)); });
  EXPECT_FALSE(fs::exists(Path("t.mlcol")));

  Table latin1;
  latin1.AddColumn(Column("caf\xe9", DataType::kInt64));
  ExpectError(ErrorCode::kInvalidArgument, {"UTF-8"},
              [&] { WriteColumnarFile(latin1, Path("t.mlcol")); });
  EXPECT_FALSE(fs::exists(Path("t.mlcol")));
}

TEST_F(ColumnarFileTest, ColumnarWriteReplacesAtomically) {
  Table t = EveryTypeTable();
  WriteColumnarFile(t, Path("t.mlcol"));
  Table small;
  small.set_line_numbers({1});
  WriteColumnarFile(small, Path("t.mlcol"));
  EXPECT_EQ(ReadColumnarFile(Path("t.mlcol")).num_columns(), 0u);
  // Only the file itself is left: no temporary names.
  EXPECT_EQ(EntriesOf(dir_.path()).size(), 1u);

  Error e = CatchError([&] { WriteColumnarFile(t, Path("missing-dir") / "t.mlcol"); });
  EXPECT_NE(e.message().find("missing-dir"), std::string_view::npos) << e.message();
}

TEST_F(ColumnarFileTest, ColumnarProjectionReadsOnlyThoseColumns) {
  Table t = EveryTypeTable();
  WriteColumnarFile(t, Path("t.mlcol"));
  ColumnarReadOptions options;
  options.columns = {"category", "ints"};
  Table back = ReadColumnarFile(Path("t.mlcol"), options);
  ASSERT_EQ(back.num_columns(), 2u);
  EXPECT_EQ(back.column(0).name(), "category");
  EXPECT_EQ(back.column(1).name(), "ints");
  EXPECT_EQ(back.line_numbers(), t.line_numbers());
  EXPECT_EQ(back.column(0).dictionary(), t.FindColumn("category")->dictionary());
  EXPECT_EQ(back.column(1).ints().ToWide(), t.FindColumn("ints")->ints().ToWide());

  options.columns = std::vector<std::string>{};
  back = ReadColumnarFile(Path("t.mlcol"), options);
  EXPECT_EQ(back.num_columns(), 0u);
  EXPECT_EQ(back.num_rows(), 5u);

  // Corrupt a byte of the "strings" column: reads that skip it still work, and
  // a full read names it.
  std::string bytes = ReadFile(Path("t.mlcol"));
  Json footer = Footer(bytes);
  size_t chars = 0;
  for (const Json& c : footer["columns"]) {
    if (c["name"] == "strings") chars = c["buffers"]["chars"].get<size_t>();
  }
  size_t at = footer["buffers"][chars]["offset"].get<size_t>() + 3;
  bytes[at] = static_cast<char>(bytes[at] ^ 0x20);
  dir_.Write("bad.mlcol", bytes);
  options.columns = {"ints", "category"};
  EXPECT_EQ(ReadColumnarFile(Path("bad.mlcol"), options).num_columns(), 2u);
  ExpectError(ErrorCode::kDataLoss, {"bad.mlcol", "column 'strings' chars"},
              [&] { ReadColumnarFile(Path("bad.mlcol")); });
}

TEST_F(ColumnarFileTest, ColumnarProjectionRejectsUnknownAndRepeatedNames) {
  WriteColumnarFile(EveryTypeTable(), Path("t.mlcol"));
  ColumnarReadOptions options;
  options.columns = {"ints", "nope"};
  ExpectError(ErrorCode::kInvalidArgument, {"'nope'"},
              [&] { ReadColumnarFile(Path("t.mlcol"), options); });
  options.columns = {"ints", "ints"};
  ExpectError(ErrorCode::kInvalidArgument, {}, [&] { ReadColumnarFile(Path("t.mlcol"), options); });
}

// Every single-byte change anywhere in the file is caught: a data byte by its
// buffer's digest, any other by the envelope digest or the magic checks.
TEST_F(ColumnarFileTest, ColumnarDetectsEveryFlippedByte) {
  WriteColumnarFile(EveryTypeTable(), Path("t.mlcol"));
  const std::string good = ReadFile(Path("t.mlcol"));
  ASSERT_LT(good.size(), 8000u);
  for (unsigned char mask : {0x01, 0x80, 0xff}) {
    for (size_t i = 0; i < good.size(); ++i) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      dir_.Write("bad.mlcol", bad);
      try {
        ReadColumnarFile(Path("bad.mlcol"));
        ADD_FAILURE() << "byte " << i << " ^ " << int{mask} << " was not detected";
      } catch (const Error& e) {
        EXPECT_TRUE(e.code() == ErrorCode::kDataLoss || e.code() == ErrorCode::kInvalidArgument)
            << "byte " << i << ": " << ErrorCodeName(e.code()) << ": " << e.message();
        EXPECT_NE(e.message().find("bad.mlcol"), std::string_view::npos) << e.message();
      }
    }
  }
}

TEST_F(ColumnarFileTest, ColumnarDetectsEveryTruncation) {
  WriteColumnarFile(EveryTypeTable(), Path("t.mlcol"));
  const std::string good = ReadFile(Path("t.mlcol"));
  for (size_t n = 0; n < good.size(); ++n) {
    dir_.Write("cut.mlcol", std::string_view(good).substr(0, n));
    for (int info = 0; info < 2; ++info) {
      try {
        if (info) {
          ReadColumnarFileInfo(Path("cut.mlcol"));
        } else {
          ReadColumnarFile(Path("cut.mlcol"));
        }
        ADD_FAILURE() << "truncation to " << n << " bytes was not detected";
      } catch (const Error& e) {
        // Cut anywhere, a file that starts as ours is reported as truncated or
        // corrupt.
        EXPECT_EQ(e.code(), ErrorCode::kDataLoss) << n << " bytes: " << e.message();
        EXPECT_NE(e.message().find("cut.mlcol"), std::string_view::npos) << e.message();
      }
    }
  }
}

TEST_F(ColumnarFileTest, ColumnarRejectsOtherFiles) {
  fs::path csv = dir_.Write("data.csv", "a,b\n1,2\n");
  ExpectError(ErrorCode::kInvalidArgument, {"not an mloop columnar file", "data.csv"},
              [&] { ReadColumnarFile(csv); });

  fs::path x = dir_.Write("x", "x");
  ExpectError(ErrorCode::kInvalidArgument, {}, [&] { ReadColumnarFileInfo(x); });

  ExpectError(ErrorCode::kNotFound, {"absent.mlcol"},
              [&] { ReadColumnarFile(Path("absent.mlcol")); });
  ExpectError(ErrorCode::kNotFound, {}, [&] { ReadColumnarFileInfo(Path("absent.mlcol")); });
}

TEST_F(ColumnarFileTest, ColumnarRefusesNewerMajorVersion) {
  WriteColumnarFile(EveryTypeTable(), Path("t.mlcol"));
  std::string bytes = ReadFile(Path("t.mlcol"));
  const uint16_t newer = kColumnarFormatMajor + 1;
  dir_.Write("newer.mlcol", Rewrite(bytes, newer, 0, Footer(bytes)));
  const std::string ours =
      std::to_string(kColumnarFormatMajor) + "." + std::to_string(kColumnarFormatMinor);
  for (int info = 0; info < 2; ++info) {
    ExpectError(ErrorCode::kFailedPrecondition, {std::to_string(newer) + ".0", ours, "newer.mlcol"},
                [&] {
                  if (info) {
                    ReadColumnarFileInfo(Path("newer.mlcol"));
                  } else {
                    ReadColumnarFile(Path("newer.mlcol"));
                  }
                });
  }
}

TEST_F(ColumnarFileTest, ColumnarReadsNewerMinorVersionIgnoringAdditions) {
  Table t = EveryTypeTable();
  WriteColumnarFile(t, Path("t.mlcol"));
  std::string bytes = ReadFile(Path("t.mlcol"));
  Json footer = Footer(bytes);
  footer["statistics"] = {{"added", "by a later minor version"}};
  footer["columns"][0]["sketch"] = 42;
  dir_.Write("v1_9.mlcol", Rewrite(bytes, kColumnarFormatMajor, 9, footer));
  ExpectTablesEqual(t, ReadColumnarFile(Path("v1_9.mlcol")));
  EXPECT_EQ(ReadColumnarFileInfo(Path("v1_9.mlcol")).format_minor, 9);
}

TEST_F(ColumnarFileTest, ColumnarRejectsInconsistentFooterWithValidDigest) {
  // A crafted footer passes the digest; the reader still checks every size and
  // index before it allocates or decodes.
  WriteColumnarFile(EveryTypeTable(), Path("t.mlcol"));
  std::string bytes = ReadFile(Path("t.mlcol"));
  auto expect_rejected = [&](const Json& footer, const std::string& label) {
    SCOPED_TRACE(label);
    dir_.Write("crafted.mlcol", Rewrite(bytes, MajorOf(bytes), 0, footer));
    Error e = CatchError([&] { ReadColumnarFile(Path("crafted.mlcol")); });
    EXPECT_TRUE(e.code() == ErrorCode::kInvalidArgument || e.code() == ErrorCode::kDataLoss)
        << e.message();
  };
  Json f = Footer(bytes);
  f["rows"] = uint64_t{1} << 61;
  expect_rejected(f, "huge row count");
  f = Footer(bytes);
  f["buffers"][1]["size"] = uint64_t{1} << 60;
  expect_rejected(f, "huge buffer size");
  f = Footer(bytes);
  f["buffers"][1]["length"] = f["buffers"][1]["length"].get<uint64_t>() + 1;
  expect_rejected(f, "buffers overlap");
  f = Footer(bytes);
  f["columns"][0]["buffers"]["values"] = 999;
  expect_rejected(f, "buffer index out of range");
  f = Footer(bytes);
  f["columns"][0]["type"] = "int128";
  expect_rejected(f, "unknown type");
  f = Footer(bytes);
  f["columns"][1]["name"] = "ints";
  expect_rejected(f, "duplicate name");
  f = Footer(bytes);
  f["columns"][4]["dictionary_size"] = 2;
  expect_rejected(f, "dictionary size");
  f = Footer(bytes);
  f["columns"][0]["null_count"] = 0;
  expect_rejected(f, "null count");
  f = Footer(bytes);
  f["codec"] = "lz4";
  expect_rejected(f, "codec");
  expect_rejected(Json::array(), "not an object");

  // Encodings: known names, widths 1, 2 or 4 below the element's, integer buffers only.
  const size_t lines = Footer(bytes)["line_numbers"].get<size_t>();
  ASSERT_EQ(Footer(bytes)["buffers"][lines]["encoding"], "delta_packed");
  f = Footer(bytes);
  f["buffers"][lines]["encoding"] = "rle";
  expect_rejected(f, "unknown encoding");
  for (int width : {0, 3, 8}) {
    f = Footer(bytes);
    f["buffers"][lines]["width"] = width;
    expect_rejected(f, "width " + std::to_string(width));
  }
  f = Footer(bytes);
  f["buffers"][lines]["base"] = "0";
  expect_rejected(f, "base not a number");
  f = Footer(bytes);
  f["buffers"][lines]["base"] = uint64_t{1} << 63;
  expect_rejected(f, "base beyond int64");
  f = Footer(bytes);
  f["buffers"][lines].erase("base");
  expect_rejected(f, "no base");
  f = Footer(bytes);
  const size_t doubles = f["columns"][1]["buffers"]["values"].get<size_t>();
  f["buffers"][doubles]["encoding"] = "packed";
  f["buffers"][doubles]["base"] = 0;
  f["buffers"][doubles]["width"] = 1;
  expect_rejected(f, "a float64 buffer packed");
  f = Footer(bytes);
  f["buffers"][lines]["size"] = 4;
  expect_rejected(f, "packed size does not match the width");
  // Format 1 has no encodings.
  dir_.Write("crafted.mlcol", Rewrite(bytes, 1, 0, Footer(bytes)));
  ExpectError(ErrorCode::kInvalidArgument, {"encoding", "format 1"},
              [&] { ReadColumnarFile(Path("crafted.mlcol")); });
}

TEST_F(ColumnarFileTest, ColumnarReadsFormat1Files) {
  // Written by mloop 0.1.0's writer, format 1.0, before integers were packed.
  const fs::path v1 = fs::path(MLOOP_TABLE_TESTDATA) / "every_type_format_1_0.mlcol";
  ExpectTablesEqual(EveryTypeTable(), ReadColumnarFile(v1));
  ColumnarFileInfo info = ReadColumnarFileInfo(v1);
  EXPECT_EQ(info.format_major, 1);
  EXPECT_EQ(info.format_minor, 0);
}

TEST_F(ColumnarFileTest, ColumnarPacksIntegersNarrowly) {
  // Each integer buffer is stored in the fewest bytes (1, 2 or 4) that hold the span of its
  // values, or of their differences for line numbers and offsets; at the edges of each
  // width, with negative bases, wrapping differences and spans too wide to pack.
  const int64_t min = std::numeric_limits<int64_t>::min();
  const int64_t max = std::numeric_limits<int64_t>::max();
  struct Case {
    std::vector<int64_t> values;
    uint64_t width;  // 0: stored plain
  };
  const std::vector<Case> cases = {
      {{7, 7, 7}, 1},
      {{-128, 127}, 1},
      {{0, 255}, 1},
      {{0, 256}, 2},
      {{-40000, 25535}, 2},
      {{-40000, 25536}, 4},
      {{max - 4294967295, max}, 4},
      {{min, min + 4294967296}, 0},
      {{min, max}, 0},
      {{-1, 0, 1}, 1},
  };
  for (size_t k = 0; k < cases.size(); ++k) {
    SCOPED_TRACE("case " + std::to_string(k));
    const Case& c = cases[k];
    Table t;
    std::vector<bool> valid(c.values.size(), true);
    t.AddColumn(Column::FromInts("x", DataType::kInt64, c.values, Validity(valid)));
    WriteColumnarFile(t, Path("p.mlcol"));
    ExpectTablesEqual(t, ReadColumnarFile(Path("p.mlcol")));
    std::string bytes = ReadFile(Path("p.mlcol"));
    Json f = Footer(bytes);
    const Json& b = f["buffers"][f["columns"][0]["buffers"]["values"].get<size_t>()];
    if (c.width == 0) {
      EXPECT_FALSE(b.contains("encoding")) << b.dump();
      EXPECT_EQ(b["size"], 8 * c.values.size());
    } else {
      EXPECT_EQ(b["encoding"], "packed");
      EXPECT_EQ(b["width"], c.width);
      EXPECT_EQ(b["base"], *std::min_element(c.values.begin(), c.values.end()));
      EXPECT_EQ(b["size"], c.width * c.values.size());
    }
    EXPECT_EQ(MajorOf(bytes), 2);  // the line numbers are packed in every case
  }

  // Line numbers of several sources restart, so a difference is negative; one that wraps
  // around 2^64 comes back too.
  Table lines;
  lines.set_line_numbers({2, 3, 4, 6, 1, 2, 3, max, min, 0});
  WriteColumnarFile(lines, Path("l.mlcol"));
  EXPECT_EQ(ReadColumnarFile(Path("l.mlcol")).line_numbers(), lines.line_numbers());
  Table restart;
  restart.set_line_numbers({2, 3, 4, 40000, 1, 2});
  WriteColumnarFile(restart, Path("r.mlcol"));
  EXPECT_EQ(ReadColumnarFile(Path("r.mlcol")).line_numbers(), restart.line_numbers());
  std::string bytes = ReadFile(Path("r.mlcol"));
  Json f = Footer(bytes);
  const Json& b = f["buffers"][f["line_numbers"].get<size_t>()];
  EXPECT_EQ(b["encoding"], "delta_packed");
  EXPECT_EQ(b["base"], 1 - 40000);
  EXPECT_EQ(b["width"], 4u);

  // Codes pack as int32 and offsets as differences.
  Table text;
  Column city("city", DataType::kCategory);
  Column note("note", DataType::kString);
  for (int i = 0; i < 1000; ++i) {
    city.AppendString("c" + std::to_string(i % 300));
    note.AppendString(std::string(static_cast<size_t>(i % 7), 'x'));
  }
  text.AddColumn(std::move(city));
  text.AddColumn(std::move(note));
  WriteColumnarFile(text, Path("t.mlcol"));
  ExpectTablesEqual(text, ReadColumnarFile(Path("t.mlcol")));
  f = Footer(ReadFile(Path("t.mlcol")));
  const Json& codes = f["buffers"][f["columns"][0]["buffers"]["codes"].get<size_t>()];
  EXPECT_EQ(codes["encoding"], "packed");
  EXPECT_EQ(codes["width"], 2u);
  EXPECT_EQ(codes["size"], 2000u);
  const Json& offsets = f["buffers"][f["columns"][1]["buffers"]["offsets"].get<size_t>()];
  EXPECT_EQ(offsets["encoding"], "delta_packed");
  EXPECT_EQ(offsets["width"], 1u);
  EXPECT_EQ(offsets["base"], 0);

  // Nothing to pack: the file is format 1.0, which every reader of 1.x reads.
  Table empty;
  empty.AddColumn(Column("x", DataType::kInt64));
  WriteColumnarFile(empty, Path("e.mlcol"));
  EXPECT_EQ(ReadColumnarFileInfo(Path("e.mlcol")).format_major, 1);
  EXPECT_EQ(ReadColumnarFileInfo(Path("e.mlcol")).format_minor, 0);
}

TEST_F(ColumnarFileTest, LineNumberRunsAreStoredAsTheirValuesWouldBe) {
  // A table whose line numbers are runs (a CSV file read one record per line, with blank
  // lines or comments between some) is packed from the runs' first rows and lines: the file
  // must be the very bytes that the same lines, one value per row, give. First lines of every
  // packed width and one past them (plain), steps between runs that go back, jump far or
  // past 2^32, one-row runs, and no lines at all.
  using Run = LineNumbers::Run;
  const int64_t max = std::numeric_limits<int64_t>::max();
  struct Case {
    std::vector<Run> runs;
    size_t rows;
    bool none;  // LineNumbers::None: no source line.
  };
  const std::vector<Case> cases = {
      {{{0, 1}}, 1000, false},
      {{{0, 2}}, 70000, false},
      {{{0, 0}}, 5, false},
      {{{0, 300}}, 10, false},
      {{{0, 70000}}, 3, false},
      {{{0, int64_t{5} << 32}}, 4, false},
      {{{0, max - 10}}, 4, false},
      {{{0, 7}}, 1, false},
      {{{0, 1}, {100, 102}, {250, 254}}, 400, false},
      {{{0, 1}, {10, 5}, {11, 900}, {12, 901}, {20, 2}}, 30, false},
      {{{0, 1}, {3, 100000}, {5, 1}}, 9, false},
      {{{0, 1}, {3, int64_t{9} << 32}}, 6, false},
      {{{0, 1}, {9, 50}}, 10, false},
      // Over four blocks of 65,536 values, which are compressed one by one.
      {{{0, 3}, {70000, 70010}, {200000, 9}}, 300001, false},
      {{}, 1, true},
      {{}, 9, true},
      {{}, 0, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("runs " + std::to_string(c.runs.size()) + ", rows " + std::to_string(c.rows));
    const LineNumbers runs =
        c.none ? LineNumbers::None(c.rows) : LineNumbers::FromRuns(c.runs, c.rows);
    // (A run per row or two takes more memory than values: a value per row then.)
    if (c.rows >= 2 * c.runs.size()) {
      ASSERT_NE(runs.storage(), LineNumbers::Storage::kValues);
    }
    std::vector<int64_t> values(c.rows);
    for (size_t k = 0; k < c.runs.size() && !c.none; ++k) {
      const size_t end = k + 1 < c.runs.size() ? c.runs[k + 1].row : c.rows;
      for (size_t i = c.runs[k].row; i < end; ++i) {
        values[i] = c.runs[k].line + static_cast<int64_t>(i - c.runs[k].row);
      }
    }
    EXPECT_EQ(runs, values);
    Column x("x", DataType::kInt64);
    for (size_t i = 0; i < c.rows; ++i) x.AppendInt(static_cast<int64_t>(i % 13));
    Table a;
    a.set_line_numbers(runs);
    a.AddColumn(x);
    Table b;
    b.set_line_numbers(LineNumbers::Values(values));
    ASSERT_EQ(b.line_numbers().storage(), LineNumbers::Storage::kValues);
    b.AddColumn(x);
    EXPECT_EQ(EncodeColumnarFile(a, "a"), EncodeColumnarFile(b, "b"));
    WriteColumnarFile(a, Path("runs.mlcol"));
    EXPECT_EQ(ReadColumnarFile(Path("runs.mlcol")).line_numbers(), values);
  }
}

TEST_F(ColumnarFileTest, ColumnarPacksLongArraysAtEveryWidth) {
  // The packing loops are vectorised (an AVX2 build where the processor has it): arrays long
  // enough to run their vector bodies and tails, at each width, with negative bases, 32-bit
  // codes, and line numbers whose differences go both ways, come back exactly. They are packed
  // and compressed a block of 65,536 values at a time: the arrays span several blocks and end
  // in a part of one.
  std::mt19937_64 random(20261126);
  const size_t n = 140'007;  // not a multiple of any vector's lanes or of the block
  for (int64_t span : {int64_t{200}, int64_t{60'000}, int64_t{3'000'000'000}}) {
    SCOPED_TRACE("span " + std::to_string(span));
    std::vector<int64_t> values(n);
    for (int64_t& v : values) v = -1'234'567 + static_cast<int64_t>(random() % (span + 1));
    values[n / 2] = -1'234'567;         // the base
    values[n / 3] = -1'234'567 + span;  // the top of the span
    std::vector<int64_t> lines(n);
    int64_t line = 1'000'000;
    for (int64_t& l : lines) l = line += static_cast<int64_t>(random() % (span + 1)) - span / 2;
    Column city("city", DataType::kCategory);
    for (size_t i = 0; i < n; ++i) {
      city.AppendString(
          "c" + std::to_string(random() % static_cast<uint64_t>(std::min<int64_t>(span, 70'000))));
    }
    Table t;
    t.set_line_numbers(lines);
    t.AddColumn(
        Column::FromInts("x", DataType::kInt64, values, Validity(std::vector<bool>(n, true))));
    t.AddColumn(std::move(city));
    WriteColumnarFile(t, Path("long.mlcol"));
    ExpectTablesEqual(t, ReadColumnarFile(Path("long.mlcol")));
    EXPECT_EQ(ReadColumnarFile(Path("long.mlcol")).line_numbers(), lines);
    Json f = Footer(ReadFile(Path("long.mlcol")));
    const Json& b = f["buffers"][f["columns"][0]["buffers"]["values"].get<size_t>()];
    EXPECT_EQ(b["encoding"], "packed");
    EXPECT_EQ(b["base"], -1'234'567);
    EXPECT_EQ(b["width"], span <= 255 ? 1u : span <= 65'535 ? 2u : 4u);
    const Json& codes = f["buffers"][f["columns"][1]["buffers"]["codes"].get<size_t>()];
    EXPECT_EQ(codes["encoding"], "packed");
    EXPECT_EQ(codes["width"], span <= 255 ? 1u : 2u);  // at most n distinct values
    EXPECT_EQ(f["buffers"][f["line_numbers"].get<size_t>()]["encoding"], "delta_packed");
  }
}

}  // namespace
}  // namespace mloop::table
