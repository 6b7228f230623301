#include "data/expression.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <unordered_set>

#include "core/error.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define MLOOP_EXPRESSION_AVX512 1
#endif

namespace mloop::data {

namespace {

enum class Tok {
  kEnd,
  kNumber,
  kString,
  kIdent,    // A column name, bare or backtick-quoted.
  kKeyword,  // and or not is null in true false (case-insensitive), in `keyword`.
  kSymbol,   // Operators and punctuation, in `text`.
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // Symbol, keyword (lowercase), identifier or unquoted string.
  double number = 0;
  int64_t integer = 0;
  bool is_integer = false;
  uint32_t pos = 1;  // 1-based.
};

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

const std::unordered_set<std::string>& Keywords() {
  static const auto* kKeywords =
      new std::unordered_set<std::string>{"and", "or", "not", "is", "null", "in", "true", "false"};
  return *kKeywords;
}

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Tok::kEnd:
      return "end of expression";
    case Tok::kNumber:
      return "number " + t.text;
    case Tok::kString:
      return "string '" + t.text + "'";
    case Tok::kIdent:
      return "column name '" + t.text + "'";
    case Tok::kKeyword:
      return "'" + t.text + "'";
    case Tok::kSymbol:
      return "'" + t.text + "'";
  }
  return "?";
}

}  // namespace

// Recursive descent over the grammar in docs/contracts.md, one function per precedence level.
class ExpressionParser {
 public:
  explicit ExpressionParser(Expression& e) : e_(e), text_(e.text_) {}

  void Run() {
    Advance();
    e_.root_ = ParseOr();
    if (tok_.kind != Tok::kEnd) Expected("an operator or the end of the expression");
  }

 private:
  using Op = Expression::Op;
  using Node = Expression::Node;

  [[noreturn]] void Fail(uint32_t pos, const std::string& message) { e_.Fail(pos, message); }
  [[noreturn]] void Expected(const std::string& what) {
    Fail(tok_.pos, "expected " + what + ", found " + Describe(tok_));
  }

  void Advance() { tok_ = Lex(); }

  Token Lex() {
    while (i_ < text_.size() &&
           (text_[i_] == ' ' || text_[i_] == '\t' || text_[i_] == '\n' || text_[i_] == '\r')) {
      ++i_;
    }
    Token t;
    t.pos = static_cast<uint32_t>(i_ + 1);
    if (i_ >= text_.size()) return t;
    char c = text_[i_];
    if (IsDigit(c) || (c == '.' && i_ + 1 < text_.size() && IsDigit(text_[i_ + 1]))) {
      size_t start = i_;
      while (i_ < text_.size() && (IsDigit(text_[i_]) || text_[i_] == '.')) ++i_;
      if (i_ < text_.size() && (text_[i_] == 'e' || text_[i_] == 'E')) {
        ++i_;
        if (i_ < text_.size() && (text_[i_] == '+' || text_[i_] == '-')) ++i_;
        while (i_ < text_.size() && IsDigit(text_[i_])) ++i_;
      }
      t.kind = Tok::kNumber;
      t.text = std::string(text_.substr(start, i_ - start));
      const char* first = text_.data() + start;
      const char* last = text_.data() + i_;
      auto [pi, eci] = std::from_chars(first, last, t.integer);
      if (eci == std::errc() && pi == last) {
        t.is_integer = true;
        t.number = static_cast<double>(t.integer);
        return t;
      }
      auto [pd, ecd] = std::from_chars(first, last, t.number);
      if (ecd != std::errc() || pd != last) Fail(t.pos, "malformed number '" + t.text + "'");
      return t;
    }
    if (c == '\'' || c == '"' || c == '`') {
      // Strings and quoted names; a doubled quote stands for itself, as in SQL.
      ++i_;
      std::string s;
      while (true) {
        if (i_ >= text_.size()) {
          Fail(t.pos, std::string("unterminated ") + (c == '`' ? "quoted column name" : "string") +
                          ": expected a closing " + c);
        }
        if (text_[i_] == c) {
          if (i_ + 1 < text_.size() && text_[i_ + 1] == c) {
            s.push_back(c);
            i_ += 2;
            continue;
          }
          ++i_;
          break;
        }
        s.push_back(text_[i_++]);
      }
      if (c == '`' && s.empty()) Fail(t.pos, "empty quoted column name");
      t.kind = c == '`' ? Tok::kIdent : Tok::kString;
      t.text = std::move(s);
      return t;
    }
    if (IsIdentStart(c)) {
      size_t start = i_;
      while (i_ < text_.size() && IsIdentChar(text_[i_])) ++i_;
      std::string word(text_.substr(start, i_ - start));
      std::string lower = Lower(word);
      if (Keywords().count(lower)) {
        t.kind = Tok::kKeyword;
        t.text = lower;
      } else {
        t.kind = Tok::kIdent;
        t.text = std::move(word);
      }
      return t;
    }
    static constexpr std::string_view kTwo[] = {"==", "!=", "<>", "<=", ">=", "&&", "||"};
    for (std::string_view op : kTwo) {
      if (text_.substr(i_, 2) == op) {
        i_ += 2;
        t.kind = Tok::kSymbol;
        t.text = std::string(op);
        return t;
      }
    }
    if (std::string_view("+-*/()<>=!,").find(c) != std::string_view::npos) {
      ++i_;
      t.kind = Tok::kSymbol;
      t.text = std::string(1, c);
      return t;
    }
    Fail(t.pos, std::string("unexpected character '") + c + "'");
  }

  bool IsSymbol(std::string_view s) const { return tok_.kind == Tok::kSymbol && tok_.text == s; }
  bool IsKeyword(std::string_view s) const { return tok_.kind == Tok::kKeyword && tok_.text == s; }

  int32_t Add(Node n) {
    e_.nodes_.push_back(std::move(n));
    return static_cast<int32_t>(e_.nodes_.size() - 1);
  }
  int32_t Binary(Op op, uint32_t pos, int32_t a, int32_t b) {
    Node n;
    n.op = op;
    n.pos = pos;
    n.a = a;
    n.b = b;
    return Add(n);
  }

  // or := and (("or" | "||") and)*
  int32_t ParseOr() {
    int32_t left = ParseAnd();
    while (IsKeyword("or") || IsSymbol("||")) {
      uint32_t pos = tok_.pos;
      Advance();
      left = Binary(Op::kOr, pos, left, ParseAnd());
    }
    return left;
  }

  // and := not (("and" | "&&") not)*
  int32_t ParseAnd() {
    int32_t left = ParseNot();
    while (IsKeyword("and") || IsSymbol("&&")) {
      uint32_t pos = tok_.pos;
      Advance();
      left = Binary(Op::kAnd, pos, left, ParseNot());
    }
    return left;
  }

