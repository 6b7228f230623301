#include "tracking/search_filter.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <system_error>
#include <utility>

#include "core/error.h"

namespace mloop::tracking {

namespace {

constexpr std::string_view kAllComparators =
    "=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL, IS NOT NULL";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_';
}
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsQuote(char c) { return c == '\'' || c == '"' || c == '`'; }
bool IsOperatorChar(char c) { return c == '<' || c == '>' || c == '=' || c == '!'; }

char FoldAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (FoldAscii(a[i]) != FoldAscii(b[i])) return false;
  }
  return true;
}

// The attributes MLflow's RunInfo makes searchable, with whether they are numbers.
struct AttributeSpec {
  std::string_view name;
  bool numeric;
};
constexpr std::array<AttributeSpec, 7> kAttributes = {{
    {"run_id", false},
    {"run_name", false},
    {"status", false},
    {"user_id", false},
    {"artifact_uri", false},
    {"start_time", true},
    {"end_time", true},
}};
constexpr std::string_view kAttributeList =
    "run_id, run_name, status, user_id, artifact_uri, start_time or end_time";

// The canonical attribute name for `key`, resolving MLflow's aliases; nullopt when unknown.
std::optional<std::string_view> CanonicalAttribute(std::string_view key) {
  if (key == "created" || key == "Created") return "start_time";
  if (key == "run name" || key == "Run name" || key == "Run Name") return "run_name";
  for (const AttributeSpec& spec : kAttributes) {
    if (spec.name == key) return spec.name;
  }
  return std::nullopt;
}

bool IsNumericAttribute(std::string_view key) {
  for (const AttributeSpec& spec : kAttributes) {
    if (spec.name == key) return spec.numeric;
  }
  return false;
}

std::optional<FieldKind> KindOfPrefix(std::string_view prefix) {
  if (prefix == "metrics" || prefix == "metric") return FieldKind::kMetric;
  if (prefix == "params" || prefix == "param" || prefix == "parameters" || prefix == "parameter") {
    return FieldKind::kParam;
  }
  if (prefix == "tags" || prefix == "tag") return FieldKind::kTag;
  if (prefix == "attributes" || prefix == "attribute" || prefix == "attr" || prefix == "run") {
    return FieldKind::kAttribute;
  }
  if (prefix == "datasets" || prefix == "dataset") return FieldKind::kDataset;
  return std::nullopt;
}

