#include "data/validate.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/error.h"
#include "core/thread_pool.h"
#include "stats/drift.h"
#include "stats/welford.h"

namespace mloop::data {
namespace {

using table::Column;
using table::DataType;

// Columns whose values are numbers to bounds and numeric `allowed` lists: dates as days and
// timestamps as microseconds since the epoch, as in row rules.
bool IsNumberLike(DataType type) {
  return type == DataType::kInt64 || type == DataType::kFloat64 || type == DataType::kDate ||
         type == DataType::kTimestamp;
}

std::string FormatDouble(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, p);
}

// A cell as JSON: numbers and booleans as such, everything else as its text.
Json CellJson(const Column& column, size_t row) {
  if (column.IsNull(row)) return Json();
  switch (column.type()) {
    case DataType::kInt64:
      return column.IntAt(row);
    case DataType::kFloat64:
      return std::isfinite(column.DoubleAt(row)) ? Json(column.DoubleAt(row))
                                                 : Json(column.ValueToString(row));
    case DataType::kBool:
      return column.BoolAt(row);
    default:
      return column.ValueToString(row);
  }
}

// The text of a cell for pattern, length and string `allowed` checks.
std::string_view CellText(const Column& column, size_t row, std::string* scratch) {
  if (table::IsTextual(column.type())) return column.StringAt(row);
  *scratch = column.ValueToString(row);
  return *scratch;
}

// Collects the failures of one row-level check, and the quarantine reasons of the rows an
// error-severity check fails.
class CheckAccumulator {
 public:
  CheckAccumulator(CheckResult result, std::map<size_t, std::vector<QuarantineReason>>* reasons)
      : result_(std::move(result)), reasons_(reasons) {}

  void Fail(size_t row, std::string value, std::string detail) {
    ++result_.unexpected_count;
    if (result_.sample.size() < kMaxSample && sample_seen_.insert(value).second) {
      result_.sample.push_back(value);
    }
    if (result_.severity == Severity::kError) {
      (*reasons_)[row].push_back({result_.check, result_.column, std::move(detail)});
    }
  }

  // Sets element_count and the derived fields.
  CheckResult Finish(int64_t elements) {
    result_.element_count = elements;
    double share_bad =
        elements > 0 ? static_cast<double>(result_.unexpected_count) / elements : 0.0;
    result_.unexpected_percent = 100.0 * share_bad;
    // A small tolerance, so that mostly: 0.95 with exactly 5% failing passes.
    result_.passed = (1.0 - share_bad) >= result_.mostly - 1e-12;
    return std::move(result_);
  }

  const CheckResult& result() const { return result_; }