  // not := ("not" | "!") not | predicate
  int32_t ParseNot() {
    if (IsKeyword("not") || IsSymbol("!")) {
      uint32_t pos = tok_.pos;
      Advance();
      return Binary(Op::kNot, pos, ParseNot(), -1);
    }
    return ParsePredicate();
  }

  // predicate := sum [ compare sum | "is" ["not"] "null" | ["not"] "in" "(" sum ("," sum)* ")" ]
  int32_t ParsePredicate() {
    int32_t left = ParseSum();
    uint32_t pos = tok_.pos;
    if (tok_.kind == Tok::kSymbol) {
      static const std::pair<std::string_view, Op> kCompare[] = {
          {"=", Op::kEq}, {"==", Op::kEq}, {"!=", Op::kNe}, {"<>", Op::kNe},
          {"<", Op::kLt}, {"<=", Op::kLe}, {">", Op::kGt},  {">=", Op::kGe}};
      for (const auto& [sym, op] : kCompare) {
        if (tok_.text == sym) {
          Advance();
          int32_t right = ParseSum();
          if (tok_.kind == Tok::kSymbol &&
              std::string_view("= == != <> < <= > >=").find(tok_.text) != std::string_view::npos &&
              tok_.text != "!") {
            Fail(tok_.pos,
                 "comparisons do not chain: expected 'and' or 'or' before '" + tok_.text + "'");
          }
          return Binary(op, pos, left, right);
        }
      }
    }
    if (IsKeyword("is")) {
      Advance();
      bool negated = false;
      if (IsKeyword("not")) {
        negated = true;
        Advance();
      }
      if (!IsKeyword("null")) Expected("'null' after 'is'");
      Advance();
      return Binary(negated ? Op::kIsNotNull : Op::kIsNull, pos, left, -1);
    }
    bool negated = false;
    if (IsKeyword("not")) {
      negated = true;
      Advance();
      if (!IsKeyword("in")) Expected("'in' after 'not'");
    }
    if (IsKeyword("in")) {
      Advance();
      if (!IsSymbol("(")) Expected("'(' after 'in'");
      Advance();
      std::vector<int32_t> items;
      items.push_back(ParseSum());
      while (IsSymbol(",")) {
        Advance();
        items.push_back(ParseSum());
      }
      if (!IsSymbol(")")) Expected("',' or ')' in the list of 'in'");
      Advance();
      Node n;
      n.op = negated ? Op::kNotIn : Op::kIn;
      n.pos = pos;
      n.a = left;
      n.b = static_cast<int32_t>(e_.items_.size());
      n.count = static_cast<int32_t>(items.size());
      e_.items_.insert(e_.items_.end(), items.begin(), items.end());
      return Add(n);
    }
    return left;
  }

  // sum := product (("+" | "-") product)*
  int32_t ParseSum() {
    int32_t left = ParseProduct();
    while (IsSymbol("+") || IsSymbol("-")) {
      Op op = tok_.text == "+" ? Op::kAdd : Op::kSub;
      uint32_t pos = tok_.pos;
      Advance();
      left = Binary(op, pos, left, ParseProduct());
    }
    return left;
  }

  // product := unary (("*" | "/") unary)*
  int32_t ParseProduct() {
    int32_t left = ParseUnary();
    while (IsSymbol("*") || IsSymbol("/")) {
      Op op = tok_.text == "*" ? Op::kMul : Op::kDiv;
      uint32_t pos = tok_.pos;
      Advance();
      left = Binary(op, pos, left, ParseUnary());
    }
    return left;
  }

  // unary := "-" unary | primary
  int32_t ParseUnary() {
    if (IsSymbol("-")) {
      uint32_t pos = tok_.pos;
      Advance();
      return Binary(Op::kNeg, pos, ParseUnary(), -1);
    }
    return ParsePrimary();
  }

  // primary := number | string | "true" | "false" | "null" | name | "(" or ")"
  int32_t ParsePrimary() {
    Node n;
    n.pos = tok_.pos;
    switch (tok_.kind) {
      case Tok::kNumber:
        n.literal = tok_.is_integer ? Value::Int(tok_.integer) : Value::Double(tok_.number);
        n.type = Expression::Type::kNumber;
        break;
      case Tok::kString:
        n.literal = Value::String({});
        n.type = Expression::Type::kText;
        n.string_id = static_cast<int32_t>(e_.strings_.size());
        e_.strings_.push_back(tok_.text);
        break;
      case Tok::kIdent:
        n.op = Op::kColumn;
        n.string_id = static_cast<int32_t>(e_.strings_.size());
        e_.strings_.push_back(tok_.text);
        break;
      case Tok::kKeyword:
        if (tok_.text == "true" || tok_.text == "false") {
          n.literal = Value::Bool(tok_.text == "true");
          n.type = Expression::Type::kBool;
        } else if (tok_.text == "null") {
          n.literal = Value::Null();
        } else {
          Expected("a number, string, column name or '('");
        }
        break;
      case Tok::kSymbol:
        if (tok_.text == "(") {
          Advance();
          int32_t inner = ParseOr();
          if (!IsSymbol(")")) Expected("')'");
          Advance();
          return inner;
        }
        Expected("a number, string, column name or '('");
      case Tok::kEnd:
        Expected("a number, string, column name or '('");
    }
    Advance();
    return Add(n);
  }

  Expression& e_;
  std::string_view text_;
  size_t i_ = 0;
  Token tok_;
};

Expression Expression::Parse(std::string_view text) {
  Expression e;
  e.text_ = std::string(text);
  ExpressionParser(e).Run();
  return e;
}

void Expression::Fail(uint32_t pos, const std::string& message) const {
  ThrowInvalidArgument("expression \"" + text_ + "\": col " + std::to_string(pos) + ": " + message);
}

std::vector<std::string> Expression::ColumnNames() const {
  std::vector<std::string> names;
  for (const Node& n : nodes_) {
    if (n.op != Op::kColumn) continue;
    const std::string& name = strings_[static_cast<size_t>(n.string_id)];
    bool seen = false;
    for (const auto& have : names) seen = seen || have == name;
    if (!seen) names.push_back(name);
  }
  return names;
}

namespace {

std::string_view TypeName(int t) {
  switch (t) {
    case 1:
      return "a boolean";
    case 2:
      return "a number";
    case 3:
      return "text";
  }
  return "null";
}

}  // namespace

