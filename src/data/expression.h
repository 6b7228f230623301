// Expression: the small language of a contract's row rules (`capital_loss <= capital_gain +
// 5000`). An Expression is parsed from text into a syntax tree, bound to a Schema (column names
// become indices, types are checked), then evaluated row by row over a Table. docs/contracts.md
// gives the grammar.
//
// Nulls follow SQL: arithmetic or a comparison with a null operand is null; `and`, `or` and
// `not` use three-valued logic (false and null = false, true or null = true). A row rule
// follows SQL CHECK semantics: a row fails only when the rule evaluates to false; true and null
// pass (see Passes).
//
// An Expression is a value type. Parse and Bind change it; Evaluate and Passes are const, do
// not allocate, and are safe to call from several threads at once on one bound Expression.
//
// EvaluateRange and FailingRows evaluate a range of rows column-at-a-time (blocks of
// kBlockRows: each node computes its values for the whole block in a tight loop, and a
// comparison or `in` of a category column with constants is decided once per dictionary code).
// They give exactly what Evaluate and Passes give row by row, and are for many rows; they
// allocate a scratch buffer per call and are, like Evaluate, safe to call concurrently.
#ifndef MLOOP_DATA_EXPRESSION_H_
#define MLOOP_DATA_EXPRESSION_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "table/schema.h"
#include "table/table.h"

namespace mloop::data {

// One value during evaluation. A string points into the Table or the Expression evaluated, so
// a Value lives no longer than both.
struct Value {
  enum class Kind : uint8_t { kNull, kBool, kInt, kDouble, kString };
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string_view s;

  static Value Null() { return {}; }
  static Value Bool(bool v) {
    Value out;
    out.kind = Kind::kBool;
    out.b = v;
    return out;
  }
  static Value Int(int64_t v) {
    Value out;
    out.kind = Kind::kInt;
    out.i = v;
    return out;
  }
  static Value Double(double v) {
    Value out;
    out.kind = Kind::kDouble;
    out.d = v;
    return out;
  }
  static Value String(std::string_view v) {
    Value out;
    out.kind = Kind::kString;
    out.s = v;
    return out;
  }

  bool is_null() const { return kind == Kind::kNull; }
  bool is_number() const { return kind == Kind::kInt || kind == Kind::kDouble; }
  // The number as a double; the caller checks is_number() first.
  double AsDouble() const { return kind == Kind::kInt ? static_cast<double>(i) : d; }
};

class Expression {
 public:
  // Parses `text`. Throws Error invalid_argument naming the text, the 1-based character
  // position of the problem ("col 9") and what was expected there.
  static Expression Parse(std::string_view text);

  // Resolves column names to the indices of `schema` and checks types: arithmetic needs
  // numbers; a comparison or `in` needs operands of one kind (numbers, text or booleans);
  // `and`, `or`, `not` need booleans. int64, float64, date and timestamp columns are numbers
  // (dates as days, timestamps as microseconds since the epoch); string and category are text.
  // Throws Error invalid_argument naming the column or operator and its position. Bind again
  // before evaluating over a Table with another schema.
  void Bind(const table::Schema& schema);
  bool bound() const { return bound_; }

  // The value of the expression on `row` of `table`, whose columns must be laid out as the
  // schema given to Bind (throws Error internal when not bound). Division by zero is null.
  // Integer arithmetic that overflows falls back to doubles.
  Value Evaluate(const table::Table& table, size_t row) const;

  // The SQL CHECK rule: false when the expression is false on the row, true when it is true
  // or null. Bind rules with BindRule, which rejects expressions that are not conditions.
  bool Passes(const table::Table& table, size_t row) const {
    Value v = Evaluate(table, row);
    return !(v.kind == Value::Kind::kBool && !v.b);
  }

  // Evaluate on each row of [begin, end): (*out)[k] is Evaluate(table, begin + k). Strings
  // point into the table or the expression, as with Evaluate. Throws Error internal when not
  // bound.
  void EvaluateRange(const table::Table& table, size_t begin, size_t end,
                     std::vector<Value>* out) const;

  // Appends to `failing`, in order, the rows of [begin, end) on which Passes is false. Throws
  // Error internal when not bound.
  void FailingRows(const table::Table& table, size_t begin, size_t end,
                   std::vector<size_t>* failing) const;

  // Rows evaluated together by EvaluateRange and FailingRows.
  static constexpr size_t kBlockRows = 1024;

  // Bind, then also require the expression to be a condition (boolean); for row rules.
  void BindRule(const table::Schema& schema);

  const std::string& text() const { return text_; }
  // The distinct column names the expression reads, in order of first use.
  std::vector<std::string> ColumnNames() const;

 private:
  enum class Op : uint8_t {
    kLiteral,
    kColumn,
    kNeg,
    kAdd,
    kSub,
    kMul,
    kDiv,
    kEq,
    kNe,
    kLt,
    kLe,
    kGt,
    kGe,
    kAnd,
    kOr,
    kNot,
    kIsNull,
    kIsNotNull,
    kIn,
    kNotIn,
  };
  // The static type a node has after Bind. kAny: a null literal, which fits every type.
  enum class Type : uint8_t { kAny, kBool, kNumber, kText };
  struct Node {
    Op op = Op::kLiteral;
    Type type = Type::kAny;
    uint32_t pos = 0;        // 1-based character position in text_, for errors.
    int32_t a = -1;          // First operand (node index).
    int32_t b = -1;          // Second operand; for kIn/kNotIn the first list item.
    int32_t count = 0;       // kIn/kNotIn: list items, stored in items_[b, b + count).
    Value literal;           // kLiteral; a string's text is strings_[string_id].
    int32_t string_id = -1;  // kLiteral strings and kColumn names: index into strings_.
    int32_t column = -1;     // kColumn after Bind.
    table::DataType column_type = table::DataType::kString;
  };
  friend class ExpressionParser;

  Value Eval(int32_t node, const table::Table& table, size_t row) const;
  struct Block;
  struct BlockScratch;
  // Evaluates `node` over rows [begin, begin + n), n <= kBlockRows, into scratch->blocks[node].
  void EvalBlock(int32_t node, const table::Table& table, size_t begin, size_t n,
                 BlockScratch* scratch) const;
  void InitScratch(const table::Table& table, BlockScratch* scratch) const;
  Type BindNode(int32_t node, const table::Schema& schema);
  [[noreturn]] void Fail(uint32_t pos, const std::string& message) const;

  std::string text_;
  std::vector<Node> nodes_;
  std::vector<int32_t> items_;  // Operand lists of `in`.
  // Literal strings and column names. Evaluate makes string Values from these on the fly, so
  // copying or moving an Expression leaves nothing dangling.
  std::vector<std::string> strings_;
  int32_t root_ = -1;
  bool bound_ = false;
};

}  // namespace mloop::data

#endif  // MLOOP_DATA_EXPRESSION_H_