 private:
  CheckResult result_;
  std::unordered_set<std::string> sample_seen_;
  std::map<size_t, std::vector<QuarantineReason>>* reasons_;
};

CheckResult MakeCheck(std::string check, std::string column, const CheckOptions& options,
                      std::string expectation) {
  CheckResult r;
  r.check = std::move(check);
  r.column = std::move(column);
  r.severity = options.severity;
  // An error check without `mostly` quarantines its failing rows and passes (contract.h).
  r.mostly = options.severity == Severity::kError && !options.mostly_given ? 0.0 : options.mostly;
  r.expectation = std::move(expectation);
  return r;
}

// Calls fn(row) for each non-null row of `column`, in row order.
template <typename Fn>
void ForEachValid(const Column& column, Fn&& fn) {
  const std::vector<uint64_t>& words = column.validity().words();
  for (size_t w = 0; w < words.size(); ++w) {
    for (uint64_t bits = words[w]; bits != 0; bits &= bits - 1) {
      fn(w * 64 + static_cast<size_t>(__builtin_ctzll(bits)));
    }
  }
}

// Calls fail(row) for each non-null row of `column` whose text (CellText) `passes(text)`
// rejects, in row order. For a category column `passes` runs once per dictionary entry (its
// result depends on the value only): when every entry passes, which is the usual case, no row
// is read at all.
template <typename Passes, typename Fail>
void ForEachRejected(const Column& column, Passes&& passes, Fail&& fail) {
  if (column.type() != DataType::kCategory) {
    std::string scratch;
    ForEachValid(column, [&](size_t r) {
      if (!passes(CellText(column, r, &scratch))) fail(r);
    });
    return;
  }
  // 0: unknown, 1: passes, 2: fails. The extra last slot stands for null rows, whose codes mean
  // nothing, and passes.
  const std::vector<std::string>& dictionary = column.dictionary();
  const size_t null_slot = dictionary.size();
  std::vector<uint8_t> cache(null_slot + 1, 0);
  cache[null_slot] = 1;
  // A dictionary no larger than the column costs no more to check whole than its rows would.
  if (dictionary.size() <= column.size()) {
    bool any_fails = false;
    for (size_t c = 0; c < dictionary.size(); ++c) {
      cache[c] = passes(std::string_view(dictionary[c])) ? 1 : 2;
      any_fails |= cache[c] == 2;
    }
    if (!any_fails) return;
  }
  column.codes().Visit([&](const auto* codes) {
    const std::vector<uint64_t>& words = column.validity().words();
    const size_t rows = column.size();
    for (size_t w = 0; w < words.size(); ++w) {
      const size_t base = w * 64;
      const size_t end = std::min(rows, base + 64);
      const uint64_t bits = words[w];
      // Most words hold only codes already known to pass: one branch-free look at the word.
      bool all_pass = true;
      for (size_t r = base; r < end; ++r) {
        const size_t code = (bits >> (r - base)) & 1 ? static_cast<size_t>(codes[r]) : null_slot;
        all_pass &= cache[code] == 1;
      }
      if (all_pass) continue;
      for (uint64_t valid = bits; valid != 0; valid &= valid - 1) {
        const size_t r = base + static_cast<size_t>(__builtin_ctzll(valid));
        const auto code = static_cast<size_t>(codes[r]);
        uint8_t& c = cache[code];
        if (c == 0) c = passes(std::string_view(dictionary[code])) ? 1 : 2;
        if (c == 2) fail(r);
      }
    }
  });
}

// The value of row r of a number-like or bool column as a double, as Column::NumberAt gives it,
// passed to fn as a callable so that loops over a column compile to loops over its array.
template <typename Fn>
void WithNumberAt(const Column& column, Fn&& fn) {
  switch (column.type()) {
    case DataType::kInt64:
    case DataType::kDate:
    case DataType::kTimestamp: {
      column.ints().Visit(
          [&](const auto* ints) { fn([ints](size_t r) { return static_cast<double>(ints[r]); }); });
      return;
    }
    case DataType::kFloat64: {
      const double* doubles = column.doubles().data();
      fn([doubles](size_t r) { return doubles[r]; });
      return;
    }
    case DataType::kBool: {
      const uint8_t* bools = column.bools().data();
      fn([bools](size_t r) { return static_cast<double>(bools[r]); });
      return;
    }
    default:
      fn([&column](size_t r) { return column.NumberAt(r); });
  }
}

// Appends the non-null rows of a number-like or bool column whose value v fails
// `holds(v, bound)`, in row order.
template <typename Holds>
void CollectOutOfBounds(const Column& column, double bound, Holds holds, std::vector<size_t>* out) {
  const std::vector<uint64_t>& words = column.validity().words();
  const size_t rows = column.size();
  WithNumberAt(column, [&](auto number_at) {
    for (size_t w = 0; w < words.size(); ++w) {
      const size_t base = w * 64;
      const size_t end = std::min(rows, base + 64);
      uint64_t bad = 0;
      for (size_t r = base; r < end; ++r) {
        bad |= static_cast<uint64_t>(!holds(number_at(r), bound)) << (r - base);
      }
      for (bad &= words[w]; bad != 0; bad &= bad - 1) {
        out->push_back(base + static_cast<size_t>(__builtin_ctzll(bad)));
      }
    }
  });
}

bool IsIntegerColumn(DataType type) {
  return type == DataType::kInt64 || type == DataType::kDate || type == DataType::kTimestamp;
}

// The integers v for which holds(double(v), bound): lo <= v <= hi, or none. As the conversion to
// double is monotone, so is holds in v: the values that hold are those from the smallest one
// that does (`upward`: for >= and >) or up to the largest one.
struct IntRange {
  int64_t lo = std::numeric_limits<int64_t>::min();
  int64_t hi = std::numeric_limits<int64_t>::max();
  bool none = false;
};

template <typename Holds>
IntRange PassingInts(double bound, Holds holds, bool upward) {
  auto holds_int = [&](int64_t v) { return holds(static_cast<double>(v), bound); };
  IntRange range;
  const int64_t first = range.lo;
  const int64_t last = range.hi;
  if (!holds_int(upward ? last : first)) {
    range.none = true;
    return range;
  }
  if (holds_int(upward ? first : last)) return range;
  // Bisect [a, b], where holds changes between a and b.
  int64_t a = first;
  int64_t b = last;
  while (static_cast<uint64_t>(b) - static_cast<uint64_t>(a) > 1) {
    int64_t mid =
        a + static_cast<int64_t>((static_cast<uint64_t>(b) - static_cast<uint64_t>(a)) / 2);
    (holds_int(mid) == upward ? b : a) = mid;
  }
  if (upward) {
    range.lo = b;
  } else {
    range.hi = a;
  }
  return range;
}

IntRange PassingInts(std::string_view op, double bound) {
  if (op == ">=")
    return PassingInts(
        bound, [](double v, double x) { return v >= x; }, true);
  if (op == "<=")
    return PassingInts(
        bound, [](double v, double x) { return v <= x; }, false);
  if (op == ">")
    return PassingInts(
        bound, [](double v, double x) { return v > x; }, true);
  return PassingInts(
      bound, [](double v, double x) { return v < x; }, false);
}

// Per 64-row word of an integer column, 1 when a value of the word (null rows' included) is
// outside [lo, hi]: one pass for all the bounds of a column, after which each bound looks only
// at those words.
template <typename Int>
std::vector<uint8_t> WordsOutside(const Int* ints, size_t rows, int64_t lo, int64_t hi) {
  std::vector<uint8_t> outside((rows + 63) / 64, 0);
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  size_t w = 0;
  if (span < uint64_t{1} << 63) {
    // x = v - lo (wrapping) is outside [0, span] when x or span - x has its top bit set (as span
    // is below 2^63): no comparison of 64-bit integers, which baseline x86-64 cannot vectorize,
    // so that the loop of a whole word compiles to vector subtractions and ors.
    const uint64_t offset = static_cast<uint64_t>(lo);
    for (; (w + 1) * 64 <= rows; ++w) {
      const Int* v = ints + w * 64;
      uint64_t any = 0;
      for (size_t j = 0; j < 64; ++j) {
        const uint64_t x = static_cast<uint64_t>(v[j]) - offset;
        any |= x | (span - x);
      }
      outside[w] = static_cast<uint8_t>(any >> 63);
    }
  }
  for (; w < outside.size(); ++w) {
    const size_t base = w * 64;
    const size_t end = std::min(rows, base + 64);
    bool any = false;
    for (size_t r = base; r < end; ++r) any |= (ints[r] < lo) | (ints[r] > hi);
    outside[w] = any;
  }
  return outside;
}

std::vector<uint8_t> WordsOutside(const Column& column, int64_t lo, int64_t hi) {
  return column.ints().Visit(
      [&](const auto* ints) { return WordsOutside(ints, column.size(), lo, hi); });
}

// As CollectOutOfBounds for an integer column, whose values pass when in `range`; only the words
// `outside` marks can hold one that does not.
void CollectIntOutOfBounds(const Column& column, const IntRange& range,
                           const std::vector<uint8_t>& outside, std::vector<size_t>* out) {
  const std::vector<uint64_t>& words = column.validity().words();
  const table::IntVector& ints = column.ints();
  const size_t rows = column.size();
  for (size_t w = 0; w < words.size(); ++w) {
    const size_t base = w * 64;
    const size_t end = std::min(rows, base + 64);
    uint64_t bad = 0;
    if (range.none) {
      bad = words[w];
    } else {
      if (!outside[w]) continue;
      for (size_t r = base; r < end; ++r) {
        bad |= static_cast<uint64_t>((ints[r] < range.lo) | (ints[r] > range.hi)) << (r - base);
      }
      bad &= words[w];
    }
    for (; bad != 0; bad &= bad - 1) {
      out->push_back(base + static_cast<size_t>(__builtin_ctzll(bad)));
    }
  }
}

void CheckColumn(const ColumnContract& cc, const Column& column, std::vector<CheckResult>* out,
                 std::map<size_t, std::vector<QuarantineReason>>* reasons) {
  const size_t rows = column.size();
  const int64_t non_null = static_cast<int64_t>(rows - column.null_count());
  const bool numeric = IsNumberLike(column.type());
  std::string scratch;

  if (!cc.nullable) {
    CheckAccumulator acc(MakeCheck("nullable", cc.name, CheckOptions{}, "not null"), reasons);
    const std::vector<uint64_t>& words = column.validity().words();
    for (size_t w = 0; w < words.size(); ++w) {
      const size_t base = w * 64;
      uint64_t nulls = ~words[w];
      if (rows - base < 64) nulls &= (uint64_t{1} << (rows - base)) - 1;
      for (; nulls != 0; nulls &= nulls - 1) {
        acc.Fail(base + static_cast<size_t>(__builtin_ctzll(nulls)), "null",
                 "null where the contract says nullable: false");
      }
    }
    out->push_back(acc.Finish(static_cast<int64_t>(rows)));
  }

  struct Bound {
    const char* name;
    const std::optional<BoundCheck>* check;
    const char* op;  // The relation a value must have to the bound.
  };
  const Bound bounds[] = {{"min", &cc.min, ">="},
                          {"max", &cc.max, "<="},
                          {"exclusive_min", &cc.exclusive_min, ">"},
                          {"exclusive_max", &cc.exclusive_max, "<"}};
  std::vector<uint8_t> int_outside;  // Integer columns: WordsOutside all the bounds.
  for (const Bound& b : bounds) {
    if (!b.check->has_value()) continue;
    const BoundCheck& bc = **b.check;
    CheckAccumulator acc(
        MakeCheck(b.name, cc.name, bc.options, std::string(b.op) + " " + FormatDouble(bc.value)),
        reasons);
    if (!numeric && column.type() != DataType::kBool) {
      // A bound on text cannot hold; every non-null value fails it, visibly.
      for (size_t r = 0; r < rows; ++r) {
        if (column.IsNull(r)) continue;
        std::string v(CellText(column, r, &scratch));
        acc.Fail(r, v,
                 "'" + v + "' is not a number (" + b.name + " " + FormatDouble(bc.value) + ")");
      }
    } else {
      const std::string_view op = b.op;
      std::vector<size_t> failing;
      if (IsIntegerColumn(column.type())) {
        if (int_outside.empty()) {
          // Values within every bound of the column need no further look.
          IntRange all;
          for (const Bound& other : bounds) {
            if (!other.check->has_value()) continue;
            IntRange r = PassingInts(other.op, (*other.check)->value);
            if (r.none) continue;
            all.lo = std::max(all.lo, r.lo);
            all.hi = std::min(all.hi, r.hi);
          }
          int_outside = WordsOutside(column, all.lo, all.hi);
        }
        CollectIntOutOfBounds(column, PassingInts(op, bc.value), int_outside, &failing);
      } else if (op == ">=") {
        CollectOutOfBounds(
            column, bc.value, [](double v, double x) { return v >= x; }, &failing);
      } else if (op == "<=") {
        CollectOutOfBounds(
            column, bc.value, [](double v, double x) { return v <= x; }, &failing);
      } else if (op == ">") {
        CollectOutOfBounds(
            column, bc.value, [](double v, double x) { return v > x; }, &failing);
      } else {
        CollectOutOfBounds(
            column, bc.value, [](double v, double x) { return v < x; }, &failing);
      }
      for (size_t r : failing) {
        std::string text = column.ValueToString(r);
        acc.Fail(r, text,
                 text + " is not " + std::string(op) + " " + FormatDouble(bc.value) + " (" +
                     b.name + ")");
      }
    }
    out->push_back(acc.Finish(non_null));
  }

  if (cc.allowed) {
    const AllowedCheck& ac = *cc.allowed;
    std::unordered_set<std::string_view> strings(ac.strings.begin(), ac.strings.end());
    std::unordered_set<double> numbers(ac.numbers.begin(), ac.numbers.end());
    size_t listed = ac.strings.empty() ? ac.numbers.size() : ac.strings.size();
    CheckAccumulator acc(MakeCheck("allowed", cc.name, ac.options,
                                   "one of " + std::to_string(listed) + " allowed values"),
                         reasons);
    auto fail = [&](size_t r) {
      std::string v(CellText(column, r, &scratch));
      acc.Fail(r, v, "'" + v + "' is not an allowed value");
    };
    if (!ac.numbers.empty() && (numeric || column.type() == DataType::kBool)) {
      ForEachValid(column, [&](size_t r) {
        if (numbers.count(column.NumberAt(r)) == 0) fail(r);
      });
    } else {
      ForEachRejected(
          column, [&](std::string_view v) { return strings.count(v) > 0; }, fail);
    }
    out->push_back(acc.Finish(non_null));
  }

  if (cc.pattern) {
    const PatternCheck& pc = *cc.pattern;
    CheckAccumulator acc(MakeCheck("pattern", cc.name, pc.options, "matches " + pc.text), reasons);
    ForEachRejected(
        column, [&](std::string_view v) { return std::regex_search(v.begin(), v.end(), pc.regex); },
        [&](size_t r) {
          std::string v(CellText(column, r, &scratch));
          acc.Fail(r, v, "'" + v + "' does not match " + pc.text);
        });
    out->push_back(acc.Finish(non_null));
  }

  if (cc.length) {
    const LengthCheck& lc = *cc.length;
    std::string expectation = "length";
    if (lc.min) expectation += " >= " + std::to_string(*lc.min);
    if (lc.min && lc.max) expectation += " and";
    if (lc.max) expectation += " <= " + std::to_string(*lc.max);
    CheckAccumulator acc(MakeCheck("length", cc.name, lc.options, expectation), reasons);
    ForEachRejected(
        column,
        [&](std::string_view v) {
          auto n = static_cast<int64_t>(v.size());
          return !(lc.min && n < *lc.min) && !(lc.max && n > *lc.max);
        },
        [&](size_t r) {
          std::string v(CellText(column, r, &scratch));
          acc.Fail(
              r, v,
              "'" + v + "' has length " + std::to_string(v.size()) + ", expected " + expectation);
        });
    out->push_back(acc.Finish(non_null));
  }

  if (cc.unique) {
    // The first occurrence of a value is kept; each later one fails, so the clean rows of an
    // error-severity check are unique and nothing is lost.
    CheckAccumulator acc(MakeCheck("unique", cc.name, cc.unique->options, "unique"), reasons);
    std::unordered_map<std::string, int64_t> first_line;
    first_line.reserve(static_cast<size_t>(non_null));
    for (size_t r = 0; r < rows; ++r) {
      if (column.IsNull(r)) continue;
      std::string v(CellText(column, r, &scratch));
      auto [it, inserted] = first_line.emplace(v, static_cast<int64_t>(r));
      if (!inserted) acc.Fail(r, v, "'" + v + "' repeats an earlier row");
    }
    out->push_back(acc.Finish(non_null));
  }
}

// Batch-level measurements of one column, exact.
struct ColumnStats {
  int64_t rows = 0;
  int64_t nulls = 0;
  int64_t distinct = 0;
  // Non-null numbers (numeric columns only): how many, and in row order; `values` is filled on
  // first use by Quantile when counting does not do, through `column` and `quarantined`.
  size_t value_count = 0;
  std::vector<double> values;
  const Column* column = nullptr;
  const std::vector<uint64_t>* quarantined = nullptr;
  double min = NAN;
  double max = NAN;
  double mean = NAN;
  double std = NAN;  // Sample standard deviation.
  // Integer columns with a small range: counts[v - min] is how many values equal v, for
  // quantiles by counting (built on first use).
  bool integral = false;
  std::vector<int64_t> counts;
};

// Calls fn(row) for each row of `column` that holds a value and whose bit is clear in
// `quarantined` (one bit per row, 64 rows a word as in Bitmap; set: set aside), in row order.
template <typename Fn>
void ForEachKeptValue(const Column& column, const std::vector<uint64_t>& quarantined, Fn&& fn) {
  const std::vector<uint64_t>& valid = column.validity().words();
  for (size_t w = 0; w < valid.size(); ++w) {
    // Bits past size() are 0 in both.
    uint64_t bits = valid[w] & ~quarantined[w];
    if (bits == ~uint64_t{0}) {
      for (size_t r = w * 64; r < w * 64 + 64; ++r) fn(r);
      continue;
    }
    for (; bits != 0; bits &= bits - 1) fn(w * 64 + static_cast<size_t>(__builtin_ctzll(bits)));
  }
}

// Integer columns of a range up to this wide are measured by counting each value.
constexpr uint64_t kMaxCountedRange = uint64_t{1} << 20;

// Measures the kept values of an integer column (at least one) by counting them, when their
// range is narrow (at most kMaxCountedRange, and not much wider than their number, so that the
// counts cost no more than the values): a pass for the range and one to count, instead of a
// division per value. The mean and standard deviation follow from the counts as the profile
// computes them (stats::Welford: the sum of the values' offsets from the least is exact, and is
// divided once), so the two agree, and agree with the exact values to the last digit or so
// where Welford's update per value drifted by a few units in the last place. The counts are kept
// for the quantiles. False, with nothing set, when the range is too wide.
bool MeasureByCounting(const Column& column, const std::vector<uint64_t>& quarantined,
                       ColumnStats* s) {
  int64_t lo = std::numeric_limits<int64_t>::max();
  int64_t hi = std::numeric_limits<int64_t>::min();
  column.ints().Visit([&](const auto* ints) {
    ForEachKeptValue(column, quarantined, [&](size_t r) {
      lo = std::min<int64_t>(lo, ints[r]);
      hi = std::max<int64_t>(hi, ints[r]);
    });
  });
  const uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (range > kMaxCountedRange || range > 4 * uint64_t{s->value_count} + 4096) return false;
  std::vector<int64_t> counts(static_cast<size_t>(range) + 1, 0);
  column.ints().Visit([&](const auto* ints) {
    ForEachKeptValue(column, quarantined, [&](size_t r) {
      const auto v = static_cast<uint64_t>(static_cast<int64_t>(ints[r]));
      ++counts[static_cast<size_t>(v - static_cast<uint64_t>(lo))];
    });
  });
  std::vector<int64_t> values;
  std::vector<uint64_t> weights;
  for (size_t k = 0; k < counts.size(); ++k) {
    if (counts[k] == 0) continue;
    values.push_back(static_cast<int64_t>(static_cast<uint64_t>(lo) + k));
    weights.push_back(static_cast<uint64_t>(counts[k]));
  }
  stats::Welford moments;
  moments.AddIntCounts(values.data(), weights.data(), values.size());
  s->min = static_cast<double>(lo);
  s->max = static_cast<double>(hi);
  s->mean = moments.mean();
  s->std = moments.sample_std();  // NaN for a single value, as below.
  s->counts = std::move(counts);
  return true;
}

// Measures the rows whose bit is clear in `quarantined`; `column` and `quarantined` must outlive
// the result when its quantiles are wanted.
ColumnStats MeasureColumn(const Column& column, bool need_values, bool need_distinct,
                          const std::vector<uint64_t>& quarantined) {
  ColumnStats s;
  const size_t size = column.size();
  const std::vector<uint64_t>& valid = column.validity().words();
  // Rows kept and holding a value, a word at a time; bits past size() are 0 in both.
  auto kept_valid = [&](size_t w) { return valid[w] & ~quarantined[w]; };
  // Words are mostly all kept and all valid: those need no bit count (which, without a
  // popcnt instruction to compile to, is a library call).
  auto count_bits = [](uint64_t bits) {
    return bits == 0 ? 0 : bits == ~uint64_t{0} ? 64 : __builtin_popcountll(bits);
  };
  int64_t quarantined_rows = 0;
  for (uint64_t bits : quarantined) quarantined_rows += count_bits(bits);
  // With no row quarantined, the kept values are the valid ones (Bitmap counts them with popcnt
  // where the machine has it).
  int64_t kept_values = static_cast<int64_t>(column.validity().CountSet());
  if (quarantined_rows > 0) {
    kept_values = 0;
    for (size_t w = 0; w < valid.size(); ++w) kept_values += count_bits(kept_valid(w));
  }
  s.rows = static_cast<int64_t>(size) - quarantined_rows;
  s.nulls = s.rows - kept_values;
  auto for_each_kept_value = [&](auto&& fn) { ForEachKeptValue(column, quarantined, fn); };
  const bool numeric = IsNumberLike(column.type()) || column.type() == DataType::kBool;
  if (need_values && numeric) {
    s.value_count = static_cast<size_t>(kept_values);
    s.column = &column;
    s.quarantined = &quarantined;
    s.integral = column.type() != DataType::kFloat64;
    const bool counted = IsIntegerColumn(column.type()) && kept_values > 0 &&
                         MeasureByCounting(column, quarantined, &s);
    if (!counted) {
      double mean = 0, m2 = 0;
      int64_t n = 0;
      double lo = INFINITY, hi = -INFINITY;
      // Read from the column: no copy of the values (Quantile makes one only if it must).
      WithNumberAt(column, [&](auto number_at) {
        for_each_kept_value([&](size_t r) {
          const double v = number_at(r);
          ++n;
          double delta = v - mean;  // Welford's update.
          mean += delta / n;
          m2 += delta * (v - mean);
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        });
      });
      if (n > 0) {
        s.mean = mean;
        s.min = lo;
        s.max = hi;
      }
      if (n > 1) s.std = std::sqrt(m2 / (n - 1));
    }
  }
  if (need_distinct) {
    if (column.type() == DataType::kCategory) {
      // A word of rows at a time, up to the first where every dictionary entry has been met
      // (which, for a dictionary of the column's own values, comes early).
      const size_t entries = column.dictionary().size();
      std::vector<uint8_t> used(entries, 0);
      size_t met = 0;
      column.codes().Visit([&](const auto* codes) {
        for (size_t w = 0; w < valid.size() && met < entries; ++w) {
          for (uint64_t bits = kept_valid(w); bits != 0; bits &= bits - 1) {
            const auto code =
                static_cast<size_t>(codes[w * 64 + static_cast<size_t>(__builtin_ctzll(bits))]);
            met += used[code] == 0;
            used[code] = 1;
          }
        }
      });
      s.distinct = static_cast<int64_t>(met);
    } else {
      std::unordered_set<std::string> seen;
      std::string scratch;
      for_each_kept_value([&](size_t r) { seen.emplace(CellText(column, r, &scratch)); });
      s.distinct = static_cast<int64_t>(seen.size());
    }
  }
  return s;
}

// The q-quantile with linear interpolation between the two nearest ranks (NumPy's default):
// with pos = q * (n - 1) and lo = floor(pos), a + (pos - lo) * (b - a) where a and b are the
// values of ranks lo and lo + 1 (0-based). Integer columns of a small range find the ranks by
// counting, others by selection, which reorders s->values; both give the same a and b.
double Quantile(ColumnStats* s, double q) {
  const size_t count = s->value_count;
  if (count == 0) return NAN;
  double pos = q * static_cast<double>(count - 1);
  auto lo = static_cast<size_t>(std::floor(pos));
  if (s->integral &&
      (!s->counts.empty() || s->max - s->min <= static_cast<double>(kMaxCountedRange))) {
    if (s->counts.empty()) {
      s->counts.assign(static_cast<size_t>(s->max - s->min) + 1, 0);
      WithNumberAt(*s->column, [&](auto number_at) {
        ForEachKeptValue(*s->column, *s->quarantined, [&](size_t r) {
          ++s->counts[static_cast<size_t>(number_at(r) - s->min)];
        });
      });
    }
    // The value of rank `rank`: the first v whose cumulative count exceeds it.
    auto value_of_rank = [&](size_t rank) {
      size_t seen = 0;
      for (size_t k = 0; k < s->counts.size(); ++k) {
        seen += static_cast<size_t>(s->counts[k]);
        if (seen > rank) return s->min + static_cast<double>(k);
      }
      return s->max;
    };
    double a = value_of_rank(lo);
    double b = lo + 1 < count ? value_of_rank(lo + 1) : a;
    return a + (pos - static_cast<double>(lo)) * (b - a);
  }
  std::vector<double>* values = &s->values;
  if (values->empty()) {
    values->reserve(count);
    WithNumberAt(*s->column, [&](auto number_at) {
      ForEachKeptValue(*s->column, *s->quarantined,
                       [&](size_t r) { values->push_back(number_at(r)); });
    });
  }
  std::nth_element(values->begin(), values->begin() + static_cast<ptrdiff_t>(lo), values->end());
  double a = (*values)[lo];
  double b = a;
  if (lo + 1 < values->size()) {
    b = *std::min_element(values->begin() + static_cast<ptrdiff_t>(lo) + 1, values->end());
  }
  return a + (pos - static_cast<double>(lo)) * (b - a);
}

std::string RangeText(const RangeExpectation& range) {
  if (range.min && range.max) {
    return "in [" + FormatDouble(*range.min) + ", " + FormatDouble(*range.max) + "]";
  }
  if (range.min) return ">= " + FormatDouble(*range.min);
  return "<= " + FormatDouble(range.max.value_or(0));
}

CheckResult RangeCheck(std::string check, std::string column, const RangeExpectation& range,
                       double observed) {
  CheckResult r;
  r.check = std::move(check);
  r.column = std::move(column);
  r.table_level = true;
  r.severity = range.severity;
  r.expectation = RangeText(range);
  if (std::isnan(observed)) {
    // Nothing to measure (no non-null value): the expectation cannot hold.
    r.passed = false;
    r.observed_value = Json();
  } else {
    r.passed = !(range.min && observed < *range.min) && !(range.max && observed > *range.max);
    // Counts read better as integers: 16, not 16.0.
    bool integral = std::floor(observed) == observed && std::fabs(observed) < 9e15;
    r.observed_value = integral ? Json(static_cast<int64_t>(observed)) : Json(observed);
  }
  return r;
}

CheckResult ListCheck(std::string check, bool passed, std::string expectation, Json observed,
                      Severity severity = Severity::kError) {
  CheckResult r;
  r.check = std::move(check);
  r.table_level = true;
  r.severity = severity;
  r.passed = passed;
  r.expectation = std::move(expectation);
  r.observed_value = std::move(observed);
  return r;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

void UpdateStatus(ValidationReport* report) {
  report->status = BatchStatus::kAccepted;
  for (const CheckResult& c : report->checks) {
    if (c.severity == Severity::kError && c.passed.has_value() && !*c.passed) {
      report->status = BatchStatus::kRejected;
    }
  }
}

}  // namespace

std::string_view BatchStatusName(BatchStatus status) {
  return status == BatchStatus::kAccepted ? "accepted" : "rejected";
}

ValidationReport Validate(const Contract& contract, const table::Table& table,
                          const std::vector<table::MalformedRow>& malformed,
                          std::string_view source) {
  return Validate(contract, table, malformed, source,
                  {BatchSource{std::string(source), table.num_rows(), malformed.size()}});
}

ValidationReport Validate(const Contract& contract, const table::Table& table,
                          const std::vector<table::MalformedRow>& malformed,
                          std::string_view source, const std::vector<BatchSource>& sources) {
  // Cumulative row and malformed counts, to find each record's source.
  std::vector<size_t> row_ends, malformed_ends;
  {
    size_t rows_seen = 0, malformed_seen = 0;
    for (const BatchSource& s : sources) {
      row_ends.push_back(rows_seen += s.rows);
      malformed_ends.push_back(malformed_seen += s.malformed);
    }
    if (rows_seen != table.num_rows() || malformed_seen != malformed.size()) {
      ThrowInvalidArgument(std::string(source) + ": the sources hold " + std::to_string(rows_seen) +
                           " rows and " + std::to_string(malformed_seen) +
                           " malformed rows, the batch " + std::to_string(table.num_rows()) +
                           " and " + std::to_string(malformed.size()));
    }
  }
  auto source_of = [](const std::vector<size_t>& ends, size_t index) {
    return static_cast<size_t>(std::upper_bound(ends.begin(), ends.end(), index) - ends.begin());
  };
  ValidationReport report;
  report.source = std::string(source);
  report.contract_source = contract.source;
  report.contract_digest = contract.digest;
  const size_t rows = table.num_rows();
  report.rows_in = static_cast<int64_t>(rows + malformed.size());

  // Row index -> why it goes to quarantine, for rows failing an error-severity check.
  std::map<size_t, std::vector<QuarantineReason>> reasons;

  // Each column's checks and each row rule are one task, run in parallel, each with its own
  // results and reasons; they are joined in contract order, so the report does not depend on
  // the threads.
  struct Task {
    const ColumnContract* column = nullptr;
    const RowRule* rule = nullptr;
    std::vector<CheckResult> checks;
    std::map<size_t, std::vector<QuarantineReason>> reasons;
  };
  std::vector<Task> tasks;
  for (const ColumnContract& cc : contract.columns) tasks.push_back({&cc, nullptr, {}, {}});
  for (const RowRule& rule : contract.rows) tasks.push_back({nullptr, &rule, {}, {}});
  // Binding throws for a rule that does not fit the table; do it before any work.
  std::vector<Expression> expressions;
  if (!contract.rows.empty()) {
    table::Schema schema = table.schema();
    for (const RowRule& rule : contract.rows) {
      expressions.push_back(rule.expression);
      expressions.back().BindRule(schema);
    }
  }
  // Row rules read several columns each and cost the most: they start first, so that the last
  // task to finish is a cheap one. Results are joined in contract order all the same.
  std::vector<size_t> order;
  order.reserve(tasks.size());
  for (size_t t = contract.columns.size(); t < tasks.size(); ++t) order.push_back(t);
  for (size_t t = 0; t < contract.columns.size(); ++t) order.push_back(t);
  ThreadPool::Default().ParallelFor(order.size(), [&](size_t k) {
    const size_t t = order[k];
    Task& task = tasks[t];
    if (task.column != nullptr) {
      const ColumnContract& cc = *task.column;
      const Column* column = table.FindColumn(cc.name);
      if (column == nullptr) {
        CheckResult r = ListCheck("column_exists", false, "present", Json(false));
        r.table_level = false;
        r.column = cc.name;
        task.checks.push_back(std::move(r));
        return;
      }
      CheckColumn(cc, *column, &task.checks, &task.reasons);
      return;
    }
    const RowRule& rule = *task.rule;
    const Expression& expression = expressions[t - contract.columns.size()];
    CheckResult result = MakeCheck("row_rule", "", rule.options, expression.text());
    result.rule = rule.name;
    CheckAccumulator acc(std::move(result), &task.reasons);
    std::vector<std::string> names = expression.ColumnNames();
    std::vector<const Column*> read;
    for (const auto& name : names) read.push_back(table.FindColumn(name));
    std::vector<size_t> failing;
    expression.FailingRows(table, 0, rows, &failing);
    for (size_t r : failing) {
      // The sample shows the values the rule read: "capital_loss=4000, capital_gain=0".
      std::string values;
      for (size_t k = 0; k < names.size(); ++k) {
        const Column* c = read[k];
        values += (values.empty() ? "" : ", ") + names[k] + "=" +
                  (c->IsNull(r) ? std::string("null") : c->ValueToString(r));
      }
      acc.Fail(r, values, rule.name + ": " + expression.text() + " is false for " + values);
    }
    task.checks.push_back(acc.Finish(static_cast<int64_t>(rows)));
  });
  for (Task& task : tasks) {
    for (CheckResult& c : task.checks) report.checks.push_back(std::move(c));
    for (auto& [row, why] : task.reasons) {
      auto& into = reasons[row];
      for (QuarantineReason& q : why) into.push_back(std::move(q));
    }
  }

  // Malformed rows are quarantined; they reject a batch only through quarantine_share, so this
  // check passes whatever the count (as with mostly: 0).
  {
    CheckResult m = MakeCheck("malformed", "", CheckOptions{}, "well-formed records");
    m.mostly = 0;
    m.unexpected_count = static_cast<int64_t>(malformed.size());
    m.element_count = report.rows_in;
    m.unexpected_percent =
        report.rows_in > 0 ? 100.0 * static_cast<double>(malformed.size()) / report.rows_in : 0;
    for (const auto& row : malformed) {
      if (m.sample.size() >= kMaxSample) break;
      m.sample.push_back(row.text);
    }
    m.passed = true;
    report.checks.push_back(std::move(m));
  }

  // The quarantine, in source and line order: parsed rows and malformed rows merged.
  const auto& lines = table.line_numbers();
  report.quarantine.reserve(reasons.size() + malformed.size());
  std::vector<size_t> record_source;  // Parallel to report.quarantine, for sorting.
  record_source.reserve(reasons.size() + malformed.size());
  for (auto& [row, why] : reasons) {
    QuarantineRecord rec;
    size_t s = source_of(row_ends, row);
    rec.source = sources[s].name;
    record_source.push_back(s);
    rec.line = lines[row];
    rec.row = static_cast<int64_t>(row);
    rec.reasons = std::move(why);
    rec.values = Json::object();
    for (const Column& c : table.columns()) rec.values[c.name()] = CellJson(c, row);
    report.quarantine.push_back(std::move(rec));
  }
  for (size_t i = 0; i < malformed.size(); ++i) {
    const table::MalformedRow& row = malformed[i];
    QuarantineRecord rec;
    size_t s = source_of(malformed_ends, i);
    rec.source = sources[s].name;
    record_source.push_back(s);
    rec.line = row.line;
    rec.reasons.push_back({"malformed", "", row.reason});
    rec.text = row.text;
    report.quarantine.push_back(std::move(rec));
  }
  {
    std::vector<size_t> order(report.quarantine.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      if (record_source[a] != record_source[b]) return record_source[a] < record_source[b];
      return report.quarantine[a].line < report.quarantine[b].line;
    });
    std::vector<QuarantineRecord> sorted;
    sorted.reserve(order.size());
    for (size_t i : order) sorted.push_back(std::move(report.quarantine[i]));
    report.quarantine = std::move(sorted);
  }
  report.rows_quarantined = static_cast<int64_t>(report.quarantine.size());
  report.rows_clean = report.rows_in - report.rows_quarantined;