Expression::Type Expression::BindNode(int32_t index, const table::Schema& schema) {
  Node& n = nodes_[static_cast<size_t>(index)];
  auto name_of = [&](Type t) { return TypeName(static_cast<int>(t)); };
  auto same_kind = [&](Type x, Type y) { return x == Type::kAny || y == Type::kAny || x == y; };
  switch (n.op) {
    case Op::kLiteral:
      return n.type;
    case Op::kColumn: {
      const std::string& name = strings_[static_cast<size_t>(n.string_id)];
      int i = schema.IndexOf(name);
      if (i < 0) Fail(n.pos, "unknown column '" + name + "'");
      n.column = i;
      n.column_type = schema.field(static_cast<size_t>(i)).type;
      switch (n.column_type) {
        case table::DataType::kBool:
          n.type = Type::kBool;
          break;
        case table::DataType::kString:
        case table::DataType::kCategory:
          n.type = Type::kText;
          break;
        default:
          n.type = Type::kNumber;
      }
      return n.type;
    }
    case Op::kNeg: {
      Type a = BindNode(n.a, schema);
      if (!same_kind(a, Type::kNumber)) {
        Fail(n.pos, std::string("'-' needs a number, got ") + std::string(name_of(a)));
      }
      return n.type = Type::kNumber;
    }
    case Op::kAdd:
    case Op::kSub:
    case Op::kMul:
    case Op::kDiv: {
      Type a = BindNode(n.a, schema);
      Type b = BindNode(n.b, schema);
      if (!same_kind(a, Type::kNumber) || !same_kind(b, Type::kNumber)) {
        Fail(n.pos, "arithmetic needs numbers, got " + std::string(name_of(a)) + " and " +
                        std::string(name_of(b)));
      }
      return n.type = Type::kNumber;
    }
    case Op::kEq:
    case Op::kNe:
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe: {
      Type a = BindNode(n.a, schema);
      Type b = BindNode(n.b, schema);
      if (!same_kind(a, b)) {
        Fail(n.pos,
             "cannot compare " + std::string(name_of(a)) + " with " + std::string(name_of(b)));
      }
      return n.type = Type::kBool;
    }
    case Op::kAnd:
    case Op::kOr: {
      Type a = BindNode(n.a, schema);
      Type b = BindNode(n.b, schema);
      if (!same_kind(a, Type::kBool) || !same_kind(b, Type::kBool)) {
        Fail(n.pos, std::string(n.op == Op::kAnd ? "'and'" : "'or'") + " needs conditions, got " +
                        std::string(name_of(a)) + " and " + std::string(name_of(b)));
      }
      return n.type = Type::kBool;
    }
    case Op::kNot: {
      Type a = BindNode(n.a, schema);
      if (!same_kind(a, Type::kBool)) {
        Fail(n.pos, "'not' needs a condition, got " + std::string(name_of(a)));
      }
      return n.type = Type::kBool;
    }
    case Op::kIsNull:
    case Op::kIsNotNull:
      BindNode(n.a, schema);
      return n.type = Type::kBool;
    case Op::kIn:
    case Op::kNotIn: {
      Type a = BindNode(n.a, schema);
      for (int32_t k = 0; k < n.count; ++k) {
        int32_t item = items_[static_cast<size_t>(n.b + k)];
        Type t = BindNode(item, schema);
        if (!same_kind(a, t)) {
          Fail(nodes_[static_cast<size_t>(item)].pos,
               "'in' list item is " + std::string(name_of(t)) + ", the value tested is " +
                   std::string(name_of(a)));
        }
      }
      return n.type = Type::kBool;
    }
  }
  return Type::kAny;
}

void Expression::Bind(const table::Schema& schema) {
  bound_ = false;
  if (root_ < 0) ThrowInvalidArgument("cannot bind an empty expression");
  BindNode(root_, schema);
  bound_ = true;
}

void Expression::BindRule(const table::Schema& schema) {
  Bind(schema);
  Type t = nodes_[static_cast<size_t>(root_)].type;
  if (t != Type::kBool && t != Type::kAny) {
    bound_ = false;
    Fail(1, "a rule must be a condition (true or false), this expression is " +
                std::string(TypeName(static_cast<int>(t))));
  }
}

