#include "data/expression.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/testing.h"

namespace mloop::data {
namespace {

using table::Column;
using table::DataType;
using test::ExpectError;

// Rows:            0      1      2       3
//   a (int64):     1      5      null    -3
//   b (float64):   2.5    null   1.0     0.0
//   s (category):  "x"    "y"    null    "x"
//   t (string):    "it's" ""     "z"     null
//   f (bool):      true   false  null    true
table::Table SmallTable() {
  Column a("a", DataType::kInt64), b("b", DataType::kFloat64), s("s", DataType::kCategory),
      t("t", DataType::kString), f("f", DataType::kBool);
  a.AppendInt(1);
  a.AppendInt(5);
  a.AppendNull();
  a.AppendInt(-3);
  b.AppendDouble(2.5);
  b.AppendNull();
  b.AppendDouble(1.0);
  b.AppendDouble(0.0);
  s.AppendString("x");
  s.AppendString("y");
  s.AppendNull();
  s.AppendString("x");
  t.AppendString("it's");
  t.AppendString("");
  t.AppendString("z");
  t.AppendNull();
  f.AppendBool(true);
  f.AppendBool(false);
  f.AppendNull();
  f.AppendBool(true);
  table::Table table;
  for (Column* c : {&a, &b, &s, &t, &f}) table.AddColumn(std::move(*c));
  table.set_line_numbers({2, 3, 4, 5});
  return table;
}

class ExpressionTest : public ::testing::Test {
 protected:
  // The value of `text` on `row`: nullopt for null, else a number, bool as 0/1.
  Value Eval(std::string_view text, size_t row) {
    Expression e = Expression::Parse(text);
    e.Bind(table_.schema());
    return e.Evaluate(table_, row);
  }
  double Number(std::string_view text, size_t row = 0) {
    Value v = Eval(text, row);
    EXPECT_TRUE(v.is_number()) << text;
    return v.is_number() ? v.AsDouble() : -999;
  }
  // "true", "false" or "null".
  std::string Truth(std::string_view text, size_t row = 0) {
    Value v = Eval(text, row);
    if (v.is_null()) return "null";
    EXPECT_EQ(v.kind, Value::Kind::kBool) << text;
    return v.b ? "true" : "false";
  }