  // Table-level expectations, measured on the rows that stay (the version to be), so a row
  // already set aside does not count against the batch a second time.
  std::vector<uint8_t> quarantined(rows, 0);
  std::vector<uint64_t> quarantined_words((rows + 63) / 64, 0);
  for (const auto& [row, why] : reasons) {
    quarantined[row] = 1;
    quarantined_words[row >> 6] |= uint64_t{1} << (row & 63);
  }
  const TableExpectations& te = contract.table;
  if (te.row_count) {
    CheckResult r = RangeCheck("row_count", "", *te.row_count, static_cast<double>(report.rows_in));
    r.observed_value = report.rows_in;
    report.checks.push_back(std::move(r));
  }
  std::vector<std::string> names;
  for (const Column& c : table.columns()) names.push_back(c.name());
  if (te.columns_exact) {
    report.checks.push_back(ListCheck("columns_exact", names == *te.columns_exact,
                                      "exactly " + JoinNames(*te.columns_exact), Json(names)));
  }
  if (te.columns_include) {
    std::vector<std::string> missing;
    for (const auto& n : *te.columns_include) {
      if (table.FindColumn(n) == nullptr) missing.push_back(n);
    }
    report.checks.push_back(ListCheck("columns_include", missing.empty(),
                                      "includes " + JoinNames(*te.columns_include),
                                      Json{{"missing", missing}}));
  }
  for (const UniqueTogether& ut : te.unique_together) {
    std::vector<const Column*> cols;
    std::vector<std::string> missing;
    for (const auto& n : ut.columns) {
      const Column* c = table.FindColumn(n);
      if (c == nullptr) missing.push_back(n);
      cols.push_back(c);
    }
    CheckResult r;
    if (!missing.empty()) {
      r = ListCheck("unique_together", false, "unique (" + JoinNames(ut.columns) + ")",
                    Json{{"missing", missing}}, ut.severity);
    } else {
      // A key per row: each value's text with its length, so no separator can collide.
      std::unordered_set<std::string> seen;
      int64_t duplicates = 0;
      std::string key, scratch;
      for (size_t row = 0; row < rows; ++row) {
        if (quarantined[row]) continue;
        key.clear();
        for (const Column* c : cols) {
          if (c->IsNull(row)) {
            key += "N;";
          } else {
            std::string_view v = CellText(*c, row, &scratch);
            key += std::to_string(v.size()) + ":" + std::string(v) + ";";
          }
        }
        if (!seen.insert(key).second) ++duplicates;
      }
      r = ListCheck("unique_together", duplicates == 0, "unique (" + JoinNames(ut.columns) + ")",
                    Json{{"duplicate_rows", duplicates}}, ut.severity);
      r.unexpected_count = duplicates;
    }
    r.column = JoinNames(ut.columns);
    report.checks.push_back(std::move(r));
  }
  for (const ColumnStatsExpectation& ce : te.columns) {
    const Column* column = table.FindColumn(ce.column);
    if (column == nullptr) {
      CheckResult r = ListCheck("column_exists", false, "present", Json(false));
      r.column = ce.column;
      report.checks.push_back(std::move(r));
      continue;
    }
    bool need_values = ce.mean || ce.std || ce.min || ce.max || !ce.quantiles.empty();
    ColumnStats s = MeasureColumn(*column, need_values, ce.distinct.has_value(), quarantined_words);
    auto add = [&](const char* check, const std::optional<RangeExpectation>& range,
                   double observed) {
      if (range) report.checks.push_back(RangeCheck(check, ce.column, *range, observed));
    };
    add("null_share", ce.null_share,
        s.rows > 0 ? static_cast<double>(s.nulls) / static_cast<double>(s.rows) : 0.0);
    add("mean", ce.mean, s.mean);
    add("std", ce.std, s.std);
    add("column_min", ce.min, s.min);
    add("column_max", ce.max, s.max);
    for (const QuantileExpectation& qe : ce.quantiles) {
      CheckResult r = RangeCheck("quantile", ce.column, qe.range, Quantile(&s, qe.q));
      r.rule = "q=" + FormatDouble(qe.q);
      report.checks.push_back(std::move(r));
    }
    add("distinct", ce.distinct, static_cast<double>(s.distinct));
  }
  if (te.quarantine_share) {
    double share = report.rows_in > 0 ? static_cast<double>(report.rows_quarantined) /
                                            static_cast<double>(report.rows_in)
                                      : 0.0;
    report.checks.push_back(RangeCheck("quarantine_share", "", *te.quarantine_share, share));
  }
  if (te.distribution) {
    const DistributionExpectation& d = *te.distribution;
    CheckResult r =
        ListCheck("distribution", false,
                  "PSI <= " + FormatDouble(d.psi_max) + " against " + d.reference_name + "@" +
                      d.reference_version,
                  Json("not evaluated: needs stored dataset versions (mloop ingest)"), d.severity);
    r.passed.reset();
    r.column = JoinNames(d.columns);
    report.checks.push_back(std::move(r));
  }