namespace {

// Three-way comparison of two non-null values of one kind; numbers compare as doubles unless
// both are integers.
int Compare(const Value& x, const Value& y) {
  if (x.kind == Value::Kind::kInt && y.kind == Value::Kind::kInt) {
    return x.i < y.i ? -1 : (x.i > y.i ? 1 : 0);
  }
  if (x.is_number() && y.is_number()) {
    double a = x.AsDouble(), b = y.AsDouble();
    return a < b ? -1 : (a > b ? 1 : 0);
  }
  if (x.kind == Value::Kind::kString && y.kind == Value::Kind::kString) {
    int c = x.s.compare(y.s);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (x.kind == Value::Kind::kBool && y.kind == Value::Kind::kBool) {
    return static_cast<int>(x.b) - static_cast<int>(y.b);
  }
  return 2;  // Kinds that Bind keeps apart; never equal, never ordered.
}

Value Arithmetic(char op, const Value& x, const Value& y) {
  if (x.kind == Value::Kind::kInt && y.kind == Value::Kind::kInt && op != '/') {
    int64_t r;
    bool overflow = op == '+'   ? __builtin_add_overflow(x.i, y.i, &r)
                    : op == '-' ? __builtin_sub_overflow(x.i, y.i, &r)
                                : __builtin_mul_overflow(x.i, y.i, &r);
    if (!overflow) return Value::Int(r);
  }
  double a = x.AsDouble(), b = y.AsDouble();
  switch (op) {
    case '+':
      return Value::Double(a + b);
    case '-':
      return Value::Double(a - b);
    case '*':
      return Value::Double(a * b);
    default:
      if (b == 0) return Value::Null();
      return Value::Double(a / b);
  }
}

}  // namespace

Value Expression::Evaluate(const table::Table& table, size_t row) const {
  if (!bound_) ThrowInternal("Expression::Evaluate before Bind: " + text_);
  return Eval(root_, table, row);
}

Value Expression::Eval(int32_t index, const table::Table& table, size_t row) const {
  const Node& n = nodes_[static_cast<size_t>(index)];
  switch (n.op) {
    case Op::kLiteral:
      if (n.string_id >= 0) return Value::String(strings_[static_cast<size_t>(n.string_id)]);
      return n.literal;
    case Op::kColumn: {
      const table::Column& c = table.column(static_cast<size_t>(n.column));
      if (c.IsNull(row)) return Value::Null();
      switch (c.type()) {
        case table::DataType::kFloat64:
          return Value::Double(c.DoubleAt(row));
        case table::DataType::kBool:
          return Value::Bool(c.BoolAt(row));
        case table::DataType::kString:
        case table::DataType::kCategory:
          return Value::String(c.StringAt(row));
        default:
          return Value::Int(c.IntAt(row));
      }
    }
    case Op::kNeg: {
      Value a = Eval(n.a, table, row);
      if (a.is_null()) return a;
      if (a.kind == Value::Kind::kInt && a.i != std::numeric_limits<int64_t>::min()) {
        return Value::Int(-a.i);
      }
      return Value::Double(-a.AsDouble());
    }
    case Op::kAdd:
    case Op::kSub:
    case Op::kMul:
    case Op::kDiv: {
      Value a = Eval(n.a, table, row);
      Value b = Eval(n.b, table, row);
      if (a.is_null() || b.is_null()) return Value::Null();
      char op = n.op == Op::kAdd ? '+' : n.op == Op::kSub ? '-' : n.op == Op::kMul ? '*' : '/';
      return Arithmetic(op, a, b);
    }
    case Op::kEq:
    case Op::kNe:
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe: {
      Value a = Eval(n.a, table, row);
      Value b = Eval(n.b, table, row);
      if (a.is_null() || b.is_null()) return Value::Null();
      // NaN is unordered: every comparison but != is false.
      if ((a.kind == Value::Kind::kDouble && std::isnan(a.d)) ||
          (b.kind == Value::Kind::kDouble && std::isnan(b.d))) {
        return Value::Bool(n.op == Op::kNe);
      }
      int c = Compare(a, b);
      switch (n.op) {
        case Op::kEq:
          return Value::Bool(c == 0);
        case Op::kNe:
          return Value::Bool(c != 0);
        case Op::kLt:
          return Value::Bool(c == -1);
        case Op::kLe:
          return Value::Bool(c == -1 || c == 0);
        case Op::kGt:
          return Value::Bool(c == 1);
        default:
          return Value::Bool(c == 1 || c == 0);
      }
    }
    case Op::kAnd: {
      Value a = Eval(n.a, table, row);
      if (a.kind == Value::Kind::kBool && !a.b) return a;
      Value b = Eval(n.b, table, row);
      if (b.kind == Value::Kind::kBool && !b.b) return b;
      if (a.is_null() || b.is_null()) return Value::Null();
      return Value::Bool(true);
    }
    case Op::kOr: {
      Value a = Eval(n.a, table, row);
      if (a.kind == Value::Kind::kBool && a.b) return a;
      Value b = Eval(n.b, table, row);
      if (b.kind == Value::Kind::kBool && b.b) return b;
      if (a.is_null() || b.is_null()) return Value::Null();
      return Value::Bool(false);
    }
    case Op::kNot: {
      Value a = Eval(n.a, table, row);
      if (a.is_null()) return a;
      return Value::Bool(!a.b);
    }
    case Op::kIsNull:
      return Value::Bool(Eval(n.a, table, row).is_null());
    case Op::kIsNotNull:
      return Value::Bool(!Eval(n.a, table, row).is_null());
    case Op::kIn:
    case Op::kNotIn: {
      // SQL: x in (a, b) is x = a or x = b, so a null x, or no match with a null item, is null.
      Value a = Eval(n.a, table, row);
      if (a.is_null()) return a;
      bool saw_null = false;
      for (int32_t k = 0; k < n.count; ++k) {
        Value item = Eval(items_[static_cast<size_t>(n.b + k)], table, row);
        if (item.is_null()) {
          saw_null = true;
          continue;
        }
        if (Compare(a, item) == 0) return Value::Bool(n.op == Op::kIn);
      }
      if (saw_null) return Value::Null();
      return Value::Bool(n.op == Op::kNotIn);
    }
  }
  return Value::Null();
}

// Column-at-a-time evaluation. Each node owns a Block: per row of the block a kind, and the
// value in the array of that kind. Every loop below mirrors a case of Eval, row for row.
struct Expression::Block {
  std::vector<Value::Kind> kind;
  std::vector<int64_t> i;
  std::vector<double> d;
  // The integers and doubles to read: i and d, or for a column's node the column's own arrays
  // at the block's first row (not copied).
  const int64_t* iv = nullptr;
  const double* dv = nullptr;
  std::vector<uint8_t> b;
  std::vector<std::string_view> s;
  // A category column's node: the codes of the block's rows (meaningful where not null),
  // the column's own or, for one-byte codes, widened into wide_codes.
  const int32_t* codes = nullptr;
  std::vector<int32_t> wide_codes;
  // Every row of the block is an integer (kInt): the fast paths need not look at `kind`.
  bool all_int = false;
  // A category column read only through its codes (by a comparison or `in` with constants):
  // `s` is not filled.
  bool codes_only = false;
};

struct Expression::BlockScratch {
  std::vector<Block> blocks;  // One per node.
  // Comparisons and `in` of a category column with constants: the result per dictionary code,
  // filled on first use (0: not yet, 1: false, 2: true, 3: null). Empty for other nodes.
  std::vector<std::vector<uint8_t>> code_results;
  // The category column such a node reads; null for other nodes.
  std::vector<const table::Column*> code_columns;
};

namespace {

using Kind = Value::Kind;

Value ValueAt(const std::vector<Kind>& kind, const int64_t* i, const double* d,
              const std::vector<uint8_t>& b, const std::vector<std::string_view>& s, size_t k) {
  switch (kind[k]) {
    case Kind::kNull:
      return Value::Null();
    case Kind::kBool:
      return Value::Bool(b[k] != 0);
    case Kind::kInt:
      return Value::Int(i[k]);
    case Kind::kDouble:
      return Value::Double(d[k]);
    case Kind::kString:
      return Value::String(s[k]);
  }
  return Value::Null();
}

bool ValidAt(const uint64_t* words, size_t row) { return (words[row >> 6] >> (row & 63)) & 1; }

uint8_t EncodeBool(const Value& v) {
  if (v.is_null()) return 3;
  return v.b ? 2 : 1;
}

// The loops below run over a block 64 rows at a time through __restrict pointers, which the
// compiler vectorizes at -O2; integer comparisons are arithmetic on sign bits, as baseline x86-64
// has no vector comparison of 64-bit integers.

// out[k] = fn(p[k], q[k]) for k < n.
template <typename Fn>
void MapInts(const int64_t* __restrict p, const int64_t* __restrict q, uint8_t* __restrict out,
             size_t n, Fn fn) {
  size_t k = 0;
  for (; k + 64 <= n; k += 64) {
    for (size_t j = k; j < k + 64; ++j) out[j] = fn(p[j], q[j]);
  }
  for (; k < n; ++k) out[k] = fn(p[k], q[k]);
}

// 1 when p < q (signed), from the sign of p - q corrected for overflow (Hacker's Delight 2-12).
inline uint8_t SignedLess(int64_t p, int64_t q) {
  const auto x = static_cast<uint64_t>(p);
  const auto y = static_cast<uint64_t>(q);
  const uint64_t d = x - y;
  return static_cast<uint8_t>((d ^ ((x ^ y) & (d ^ x))) >> 63);
}

// 1 when p == q: p - q is 0 exactly when neither it nor its negation has the top bit set.
inline uint8_t Equal(int64_t p, int64_t q) {
  const uint64_t d = static_cast<uint64_t>(p) - static_cast<uint64_t>(q);
  return static_cast<uint8_t>(((d | (0 - d)) >> 63) ^ 1);
}

#ifdef MLOOP_EXPRESSION_AVX512
// out[k] = (p[k] kPredicate q[k]) for k < n (a _MM_CMPINT_* predicate), with AVX-512's 64-bit
// comparisons: eight rows a comparison, a byte per row from the masks of 64. On the bench file
// (683,781 rows), `capital_gain = 0 or capital_loss = 0` took 0.45 ms instead of 0.61 with the
// sign-bit arithmetic of MapInts on SSE2, and `education_num >= 13 or education not in (...)`
// 1.03 ms instead of 1.26.
template <int kPredicate>
[[gnu::target("avx512f,avx512bw")]] void CompareIntsAvx512(const int64_t* p, const int64_t* q,
                                                           uint8_t* out, size_t n) {
  size_t k = 0;
  for (; k + 64 <= n; k += 64) {
    uint64_t bits = 0;
    for (size_t j = 0; j < 64; j += 8) {
      const __m512i x = _mm512_loadu_si512(p + k + j);
      const __m512i y = _mm512_loadu_si512(q + k + j);
      bits |= uint64_t{_mm512_cmp_epi64_mask(x, y, kPredicate)} << j;
    }
    _mm512_storeu_si512(out + k, _mm512_maskz_set1_epi8(bits, 1));
  }
  if (k == n) return;
  // The last rows, fewer than 64: read masked, written a byte each.
  uint64_t bits = 0;
  for (size_t j = 0; k + j < n; j += 8) {
    const size_t left = n - k - j;
    const auto mask = static_cast<__mmask8>(left >= 8 ? 0xff : (1u << left) - 1);
    const __m512i x = _mm512_maskz_loadu_epi64(mask, p + k + j);
    const __m512i y = _mm512_maskz_loadu_epi64(mask, q + k + j);
    bits |= uint64_t{_mm512_mask_cmp_epi64_mask(mask, x, y, kPredicate)} << j;
  }
  for (size_t j = 0; k + j < n; ++j) out[k + j] = static_cast<uint8_t>((bits >> j) & 1);
}

// out[k] = p[k] + q[k] (kAdd) or p[k] - q[k], wrapping, for k < n; true when any overflowed
// (the sign of the result differs from both operands' for a sum, from p's and agrees with q's
// for a difference). The checked builtins' loop did not vectorize: with it and
// CompareIntsAvx512, the bench file's `capital_loss <= capital_gain + 5000` took 0.37 ms
// instead of 0.8.
template <bool kAdd>
[[gnu::target("avx512f")]] bool AddIntsAvx512(const int64_t* p, const int64_t* q, int64_t* out,
                                              size_t n) {
  __m512i overflow = _mm512_setzero_si512();
  size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m512i x = _mm512_loadu_si512(p + k);
    const __m512i y = _mm512_loadu_si512(q + k);
    const __m512i r = kAdd ? _mm512_add_epi64(x, y) : _mm512_sub_epi64(x, y);
    _mm512_storeu_si512(out + k, r);
    // Sum: (r ^ x) & (r ^ y); difference: (x ^ y) & (r ^ x); the top bit says overflow.
    const __m512i rx = _mm512_xor_si512(r, x);
    overflow = _mm512_or_si512(
        overflow, _mm512_and_si512(rx, kAdd ? _mm512_xor_si512(r, y) : _mm512_xor_si512(x, y)));
  }
  bool any = _mm512_cmplt_epi64_mask(overflow, _mm512_setzero_si512()) != 0;
  for (; k < n; ++k) {
    any |= kAdd ? __builtin_add_overflow(p[k], q[k], &out[k])
                : __builtin_sub_overflow(p[k], q[k], &out[k]);
  }
  return any;
}

bool HasAvx512Bw() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  return has;
}
#endif