bool IsPlainName(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

// `key` as the parser reads it back: bare when it is a name, else in backquotes.
std::string FormatKey(std::string_view key) {
  if (IsPlainName(key)) return std::string(key);
  std::string out = "`";
  for (char c : key) {
    if (c == '`') out += '`';
    if (c == '\\') out += '\\';
    out += c;
  }
  out += '`';
  return out;
}

std::string FormatText(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    if (c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

std::string FormatNumber(double value) {
  std::array<char, 64> buffer{};
  auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  if (ec != std::errc()) ThrowInternal("cannot format a number");
  return std::string(buffer.data(), end);
}

std::string FieldText(const FieldRef& field) {
  return std::string(FieldKindPrefix(field.kind)) + "." + FormatKey(field.key);
}

// The comparators a field allows, as MLflow's SearchUtils: VALID_METRIC_COMPARATORS,
// VALID_PARAM_COMPARATORS, VALID_TAG_COMPARATORS, VALID_STRING_ATTRIBUTE_COMPARATORS (IN only for
// run_id, as its _get_value) and VALID_DATASET_COMPARATORS; plus IS [NOT] NULL, which mloop adds.
std::string_view AllowedComparators(const FieldRef& field) {
  switch (field.kind) {
    case FieldKind::kMetric:
      return "=, !=, <, <=, >, >=, IS NULL, IS NOT NULL";
    case FieldKind::kParam:
    case FieldKind::kTag:
      return "=, !=, LIKE, ILIKE, IS NULL, IS NOT NULL";
    case FieldKind::kAttribute:
      if (field.is_numeric()) return "=, !=, <, <=, >, >=, IS NULL, IS NOT NULL";
      if (field.key == "run_id") return "=, !=, LIKE, ILIKE, IN, NOT IN, IS NULL, IS NOT NULL";
      return "=, !=, LIKE, ILIKE, IS NULL, IS NOT NULL";
    case FieldKind::kDataset:
      return "=, !=, LIKE, ILIKE, IN, NOT IN";
  }
  return "";
}

bool IsAllowed(const FieldRef& field, Comparator comparator) {
  const bool ordering = comparator == Comparator::kLess || comparator == Comparator::kLessEqual ||
                        comparator == Comparator::kGreater ||
                        comparator == Comparator::kGreaterEqual;
  const bool pattern = comparator == Comparator::kLike || comparator == Comparator::kILike;
  const bool list = comparator == Comparator::kIn || comparator == Comparator::kNotIn;
  const bool null_test = comparator == Comparator::kIsNull || comparator == Comparator::kIsNotNull;
  if (field.kind == FieldKind::kDataset) return !ordering && !null_test;
  if (field.is_numeric()) return !pattern && !list;
  if (list) return field.kind == FieldKind::kAttribute && field.key == "run_id";
  return !ordering;
}

// Reads filter and order-by text left to right. Positions are byte offsets; messages give them
// as 1-based columns.
class Scanner {
 public:
  Scanner(std::string_view what, std::string_view text) : what_(what), text_(text) {}

  [[noreturn]] void Fail(size_t pos, std::string_view message) const {
    ThrowInvalidArgument("invalid " + std::string(what_) + " \"" + std::string(text_) +
                         "\" at column " + std::to_string(pos + 1) + ": " + std::string(message));
  }

  size_t pos() const { return pos_; }
  void set_pos(size_t pos) { pos_ = pos; }
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void Advance(size_t n = 1) { pos_ += n; }

  void SkipSpace() {
    while (!AtEnd() && IsSpace(text_[pos_])) ++pos_;
  }

  // A run of letters, digits and underscores; empty when there is none here.
  std::string_view Word() {
    size_t start = pos_;
    while (!AtEnd() && IsNameChar(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  // A run of the characters of = != < <= > >=, valid or not, so `>>` is one bad comparator.
  std::string_view OperatorRun() {
    size_t start = pos_;
    while (!AtEnd() && IsOperatorChar(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  // The text between the quote at the current position and its closing twin. Inside, a doubled
  // quote or a backslash before the quote is the quote itself, and two backslashes are one.
  std::string Quoted() {
    const size_t start = pos_;
    const char quote = text_[pos_++];
    std::string out;
    while (true) {
      if (AtEnd()) {
        Fail(start, std::string("unterminated quoted text: expected a closing ") + quote);
      }
      char c = text_[pos_];
      if (c == '\\' && (Peek(1) == quote || Peek(1) == '\\')) {
        out += Peek(1);
        pos_ += 2;
      } else if (c == quote && Peek(1) == quote) {
        out += quote;
        pos_ += 2;
      } else if (c == quote) {
        ++pos_;
        return out;
      } else {
        out += c;
        ++pos_;
      }
    }
  }

  // A number at the current position: -?(digits[.digits]|.digits)([eE][+-]?digits), not followed
  // by a letter, digit, underscore or dot. nullopt (and the position unchanged) when there is none.
  std::optional<double> Number() {
    const size_t start = pos_;
    size_t p = pos_;
    auto digits = [&] {
      size_t from = p;
      while (p < text_.size() && IsDigit(text_[p])) ++p;
      return p > from;
    };
    if (p < text_.size() && text_[p] == '-') ++p;
    bool integer_part = digits();
    bool fraction_part = false;
    if (p < text_.size() && text_[p] == '.') {
      ++p;
      fraction_part = digits();
    }
    if (!integer_part && !fraction_part) return std::nullopt;
    if (p < text_.size() && (text_[p] == 'e' || text_[p] == 'E')) {
      size_t mark = p++;
      if (p < text_.size() && (text_[p] == '+' || text_[p] == '-')) ++p;
      if (!digits()) p = mark;
    }
    if (p < text_.size() && (IsNameChar(text_[p]) || text_[p] == '.')) return std::nullopt;
    double value = 0;
    // from_chars takes no leading '+' and no trailing '.', both absent or handled here.
    std::string_view literal = text_.substr(start, p - start);
    if (literal.back() == '.') literal.remove_suffix(1);
    auto [end, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), value);
    if (ec == std::errc::result_out_of_range) Fail(start, "number out of range");
    if (ec != std::errc() || end != literal.data() + literal.size()) return std::nullopt;
    pos_ = p;
    return value;
  }

 private:
  std::string_view what_;
  std::string_view text_;
  size_t pos_ = 0;
};

// A parsed field and where its key starts, for messages.
struct ParsedField {
  FieldRef field;
  size_t key_pos = 0;
};

constexpr std::string_view kExpectedKey =
    "expected a key such as metrics.auc, params.max_depth, tags.team or attributes.status";

ParsedField ParseField(Scanner& s) {
  s.SkipSpace();
  const size_t start = s.pos();
  // A quoted first part may be a prefix or an attribute, as MLflow strips quotes from both.
  std::string first;
  if (IsQuote(s.Peek())) {
    first = s.Quoted();
  } else if (IsNameChar(s.Peek())) {
    first = std::string(s.Word());
  } else {
    s.Fail(start, kExpectedKey);
  }

  ParsedField out;
  if (s.Peek() == '.') {
    std::optional<FieldKind> kind = KindOfPrefix(first);
    if (!kind) {
      s.Fail(start, "unknown prefix '" + first +
                        "': expected metrics, params, tags, attributes or datasets");
    }
    s.Advance();
    out.field.kind = *kind;
    out.key_pos = s.pos();
    if (IsQuote(s.Peek())) {
      out.field.key = s.Quoted();
    } else if (IsNameChar(s.Peek())) {
      // Unquoted keys may hold dots (tags.mlflow.runName), as sqlparse reads them in MLflow.
      out.field.key = std::string(s.Word());
      while (s.Peek() == '.' && IsNameChar(s.Peek(1))) {
        s.Advance();
        out.field.key += ".";
        out.field.key += s.Word();
      }
    } else {
      s.Fail(out.key_pos, "expected a key after '" + first +
                              ".'; quote keys with other characters: " + first + ".`my key`");
    }
  } else {
    out.field.kind = FieldKind::kAttribute;
    out.field.key = std::move(first);
    out.key_pos = start;
  }
  if (out.field.key.empty()) s.Fail(out.key_pos, "expected a key, not an empty name");
  if (out.field.kind == FieldKind::kAttribute) {
    std::optional<std::string_view> canonical = CanonicalAttribute(out.field.key);
    if (!canonical) {
      s.Fail(out.key_pos, "unknown attribute '" + out.field.key + "': expected " +
                              std::string(kAttributeList) + " (or a prefix such as metrics.)");
    }
    out.field.key = std::string(*canonical);
  } else if (out.field.kind == FieldKind::kDataset) {
    const std::string& key = out.field.key;
    if (key != "name" && key != "digest" && key != "context") {
      s.Fail(out.key_pos, "unknown dataset field '" + key + "': expected name, digest or context");
    }
  }
  return out;
}

Comparator ParseComparator(Scanner& s) {
  s.SkipSpace();
  const size_t start = s.pos();
  const std::string expected = "expected a comparator (" + std::string(kAllComparators) + ")";
  if (IsOperatorChar(s.Peek())) {
    std::string_view op = s.OperatorRun();
    if (op == "=") return Comparator::kEqual;
    if (op == "!=") return Comparator::kNotEqual;
    if (op == "<") return Comparator::kLess;
    if (op == "<=") return Comparator::kLessEqual;
    if (op == ">") return Comparator::kGreater;
    if (op == ">=") return Comparator::kGreaterEqual;
    s.Fail(start, expected);
  }
  std::string_view word = s.Word();
  if (EqualsIgnoreCase(word, "LIKE")) return Comparator::kLike;
  if (EqualsIgnoreCase(word, "ILIKE")) return Comparator::kILike;
  if (EqualsIgnoreCase(word, "IN")) return Comparator::kIn;
  if (EqualsIgnoreCase(word, "NOT")) {
    s.SkipSpace();
    size_t at = s.pos();
    if (!EqualsIgnoreCase(s.Word(), "IN")) s.Fail(at, "expected IN after NOT");
    return Comparator::kNotIn;
  }
  if (EqualsIgnoreCase(word, "IS")) {
    s.SkipSpace();
    size_t at = s.pos();
    std::string_view next = s.Word();
    bool negated = EqualsIgnoreCase(next, "NOT");
    if (negated) {
      s.SkipSpace();
      at = s.pos();
      next = s.Word();
    }
    if (!EqualsIgnoreCase(next, "NULL")) {
      s.Fail(at, negated ? "expected NULL after IS NOT" : "expected NULL or NOT NULL after IS");
    }
    return negated ? Comparator::kIsNotNull : Comparator::kIsNull;
  }
  s.Fail(start, expected);
}

std::string ParseQuotedValue(Scanner& s, const FieldRef& field) {
  s.SkipSpace();
  if (s.Peek() == '\'' || s.Peek() == '"') return s.Quoted();
  std::string message = "expected a text in single or double quotes for " + FieldText(field);
  if (field.kind == FieldKind::kParam) {
    message += " (params are text, as in MLflow: " + FieldText(field) + " = '6')";
  }
  s.Fail(s.pos(), message);
}

void ParseValue(Scanner& s, Comparison& clause) {
  const FieldRef& field = clause.field;
  switch (clause.comparator) {
    case Comparator::kIsNull:
    case Comparator::kIsNotNull:
      return;
    case Comparator::kIn:
    case Comparator::kNotIn: {
      s.SkipSpace();
      if (s.Peek() != '(') s.Fail(s.pos(), "expected a list of quoted texts such as ('a', 'b')");
      s.Advance();
      while (true) {
        clause.texts.push_back(ParseQuotedValue(s, field));
        s.SkipSpace();
        if (s.Peek() == ')') {
          s.Advance();
          return;
        }
        if (s.Peek() != ',') s.Fail(s.pos(), "expected ',' or ')' in the list");
        s.Advance();
      }
    }
    default:
      break;
  }
  if (field.is_numeric()) {
    s.SkipSpace();
    std::optional<double> number = s.Number();
    if (!number) s.Fail(s.pos(), "expected a number for " + FieldText(field));
    clause.number = *number;
  } else {
    clause.text = ParseQuotedValue(s, field);
  }
}

// UTF-8: the length of the character starting at `text[i]`, so `_` matches one character.
size_t CharLength(std::string_view text, size_t i) {
  auto lead = static_cast<unsigned char>(text[i]);
  size_t n = lead < 0x80 ? 1 : lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  return std::min(n, text.size() - i);
}

// SQL LIKE without an escape character, as MLflow's stores use it: % matches any run of
// characters, _ exactly one. Greedy matching that backtracks to the last %, O(text * pattern).
bool LikeMatches(std::string_view text, std::string_view pattern, bool ignore_case) {
  size_t t = 0, p = 0;
  size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star_p = ++p;
      star_t = t;
    } else if (p < pattern.size() && pattern[p] == '_') {
      t += CharLength(text, t);
      ++p;
    } else if (p < pattern.size() && (ignore_case ? FoldAscii(pattern[p]) == FoldAscii(text[t])
                                                  : pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (star_p != std::string_view::npos) {
      star_t += CharLength(text, star_t);
      t = star_t;
      p = star_p;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

bool CompareNumbers(double lhs, Comparator comparator, double rhs) {
  switch (comparator) {
    case Comparator::kEqual:
      return lhs == rhs;
    case Comparator::kNotEqual:
      return lhs != rhs;
    case Comparator::kLess:
      return lhs < rhs;
    case Comparator::kLessEqual:
      return lhs <= rhs;
    case Comparator::kGreater:
      return lhs > rhs;
    case Comparator::kGreaterEqual:
      return lhs >= rhs;
    default:
      return false;  // The parser allows no other comparator on a number.
  }
}

bool CompareTexts(std::string_view lhs, const Comparison& clause) {
  switch (clause.comparator) {
    case Comparator::kEqual:
      return lhs == clause.text;
    case Comparator::kNotEqual:
      return lhs != clause.text;
    case Comparator::kLess:
      return lhs < clause.text;
    case Comparator::kLessEqual:
      return lhs <= clause.text;
    case Comparator::kGreater:
      return lhs > clause.text;
    case Comparator::kGreaterEqual:
      return lhs >= clause.text;
    case Comparator::kLike:
      return LikeMatches(lhs, clause.text, /*ignore_case=*/false);
    case Comparator::kILike:
      return LikeMatches(lhs, clause.text, /*ignore_case=*/true);
    case Comparator::kIn:
    case Comparator::kNotIn: {
      bool found = false;
      for (const std::string& t : clause.texts) found = found || lhs == t;
      return clause.comparator == Comparator::kIn ? found : !found;
    }
    case Comparator::kIsNull:
    case Comparator::kIsNotNull:
      break;  // Decided before the value is read.
  }
  return false;
}

// A field's value for one run, for matching and ordering.
struct FieldValue {
  bool present = false;
  bool numeric = false;
  double number = 0;
  std::string_view text;
};

FieldValue ValueOf(const RunFields& run, const FieldRef& field) {
  FieldValue out;
  std::optional<double> number;
  std::optional<std::string_view> text;
  switch (field.kind) {
    case FieldKind::kMetric:
      number = run.Metric(field.key);
      break;
    case FieldKind::kParam:
      text = run.Param(field.key);
      break;
    case FieldKind::kTag:
      text = run.Tag(field.key);
      break;
    case FieldKind::kAttribute:
      if (field.is_numeric()) {
        number = run.NumberAttribute(field.key);
      } else {
        text = run.TextAttribute(field.key);
      }
      break;
    case FieldKind::kDataset:
      break;  // Many values per run: Matches reads them itself; ordering by them is refused.
  }
  out.numeric = field.is_numeric();
  if (number) {
    out.present = true;
    out.number = *number;
  } else if (text) {
    out.present = true;
    out.text = *text;
  }
  return out;
}

bool ClauseHolds(const Comparison& clause, const RunFields& run) {
  if (clause.field.kind == FieldKind::kDataset) {
    for (const DatasetInputFields& input : run.Datasets()) {
      const std::string& value = clause.field.key == "name"     ? input.name
                                 : clause.field.key == "digest" ? input.digest
                                                                : input.context;
      // An input logged without a context has none, as MLflow skips inputs without the tag.
      if (clause.field.key == "context" && value.empty()) continue;
      if (CompareTexts(value, clause)) return true;
    }
    return false;
  }
  FieldValue value = ValueOf(run, clause.field);
  if (clause.comparator == Comparator::kIsNull) return !value.present;
  if (clause.comparator == Comparator::kIsNotNull) return value.present;
  if (!value.present) return false;
  return value.numeric ? CompareNumbers(value.number, clause.comparator, clause.number)
                       : CompareTexts(value.text, clause);
}

// Where a value ranks regardless of direction: values, then NaN, then missing, as MLflow's
// SearchUtils._get_value_for_sort and the SQL store's ORDER BY.
int RankOf(const FieldValue& v) {
  if (!v.present) return 2;
  if (v.numeric && std::isnan(v.number)) return 1;
  return 0;
}

int CompareValues(const FieldValue& a, const FieldValue& b, bool ascending) {
  int rank_a = RankOf(a), rank_b = RankOf(b);
  if (rank_a != rank_b) return rank_a < rank_b ? -1 : 1;
  if (rank_a != 0) return 0;
  int c = 0;
  if (a.numeric) {
    c = a.number < b.number ? -1 : a.number > b.number ? 1 : 0;
  } else {
    int raw = a.text.compare(b.text);  // char_traits<char> compares as unsigned char.
    c = raw < 0 ? -1 : raw > 0 ? 1 : 0;
  }
  return ascending ? c : -c;
}

}  // namespace

bool FieldRef::is_numeric() const {
  return kind == FieldKind::kMetric || (kind == FieldKind::kAttribute && IsNumericAttribute(key));
}

std::optional<double> RunValues::Metric(std::string_view key) const {
  for (const auto& [k, v] : metrics) {
    if (k == key) return v;
  }
  return std::nullopt;
}

std::optional<std::string_view> RunValues::Param(std::string_view key) const {
  for (const auto& [k, v] : params) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::string_view> RunValues::Tag(std::string_view key) const {
  for (const auto& [k, v] : tags) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::string_view> RunValues::TextAttribute(std::string_view key) const {
  auto view = [](const std::optional<std::string>& s) -> std::optional<std::string_view> {
    if (!s) return std::nullopt;
    return std::string_view(*s);
  };
  if (key == "run_id") return std::string_view(run_id);
  if (key == "status") return std::string_view(status);
  if (key == "run_name") return view(run_name);
  if (key == "user_id") return view(user_id);
  if (key == "artifact_uri") return view(artifact_uri);
  return std::nullopt;
}

std::optional<double> RunValues::NumberAttribute(std::string_view key) const {
  if (key == "start_time") return start_time;
  if (key == "end_time") return end_time;
  return std::nullopt;
}

SearchFilter ParseSearchFilter(std::string_view text) {
  Scanner s("filter", text);
  SearchFilter filter;
  s.SkipSpace();
  if (s.AtEnd()) return filter;
  while (true) {
    Comparison clause;
    ParsedField parsed = ParseField(s);
    clause.field = std::move(parsed.field);
    s.SkipSpace();
    const size_t comparator_pos = s.pos();
    clause.comparator = ParseComparator(s);
    if (!IsAllowed(clause.field, clause.comparator)) {
      s.Fail(comparator_pos, std::string(ComparatorText(clause.comparator)) +
                                 " does not apply to " + FieldText(clause.field) + " (it takes " +
                                 std::string(AllowedComparators(clause.field)) + ")");
    }
    ParseValue(s, clause);
    filter.clauses.push_back(std::move(clause));

    s.SkipSpace();
    if (s.AtEnd()) return filter;
    const size_t joiner_pos = s.pos();
    std::string_view joiner = s.Word();
    if (EqualsIgnoreCase(joiner, "AND")) continue;
    if (EqualsIgnoreCase(joiner, "OR")) {
      s.Fail(joiner_pos,
             "OR is not supported: MLflow's search grammar joins clauses with AND only");
    }
    s.Fail(joiner_pos, "expected AND or the end of the filter");
  }
}

std::vector<OrderBy> ParseOrderBy(const std::vector<std::string>& keys) {
  std::vector<OrderBy> out;
  out.reserve(keys.size());
  for (const std::string& key : keys) {
    Scanner s("order-by", key);
    OrderBy order;
    ParsedField parsed = ParseField(s);
    if (parsed.field.kind == FieldKind::kDataset) {
      s.Fail(parsed.key_pos, "runs cannot be ordered by a dataset field");
    }
    order.field = std::move(parsed.field);
    s.SkipSpace();
    if (!s.AtEnd()) {
      const size_t at = s.pos();
      std::string_view direction = s.Word();
      if (EqualsIgnoreCase(direction, "ASC")) {
        order.ascending = true;
      } else if (EqualsIgnoreCase(direction, "DESC")) {
        order.ascending = false;
      } else {
        s.Fail(at, "expected ASC, DESC or the end of the key");
      }
      s.SkipSpace();
      if (!s.AtEnd()) s.Fail(s.pos(), "expected the end of the key after ASC or DESC");
    }
    out.push_back(std::move(order));
  }
  return out;
}

bool Matches(const SearchFilter& filter, const RunFields& run) {
  for (const Comparison& clause : filter.clauses) {
    if (!ClauseHolds(clause, run)) return false;
  }
  return true;
}

int CompareRuns(const std::vector<OrderBy>& order_by, const RunFields& a, const RunFields& b) {
  for (const OrderBy& order : order_by) {
    int c = CompareValues(ValueOf(a, order.field), ValueOf(b, order.field), order.ascending);
    if (c != 0) return c;
  }
  static const FieldRef kStartTime{FieldKind::kAttribute, "start_time"};
  static const FieldRef kRunId{FieldKind::kAttribute, "run_id"};
  int c = CompareValues(ValueOf(a, kStartTime), ValueOf(b, kStartTime), /*ascending=*/false);
  if (c != 0) return c;
  return CompareValues(ValueOf(a, kRunId), ValueOf(b, kRunId), /*ascending=*/true);
}

std::string FormatFilter(const SearchFilter& filter) {
  std::string out;
  for (const Comparison& clause : filter.clauses) {
    if (!out.empty()) out += " AND ";
    out += FieldText(clause.field);
    out += ' ';
    out += ComparatorText(clause.comparator);
    switch (clause.comparator) {
      case Comparator::kIsNull:
      case Comparator::kIsNotNull:
        break;
      case Comparator::kIn:
      case Comparator::kNotIn: {
        out += " (";
        for (size_t i = 0; i < clause.texts.size(); ++i) {
          if (i > 0) out += ", ";
          out += FormatText(clause.texts[i]);
        }
        out += ')';
        break;
      }
      default:
        out += ' ';
        out += clause.field.is_numeric() ? FormatNumber(clause.number) : FormatText(clause.text);
    }
  }
  return out;
}

std::string_view FieldKindPrefix(FieldKind kind) {
  switch (kind) {
    case FieldKind::kMetric:
      return "metrics";
    case FieldKind::kParam:
      return "params";
    case FieldKind::kTag:
      return "tags";
    case FieldKind::kAttribute:
      return "attributes";
    case FieldKind::kDataset:
      return "datasets";
  }
  return "";
}

std::string_view ComparatorText(Comparator comparator) {
  switch (comparator) {
    case Comparator::kEqual:
      return "=";
    case Comparator::kNotEqual:
      return "!=";
    case Comparator::kLess:
      return "<";
    case Comparator::kLessEqual:
      return "<=";
    case Comparator::kGreater:
      return ">";
    case Comparator::kGreaterEqual:
      return ">=";
    case Comparator::kLike:
      return "LIKE";
    case Comparator::kILike:
      return "ILIKE";
    case Comparator::kIn:
      return "IN";
    case Comparator::kNotIn:
      return "NOT IN";
    case Comparator::kIsNull:
      return "IS NULL";
    case Comparator::kIsNotNull:
      return "IS NOT NULL";
  }
  return "";
}

}  // namespace mloop::tracking