  table::Table table_ = SmallTable();
};

TEST_F(ExpressionTest, ArithmeticPrecedence) {
  EXPECT_EQ(Number("1 + 2 * 3"), 7);
  EXPECT_EQ(Number("(1 + 2) * 3"), 9);
  EXPECT_EQ(Number("10 - 4 - 3"), 3);  // Left-associative.
  EXPECT_EQ(Number("12 / 4 / 3"), 1);
  EXPECT_EQ(Number("-2 * -3"), 6);
  EXPECT_EQ(Number("- (1 + 2)"), -3);
  EXPECT_EQ(Number("2.5e1 + .5"), 25.5);
  EXPECT_EQ(Number("a * 10 + b", 0), 12.5);
  EXPECT_EQ(Eval("7 / 2", 0).kind, Value::Kind::kDouble);
  EXPECT_EQ(Number("7 / 2"), 3.5);
  EXPECT_EQ(Eval("7 * 2", 0).kind, Value::Kind::kInt);
  // Overflowing integers fall back to doubles.
  EXPECT_EQ(Eval("9223372036854775807 + 1", 0).kind, Value::Kind::kDouble);
}

TEST_F(ExpressionTest, LogicPrecedence) {
  // not > and > or.
  EXPECT_EQ(Truth("true or true and false"), "true");
  EXPECT_EQ(Truth("(true or true) and false"), "false");
  EXPECT_EQ(Truth("not false and false"), "false");
  EXPECT_EQ(Truth("not (false and false)"), "true");
  EXPECT_EQ(Truth("!false && true || false"), "true");
  EXPECT_EQ(Truth("1 + 1 = 2 and 3 > 2"), "true");
  EXPECT_EQ(Truth("a < 2 OR a > 4", 1), "true");  // Keywords are case-insensitive.
}

TEST_F(ExpressionTest, Comparisons) {
  EXPECT_EQ(Truth("a = 1"), "true");
  EXPECT_EQ(Truth("a == 1"), "true");
  EXPECT_EQ(Truth("a != 1"), "false");
  EXPECT_EQ(Truth("a <> 2"), "true");
  EXPECT_EQ(Truth("a < b"), "true");  // int vs double.
  EXPECT_EQ(Truth("a <= 1"), "true");
  EXPECT_EQ(Truth("a > 1"), "false");
  EXPECT_EQ(Truth("a >= 1"), "true");
  EXPECT_EQ(Truth("s = 'x'"), "true");
  EXPECT_EQ(Truth("s = \"y\"", 1), "true");
  EXPECT_EQ(Truth("t = 'it''s'"), "true");  // A doubled quote is a quote.
  EXPECT_EQ(Truth("t < s"), "true");        // Text compares bytewise: "it's" < "x".
  EXPECT_EQ(Truth("f = true"), "true");
  EXPECT_EQ(Truth("f", 1), "false");
}

TEST_F(ExpressionTest, NullsFollowThreeValuedLogic) {
  // Row 2: a, s, f are null; row 1: b is null.
  EXPECT_EQ(Truth("a = 1", 2), "null");
  EXPECT_EQ(Truth("a + 1 > 0", 2), "null");
  EXPECT_EQ(Truth("a > 0 and b > 100", 2), "false");  // null and false = false
  EXPECT_EQ(Truth("a > 0 and b > 0", 2), "null");     // null and true = null
  EXPECT_EQ(Truth("a > 0 or b > 0", 2), "true");      // null or true = true
  EXPECT_EQ(Truth("a > 0 or b > 100", 2), "null");    // null or false = null
  EXPECT_EQ(Truth("not (a > 0)", 2), "null");
  EXPECT_EQ(Truth("a is null", 2), "true");
  EXPECT_EQ(Truth("a is not null", 2), "false");
  EXPECT_EQ(Truth("b IS NULL", 1), "true");
  EXPECT_EQ(Truth("a = null"), "null");
  EXPECT_TRUE(Eval("b / 0", 0).is_null());  // Division by zero is null.
}

TEST_F(ExpressionTest, InLists) {
  EXPECT_EQ(Truth("s in ('x', 'z')", 0), "true");
  EXPECT_EQ(Truth("s in ('x', 'z')", 1), "false");
  EXPECT_EQ(Truth("s not in ('x', 'z')", 1), "true");
  EXPECT_EQ(Truth("s in ('x')", 2), "null");  // Null operand.
  EXPECT_EQ(Truth("a in (1, 2, 3)", 0), "true");
  EXPECT_EQ(Truth("a in (-3, 2 + 2)", 3), "true");
  EXPECT_EQ(Truth("a in (5, b)", 0), "false");
  EXPECT_EQ(Truth("a in (7, null)", 0), "null");  // No match, a null item: unknown.
  EXPECT_EQ(Truth("a in (1, null)", 0), "true");
}

TEST_F(ExpressionTest, RulesFailOnlyWhenFalse) {
  Expression e = Expression::Parse("a <= b + 1");
  e.BindRule(table_.schema());
  EXPECT_TRUE(e.Passes(table_, 0));  // 1 <= 3.5
  EXPECT_TRUE(e.Passes(table_, 1));  // b null: passes, as SQL CHECK
  EXPECT_TRUE(e.Passes(table_, 2));  // a null
  EXPECT_TRUE(e.Passes(table_, 3));  // -3 <= 1
  Expression strict = Expression::Parse("a > 0");
  strict.BindRule(table_.schema());
  EXPECT_TRUE(strict.Passes(table_, 0));
  EXPECT_FALSE(strict.Passes(table_, 3));
  // A copy evaluates the same, including its string literals.
  Expression text = Expression::Parse("s = 'x'");
  text.BindRule(table_.schema());
  Expression copy = text;
  text = Expression::Parse("1 = 2");
  EXPECT_TRUE(copy.Passes(table_, 0));
  EXPECT_FALSE(copy.Passes(table_, 1));
}

TEST_F(ExpressionTest, BacktickNamesAndColumnList) {
  Column odd("education-num", DataType::kInt64);
  odd.AppendInt(13);
  table::Table t;
  t.AddColumn(std::move(odd));
  Expression e = Expression::Parse("`education-num` >= 13 and `education-num` < 17");
  EXPECT_EQ(e.ColumnNames(), std::vector<std::string>{"education-num"});
  e.BindRule(t.schema());
  EXPECT_TRUE(e.Passes(t, 0));
  EXPECT_EQ(Expression::Parse("capital_loss <= capital_gain + 5000").ColumnNames(),
            (std::vector<std::string>{"capital_loss", "capital_gain"}));
}

TEST(ExpressionParseTest, SyntaxErrorsNamePositionAndExpectation) {
  ExpectError(
      ErrorCode::kInvalidArgument,
      {"a + ", "col 5", "expected a number, string, column name or '('", "end of expression"},
      [] { Expression::Parse("a + "); });
  ExpectError(ErrorCode::kInvalidArgument, {"col 8", "expected ')'"},
              [] { Expression::Parse("(a + 1 b"); });
  ExpectError(ErrorCode::kInvalidArgument, {"col 3", "unexpected character '$'"},
              [] { Expression::Parse("a $ 1"); });
  ExpectError(ErrorCode::kInvalidArgument, {"col 5", "unterminated string"},
              [] { Expression::Parse("s = 'abc"); });
  ExpectError(ErrorCode::kInvalidArgument, {"col 6", "'null' after 'is'"},
              [] { Expression::Parse("a is 3"); });
  ExpectError(ErrorCode::kInvalidArgument, {"col 9", "',' or ')'"},
              [] { Expression::Parse("a in (1 2)"); });
  ExpectError(ErrorCode::kInvalidArgument, {"col 7", "expected an operator"},
              [] { Expression::Parse("a > 1 2"); });
  ExpectError(ErrorCode::kInvalidArgument, {"col 7", "comparisons do not chain"},
              [] { Expression::Parse("1 < a < 3"); });
  ExpectError(ErrorCode::kInvalidArgument, {"col 1"}, [] { Expression::Parse(""); });
}

TEST_F(ExpressionTest, BindErrorsNameColumnAndPosition) {
  table::Schema schema = table_.schema();
  ExpectError(ErrorCode::kInvalidArgument, {"unknown column 'nope'", "col 9"},
              [&] { Expression::Parse("a > 1 + nope").Bind(schema); });
  ExpectError(ErrorCode::kInvalidArgument, {"cannot compare text with a number", "col 3"},
              [&] { Expression::Parse("s = 1").Bind(schema); });
  ExpectError(ErrorCode::kInvalidArgument, {"arithmetic needs numbers", "col 3"},
              [&] { Expression::Parse("s + 1 > 0").Bind(schema); });
  ExpectError(ErrorCode::kInvalidArgument, {"'in' list item is text", "col 13"},
              [&] { Expression::Parse("a in (1, 2, 'x')").Bind(schema); });
  ExpectError(ErrorCode::kInvalidArgument, {"'and' needs conditions", "col 3"},
              [&] { Expression::Parse("a and f").Bind(schema); });
  ExpectError(ErrorCode::kInvalidArgument, {"a rule must be a condition"},
              [&] { Expression::Parse("a + 1").BindRule(schema); });
  Expression unbound = Expression::Parse("a > 1");
  ExpectError(ErrorCode::kInternal, {"before Bind"}, [&] { unbound.Evaluate(table_, 0); });
}

// A seeded random table for comparing EvaluateRange and FailingRows with Evaluate row by row:
// nulls in every column, integers near the int64 limits (overflow), zeros (division by zero),
// NaN and infinities, and category columns with shared and unused dictionary entries.
table::Table RandomTable(size_t rows, std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  const int64_t kInts[] = {0,
                           1,
                           -1,
                           2,
                           7,
                           -13,
                           5000,
                           99999,
                           3037000500,
                           -3037000500,
                           std::numeric_limits<int64_t>::max(),
                           std::numeric_limits<int64_t>::min(),
                           std::numeric_limits<int64_t>::max() - 1};
  const double kDoubles[] = {0.0,
                             -0.0,
                             0.5,
                             -2.5,
                             1e308,
                             -1e308,
                             7.0,
                             3.0e18,
                             std::nan(""),
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity()};
  const char* kTexts[] = {"", "a", "b", "x", "it's", "Bachelors", "B", "ab"};
  Column i("i", DataType::kInt64), j("j", DataType::kInt64), x("x", DataType::kFloat64),
      y("y", DataType::kFloat64), c("c", DataType::kCategory), t("t", DataType::kString),
      u("u", DataType::kString), f("f", DataType::kBool), g("g", DataType::kBool),
      day("day", DataType::kDate), ts("ts", DataType::kTimestamp);
  // d's dictionary has an entry no row refers to.
  std::vector<int32_t> d_codes;
  table::Bitmap d_valid;
  for (size_t r = 0; r < rows; ++r) {
    auto null = [&] { return pick(6) == 0; };
    null() ? i.AppendNull() : i.AppendInt(kInts[pick(std::size(kInts))]);
    null() ? j.AppendNull() : j.AppendInt(static_cast<int64_t>(pick(21)) - 10);
    null() ? x.AppendNull() : x.AppendDouble(kDoubles[pick(std::size(kDoubles))]);
    null() ? y.AppendNull() : y.AppendDouble(static_cast<double>(pick(9)) / 2 - 2);
    null() ? c.AppendNull() : c.AppendString(kTexts[pick(std::size(kTexts))]);
    bool d_null = null();
    d_codes.push_back(d_null ? 0 : static_cast<int32_t>(1 + pick(3)));
    d_valid.Append(!d_null);
    null() ? t.AppendNull() : t.AppendString(kTexts[pick(std::size(kTexts))]);
    null() ? u.AppendNull() : u.AppendString(kTexts[pick(3)]);
    null() ? f.AppendNull() : f.AppendBool(pick(2) == 0);
    null() ? g.AppendNull() : g.AppendBool(pick(2) == 0);
    null() ? day.AppendNull() : day.AppendInt(static_cast<int64_t>(pick(40000)) - 20000);
    null() ? ts.AppendNull() : ts.AppendInt(kInts[pick(std::size(kInts))]);
  }
  Column d = Column::FromCategory("d", std::move(d_codes), {"never used", "", "a", "b"},
                                  std::move(d_valid));
  table::Table table;
  for (Column* col : {&i, &j, &x, &y, &c, &d, &t, &u, &f, &g, &day, &ts}) {
    table.AddColumn(std::move(*col));
  }
  std::vector<int64_t> lines(rows);
  for (size_t r = 0; r < rows; ++r) lines[r] = static_cast<int64_t>(r) + 2;
  table.set_line_numbers(lines);
  return table;
}

// Random well-typed expressions over RandomTable's columns, using every operator, spelling and
// literal kind of the grammar.
class ExpressionGenerator {
 public:
  explicit ExpressionGenerator(std::mt19937_64& rng) : rng_(rng) {}