// Whether an operand of `and` (decide 0) or `or` (decide 1) decides the result: it is a boolean
// of the deciding value.
inline uint8_t Decides(Kind kind, uint8_t b, uint8_t decide) {
  return static_cast<uint8_t>((kind == Kind::kBool) & (b == decide));
}

// The kind of the result of `and` or `or`: boolean when an operand decides or neither is null,
// else null.
inline Kind AndOrKind(uint8_t decided, Kind ka, Kind kb) {
  static_assert(static_cast<uint8_t>(Kind::kNull) == 0 && static_cast<uint8_t>(Kind::kBool) == 1);
  const auto any_null = static_cast<uint8_t>((ka == Kind::kNull) | (kb == Kind::kNull));
  return static_cast<Kind>(decided | (any_null ^ 1));
}

// Whether any of 64 rows is false (a boolean 0; null is not false).
bool AnyFalse(const Kind* __restrict kind, const uint8_t* __restrict b) {
  uint8_t any = 0;
  for (size_t j = 0; j < 64; ++j) any |= (kind[j] == Kind::kBool) & (b[j] == 0);
  return any != 0;
}

// `and` (decide 0) or `or` (decide 1) of two blocks of SQL booleans, without branches.
void AndOr(const Kind* __restrict ka, const uint8_t* __restrict ba, const Kind* __restrict kb,
           const uint8_t* __restrict bb, uint8_t decide, Kind* __restrict kind,
           uint8_t* __restrict out, size_t n) {
  size_t k = 0;
  for (; k + 64 <= n; k += 64) {
    for (size_t j = k; j < k + 64; ++j) {
      const uint8_t decided = Decides(ka[j], ba[j], decide) | Decides(kb[j], bb[j], decide);
      kind[j] = AndOrKind(decided, ka[j], kb[j]);
      out[j] = static_cast<uint8_t>(decide ^ decided ^ 1);
    }
  }
  for (; k < n; ++k) {
    const uint8_t decided = Decides(ka[k], ba[k], decide) | Decides(kb[k], bb[k], decide);
    kind[k] = AndOrKind(decided, ka[k], kb[k]);
    out[k] = static_cast<uint8_t>(decide ^ decided ^ 1);
  }
}

}  // namespace

