#include "table/csv_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <random>

#include "core/error.h"
#include "core/testing.h"
#include "table/internal/csv_tokenizer.h"
#include "table/internal/string_dictionary.h"

namespace mloop::table {
namespace {

using test::ExpectError;
using test::TempDir;

CsvReadResult Read(std::string_view text, CsvOptions o = {}) {
  return ReadCsvBuffer(text, "test.csv", o);
}

std::string Cell(const Table& t, size_t c, size_t r) { return t.column(c).ValueToString(r); }

// `text` read on four threads, then on one: the tables must agree.
std::vector<CsvReadResult> ReadOnFourThreadsAndOne(std::string_view text, CsvOptions o) {
  std::vector<CsvReadResult> out;
  for (size_t threads : {4, 1}) {
    o.threads = threads;
    out.push_back(Read(text, o));
  }
  return out;
}

TEST(CsvReaderTest, ReadsHeaderAndTypes) {
  auto r = Read("id,price,name,when,ok\n1,2.5,apple,2024-01-02,true\n2,3,pear,2024-02-03,false\n");
  const Table& t = r.table;
  ASSERT_EQ(t.num_rows(), 2u);
  ASSERT_EQ(t.num_columns(), 5u);
  EXPECT_TRUE(r.dialect.header);
  EXPECT_EQ(t.column(0).name(), "id");
  EXPECT_EQ(t.column(0).type(), DataType::kInt64);
  EXPECT_EQ(t.column(1).type(), DataType::kFloat64);
  EXPECT_EQ(t.column(2).type(), DataType::kString);
  EXPECT_EQ(t.column(3).type(), DataType::kDate);
  EXPECT_EQ(t.column(4).type(), DataType::kBool);
  EXPECT_DOUBLE_EQ(t.column(1).DoubleAt(1), 3.0);
  EXPECT_EQ(Cell(t, 3, 1), "2024-02-03");
  EXPECT_EQ(t.line_numbers(), (std::vector<int64_t>{2, 3}));
}

TEST(CsvReaderTest, QuotedFieldsWithDelimitersNewlinesAndDoubledQuotes) {
  auto r = Read("a,b\n1,\"x, y\"\n2,\"line1\nline2\"\n3,\"say \"\"hi\"\"\"\n4,plain\n");
  const Table& t = r.table;
  ASSERT_EQ(t.num_rows(), 4u) << (r.malformed.empty() ? "" : r.malformed[0].reason);
  EXPECT_EQ(Cell(t, 1, 0), "x, y");
  EXPECT_EQ(Cell(t, 1, 1), "line1\nline2");
  EXPECT_EQ(Cell(t, 1, 2), "say \"hi\"");
  // The record after a quoted newline starts on line 5.
  EXPECT_EQ(t.line_numbers(), (std::vector<int64_t>{2, 3, 5, 6}));
}

TEST(CsvReaderTest, CrlfLineEnds) {
  auto r = Read("a,b\r\n1,x\r\n2,y\r\n");
  ASSERT_EQ(r.table.num_rows(), 2u);
  EXPECT_EQ(r.table.column(1).StringAt(1), "y");
  EXPECT_EQ(r.table.column(0).type(), DataType::kInt64);
}

TEST(CsvReaderTest, NoTrailingNewline) {
  auto r = Read("a,b\n1,2\n3,4");
  ASSERT_EQ(r.table.num_rows(), 2u);
  EXPECT_EQ(r.table.column(1).IntAt(1), 4);
}

TEST(CsvReaderTest, OtherDelimitersAreSniffed) {
  for (char d : {';', '\t', '|'}) {
    std::string text = "a#b#c\n1#2#x\n3#4#y\n";
    for (char& ch : text) {
      if (ch == '#') ch = d;
    }
    auto r = Read(text);
    EXPECT_EQ(r.dialect.delimiter, d);
    ASSERT_EQ(r.table.num_columns(), 3u);
    EXPECT_EQ(r.table.column(1).IntAt(1), 4);
  }
}

TEST(CsvReaderTest, SpacesAfterDelimiterAndGivenNames) {
  CsvOptions o;
  o.names = {"age", "job", "income"};
  auto r = Read("39, State-gov, <=50K\n50, Self-emp, >50K\n38, ?, <=50K\n", o);
  EXPECT_TRUE(r.dialect.skip_initial_space);
  EXPECT_FALSE(r.dialect.header);
  const Table& t = r.table;
  ASSERT_EQ(t.num_rows(), 3u);
  EXPECT_EQ(t.column(0).name(), "age");
  EXPECT_EQ(t.column(1).StringAt(0), "State-gov");
  EXPECT_TRUE(t.column(1).IsNull(2));  // "?" is a default missing marker.
}

TEST(CsvReaderTest, MissingValueMarkersAreConfigurable) {
  CsvOptions o;
  o.null_values = std::vector<std::string>{"-"};
  auto r = Read("a,b\n1,-\n-,x\n", o);
  EXPECT_TRUE(r.table.column(1).IsNull(0));
  EXPECT_TRUE(r.table.column(0).IsNull(1));
  EXPECT_EQ(r.table.column(0).type(), DataType::kInt64);
  // A quoted marker is text, not missing.
  auto q = Read("a,b\n1,\"NA\"\n2,x\n");
  EXPECT_FALSE(q.table.column(1).IsNull(0));
  EXPECT_EQ(q.table.column(1).StringAt(0), "NA");
}

TEST(CsvReaderTest, CommentsSkipLinesBomAndBlankLines) {
  CsvOptions o;
  o.comment = '#';
  o.skip_lines = 1;
  auto r = Read("\xEF\xBB\xBFjunk title line\n# a comment\na,b\n1,2\n\n# another\n3,4\n\n", o);
  ASSERT_EQ(r.table.num_rows(), 2u);
  EXPECT_EQ(r.table.column(0).name(), "a");
  EXPECT_EQ(r.table.line_numbers(), (std::vector<int64_t>{4, 7}));
}

TEST(CsvReaderTest, TooManyAndTooFewFieldsAreReportedNotDropped) {
  auto r = Read("a,b,c\n1,2,3\n4,5,6,7\n8,9\n10,11,12\n");
  ASSERT_EQ(r.table.num_rows(), 2u);
  ASSERT_EQ(r.malformed.size(), 2u);
  EXPECT_EQ(r.malformed[0].line, 3);
  EXPECT_EQ(r.malformed[0].reason, "expected 3 fields, found 4");
  EXPECT_EQ(r.malformed[0].text, "4,5,6,7");
  EXPECT_EQ(r.malformed[1].line, 4);
  EXPECT_EQ(r.malformed[1].reason, "expected 3 fields, found 2");
  EXPECT_EQ(r.table.line_numbers(), (std::vector<int64_t>{2, 5}));
}

TEST(CsvReaderTest, UnterminatedQuoteAtEndOfFile) {
  auto r = Read("a,b\n1,x\n2,\"never closed\n3,y\n");
  ASSERT_EQ(r.table.num_rows(), 1u);
  ASSERT_EQ(r.malformed.size(), 1u);
  EXPECT_EQ(r.malformed[0].line, 3);
  EXPECT_NE(r.malformed[0].reason.find("never closed"), std::string::npos);
  EXPECT_EQ(r.malformed[0].text, "2,\"never closed\n3,y\n");
}

TEST(CsvReaderTest, JunkAfterClosingQuote) {
  auto r = Read("a,b\n1,\"x\"junk\n2,y\n");
  ASSERT_EQ(r.table.num_rows(), 1u);
  ASSERT_EQ(r.malformed.size(), 1u);
  EXPECT_EQ(r.malformed[0].line, 2);
  EXPECT_NE(r.malformed[0].reason.find("after the closing quote"), std::string::npos);
}

TEST(CsvReaderTest, InvalidUtf8IsMalformedAndNamesTheField) {
  auto r = Read("a,b\n1,ok\n2,bad\xff\xfe\n3,caf\xc3\xa9\n");
  ASSERT_EQ(r.table.num_rows(), 2u);
  ASSERT_EQ(r.malformed.size(), 1u);
  EXPECT_EQ(r.malformed[0].line, 3);
  EXPECT_EQ(r.malformed[0].reason, "invalid UTF-8 in field 2 ('b')");
  EXPECT_EQ(r.table.column(1).StringAt(1), "caf\xc3\xa9");
}

// The split skips the UTF-8 check of records whose bytes all lay in 64-byte windows without
// a byte over 0x7F: a bad byte must be caught wherever it falls in a window, in the
// window a record starts in (shared with the record before) as in a later one.
TEST(CsvReaderTest, InvalidUtf8IsFoundAtEveryPlaceInTheScanWindows) {
  for (size_t pad = 0; pad < 130; ++pad) {
    std::string text = "a,b\n";
    for (int i = 0; i < 20; ++i) text += std::to_string(i) + ",plain text\n";
    text += "20," + std::string(pad, 'x') + "\xff" + "\n";
    text += "21,caf\xc3\xa9 " + std::string(pad, 'y') + "\n";
    for (int i = 22; i < 40; ++i) text += std::to_string(i) + ",plain text\n";
    CsvOptions o;
    o.threads = 1;
    auto r = Read(text, o);
    ASSERT_EQ(r.malformed.size(), 1u) << "pad " << pad;
    EXPECT_EQ(r.malformed[0].line, 22) << "pad " << pad;
    EXPECT_EQ(r.malformed[0].reason, "invalid UTF-8 in field 2 ('b')");
    ASSERT_EQ(r.table.num_rows(), 39u) << "pad " << pad;
    EXPECT_EQ(r.table.column(1).StringAt(20), "caf\xc3\xa9 " + std::string(pad, 'y'));
  }
}

TEST(CsvReaderTest, OverlongAndSurrogateUtf8AreInvalid) {
  auto overlong = Read("a,b\n1,\xc0\xaf\n2,x\n");
  EXPECT_EQ(overlong.malformed.size(), 1u);
  auto surrogate = Read("a,b\n1,\xed\xa0\x80\n2,x\n");
  EXPECT_EQ(surrogate.malformed.size(), 1u);
}

TEST(CsvReaderTest, FieldOverTheLimitIsMalformed) {
  CsvOptions o;
  o.max_field_bytes = 10;
  auto r = Read("a,b\n1,short\n2,this is far too long\n3,ok\n", o);
  ASSERT_EQ(r.table.num_rows(), 2u);
  ASSERT_EQ(r.malformed.size(), 1u);
  EXPECT_EQ(r.malformed[0].line, 3);
  EXPECT_NE(r.malformed[0].reason.find("over the limit of 10"), std::string::npos);
}

TEST(CsvReaderTest, EmptyInputIsAnError) {
  ExpectError(ErrorCode::kInvalidArgument, {"test.csv: empty file"}, [] { Read(""); });
  EXPECT_THROW(Read("\n\n\n"), Error);
}

TEST(CsvReaderTest, HeaderOnlyGivesNoRows) {
  auto r = Read("a,b,c\n");
  EXPECT_EQ(r.table.num_rows(), 0u);
  EXPECT_EQ(r.table.num_columns(), 3u);
}

TEST(CsvReaderTest, InferredTypesWidenWhenLaterValuesNeedIt) {
  // Beyond the sniffer's sample the int column meets a float, then text.
  std::string text = "n,m\n";
  for (int i = 0; i < 100; ++i) text += std::to_string(i) + "," + std::to_string(i) + "\n";
  text += "1.5,x\n";
  CsvOptions o;
  o.sample_lines = 10;
  auto r = Read(text, o);
  ASSERT_EQ(r.table.num_rows(), 101u);
  EXPECT_EQ(r.table.column(0).type(), DataType::kFloat64);
  EXPECT_DOUBLE_EQ(r.table.column(0).DoubleAt(100), 1.5);
  EXPECT_TRUE(IsTextual(r.table.column(1).type()));
  EXPECT_EQ(r.table.column(1).StringAt(100), "x");
  EXPECT_EQ(r.table.column(1).StringAt(7), "7");
  EXPECT_TRUE(r.malformed.empty());
}

TEST(CsvReaderTest, FixedTypesMakeBadValuesMalformed) {
  CsvOptions o;
  o.column_types["age"] = DataType::kInt64;
  auto r = Read("age,name\n30,a\nthirty,b\n40,c\n", o);
  ASSERT_EQ(r.table.num_rows(), 2u);
  ASSERT_EQ(r.malformed.size(), 1u);
  EXPECT_EQ(r.malformed[0].line, 3);
  EXPECT_EQ(r.malformed[0].reason, "field 1 ('age'): 'thirty' is not a valid int64");
  EXPECT_EQ(r.table.column(1).StringAt(1), "c");
}

TEST(CsvReaderTest, FixedTypeForUnknownColumnIsAnError) {
  CsvOptions o;
  o.column_types["nope"] = DataType::kInt64;
  ExpectError(ErrorCode::kInvalidArgument, {"'nope'"}, [&] { Read("a,b\n1,2\n", o); });
}

TEST(CsvReaderTest, WrongNumberOfNamesIsAnError) {
  CsvOptions o;
  o.names = {"a", "b"};
  ExpectError(ErrorCode::kInvalidArgument, {"2 column names given, but the file has 3"},
              [&] { Read("1,2,3\n4,5,6\n", o); });
}

TEST(CsvReaderTest, TimestampsAndCategories) {
  auto r = Read(
      "t,c\n2024-01-02T03:04:05Z,x\n2024-01-02 03:04:06,y\n2024-01-03,x\n"
      "2024-01-04T00:00:00+01:00,x\n");
  ASSERT_EQ(r.table.num_rows(), 4u);
  EXPECT_EQ(r.table.column(0).type(), DataType::kTimestamp);
  EXPECT_EQ(Cell(r.table, 0, 2), "2024-01-03T00:00:00Z");
  EXPECT_EQ(Cell(r.table, 0, 3), "2024-01-03T23:00:00Z");
  EXPECT_EQ(r.table.column(1).type(), DataType::kCategory);
  EXPECT_EQ(r.table.column(1).dictionary(), (std::vector<std::string>{"x", "y"}));
}

// A category field the dictionary knows is taken without a null-marker check, unless the
// dictionary holds a marker read quoted, as a value: an unquoted marker stays null then.
TEST(CsvReaderTest, CategoryMarkersStayNullAfterAQuotedMarkerWasReadAsAValue) {
  for (const bool quoted_first : {false, true}) {
    std::string text = "n,c\n";
    for (int i = 0; i < 300; ++i) {
      const char* c = i % 3 == 0 ? "x" : "y";
      if (i == 10) c = quoted_first ? "\"?\"" : "?";
      if (i == 200) c = "?";
      if (i == 290) c = "\"?\"";
      text += std::to_string(i) + "," + c + "\n";
    }
    CsvOptions o;
    o.threads = 1;
    auto r = Read(text, o);
    ASSERT_EQ(r.table.num_rows(), 300u);
    const Column& c = r.table.column(1);
    ASSERT_EQ(c.type(), DataType::kCategory);
    EXPECT_EQ(c.IsNull(10), !quoted_first) << quoted_first;
    EXPECT_TRUE(c.IsNull(200)) << quoted_first;
    EXPECT_FALSE(c.IsNull(290)) << quoted_first;
    EXPECT_EQ(Cell(r.table, 1, 290), "?");
    EXPECT_EQ(Cell(r.table, 1, 3), "x");
    EXPECT_EQ(Cell(r.table, 1, 4), "y");
  }
}

// CountBytes takes whole vector blocks (of 16, 32 or 64 bytes, as the CPU allows) and
// the rest byte by byte; the counts must not depend on where the blocks fall.
TEST(CsvReaderTest, CountBytesAgreesWithAByteByByteCount) {
  std::mt19937 rng(7);
  const std::string alphabet = "ab,\n\n\"\r";
  std::string text(5000, ' ');
  for (char& ch : text) ch = alphabet[rng() % alphabet.size()];
  for (size_t begin : {size_t{1}, size_t{2}, size_t{63}, size_t{64}, size_t{65}, size_t{100}}) {
    for (size_t end : {begin, begin + 1, begin + 63, begin + 64, begin + 200, text.size()}) {
      for (const char quote : {'"', '\0'}) {
        internal::ByteCounts want;
        char before = text[begin - 1];
        for (size_t i = begin; i < end; ++i) {
          if (text[i] == '\n') {
            ++want.newlines;
            if (before != '\n') ++want.line_ends;
          }
          if (quote != '\0' && text[i] == quote) ++want.quotes;
          before = text[i];
        }
        const internal::ByteCounts got =
            internal::CountBytes(text.data() + begin, text.data() + end, text[begin - 1], quote);
        EXPECT_EQ(got.newlines, want.newlines) << begin << " " << end;
        EXPECT_EQ(got.line_ends, want.line_ends) << begin << " " << end;
        EXPECT_EQ(got.quotes, want.quotes) << begin << " " << end;
      }
    }
  }
}

// Each way StopBytes::Mask64 compares (the baseline, and AVX2 and AVX-512 where this CPU
// has them) must mark exactly the stop bytes and tell a window with a byte that is not
// ASCII, for dialects whose stop bytes the AVX2 nibble table tells apart (',', '\t', ';')
// and for those it cannot (a delimiter sharing its low four bits with '\n', '\r' or the
// quote, a delimiter that is not ASCII), with and without a quote character.
TEST(CsvReaderTest, EveryStopByteMaskAgreesWithTheByteTable) {
  using Simd = internal::StopBytes::Simd;
  std::mt19937 rng(11);
  const std::vector<internal::TokenizerDialect> dialects = {
      {',', '"', false}, {'\t', '"', false}, {';', '\'', false},  {',', '\0', false},
      {'*', '"', false}, {'2', '"', false},  {'\x8c', '"', false}};
  for (const internal::TokenizerDialect& d : dialects) {
    // Every byte value, with the stop bytes and their look-alikes (the same low four bits)
    // more often than chance would give them.
    std::string alphabet;
    for (int b = 0; b < 256; ++b) alphabet.push_back(static_cast<char>(b));
    for (const char ch : {d.delimiter, '\n', '\r', '"', '\'', '\x0c', '\x1a', '\x2a', '\x22'}) {
      alphabet.append(20, ch);
    }
    for (const Simd simd : {Simd::kBaseline, Simd::kAvx2, Simd::kAvx512}) {
      if (simd > internal::StopBytes::BestSimd()) continue;
      const internal::StopBytes stops(d, simd);
      ASSERT_EQ(stops.simd(), simd);
      for (int round = 0; round < 300; ++round) {
        char window[64];
        for (char& ch : window) ch = alphabet[rng() % alphabet.size()];
        // Some windows all ASCII, so that the flag is seen both ways.
        if (round % 2 == 0) {
          for (char& ch : window) ch = static_cast<char>(static_cast<uint8_t>(ch) & 0x7f);
        }
        uint64_t want = 0;
        bool want_non_ascii = false;
        for (int i = 0; i < 64; ++i) {
          if (stops(window[i])) want |= uint64_t{1} << i;
          if (static_cast<uint8_t>(window[i]) >= 0x80) want_non_ascii = true;
        }
        bool non_ascii = false;
        EXPECT_EQ(stops.Mask64(window, &non_ascii), want)
            << "delimiter " << int{d.delimiter} << ", simd " << static_cast<int>(simd);
        EXPECT_EQ(non_ascii, want_non_ascii);
      }
    }
  }
}

// The split of plain records (SplitPlainRecord) meets a record's delimiters and line end
// in 64-byte scan windows: a record with one field too many or too few must be caught
// wherever those fall in the windows, with or without a quote character (without one,
// the delimiter stands in for it in the scan).
TEST(CsvReaderTest, FieldCountIsCheckedAtEveryPlaceInTheScanWindows) {
  for (const char quote : {'"', '\0'}) {
    for (size_t pad = 1; pad < 140; pad += 3) {
      std::string text = "a,b,c,d,e\n";
      for (int i = 0; i < 10; ++i) text += std::to_string(i) + ",p,q,r,s\n";
      text += "10," + std::string(pad, 'x') + ",q,r,s,t\n";  // One field too many.
      text += "11," + std::string(pad, 'y') + ",q,r\n";      // One too few.
      text += "12,,,," + std::string(pad, 'z') + "\n";
      text += "13," + std::string(pad, 'w') + ",q,r,s," + "\n";  // Empty extra field.
      for (int i = 14; i < 30; ++i) text += std::to_string(i) + ",p,q,r,s\n";
      CsvOptions o;
      o.threads = 1;
      o.quote = quote;
      auto r = Read(text, o);
      ASSERT_EQ(r.malformed.size(), 3u) << "pad " << pad;
      EXPECT_EQ(r.malformed[0].line, 12) << "pad " << pad;
      EXPECT_EQ(r.malformed[0].reason, "expected 5 fields, found 6");
      EXPECT_EQ(r.malformed[1].line, 13) << "pad " << pad;
      EXPECT_EQ(r.malformed[1].reason, "expected 5 fields, found 4");
      EXPECT_EQ(r.malformed[2].line, 15) << "pad " << pad;
      ASSERT_EQ(r.table.num_rows(), 27u) << "pad " << pad;
      EXPECT_EQ(Cell(r.table, 4, 10), std::string(pad, 'z')) << "pad " << pad;
      EXPECT_EQ(Cell(r.table, 0, 11), "14") << "pad " << pad;
      EXPECT_EQ(Cell(r.table, 4, 26), "s") << "pad " << pad;
    }
  }
}

// Category values of every length up to past the dictionary's heads (32 bytes), with zero
// bytes inside and at the end, are told apart, and each keeps its code whether it is
// looked up in a buffer with room to read past it (whole-word loads) or not.
TEST(StringDictionaryTest, ValuesOfEveryLengthKeepTheirCodes) {
  std::vector<std::string> values;
  for (size_t n = 0; n <= 40; ++n) {
    values.push_back(std::string(n, 'a'));
    if (n > 0) {
      values.push_back(std::string(n - 1, 'a') + '\0');
      values.push_back('\0' + std::string(n - 1, 'a'));
      std::string mid(n, 'b');
      mid[n / 2] = 'c';
      values.push_back(mid);
    }
  }
  // Enough short values to grow the tables several times.
  for (int i = 0; i < 3000; ++i) values.push_back("v" + std::to_string(i * 7919));
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  std::shuffle(values.begin(), values.end(), std::mt19937(3));
  internal::StringDictionary dict;
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string& v = values[i];
    ASSERT_EQ(dict.Find(v, v.data() + v.size()), -1) << i;
    ASSERT_EQ(dict.FindOrAdd(v), static_cast<int32_t>(i)) << i;
  }
  ASSERT_EQ(dict.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string& v = values[i];
    std::string padded = v + std::string(64, 'x');  // Bytes past the value differ from it.
    EXPECT_EQ(dict.Find(v, v.data() + v.size()), static_cast<int32_t>(i)) << i;
    EXPECT_EQ(dict.Find(std::string_view(padded.data(), v.size()), padded.data() + padded.size()),
              static_cast<int32_t>(i))
        << i;
    EXPECT_EQ(
        dict.FindOrAdd(std::string_view(padded.data(), v.size()), padded.data() + padded.size()),
        static_cast<int32_t>(i))
        << i;
    EXPECT_EQ(dict.value(i), v) << i;
  }
  EXPECT_EQ(dict.size(), values.size());
  // A copy (as chunks' dictionaries are seeded) finds the same codes and grows apart.
  internal::StringDictionary copy = dict;
  EXPECT_EQ(copy.FindOrAdd("a new one"), static_cast<int32_t>(values.size()));
  const std::string_view added = "a new one";
  EXPECT_EQ(dict.Find(added, added.data() + added.size()), -1);
}

TEST(CsvReaderTest, ParallelParseEqualsSequential) {
  // Big enough for several chunks, with quoted newlines and quotes to defeat naive
  // splitting, and malformed rows scattered through it.
  std::mt19937 rng(7);
  std::string text = "id,name,value,note\n";
  for (int i = 0; i < 120000; ++i) {
    text += std::to_string(i) + ",";
    text += (rng() % 5 == 0) ? "\"multi\nline, \"\"q\"\"\"" : "name" + std::to_string(rng() % 50);
    text += "," + std::to_string(rng() % 1000) + "." + std::to_string(rng() % 10);
    text += (i % 9973 == 0) ? ",x,extra\n" : ",note\n";
  }
  CsvOptions seq;
  seq.threads = 1;
  auto a = Read(text, seq);
  auto b = Read(text);
  ASSERT_EQ(a.table.num_rows(), b.table.num_rows());
  ASSERT_EQ(a.malformed.size(), b.malformed.size());
  EXPECT_GT(a.malformed.size(), 5u);
  for (size_t i = 0; i < a.malformed.size(); ++i) {
    EXPECT_EQ(a.malformed[i].line, b.malformed[i].line);
  }
  EXPECT_EQ(a.table.line_numbers(), b.table.line_numbers());
  for (size_t c = 0; c < a.table.num_columns(); ++c) {
    ASSERT_EQ(a.table.column(c).type(), b.table.column(c).type());
    for (size_t r = 0; r < a.table.num_rows(); r += 997) {
      EXPECT_EQ(Cell(a.table, c, r), Cell(b.table, c, r)) << "column " << c << " row " << r;
    }
  }
  EXPECT_EQ(a.table.column(0).IntAt(119999 - a.malformed.size()),
            b.table.column(0).IntAt(119999 - b.malformed.size()));
}

TEST(CsvReaderTest, LineNumbersAreOneRunPerStretchOfRowsLineByLine) {
  // Several chunks of one record per line: the lines are kept as one run, across the chunks.
  std::string text = "id,name,value\n";
  for (int i = 0; i < 150000; ++i) {
    text +=
        std::to_string(i) + ",n" + std::to_string(i % 40) + "," + std::to_string(i % 977) + "\n";
  }
  CsvOptions seq;
  seq.threads = 1;
  auto whole = Read(text);
  ASSERT_EQ(whole.table.num_rows(), 150000u);
  using Run = LineNumbers::Run;
  EXPECT_EQ(whole.table.line_numbers().runs(), (std::vector<Run>{{0, 2}}));
  EXPECT_EQ(whole.table.line_numbers()[0], 2);
  EXPECT_EQ(whole.table.line_numbers()[149999], 150001);
  EXPECT_EQ(Read(text, seq).table.line_numbers().runs(), (std::vector<Run>{{0, 2}}));

  // Anything between two rows that is not a row (a blank line, a malformed record), or a
  // record over several lines, breaks the run, early or late in the file, in any chunk: the
  // rows after it start a second run, the same as a sequential read's.
  const size_t last = text.rfind('\n', text.size() - 2) + 1;  // The last record.
  for (size_t at : {text.find('\n') + 1, text.size() / 3, text.size() / 2 + 7, last}) {
    at = text.find('\n', at - 1) + 1;  // A line start.
    if (at > last) at = last;
    for (const std::string& insert :
         {std::string("\n"), std::string("1,2\n"), std::string("7,\"two\nlines\",3\n")}) {
      SCOPED_TRACE("at byte " + std::to_string(at) + ": " + insert);
      std::string broken = text;
      broken.insert(at, insert);
      auto parallel = Read(broken);
      auto sequential = Read(broken, seq);
      // Before the first row, a blank line or a malformed record only moves the run.
      const bool moved = at == text.find('\n') + 1 && insert.find('"') == std::string::npos;
      EXPECT_EQ(parallel.table.line_numbers().runs().size(), moved ? 1u : 2u);
      EXPECT_EQ(parallel.table.line_numbers().runs(), sequential.table.line_numbers().runs());
      ASSERT_EQ(parallel.table.num_rows(), sequential.table.num_rows());
      EXPECT_EQ(parallel.table.line_numbers(), sequential.table.line_numbers());
      // The row after the insert is one or two lines further down than before.
      const size_t row = static_cast<size_t>(std::count(text.begin(), text.begin() + at, '\n')) - 1;
      const int64_t shift = insert == "\n" || insert == "1,2\n" ? 1 : 2;
      const size_t after = row + (insert.size() == 1 || insert == "1,2\n" ? 0 : 1);
      EXPECT_EQ(parallel.table.line_numbers()[after], whole.table.line_numbers()[row] + shift);
      if (row > 0) {
        EXPECT_EQ(parallel.table.line_numbers()[row - 1], whole.table.line_numbers()[row - 1]);
      }
    }
  }
}

// Category codes take one byte per row while the file's dictionary has at most 256 entries.
// A chunk whose dictionary may pass 256 entries keeps its own int32 codes, and the column is
// widened, once, after the parse, only when the file's dictionary has more than 256 entries.
TEST(CsvReaderTest, CategoryCodesWidenWhenALaterChunkBringsThe257thValue) {
  // About 4.5 MB: with 4 threads, the seed chunk and several more. `fresh` values appear
  // only in the last rows, so in the last chunk.
  auto value = [](int i, int rows, int fresh) {
    return i >= rows - fresh ? "w" + std::to_string(rows - i) : "v" + std::to_string(i % 200);
  };
  const int rows = 300000;
  for (const int fresh : {56, 57, 120}) {
    SCOPED_TRACE("values new in the last chunk: " + std::to_string(fresh));
    std::string text = "id,c\n";
    for (int i = 0; i < rows; ++i) text += std::to_string(i) + "," + value(i, rows, fresh) + "\n";
    CsvOptions o;
    o.column_types = {{"c", DataType::kCategory}};
    for (const CsvReadResult& r : ReadOnFourThreadsAndOne(text, o)) {
      ASSERT_EQ(r.table.num_rows(), static_cast<size_t>(rows));
      const Column& c = r.table.column(1);
      ASSERT_EQ(c.dictionary().size(), static_cast<size_t>(200 + fresh));
      EXPECT_EQ(c.codes().is_narrow(), 200 + fresh <= 256);
      for (int i : {0, 1, 199, 200, 150000, rows - fresh - 1, rows - fresh, rows - 2, rows - 1}) {
        EXPECT_EQ(c.StringAt(static_cast<size_t>(i)), value(i, rows, fresh)) << "row " << i;
      }
      // Codes number values in order of first appearance.
      EXPECT_EQ(c.CodeAt(rows - 1), 200 + fresh - 1);
    }
  }
}

// Integers take 4 bytes per row while they fit int32. A chunk meeting one that does not goes
// over to int64 for its rows, and the column is widened once after the parse.
TEST(CsvReaderTest, IntegersWidenWhenOnlyTheLastChunkHoldsOneOutsideInt32) {
  const int rows = 300000;
  for (const int64_t big : {int64_t{2147483648}, int64_t{-2147483649},
                            std::numeric_limits<int64_t>::max(), int64_t{2147483647}}) {
    SCOPED_TRACE("last value " + std::to_string(big));
    std::string text = "id,n,d\n";
    for (int i = 0; i < rows; ++i) {
      // The big value sits in the middle of the last batch; a date column beside it stays
      // narrow.
      const int64_t n = i == rows - 20 ? big : -i;
      text += std::to_string(i) + "," + std::to_string(n) + ",2024-01-0" +
              std::to_string(1 + i % 9) + "\n";
    }
    CsvOptions o;
    o.column_types = {{"n", DataType::kInt64}, {"d", DataType::kDate}};
    for (const CsvReadResult& r : ReadOnFourThreadsAndOne(text, o)) {
      ASSERT_EQ(r.table.num_rows(), static_cast<size_t>(rows));
      const Column& n = r.table.column(1);
      EXPECT_EQ(n.ints().is_narrow(), big == int64_t{2147483647});
      EXPECT_TRUE(r.table.column(0).ints().is_narrow());
      EXPECT_TRUE(r.table.column(2).ints().is_narrow());
      for (int i : {0, 1, 150000, rows - 21, rows - 19, rows - 1}) {
        EXPECT_EQ(n.IntAt(static_cast<size_t>(i)), -i) << "row " << i;
      }
      EXPECT_EQ(n.IntAt(rows - 20), big);
      EXPECT_EQ(Cell(r.table, 2, rows - 1), "2024-01-0" + std::to_string(1 + (rows - 1) % 9));
    }
  }
}

TEST(CsvReaderTest, MissingFileAndDirectory) {
  ExpectError(ErrorCode::kNotFound, {"/nonexistent/file.csv"},
              [] { ReadCsv("/nonexistent/file.csv"); });
  ExpectError(ErrorCode::kInvalidArgument, {"is a directory"},
              [] { ReadCsv(std::filesystem::temp_directory_path()); });
}

TEST(CsvReaderTest, ReadsFromFile) {
  TempDir dir;
  auto r = ReadCsv(dir.Write("data.csv", "x,y\n1,2\n"));
  EXPECT_EQ(r.table.num_rows(), 1u);
  EXPECT_EQ(r.bytes, 8u);
}

}  // namespace
}  // namespace mloop::table

