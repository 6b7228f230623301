#include "data/expression.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "core/error.h"

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

}  // namespace mloop::data