void Expression::InitScratch(const table::Table& table, BlockScratch* scratch) const {
  scratch->blocks.resize(nodes_.size());
  scratch->code_results.assign(nodes_.size(), {});
  scratch->code_columns.assign(nodes_.size(), nullptr);
  auto is_category_column = [&](int32_t node) -> const table::Column* {
    const Node& c = nodes_[static_cast<size_t>(node)];
    if (c.op != Op::kColumn) return nullptr;
    const table::Column& col = table.column(static_cast<size_t>(c.column));
    return col.type() == table::DataType::kCategory ? &col : nullptr;
  };
  auto is_constant = [&](int32_t node) {
    return nodes_[static_cast<size_t>(node)].op == Op::kLiteral;
  };
  for (size_t x = 0; x < nodes_.size(); ++x) {
    const Node& n = nodes_[x];
    Block& blk = scratch->blocks[x];
    blk.kind.assign(kBlockRows, Kind::kNull);
    blk.i.assign(kBlockRows, 0);
    blk.d.assign(kBlockRows, 0);
    blk.b.assign(kBlockRows, 0);
    blk.s.assign(kBlockRows, std::string_view());
    blk.iv = blk.i.data();
    blk.dv = blk.d.data();
    if (n.op == Op::kLiteral) {
      // A literal's block never changes: fill it once.
      Value v =
          n.string_id >= 0 ? Value::String(strings_[static_cast<size_t>(n.string_id)]) : n.literal;
      blk.all_int = v.kind == Kind::kInt;
      for (size_t k = 0; k < kBlockRows; ++k) {
        blk.kind[k] = v.kind;
        blk.i[k] = v.i;
        blk.d[k] = v.d;
        blk.b[k] = v.b;
        blk.s[k] = v.s;
      }
    }
    const table::Column* category = nullptr;
    switch (n.op) {
      case Op::kEq:
      case Op::kNe:
      case Op::kLt:
      case Op::kLe:
      case Op::kGt:
      case Op::kGe:
        if ((category = is_category_column(n.a)) != nullptr && !is_constant(n.b)) {
          category = nullptr;
        }
        if (category == nullptr && is_constant(n.a)) {
          category = is_category_column(n.b);
        }
        break;
      case Op::kIn:
      case Op::kNotIn:
        category = is_category_column(n.a);
        for (int32_t k = 0; k < n.count && category != nullptr; ++k) {
          if (!is_constant(items_[static_cast<size_t>(n.b + k)])) category = nullptr;
        }
        break;
      default:
        break;
    }
    if (category != nullptr) {
      if (n.op == Op::kIn || n.op == Op::kNotIn ||
          nodes_[static_cast<size_t>(n.a)].op == Op::kColumn) {
        scratch->blocks[static_cast<size_t>(n.a)].codes_only = true;
      } else {
        scratch->blocks[static_cast<size_t>(n.b)].codes_only = true;
      }
      scratch->code_columns[x] = category;
      scratch->code_results[x].assign(category->dictionary().size(), 0);
    }
  }
}