  UpdateStatus(&report);
  return report;
}

void EvaluateDistribution(const Contract& contract, const stats::TableProfile& reference,
                          const stats::TableProfile& current, ValidationReport* report) {
  if (!contract.table.distribution) return;
  const DistributionExpectation& d = *contract.table.distribution;
  std::vector<std::string> names = d.columns;
  if (names.empty()) {
    for (const stats::ColumnProfile& c : reference.columns()) {
      if (current.FindColumn(c.name()) != nullptr) names.push_back(c.name());
    }
  }
  const std::string against = d.reference_name + "@" + d.reference_version;
  CheckResult r =
      ListCheck("distribution", false, "PSI <= " + FormatDouble(d.psi_max) + " against " + against,
                Json::object(), d.severity);
  r.column = JoinNames(d.columns);
  r.element_count = static_cast<int64_t>(names.size());
  bool passed = true;
  for (const std::string& name : names) {
    const stats::ColumnProfile* ref = reference.FindColumn(name);
    const stats::ColumnProfile* cur = current.FindColumn(name);
    if (ref == nullptr || cur == nullptr) {
      ThrowInvalidArgument(std::string(contract.source) + ": table.distribution: column '" + name +
                           "' is not in " + (ref == nullptr ? against : std::string("the batch")));
    }
    double psi = stats::PopulationStabilityIndex(*ref, *cur).psi;
    r.observed_value[name] = psi;
    if (!(psi <= d.psi_max)) {
      passed = false;
      ++r.unexpected_count;
      if (r.sample.size() < kMaxSample) r.sample.push_back(name + " PSI " + FormatDouble(psi));
    }
  }
  r.unexpected_percent =
      names.empty() ? 0 : 100.0 * static_cast<double>(r.unexpected_count) / names.size();
  r.passed = passed;
  for (CheckResult& c : report->checks) {
    if (c.check == "distribution") {
      c = std::move(r);
      UpdateStatus(report);
      return;
    }
  }
  report->checks.push_back(std::move(r));
  UpdateStatus(report);
}

