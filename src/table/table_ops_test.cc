#include "table/table_ops.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/testing.h"
#include "core/time.h"

namespace mloop::table {
namespace {

using test::ExpectError;

// Five rows of every type, with nulls in different rows, from source lines 2..6.
Table MixedTable() {
  Column i("i", DataType::kInt64);
  Column f("f", DataType::kFloat64);
  Column b("b", DataType::kBool);
  Column s("s", DataType::kString);
  Column c("c", DataType::kCategory);
  Column d("d", DataType::kDate);
  Column ts("ts", DataType::kTimestamp);
  for (int r = 0; r < 5; ++r) {
    if (r == 1) {
      i.AppendNull();
    } else {
      i.AppendInt(r * 10);
    }
    if (r == 2) {
      f.AppendNull();
    } else {
      f.AppendDouble(r + 0.5);
    }
    b.AppendBool(r % 2 == 0);
    if (r == 3) {
      s.AppendNull();
    } else {
      s.AppendString(std::string(static_cast<size_t>(r), 'x') + "s" + std::to_string(r));
    }
    if (r == 4) {
      c.AppendNull();
    } else {
      c.AppendString(r % 2 == 0 ? "red" : "blue");
    }
    d.AppendInt(19000 + r);
    ts.AppendInt(int64_t{1'700'000'000'000'000} + r);
  }
  Table t;
  t.set_line_numbers({2, 3, 4, 5, 6});
  for (Column* col : {&i, &f, &b, &s, &c, &d, &ts}) t.AddColumn(std::move(*col));
  return t;
}

// Every cell as text, "<null>" for a null, column by column.
std::vector<std::vector<std::string>> Cells(const Table& t) {
  std::vector<std::vector<std::string>> cells;
  for (const Column& c : t.columns()) {
    std::vector<std::string> col;
    for (size_t r = 0; r < c.size(); ++r)
      col.push_back(c.IsNull(r) ? "<null>" : c.ValueToString(r));
    cells.push_back(std::move(col));
  }
  return cells;
}

// The reference: row `rows[k]` of `t` appended cell by cell.
Table TakeSlowly(const Table& t, const std::vector<size_t>& rows) {
  Table out;
  std::vector<int64_t> lines;
  for (size_t r : rows) lines.push_back(t.line_numbers()[r]);
  out.set_line_numbers(lines);
  for (const Column& c : t.columns()) {
    Column col(c.name(), c.type());
    for (size_t r : rows) col.AppendFrom(c, r);
    out.AddColumn(std::move(col));
  }
  return out;
}

TEST(TakeRowsTest, KeepsTypesValuesNullsAndLineNumbers) {
  Table t = MixedTable();
  std::vector<size_t> rows = {4, 0, 2, 2, 3};
  Table got = TakeRows(t, rows);
  ASSERT_EQ(got.num_rows(), 5u);
  ASSERT_EQ(got.num_columns(), t.num_columns());
  EXPECT_EQ(got.schema(), t.schema());
  EXPECT_EQ(got.line_numbers(), (std::vector<int64_t>{6, 2, 4, 4, 5}));
  EXPECT_EQ(Cells(got), Cells(TakeSlowly(t, rows)));
  EXPECT_TRUE(got.column(5).IsValid(0));
  EXPECT_EQ(got.column(5).ValueToString(0), "2022-01-12");
  EXPECT_TRUE(got.column(1).IsNull(2));  // Row 2 of "f".
  EXPECT_TRUE(got.column(4).IsNull(0));  // Row 4 of "c".
  // The dictionary is kept whole, so codes mean the same as in the source.
  EXPECT_EQ(got.column(4).dictionary(), t.column(4).dictionary());
  EXPECT_EQ(got.column(4).CodeAt(1), t.column(4).CodeAt(0));
}

TEST(TakeRowsTest, ManyRowsAcrossBitmapWordsMatchCellByCellCopy) {
  std::mt19937_64 rng(7);
  Column i("i", DataType::kInt64);
  Column s("s", DataType::kString);
  Column c("c", DataType::kCategory);
  Column f("f", DataType::kFloat64);  // No nulls: the all-valid path.
  const size_t n = 1000;
  std::vector<int64_t> lines;
  for (size_t r = 0; r < n; ++r) {
    lines.push_back(static_cast<int64_t>(r + 2));
    if (rng() % 3 == 0) {
      i.AppendNull();
      s.AppendNull();
      c.AppendNull();
    } else {
      i.AppendInt(static_cast<int64_t>(rng() % 1000));
      s.AppendString(std::string(rng() % 5, 'a') + std::to_string(r));
      c.AppendString("k" + std::to_string(rng() % 7));
    }
    f.AppendDouble(static_cast<double>(r) / 3);
  }
  Table t;
  t.set_line_numbers(lines);
  for (Column* col : {&i, &s, &c, &f}) t.AddColumn(std::move(*col));
  std::vector<size_t> rows;
  for (size_t k = 0; k < 1500; ++k) rows.push_back(rng() % n);
  Table got = TakeRows(t, rows);
  Table want = TakeSlowly(t, rows);
  EXPECT_EQ(Cells(got), Cells(want));
  EXPECT_EQ(got.line_numbers(), want.line_numbers());
  for (size_t j = 0; j < got.num_columns(); ++j) {
    EXPECT_EQ(got.column(j).null_count(), want.column(j).null_count()) << j;
  }
}

TEST(TakeRowsTest, NoRowsGiveAnEmptyTableWithTheSameColumns) {
  Table t = MixedTable();
  Table got = TakeRows(t, {});
  EXPECT_EQ(got.num_rows(), 0u);
  EXPECT_EQ(got.schema(), t.schema());
}

TEST(TakeRowsTest, RowPastTheEndIsAnError) {
  Table t = MixedTable();
  std::vector<size_t> rows = {1, 7};
  ExpectError(ErrorCode::kInvalidArgument, {"row 7", "index 1", "5-row table"},
              [&] { TakeRows(t, rows); });
}

TEST(ConcatTablesTest, SameTypesAppendRowsAndLineNumbers) {
  Table a = MixedTable();
  Table b = TakeRows(MixedTable(), std::vector<size_t>{3, 1});
  auto want_a = Cells(a);
  auto want_b = Cells(b);
  Table got = ConcatTables({a, b});
  ASSERT_EQ(got.num_rows(), 7u);
  EXPECT_EQ(got.schema(), a.schema());
  EXPECT_EQ(got.line_numbers(), (std::vector<int64_t>{2, 3, 4, 5, 6, 5, 3}));
  auto cells = Cells(got);
  for (size_t j = 0; j < cells.size(); ++j) {
    std::vector<std::string> want = want_a[j];
    want.insert(want.end(), want_b[j].begin(), want_b[j].end());
    EXPECT_EQ(cells[j], want) << a.column(j).name();
  }
}

TEST(ConcatTablesTest, ValidityAcrossUnalignedWords) {
  // 3 + 70 + 5 rows: the second and third tables' bits start mid-word.
  std::vector<Table> tables;
  std::vector<bool> want_valid;
  for (size_t n : {3, 70, 5}) {
    Column c("x", DataType::kInt64);
    for (size_t r = 0; r < n; ++r) {
      bool valid = (r * 7 + n) % 3 != 0;
      want_valid.push_back(valid);
      if (valid) {
        c.AppendInt(static_cast<int64_t>(r));
      } else {
        c.AppendNull();
      }
    }
    Table t;
    t.AddColumn(std::move(c));
    tables.push_back(std::move(t));
  }
  Table got = ConcatTables(std::move(tables));
  ASSERT_EQ(got.num_rows(), want_valid.size());
  for (size_t r = 0; r < want_valid.size(); ++r) {
    EXPECT_EQ(got.column(0).IsValid(r), want_valid[r]) << r;
  }
}

Table OneColumn(Column c) {
  Table t;
  t.AddColumn(std::move(c));
  return t;
}

Column Ints(std::vector<int64_t> v, DataType type = DataType::kInt64) {
  Column c("x", type);
  for (int64_t x : v) c.AppendInt(x);
  return c;
}

Column Texts(std::vector<std::string> v, DataType type) {
  Column c("x", type);
  for (const auto& x : v) {
    if (x == "<null>") {
      c.AppendNull();
    } else {
      c.AppendString(x);
    }
  }
  return c;
}

TEST(ConcatTablesTest, Int64AndFloat64GiveFloat64) {
  Column f("x", DataType::kFloat64);
  f.AppendDouble(0.5);
  f.AppendNull();
  Table got = ConcatTables({OneColumn(Ints({1, -2})), OneColumn(f)});
  const Column& c = got.column(0);
  ASSERT_EQ(c.type(), DataType::kFloat64);
  EXPECT_EQ(c.doubles(), (std::vector<double>{1.0, -2.0, 0.5, 0.0}));
  EXPECT_TRUE(c.IsNull(3));
}

TEST(ConcatTablesTest, DateAndTimestampGiveTimestamp) {
  Table got = ConcatTables({OneColumn(Ints({1}, DataType::kDate)),
                            OneColumn(Ints({kMicrosPerDay + 5}, DataType::kTimestamp))});
  const Column& c = got.column(0);
  ASSERT_EQ(c.type(), DataType::kTimestamp);
  EXPECT_EQ(c.ValueToString(0), "1970-01-02T00:00:00Z");
  EXPECT_EQ(c.IntAt(1), kMicrosPerDay + 5);
}

TEST(ConcatTablesTest, CategoriesMergeDictionariesAndRemapCodes) {
  Table a = OneColumn(Texts({"red", "blue", "<null>", "red"}, DataType::kCategory));
  Table b = OneColumn(Texts({"green", "<null>", "red", "blue", "green"}, DataType::kCategory));
  Table empty = OneColumn(Texts({"<null>"}, DataType::kCategory));  // Empty dictionary.
  Table got = ConcatTables({a, b, empty});
  const Column& c = got.column(0);
  ASSERT_EQ(c.type(), DataType::kCategory);
  EXPECT_EQ(c.dictionary(), (std::vector<std::string>{"red", "blue", "green"}));
  EXPECT_EQ(Cells(got)[0], (std::vector<std::string>{"red", "blue", "<null>", "red", "green",
                                                     "<null>", "red", "blue", "green", "<null>"}));
  // Nulls hold code 0 (column.h), not their part's code remapped (b's null held "green"'s 0).
  for (size_t row : {2, 5, 9}) EXPECT_EQ(c.codes()[row], 0) << "row " << row;
}

// Narrow parts give a narrow column; a wide part, or a dictionary past 256 entries once
// merged, gives a wide one. Gathering keeps the source's width.
TEST(ConcatTablesTest, NarrowAndWidePartsGiveTheWidthTheValuesNeed) {
  Table narrow = ConcatTables({OneColumn(Ints({1, -2})), OneColumn(Ints({3}))});
  EXPECT_TRUE(narrow.column(0).ints().is_narrow());
  Table wide = ConcatTables({OneColumn(Ints({1, -2})), OneColumn(Ints({int64_t{1} << 40}))});
  EXPECT_FALSE(wide.column(0).ints().is_narrow());
  EXPECT_EQ(wide.column(0).ints().ToWide(), (std::vector<int64_t>{1, -2, int64_t{1} << 40}));
  EXPECT_TRUE(TakeRows(narrow, std::vector<size_t>{2, 0}).column(0).ints().is_narrow());
  EXPECT_EQ(TakeRows(wide, std::vector<size_t>{2, 0}).column(0).IntAt(0), int64_t{1} << 40);

  // 200 values in each part, 100 of them shared: 300 once merged.
  std::vector<std::string> first, second;
  for (int i = 0; i < 200; ++i) {
    first.push_back("v" + std::to_string(i));
    second.push_back("v" + std::to_string(i + 100));
  }
  Table a = OneColumn(Texts(first, DataType::kCategory));
  Table b = OneColumn(Texts(second, DataType::kCategory));
  ASSERT_TRUE(a.column(0).codes().is_narrow());
  Table got = ConcatTables({a, b});
  const Column& c = got.column(0);
  EXPECT_EQ(c.dictionary().size(), 300u);
  EXPECT_FALSE(c.codes().is_narrow());
  EXPECT_EQ(c.CodeAt(399), 299);
  EXPECT_EQ(c.StringAt(399), "v299");
  EXPECT_EQ(c.StringAt(200), "v100");
  EXPECT_EQ(c.CodeAt(200), 100);
  Table same = ConcatTables({a, a});
  EXPECT_TRUE(same.column(0).codes().is_narrow());
  EXPECT_EQ(same.column(0).StringAt(399), "v199");
}

TEST(ConcatTablesTest, OtherMixesGiveString) {
  // category + string.
  Table got = ConcatTables({OneColumn(Texts({"a", "<null>"}, DataType::kCategory)),
                            OneColumn(Texts({"b", ""}, DataType::kString))});
  EXPECT_EQ(got.column(0).type(), DataType::kString);
  EXPECT_EQ(Cells(got)[0], (std::vector<std::string>{"a", "<null>", "b", ""}));

  // int64 + string, bool + float64, date + int64.
  Column f("x", DataType::kFloat64);
  f.AppendDouble(2.5);
  Column b("x", DataType::kBool);
  b.AppendBool(true);
  b.AppendNull();
  got = ConcatTables({OneColumn(Ints({7})), OneColumn(Texts({"seven"}, DataType::kString)),
                      OneColumn(b), OneColumn(f), OneColumn(Ints({0}, DataType::kDate))});
  EXPECT_EQ(got.column(0).type(), DataType::kString);
  EXPECT_EQ(Cells(got)[0],
            (std::vector<std::string>{"7", "seven", "true", "<null>", "2.5", "1970-01-01"}));
}

TEST(ConcatTablesTest, OneTableIsReturnedAsItIsAndNoneGiveAnEmptyTable) {
  Table a = MixedTable();
  auto want = Cells(a);
  std::vector<Table> one;
  one.push_back(std::move(a));
  Table got = ConcatTables(std::move(one));
  EXPECT_EQ(Cells(got), want);
  EXPECT_EQ(got.line_numbers(), (std::vector<int64_t>{2, 3, 4, 5, 6}));
  Table none = ConcatTables({});
  EXPECT_EQ(none.num_rows(), 0u);
  EXPECT_EQ(none.num_columns(), 0u);
}

TEST(ConcatTablesTest, TablesWithoutColumnsKeepTheirRows) {
  Table a;
  a.set_line_numbers({1, 2});
  Table b;
  b.set_line_numbers({9});
  Table got = ConcatTables({a, b});
  EXPECT_EQ(got.num_rows(), 3u);
  EXPECT_EQ(got.line_numbers(), (std::vector<int64_t>{1, 2, 9}));
}

TEST(ConcatTablesTest, DifferentColumnsAreAnError) {
  Table a = MixedTable();
  Table renamed = MixedTable();
  renamed.mutable_column(2).set_name("flag");
  ExpectError(ErrorCode::kInvalidArgument, {"table 2", "'flag'", "'b'", "position 3"}, [&] {
    ConcatTables({a, a, renamed});
  });

  Table fewer = TakeRows(MixedTable(), {});
  Table shorter;
  for (size_t j = 0; j + 1 < fewer.num_columns(); ++j) shorter.AddColumn(fewer.column(j));
  ExpectError(ErrorCode::kInvalidArgument, {"table 1", "no column 'ts'"}, [&] {
    ConcatTables({a, shorter});
  });
  ExpectError(ErrorCode::kInvalidArgument, {"table 1", "'ts'", "table 0 does not have"}, [&] {
    ConcatTables({shorter, a});
  });
}

}  // namespace
}  // namespace mloop::table