void Expression::EvalBlock(int32_t index, const table::Table& table, size_t begin, size_t n,
                           BlockScratch* scratch) const {
  const size_t x = static_cast<size_t>(index);
  const Node& node = nodes_[x];
  Block& out = scratch->blocks[x];
  Kind* kind = out.kind.data();
  switch (node.op) {
    case Op::kLiteral:
      return;  // Filled by InitScratch.
    case Op::kColumn: {
      const table::Column& c = table.column(static_cast<size_t>(node.column));
      const uint64_t* words = c.validity().words().data();
      out.codes = nullptr;
      Kind valid_kind;
      switch (c.type()) {
        case table::DataType::kFloat64:
          valid_kind = Kind::kDouble;
          out.dv = c.doubles().data() + begin;
          break;
        case table::DataType::kBool:
          valid_kind = Kind::kBool;
          std::memcpy(out.b.data(), c.bools().data() + begin, n);
          break;
        case table::DataType::kString:
        case table::DataType::kCategory:
          valid_kind = Kind::kString;
          break;
        default:
          valid_kind = Kind::kInt;
          if (c.ints().is_narrow()) {
            // int32 values: widened into the block's own array for the int64 kernels.
            c.ints().CopyWide(begin, n, out.i.data());
            out.iv = out.i.data();
          } else {
            out.iv = c.ints().wide().data() + begin;
          }
      }
      bool all_valid = true;
      for (size_t k = 0; k < n;) {
        const size_t r = begin + k;
        if ((r & 63) == 0 && k + 64 <= n && words[r >> 6] == ~uint64_t{0}) {
          std::fill(kind + k, kind + k + 64, valid_kind);  // 64 rows without a null.
          k += 64;
          continue;
        }
        bool valid = ValidAt(words, r);
        all_valid &= valid;
        kind[k] = valid ? valid_kind : Kind::kNull;
        ++k;
      }
      out.all_int = all_valid && valid_kind == Kind::kInt;
      if (valid_kind == Kind::kString) {
        if (c.type() == table::DataType::kCategory) {
          const table::CodeVector& codes = c.codes();
          if (codes.is_narrow()) {
            out.wide_codes.resize(n);
            codes.CopyWide(begin, n, out.wide_codes.data());
            out.codes = out.wide_codes.data();
          } else {
            out.codes = codes.wide().data() + begin;
          }
        }
        if (out.codes_only) return;
        for (size_t k = 0; k < n; ++k) {
          if (kind[k] != Kind::kNull) out.s[k] = c.StringAt(begin + k);
        }
      }
      return;
    }
    case Op::kNeg: {
      EvalBlock(node.a, table, begin, n, scratch);
      const Block& a = scratch->blocks[static_cast<size_t>(node.a)];
      out.all_int = false;
      for (size_t k = 0; k < n; ++k) {
        Kind ka = a.kind[k];
        if (ka == Kind::kNull) {
          kind[k] = Kind::kNull;
        } else if (ka == Kind::kInt && a.iv[k] != std::numeric_limits<int64_t>::min()) {
          kind[k] = Kind::kInt;
          out.i[k] = -a.iv[k];
        } else {
          kind[k] = Kind::kDouble;
          out.d[k] = -(ka == Kind::kInt ? static_cast<double>(a.iv[k]) : a.dv[k]);
        }
      }
      return;
    }
    case Op::kAdd:
    case Op::kSub:
    case Op::kMul:
    case Op::kDiv: {
      EvalBlock(node.a, table, begin, n, scratch);
      EvalBlock(node.b, table, begin, n, scratch);
      const Block& a = scratch->blocks[static_cast<size_t>(node.a)];
      const Block& b = scratch->blocks[static_cast<size_t>(node.b)];
      const Op op = node.op;
      if (a.all_int && b.all_int && op != Op::kDiv) {
        // Integers without nulls: one tight loop; when any row overflows, the general loop
        // below redoes the block.
        bool overflow = false;
        auto run = [&](auto checked_op) {
          for (size_t k = 0; k < n; ++k) overflow |= checked_op(a.iv[k], b.iv[k], &out.i[k]);
        };
#ifdef MLOOP_EXPRESSION_AVX512
        const bool vector = op != Op::kMul && HasAvx512Bw();
        if (vector) {
          overflow = op == Op::kAdd ? AddIntsAvx512<true>(a.iv, b.iv, out.i.data(), n)
                                    : AddIntsAvx512<false>(a.iv, b.iv, out.i.data(), n);
        }
#else
        const bool vector = false;
#endif
        if (vector) {
          // Done above.
        } else if (op == Op::kAdd) {
          run([](int64_t p, int64_t q, int64_t* r) { return __builtin_add_overflow(p, q, r); });
        } else if (op == Op::kSub) {
          run([](int64_t p, int64_t q, int64_t* r) { return __builtin_sub_overflow(p, q, r); });
        } else {
          run([](int64_t p, int64_t q, int64_t* r) { return __builtin_mul_overflow(p, q, r); });
        }
        if (!overflow) {
          std::fill(kind, kind + n, Kind::kInt);
          out.all_int = true;
          return;
        }
      }
      bool all_int = true;
      for (size_t k = 0; k < n; ++k) {
        Kind ka = a.kind[k], kb = b.kind[k];
        if (ka == Kind::kNull || kb == Kind::kNull) {
          kind[k] = Kind::kNull;
          all_int = false;
          continue;
        }
        if (ka == Kind::kInt && kb == Kind::kInt && op != Op::kDiv) {
          int64_t r;
          bool overflow = op == Op::kAdd   ? __builtin_add_overflow(a.iv[k], b.iv[k], &r)
                          : op == Op::kSub ? __builtin_sub_overflow(a.iv[k], b.iv[k], &r)
                                           : __builtin_mul_overflow(a.iv[k], b.iv[k], &r);
          if (!overflow) {
            kind[k] = Kind::kInt;
            out.i[k] = r;
            continue;
          }
        }
        double p = ka == Kind::kInt ? static_cast<double>(a.iv[k]) : a.dv[k];
        double q = kb == Kind::kInt ? static_cast<double>(b.iv[k]) : b.dv[k];
        kind[k] = Kind::kDouble;
        all_int = false;
        switch (op) {
          case Op::kAdd:
            out.d[k] = p + q;
            break;
          case Op::kSub:
            out.d[k] = p - q;
            break;
          case Op::kMul:
            out.d[k] = p * q;
            break;
          default:
            if (q == 0) {
              kind[k] = Kind::kNull;
            } else {
              out.d[k] = p / q;
            }
        }
      }
      out.all_int = all_int;
      return;
    }
    case Op::kEq:
    case Op::kNe:
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe: {
      EvalBlock(node.a, table, begin, n, scratch);
      EvalBlock(node.b, table, begin, n, scratch);
      const Block& a = scratch->blocks[static_cast<size_t>(node.a)];
      const Block& b = scratch->blocks[static_cast<size_t>(node.b)];
      const Op node_op = node.op;
      auto result = [node_op](int c) {
        switch (node_op) {
          case Op::kEq:
            return c == 0;
          case Op::kNe:
            return c != 0;
          case Op::kLt:
            return c == -1;
          case Op::kLe:
            return c == -1 || c == 0;
          case Op::kGt:
            return c == 1;
          default:
            return c == 1 || c == 0;
        }
      };
      if (const table::Column* category = scratch->code_columns[x]) {
        // A category column against a constant: decided once per dictionary code, by Eval on
        // the code's text.
        const bool column_first = a.codes != nullptr;
        const Block& col = column_first ? a : b;
        const Block& lit = column_first ? b : a;
        std::vector<uint8_t>& cache = scratch->code_results[x];
        for (size_t k = 0; k < n; ++k) {
          if (col.kind[k] == Kind::kNull || lit.kind[k] == Kind::kNull) {
            kind[k] = Kind::kNull;
            continue;
          }
          auto code = static_cast<size_t>(col.codes[k]);
          if (cache[code] == 0) {
            Value text = Value::String(category->dictionary()[code]);
            Value constant = ValueAt(lit.kind, lit.iv, lit.dv, lit.b, lit.s, k);
            int c = column_first ? Compare(text, constant) : Compare(constant, text);
            cache[code] = result(c) ? 2 : 1;
          }
          kind[k] = Kind::kBool;
          out.b[k] = cache[code] == 2;
        }
        return;
      }
      // The loops below are instantiated per operator, so that `holds` compiles to one
      // comparison.
      auto run = [&](auto op_constant) {
        constexpr Op op = decltype(op_constant)::value;
        auto holds = [](int c) {
          if constexpr (op == Op::kEq) return c == 0;
          if constexpr (op == Op::kNe) return c != 0;
          if constexpr (op == Op::kLt) return c == -1;
          if constexpr (op == Op::kLe) return c == -1 || c == 0;
          if constexpr (op == Op::kGt) return c == 1;
          if constexpr (op == Op::kGe) return c == 1 || c == 0;
        };
        if (a.all_int && b.all_int) {
          std::fill(kind, kind + n, Kind::kBool);
#ifdef MLOOP_EXPRESSION_AVX512
          if (HasAvx512Bw()) {
            constexpr int predicate = op == Op::kEq   ? _MM_CMPINT_EQ
                                      : op == Op::kNe ? _MM_CMPINT_NE
                                      : op == Op::kLt ? _MM_CMPINT_LT
                                      : op == Op::kLe ? _MM_CMPINT_LE
                                      : op == Op::kGt ? _MM_CMPINT_NLE
                                                      : _MM_CMPINT_NLT;
            CompareIntsAvx512<predicate>(a.iv, b.iv, out.b.data(), n);
            return;
          }
#endif
          MapInts(a.iv, b.iv, out.b.data(), n, [](int64_t p, int64_t q) -> uint8_t {
            if constexpr (op == Op::kEq) return Equal(p, q);
            if constexpr (op == Op::kNe) return Equal(p, q) ^ 1;
            if constexpr (op == Op::kLt) return SignedLess(p, q);
            if constexpr (op == Op::kLe) return SignedLess(q, p) ^ 1;
            if constexpr (op == Op::kGt) return SignedLess(q, p);
            if constexpr (op == Op::kGe) return SignedLess(p, q) ^ 1;
          });
          return;
        }
        for (size_t k = 0; k < n; ++k) {
          Kind ka = a.kind[k], kb = b.kind[k];
          if (ka == Kind::kNull || kb == Kind::kNull) {
            kind[k] = Kind::kNull;
            continue;
          }
          kind[k] = Kind::kBool;
          int c;
          if (ka == Kind::kInt && kb == Kind::kInt) {
            c = a.iv[k] < b.iv[k] ? -1 : (a.iv[k] > b.iv[k] ? 1 : 0);
          } else if ((ka == Kind::kInt || ka == Kind::kDouble) &&
                     (kb == Kind::kInt || kb == Kind::kDouble)) {
            double p = ka == Kind::kInt ? static_cast<double>(a.iv[k]) : a.dv[k];
            double q = kb == Kind::kInt ? static_cast<double>(b.iv[k]) : b.dv[k];
            // NaN is unordered: every comparison but != is false.
            if (std::isnan(p) || std::isnan(q)) {
              out.b[k] = op == Op::kNe;
              continue;
            }
            c = p < q ? -1 : (p > q ? 1 : 0);
          } else {
            if ((ka == Kind::kDouble && std::isnan(a.dv[k])) ||
                (kb == Kind::kDouble && std::isnan(b.dv[k]))) {
              out.b[k] = op == Op::kNe;
              continue;
            }
            c = Compare(ValueAt(a.kind, a.iv, a.dv, a.b, a.s, k),
                        ValueAt(b.kind, b.iv, b.dv, b.b, b.s, k));
          }
          out.b[k] = holds(c);
        }
      };
      switch (node_op) {
        case Op::kEq:
          run(std::integral_constant<Op, Op::kEq>());
          break;
        case Op::kNe:
          run(std::integral_constant<Op, Op::kNe>());
          break;
        case Op::kLt:
          run(std::integral_constant<Op, Op::kLt>());
          break;
        case Op::kLe:
          run(std::integral_constant<Op, Op::kLe>());
          break;
        case Op::kGt:
          run(std::integral_constant<Op, Op::kGt>());
          break;
        default:
          run(std::integral_constant<Op, Op::kGe>());
      }
      return;
    }
    case Op::kAnd:
    case Op::kOr: {
      EvalBlock(node.a, table, begin, n, scratch);
      EvalBlock(node.b, table, begin, n, scratch);
      const Block& a = scratch->blocks[static_cast<size_t>(node.a)];
      const Block& b = scratch->blocks[static_cast<size_t>(node.b)];
      // The deciding value: false for `and`, true for `or`.
      const uint8_t decide = node.op == Op::kOr ? 1 : 0;
      AndOr(a.kind.data(), a.b.data(), b.kind.data(), b.b.data(), decide, kind, out.b.data(), n);
      return;
    }
    case Op::kNot: {
      EvalBlock(node.a, table, begin, n, scratch);
      const Block& a = scratch->blocks[static_cast<size_t>(node.a)];
      for (size_t k = 0; k < n; ++k) {
        if (a.kind[k] == Kind::kNull) {
          kind[k] = Kind::kNull;
        } else {
          kind[k] = Kind::kBool;
          out.b[k] = a.kind[k] == Kind::kBool ? !a.b[k] : 1;
        }
      }
      return;
    }
    case Op::kIsNull:
    case Op::kIsNotNull: {
      EvalBlock(node.a, table, begin, n, scratch);
      const Block& a = scratch->blocks[static_cast<size_t>(node.a)];
      const bool want_null = node.op == Op::kIsNull;
      for (size_t k = 0; k < n; ++k) {
        kind[k] = Kind::kBool;
        out.b[k] = (a.kind[k] == Kind::kNull) == want_null;
      }
      return;
    }
    case Op::kIn:
    case Op::kNotIn: {
      // SQL: x in (a, b) is x = a or x = b, so a null x, or no match with a null item, is null.
      EvalBlock(node.a, table, begin, n, scratch);
      const Block& a = scratch->blocks[static_cast<size_t>(node.a)];
      for (int32_t j = 0; j < node.count; ++j) {
        EvalBlock(items_[static_cast<size_t>(node.b + j)], table, begin, n, scratch);
      }
      auto in_result = [&](const Value& v, size_t k) {
        bool saw_null = false;
        for (int32_t j = 0; j < node.count; ++j) {
          const Block& ib =
              scratch->blocks[static_cast<size_t>(items_[static_cast<size_t>(node.b + j)])];
          Value item = ValueAt(ib.kind, ib.iv, ib.dv, ib.b, ib.s, k);
          if (item.is_null()) {
            saw_null = true;
            continue;
          }
          if (Compare(v, item) == 0) return Value::Bool(node.op == Op::kIn);
        }
        if (saw_null) return Value::Null();
        return Value::Bool(node.op == Op::kNotIn);
      };
      auto store = [&](size_t k, uint8_t code) {
        if (code == 3) {
          kind[k] = Kind::kNull;
        } else {
          kind[k] = Kind::kBool;
          out.b[k] = code == 2;
        }
      };
      if (const table::Column* category = scratch->code_columns[x]) {
        std::vector<uint8_t>& cache = scratch->code_results[x];
        for (size_t k = 0; k < n; ++k) {
          if (a.kind[k] == Kind::kNull) {
            kind[k] = Kind::kNull;
            continue;
          }
          auto code = static_cast<size_t>(a.codes[k]);
          if (cache[code] == 0) {
            cache[code] = EncodeBool(in_result(Value::String(category->dictionary()[code]), k));
          }
          store(k, cache[code]);
        }
        return;
      }
      for (size_t k = 0; k < n; ++k) {
        if (a.kind[k] == Kind::kNull) {
          kind[k] = Kind::kNull;
          continue;
        }
        store(k, EncodeBool(in_result(ValueAt(a.kind, a.iv, a.dv, a.b, a.s, k), k)));
      }
      return;
    }
  }
}