Json ValidationReport::ToJson() const {
  auto nullable_text = [](const std::string& s) { return s.empty() ? Json() : Json(s); };
  Json doc;
  doc["source"] = source;
  doc["contract"] = {{"source", contract_source}, {"digest", contract_digest}};
  doc["status"] = BatchStatusName(status);
  doc["rows_in"] = rows_in;
  doc["rows_clean"] = rows_clean;
  doc["rows_quarantined"] = rows_quarantined;
  doc["checks"] = Json::array();
  for (const CheckResult& c : checks) {
    Json j;
    j["check"] = c.check;
    j["column"] = nullable_text(c.column);
    if (!c.rule.empty()) j["rule"] = c.rule;
    j["level"] = c.table_level ? "table" : "row";
    j["severity"] = SeverityName(c.severity);
    if (!c.table_level) j["mostly"] = c.mostly;
    j["passed"] = c.passed ? Json(*c.passed) : Json();
    j["element_count"] = c.element_count;
    j["unexpected_count"] = c.unexpected_count;
    j["unexpected_percent"] = c.unexpected_percent;
    j["sample"] = c.sample;
    j["observed_value"] = c.observed_value;
    j["expectation"] = c.expectation;
    doc["checks"].push_back(std::move(j));
  }
  doc["quarantine"] = Json::array();
  for (const QuarantineRecord& q : quarantine) {
    Json j;
    j["source"] = q.source;
    j["line"] = q.line;
    j["reasons"] = Json::array();
    for (const QuarantineReason& r : q.reasons) {
      j["reasons"].push_back(
          {{"check", r.check}, {"column", nullable_text(r.column)}, {"detail", r.detail}});
    }
    if (q.text) j["text"] = *q.text;
    if (q.row >= 0) j["values"] = q.values;
    doc["quarantine"].push_back(std::move(j));
  }
  return doc;
}

}  // namespace mloop::data
