#include "data/expression.h"

#include <gtest/gtest.h>

#include <optional>

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

}  // namespace
}  // namespace mloop::data