void Expression::EvaluateRange(const table::Table& table, size_t begin, size_t end,
                               std::vector<Value>* out) const {
  if (!bound_) ThrowInternal("Expression::EvaluateRange before Bind: " + text_);
  out->clear();
  if (end <= begin) return;
  out->reserve(end - begin);
  BlockScratch scratch;
  InitScratch(table, &scratch);
  const Block& root = scratch.blocks[static_cast<size_t>(root_)];
  for (size_t start = begin; start < end; start += kBlockRows) {
    size_t n = std::min(kBlockRows, end - start);
    EvalBlock(root_, table, start, n, &scratch);
    for (size_t k = 0; k < n; ++k) {
      out->push_back(ValueAt(root.kind, root.iv, root.dv, root.b, root.s, k));
    }
  }
}

void Expression::FailingRows(const table::Table& table, size_t begin, size_t end,
                             std::vector<size_t>* failing) const {
  if (!bound_) ThrowInternal("Expression::FailingRows before Bind: " + text_);
  if (end <= begin) return;
  BlockScratch scratch;
  InitScratch(table, &scratch);
  const Block& root = scratch.blocks[static_cast<size_t>(root_)];
  for (size_t start = begin; start < end; start += kBlockRows) {
    size_t n = std::min(kBlockRows, end - start);
    EvalBlock(root_, table, start, n, &scratch);
    // Failing rows are rare: 64 rows at a time are looked at one by one only when one fails.
    for (size_t k = 0; k < n; k += 64) {
      const size_t m = std::min<size_t>(64, n - k);
      if (m == 64 && !AnyFalse(root.kind.data() + k, root.b.data() + k)) continue;
      for (size_t j = k; j < k + m; ++j) {
        if (root.kind[j] == Kind::kBool && root.b[j] == 0) failing->push_back(start + j);
      }
    }
  }
}

}  // namespace mloop::data