  std::string Number(int depth) {
    if (depth <= 0 || Pick(3) == 0) {
      static const char* kLeaves[] = {
          "i",          "j",    "x",     "y",  "day", "ts",  "`i`",   "0",
          "1",          "2",    "5000",  "-3", "0.5", "0.0", "1e308", "9223372036854775807",
          "3037000500", "null", "2.5e1", ".5"};
      return kLeaves[Pick(std::size(kLeaves))];
    }
    switch (Pick(5)) {
      case 0:
        return "-(" + Number(depth - 1) + ")";
      default: {
        static const char* kOps[] = {"+", "-", "*", "/"};
        return "(" + Number(depth - 1) + ") " + kOps[Pick(4)] + " (" + Number(depth - 1) + ")";
      }
    }
  }

  std::string Text() {
    static const char* kLeaves[] = {"c",  "d",       "t",     "u",           "'a'",  "'b'",
                                    "''", "'it''s'", "\"x\"", "'Bachelors'", "null", "`c`"};
    return kLeaves[Pick(std::size(kLeaves))];
  }

  std::string Condition(int depth) {
    if (depth <= 0) {
      static const char* kLeaves[] = {"f", "g", "true", "false", "null", "TRUE"};
      return kLeaves[Pick(std::size(kLeaves))];
    }
    static const char* kCompare[] = {"=", "==", "!=", "<>", "<", "<=", ">", ">="};
    switch (Pick(9)) {
      case 0:
        return "(" + Number(depth - 1) + ") " + kCompare[Pick(8)] + " (" + Number(depth - 1) + ")";
      case 1:
        return Text() + " " + kCompare[Pick(8)] + " " + Text();
      case 2:
        return "(" + Condition(depth - 1) + ") " + kCompare[Pick(8)] + " (" + Condition(depth - 1) +
               ")";
      case 3: {
        static const char* kAnd[] = {"and", "or", "&&", "||", "AND", "Or"};
        return "(" + Condition(depth - 1) + ") " + kAnd[Pick(6)] + " (" + Condition(depth - 1) +
               ")";
      }
      case 4:
        return std::string(Pick(2) ? "not " : "!") + "(" + Condition(depth - 1) + ")";
      case 5: {
        std::string operand = Pick(3) == 0   ? "(" + Number(depth - 1) + ")"
                              : Pick(2) == 0 ? Text()
                                             : "(" + Condition(depth - 1) + ")";
        return operand + (Pick(2) ? " is null" : " is not null");
      }
      case 6:
      case 7: {
        // `in` over numbers or text, with constants or expressions, sometimes null.
        bool text = Pick(2) == 0;
        std::string out =
            (text ? Text() : "(" + Number(depth - 1) + ")") + (Pick(2) ? " not in (" : " in (");
        size_t items = 1 + Pick(4);
        for (size_t k = 0; k < items; ++k) {
          if (k > 0) out += ", ";
          out += text ? Text() : Number(depth - 1);
        }
        return out + ")";
      }
      default:
        return "(" + Condition(depth - 1) + ") " + (Pick(2) ? "and" : "or") + " (" +
               Condition(depth - 1) + ")";
    }
  }