namespace mloop::table {
namespace {

// Reads `text` from a file whole, and in pieces of every size from 7 bytes up, and checks
// the pieces give the same table, line numbers and malformed rows.
void ExpectPiecesReadAsWhole(const std::string& text, CsvOptions options = {}) {
  test::TempDir dir;
  std::filesystem::path path = dir.path() / "data.csv";
  test::WriteBytes(path, text);
  options.chunk_bytes = 0;
  CsvReadResult whole = ReadCsv(path, options);
  for (size_t chunk : {size_t{7}, size_t{16}, size_t{33}, size_t{64}, size_t{100}}) {
    SCOPED_TRACE("chunk_bytes " + std::to_string(chunk));
    options.chunk_bytes = chunk;
    CsvReadResult pieces = ReadCsv(path, options);
    ASSERT_EQ(pieces.table.num_rows(), whole.table.num_rows());
    ASSERT_EQ(pieces.table.num_columns(), whole.table.num_columns());
    EXPECT_EQ(pieces.table.line_numbers(), whole.table.line_numbers());
    EXPECT_EQ(pieces.lines, whole.lines);
    EXPECT_EQ(pieces.bytes, whole.bytes);
    for (size_t c = 0; c < whole.table.num_columns(); ++c) {
      EXPECT_EQ(pieces.table.column(c).name(), whole.table.column(c).name());
      for (size_t r = 0; r < whole.table.num_rows(); ++r) {
        EXPECT_EQ(pieces.table.column(c).IsNull(r), whole.table.column(c).IsNull(r));
        if (whole.table.column(c).IsValid(r)) {
          EXPECT_EQ(Cell(pieces.table, c, r), Cell(whole.table, c, r)) << "row " << r;
        }
      }
    }
    ASSERT_EQ(pieces.malformed.size(), whole.malformed.size());
    for (size_t i = 0; i < whole.malformed.size(); ++i) {
      EXPECT_EQ(pieces.malformed[i].line, whole.malformed[i].line);
      EXPECT_EQ(pieces.malformed[i].text, whole.malformed[i].text);
    }
  }
}

TEST(CsvReaderPiecesTest, PiecesGiveTheSameTableAsTheWholeFile) {
  std::string text = "id,name,score,note\n";
  for (int i = 0; i < 60; ++i) {
    text += std::to_string(i) + ",name" + std::to_string(i % 7) + "," + std::to_string(i * 0.5) +
            ",\"quoted, with comma\"\n";
    if (i % 13 == 5) text += "\"a record\nwith a newline\",x,1,\"and \"\"doubled\"\" quotes\"\n";
    if (i % 17 == 3) text += "too,few\n";
    if (i % 19 == 4) text += "\n# not a comment without comment set\n";
  }
  ExpectPiecesReadAsWhole(text);
  ExpectPiecesReadAsWhole(text + "99,last,1.5,no line end");
}

TEST(CsvReaderPiecesTest, ALargeFileReadInChunksWhosePagesAreReleasedGivesTheWholeTable) {
  // Over a megabyte, so that it is parsed as several chunks, each released once parsed; a
  // quoted record spans a line end, and a late value widens a column.
  std::string text = "id,name,score,note\n";
  for (int i = 0; text.size() < (size_t{3} << 19); ++i) {
    text += std::to_string(i) + ",name" + std::to_string(i % 7) + "," + std::to_string(i % 100) +
            (i % 997 == 5 ? ",\"two\nlines\"\n" : ",plain\n");
  }
  text += "-1,late,0.5,widens score\n";
  ExpectPiecesReadAsWhole(text);
}

TEST(CsvReaderPiecesTest, SkippedLinesHeaderAndNamesOnlyApplyToTheFirstPiece) {
  std::string text = "|a comment line\n";
  for (int i = 0; i < 40; ++i) text += std::to_string(i) + ", x" + std::to_string(i) + ", ?\n";
  CsvOptions o;
  o.header = false;
  o.names = {"n", "s", "maybe"};
  o.comment = '|';
  ExpectPiecesReadAsWhole(text, o);
}

TEST(CsvReaderPiecesTest, ATypeThatWidensInALaterPieceWidensTheColumn) {
  test::TempDir dir;
  std::string text = "v\n";
  for (int i = 0; i < 50; ++i) text += std::to_string(i) + "\n";
  text += "2.5\n";
  std::filesystem::path path = dir.path() / "w.csv";
  test::WriteBytes(path, text);
  CsvOptions o;
  o.chunk_bytes = 32;
  CsvReadResult r = ReadCsv(path, o);
  ASSERT_EQ(r.table.num_rows(), 51u);
  EXPECT_EQ(r.table.column(0).type(), DataType::kFloat64);
  EXPECT_DOUBLE_EQ(r.table.column(0).DoubleAt(50), 2.5);
  EXPECT_EQ(r.table.line_numbers()[r.table.num_rows() - 1], 52);
}

TEST(CsvReaderPiecesTest, ARecordLongerThanAPieceIsReadWhole) {
  std::string text =
      "a,b\n1,\"" + std::string(500, 'x') + "\n" + std::string(300, 'y') + "\"\n2,z\n";
  ExpectPiecesReadAsWhole(text);
}

}  // namespace
}  // namespace mloop::table