 private:
  size_t Pick(size_t n) { return static_cast<size_t>(rng_() % n); }
  std::mt19937_64& rng_;
};

// Equal as results: same kind and value; NaN equals NaN, and 0.0 and -0.0 differ.
bool SameValue(const Value& x, const Value& y) {
  if (x.kind != y.kind) return false;
  switch (x.kind) {
    case Value::Kind::kNull:
      return true;
    case Value::Kind::kBool:
      return x.b == y.b;
    case Value::Kind::kInt:
      return x.i == y.i;
    case Value::Kind::kDouble:
      return (std::isnan(x.d) && std::isnan(y.d)) || std::memcmp(&x.d, &y.d, sizeof x.d) == 0;
    case Value::Kind::kString:
      return x.s == y.s;
  }
  return false;
}

std::string Show(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBool:
      return v.b ? "true" : "false";
    case Value::Kind::kInt:
      return std::to_string(v.i);
    case Value::Kind::kDouble:
      return "double " + std::to_string(v.d);
    case Value::Kind::kString:
      return "'" + std::string(v.s) + "'";
  }
  return "?";
}

TEST(ExpressionRangeTest, MatchesRowByRowEvaluationOnRandomTables) {
  std::mt19937_64 rng(20261126);
  // Not a multiple of kBlockRows, so the last block is partial.
  const size_t rows = 2 * Expression::kBlockRows + 357;
  table::Table table = RandomTable(rows, rng);
  ExpressionGenerator gen(rng);
  int conditions = 0;
  for (int n = 0; n < 600; ++n) {
    const bool condition = n % 3 != 0;
    std::string text = condition ? gen.Condition(1 + n % 4) : gen.Number(1 + n % 4);
    SCOPED_TRACE(text);
    Expression e = Expression::Parse(text);
    e.Bind(table.schema());
    // The whole table, and a range that starts and ends inside blocks.
    const std::pair<size_t, size_t> ranges[] = {{0, rows}, {17, rows - 5}, {1000, 1030}};
    for (auto [begin, end] : ranges) {
      std::vector<Value> values;
      e.EvaluateRange(table, begin, end, &values);
      ASSERT_EQ(values.size(), end - begin);
      for (size_t r = begin; r < end; ++r) {
        Value want = e.Evaluate(table, r);
        ASSERT_TRUE(SameValue(values[r - begin], want))
            << "row " << r << ": range gives " << Show(values[r - begin]) << ", row gives "
            << Show(want);
      }
    }
    if (!condition) continue;
    ++conditions;
    std::vector<size_t> failing = {999999};  // FailingRows appends.
    e.FailingRows(table, 3, rows - 1, &failing);
    std::vector<size_t> want = {999999};
    for (size_t r = 3; r < rows - 1; ++r) {
      if (!e.Passes(table, r)) want.push_back(r);
    }
    ASSERT_EQ(failing, want);
  }
  EXPECT_EQ(conditions, 400);
}

// Blocks without a null take the integer fast paths (comparisons as arithmetic on sign bits or
// AVX-512 comparisons, sums and differences with overflow found from sign bits); they must agree
// with the row-by-row evaluation at the ends of the int64 range.
TEST(ExpressionRangeTest, IntegerComparisonsWithoutNullsAtTheExtremes) {
  const int64_t kInts[] = {0,
                           1,
                           -1,
                           3037000500,
                           -3037000500,
                           std::numeric_limits<int64_t>::max(),
                           std::numeric_limits<int64_t>::min(),
                           std::numeric_limits<int64_t>::max() - 1,
                           std::numeric_limits<int64_t>::min() + 1};
  Column p("p", DataType::kInt64), q("q", DataType::kInt64);
  for (int64_t a : kInts) {
    for (int64_t b : kInts) {
      p.AppendInt(a);
      q.AppendInt(b);
    }
  }
  const size_t rows = p.size();  // A word of 64 rows and a partial one.
  table::Table table;
  table.AddColumn(std::move(p));
  table.AddColumn(std::move(q));
  for (std::string_view text : {"p = q", "p <> q", "p < q", "p <= q", "p > q", "p >= q",
                                "p = 0 or q = 0", "p < q and q > -1", "p + 0 <= q",
                                // Sums and differences that overflow (then computed as doubles).
                                "p + q <= 0", "p - q > q", "p - 1 < q + 1", "q - p >= p + q"}) {
    SCOPED_TRACE(text);
    Expression e = Expression::Parse(text);
    e.BindRule(table.schema());
    std::vector<Value> values;
    e.EvaluateRange(table, 0, rows, &values);
    for (size_t r = 0; r < rows; ++r) {
      EXPECT_TRUE(SameValue(values[r], e.Evaluate(table, r)))
          << "row " << r << ": range gives " << Show(values[r]) << ", row gives "
          << Show(e.Evaluate(table, r));
    }
  }
}

TEST(ExpressionRangeTest, CategoryAgainstConstantsAndEmptyRanges) {
  table::Table table = SmallTable();
  for (std::string_view text :
       {"s = 'x'", "'x' < s", "s in ('y', null)", "s not in ('x')", "s <> t", "s in (t, 'y')"}) {
    SCOPED_TRACE(text);
    Expression e = Expression::Parse(text);
    e.BindRule(table.schema());
    std::vector<Value> values;
    e.EvaluateRange(table, 0, table.num_rows(), &values);
    for (size_t r = 0; r < table.num_rows(); ++r) {
      EXPECT_TRUE(SameValue(values[r], e.Evaluate(table, r))) << "row " << r;
    }
    e.EvaluateRange(table, 2, 2, &values);
    EXPECT_TRUE(values.empty());
    std::vector<size_t> failing;
    e.FailingRows(table, 4, 4, &failing);
    EXPECT_TRUE(failing.empty());
  }
  Expression unbound = Expression::Parse("a > 1");
  std::vector<size_t> failing;
  ExpectError(ErrorCode::kInternal, {"before Bind", "a > 1"},
              [&] { unbound.FailingRows(table, 0, 1, &failing); });
}

}  // namespace
}  // namespace mloop::data
