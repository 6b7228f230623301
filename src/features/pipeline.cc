#include "features/pipeline.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <unordered_map>
#include <utility>

#include "core/error.h"
#include "core/json_reader.h"
#include "core/time.h"
#include "stats/hash.h"

namespace mloop::features {

namespace pipeline_internal {

using mloop::JsonReader;
using table::Column;
using table::DataType;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Rows per block of Transform: the working columns of a block stay in the CPU caches.
constexpr size_t kBlockRows = 4096;
// Codes of a text value that is not a known category.
constexpr int32_t kUnseen = -1;
constexpr int32_t kMissing = -2;

enum class SlotKind { kNumber, kText, kTime };

SlotKind KindOf(DataType t) {
  if (table::IsTextual(t)) return SlotKind::kText;
  if (table::IsTemporal(t)) return SlotKind::kTime;
  return SlotKind::kNumber;
}

std::string_view KindDescription(SlotKind k) {
  switch (k) {
    case SlotKind::kNumber:
      return "a number column (int64, float64, bool)";
    case SlotKind::kText:
      return "a text column (string, category)";
    case SlotKind::kTime:
      return "a date or timestamp column";
  }
  return "?";
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using CategoryIndex = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

// One column of one step, as fitted. Which fields are used depends on the op.
struct FittedColumn {
  std::string column;
  std::string other;   // ratio, product, difference: the second operand.
  std::string output;  // ratio, product, difference: the new column.
  // impute: a = the fill; standardize: a = mean, b = scale; minmax: a = scale, b = min (added
  // after scaling, as sklearn's min_); robust: a = center, b = scale.
  double a = 0;
  double b = 0;
  bool text = false;  // impute: the fill is fill_text.
  std::string fill_text;
  std::vector<double> thresholds;       // bucketize: bin = number of thresholds <= x.
  std::vector<std::string> categories;  // onehot (kept), ordinal, frequency; sorted.
  std::vector<double> frequencies;      // frequency: one per category.
  std::vector<double> encodings;        // target: one per category; a = the prior.
};

struct FittedStep {
  Op op = Op::kPassthrough;
  std::optional<double> clip_min;
  std::optional<double> clip_max;
  NullHandling nulls = NullHandling::kColumn;
  double unseen = -1;
  int64_t n_features = 32;
  int64_t folds = 5;
  double smoothing = 10;
  std::vector<DatePart> parts;
  std::vector<FittedColumn> columns;
};

struct Slot {
  std::string name;
  SlotKind kind = SlotKind::kNumber;
  std::string type_name;  // For messages: the input's type, or float64 for derived columns.
  int input = -1;         // Index into inputs for the slots the table fills.
};

// One operation of Transform on slots. Outputs of several columns (onehot, hash, datetime)
// are the consecutive slots out, out + 1, ...
struct Action {
  Op op = Op::kPassthrough;
  int step = 0;
  int column = 0;
  int in = -1;
  int in2 = -1;
  int out = -1;
  int lookup = -1;  // Into Plan::lookups: onehot, ordinal, frequency.
};

// The working columns of one block of rows.
struct Block {
  size_t begin = 0;
  size_t size = 0;
  std::vector<std::vector<double>> num;  // Number slots; NaN is missing.
  std::vector<const Column*> col;        // Text and time slots: the table's column.
  std::vector<const std::string*> fill;  // Text slots: the imputed value of a null.
};

// Per Transform call and action: the code of each dictionary entry of a category column.
struct DictionaryCodes {
  bool built = false;
  std::vector<int32_t> codes;
};

}  // namespace pipeline_internal

using namespace pipeline_internal;  // NOLINT: this file's own helpers.

struct FittedPipeline::Plan {
  std::string source;
  std::vector<PipelineInput> inputs;
  std::vector<FittedStep> steps;
  std::vector<Slot> slots;
  std::vector<Action> actions;
  std::vector<CategoryIndex> lookups;
  std::vector<int> live;  // The current columns, in feature order; after Finalize, outputs.
  std::vector<bool> input_used;
  std::vector<std::string> feature_names;
  // Fit only: columns that exist but are never features, with the reason.
  std::map<std::string, std::string, std::less<>> excluded;

  [[noreturn]] void Fail(const std::string& path, const std::string& message) const {
    JsonReader(source).Fail(path, message);
  }

  int AddSlot(std::string name, SlotKind kind, std::string type_name, int input = -1) {
    slots.push_back({std::move(name), kind, std::move(type_name), input});
    return static_cast<int>(slots.size()) - 1;
  }

  void AddInput(const std::string& name, DataType type) {
    inputs.push_back({name, type, true});
    input_used.push_back(false);
    int s = AddSlot(name, KindOf(type), std::string(table::DataTypeName(type)),
                    static_cast<int>(inputs.size()) - 1);
    live.push_back(s);
  }

  int LivePosition(std::string_view name) const {
    for (size_t i = 0; i < live.size(); ++i) {
      if (slots[live[i]].name == name) return static_cast<int>(i);
    }
    return -1;
  }

  // The live slot named `name`, checked to be of `kind` (any kind when `kind` is null).
  int Resolve(std::string_view name, Op op, const SlotKind* kind, const std::string& path) const {
    int pos = LivePosition(name);
    if (pos < 0) {
      auto it = excluded.find(name);
      if (it != excluded.end()) Fail(path, "column '" + std::string(name) + "' " + it->second);
      Fail(path, "no column '" + std::string(name) +
                     "' (not in the data, or dropped or replaced by an earlier step)");
    }
    int s = live[pos];
    if (kind && slots[s].kind != *kind) {
      Fail(path, "column '" + std::string(name) + "' is " + slots[s].type_name + "; " +
                     std::string(OpName(op)) + " needs " + std::string(KindDescription(*kind)));
    }
    return s;
  }

  void MarkRead(int s) {
    if (slots[s].input >= 0) input_used[slots[s].input] = true;
  }

  // Replaces the live slot `s` by `outs`, at its position.
  void Replace(int s, const std::vector<int>& outs) {
    auto it = std::find(live.begin(), live.end(), s);
    it = live.erase(it);
    live.insert(it, outs.begin(), outs.end());
  }

  int AddLookup(const std::vector<std::string>& categories) {
    CategoryIndex index;
    for (size_t i = 0; i < categories.size(); ++i) {
      index.emplace(categories[i], static_cast<int32_t>(i));
    }
    lookups.push_back(std::move(index));
    return static_cast<int>(lookups.size()) - 1;
  }

  // The kind an op needs of its input columns; null for any (impute takes number or text).
  static const SlotKind* NeededKind(Op op) {
    static const SlotKind kNumber = SlotKind::kNumber, kText = SlotKind::kText,
                          kTime = SlotKind::kTime;
    switch (op) {
      case Op::kImpute:
      case Op::kDrop:
        return nullptr;
      case Op::kOneHot:
      case Op::kOrdinal:
      case Op::kFrequency:
      case Op::kHash:
      case Op::kTarget:
        return &kText;
      case Op::kDatetime:
        return &kTime;
      default:
        return &kNumber;
    }
  }

  // Compiles one fitted step into actions; `path` is its key path for errors.
  void AddStep(FittedStep step, const std::string& path) {
    int step_index = static_cast<int>(steps.size());
    const SlotKind* kind = NeededKind(step.op);
    for (size_t ci = 0; ci < step.columns.size(); ++ci) {
      const FittedColumn& fc = step.columns[ci];
      std::string cpath = JsonReader::Index(JsonReader::Join(path, "columns"), ci);
      int s = Resolve(fc.column, step.op, kind, cpath);
      Action a;
      a.op = step.op;
      a.step = step_index;
      a.column = static_cast<int>(ci);
      a.in = s;
      const std::string name = slots[s].name;  // A copy: AddSlot may move slots.
      switch (step.op) {
        case Op::kDrop:
          live.erase(std::find(live.begin(), live.end(), s));
          continue;
        case Op::kPassthrough:
          continue;
        case Op::kImpute:
          if (fc.text != (slots[s].kind == SlotKind::kText)) {
            Fail(cpath, "column '" + name + "' is " + slots[s].type_name + " but the fill is " +
                            (fc.text ? "text" : "a number"));
          }
          if (slots[s].kind == SlotKind::kTime) {
            Fail(cpath, "column '" + name + "' is " + slots[s].type_name +
                            "; impute needs a number or text column");
          }
          a.out = s;
          break;
        case Op::kStandardize:
        case Op::kMinMax:
        case Op::kRobust:
        case Op::kLog1p:
        case Op::kClip:
          a.out = s;
          break;
        case Op::kBucketize: {
          a.out = AddSlot(name, SlotKind::kNumber, "float64");
          Replace(s, {a.out});
          break;
        }
        case Op::kOrdinal:
        case Op::kFrequency:
        case Op::kTarget: {
          if (step.op == Op::kFrequency && fc.frequencies.size() != fc.categories.size()) {
            Fail(cpath, "expected as many frequencies as categories");
          }
          if (step.op == Op::kTarget && fc.encodings.size() != fc.categories.size()) {
            Fail(cpath, "expected as many encodings as categories");
          }
          a.lookup = AddLookup(fc.categories);
          a.out = AddSlot(name, SlotKind::kNumber, "float64");
          Replace(s, {a.out});
          break;
        }
        case Op::kOneHot: {
          a.lookup = AddLookup(fc.categories);
          std::vector<int> outs;
          for (const std::string& c : fc.categories) {
            outs.push_back(AddSlot(name + "=" + c, SlotKind::kNumber, "float64"));
          }
          outs.push_back(AddSlot(name + "=__other__", SlotKind::kNumber, "float64"));
          if (step.nulls == NullHandling::kColumn) {
            outs.push_back(AddSlot(name + "=__null__", SlotKind::kNumber, "float64"));
          }
          a.out = outs[0];
          Replace(s, outs);
          break;
        }
        case Op::kHash: {
          std::vector<int> outs;
          for (int64_t i = 0; i < step.n_features; ++i) {
            outs.push_back(AddSlot(name + "#" + std::to_string(i), SlotKind::kNumber, "float64"));
          }
          a.out = outs[0];
          Replace(s, outs);
          break;
        }
        case Op::kDatetime: {
          std::vector<int> outs;
          for (DatePart p : step.parts) {
            outs.push_back(
                AddSlot(name + "." + std::string(DatePartName(p)), SlotKind::kNumber, "float64"));
          }
          a.out = outs[0];
          Replace(s, outs);
          break;
        }
        case Op::kRatio:
        case Op::kProduct:
        case Op::kDifference: {
          a.in2 = Resolve(fc.other, step.op, kind, JsonReader::Index(path + ".columns", 1));
          if (LivePosition(fc.output) >= 0) {
            Fail(JsonReader::Join(path, "output"), "column '" + fc.output + "' already exists");
          }
          a.out = AddSlot(fc.output, SlotKind::kNumber, "float64");
          live.push_back(a.out);
          MarkRead(a.in2);
          break;
        }
      }
      MarkRead(s);
      actions.push_back(a);
    }
    steps.push_back(std::move(step));
  }

  void Finalize() {
    std::set<std::string> names;
    for (int s : live) {
      const Slot& slot = slots[s];
      if (slot.kind == SlotKind::kText) {
        ThrowInvalidArgument(source + ": column '" + slot.name + "' (" + slot.type_name +
                             ") is text and no step encodes it: add it to a onehot, ordinal, "
                             "frequency or hash step, or drop it");
      }
      if (slot.kind == SlotKind::kTime) {
        ThrowInvalidArgument(source + ": column '" + slot.name + "' (" + slot.type_name +
                             ") is a date or time and no step encodes it: add it to a datetime "
                             "step, or drop it");
      }
      if (!names.insert(slot.name).second) {
        ThrowInvalidArgument(source + ": two features are named '" + slot.name +
                             "'; rename a column or an output");
      }
      feature_names.push_back(slot.name);
      if (slot.input >= 0) input_used[slot.input] = true;
    }
    for (size_t i = 0; i < inputs.size(); ++i) inputs[i].required = input_used[i];
  }
};

namespace pipeline_internal {

// The values of slot `s` that are not missing.
std::vector<double> Present(const std::vector<double>& v) {
  std::vector<double> out;
  out.reserve(v.size());
  for (double x : v) {
    if (!std::isnan(x)) out.push_back(x);
  }
  return out;
}

// numpy's lerp (numpy/lib/function_base.py _lerp), so quantiles match numpy bit for bit.
double Lerp(double a, double b, double t) {
  double diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

// numpy.percentile(sorted, q) with the default linear method; q in [0, 100].
double Percentile(const std::vector<double>& sorted, double q) {
  double quantile = q / 100;
  size_t n = sorted.size();
  double virtual_index = static_cast<double>(n - 1) * quantile;
  if (virtual_index >= static_cast<double>(n - 1)) return sorted[n - 1];
  if (virtual_index < 0) return sorted[0];
  double previous = std::floor(virtual_index);
  size_t i = static_cast<size_t>(previous);
  return Lerp(sorted[i], sorted[i + 1], virtual_index - previous);
}

// numpy.median: the middle value, or the mean of the two middle values.
double Median(const std::vector<double>& sorted) {
  size_t n = sorted.size();
  if (n % 2 == 1) return sorted[n / 2];
  return (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

// numpy.linspace(start, stop, num) for num >= 2.
std::vector<double> Linspace(double start, double stop, size_t num) {
  std::vector<double> out(num);
  double step = (stop - start) / static_cast<double>(num - 1);
  for (size_t i = 0; i < num; ++i) out[i] = static_cast<double>(i) * step + start;
  out[num - 1] = stop;
  return out;
}

// Counts of the text values of a text slot (nulls read as the imputed fill, if any), sorted
// by value as bytes, and the rows that stay missing.
struct TextCounts {
  std::map<std::string, int64_t, std::less<>> counts;
  int64_t missing = 0;
};

TextCounts CountText(const Block& block, int s) {
  TextCounts out;
  const Column& col = *block.col[s];
  const std::string* fill = block.fill[s];
  if (col.type() == DataType::kCategory) {
    std::vector<int64_t> per_code(col.dictionary().size(), 0);
    for (size_t r = 0; r < block.size; ++r) {
      size_t row = block.begin + r;
      if (col.IsValid(row)) {
        ++per_code[col.CodeAt(row)];
      } else if (fill) {
        ++out.counts[*fill];
      } else {
        ++out.missing;
      }
    }
    for (size_t c = 0; c < per_code.size(); ++c) {
      if (per_code[c] > 0) out.counts[col.dictionary()[c]] += per_code[c];
    }
  } else {
    std::unordered_map<std::string_view, int64_t> counts;
    for (size_t r = 0; r < block.size; ++r) {
      size_t row = block.begin + r;
      if (col.IsValid(row)) {
        ++counts[col.StringAt(row)];
      } else if (fill) {
        ++counts[*fill];
      } else {
        ++out.missing;
      }
    }
    for (const auto& [value, n] : counts) out.counts.emplace(std::string(value), n);
  }
  return out;
}

// Fills codes[r] for each row of the block: map(value) for a value, map(fill) for an imputed
// null, kMissing for a null. `map` is called once per dictionary entry of a category column.
template <typename MapFn>
void CodeRows(const Block& block, int s, DictionaryCodes& cache, MapFn map, int32_t* codes) {
  const Column& col = *block.col[s];
  const std::string* fill = block.fill[s];
  int32_t fill_code = fill ? map(std::string_view(*fill)) : kMissing;
  if (col.type() == DataType::kCategory) {
    if (!cache.built) {
      cache.codes.clear();
      for (const std::string& entry : col.dictionary()) cache.codes.push_back(map(entry));
      cache.built = true;
    }
    const int32_t* dict_codes = cache.codes.data();
    col.codes().Visit([&](const auto* column_codes) {
      const auto* row_codes = column_codes + block.begin;
      for (size_t r = 0; r < block.size; ++r) {
        codes[r] = col.IsValid(block.begin + r) ? dict_codes[row_codes[r]] : fill_code;
      }
    });
  } else {
    for (size_t r = 0; r < block.size; ++r) {
      size_t row = block.begin + r;
      codes[r] = col.IsValid(row) ? map(col.StringAt(row)) : fill_code;
    }
  }
}

// Year, month (1-12) and day (1-31) of a count of days since 1970-01-01 (Howard Hinnant's
// civil_from_days).
void CivilFromDays(int64_t z, int64_t* year, int64_t* month, int64_t* day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = yoe + era * 400 + (*month <= 2 ? 1 : 0);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

void Apply(const FittedPipeline::Plan& plan, const Action& a, Block& block, DictionaryCodes& cache,
           std::vector<int32_t>& codes) {
  const FittedStep& step = plan.steps[a.step];
  const FittedColumn& fc = step.columns[a.column];
  const size_t n = block.size;
  auto out_column = [&](int s) -> double* {
    block.num[s].resize(n);
    return block.num[s].data();
  };
  switch (a.op) {
    case Op::kImpute: {
      if (fc.text) {
        block.fill[a.in] = &fc.fill_text;
        return;
      }
      double* x = block.num[a.in].data();
      const double fill = fc.a;
      for (size_t r = 0; r < n; ++r) x[r] = std::isnan(x[r]) ? fill : x[r];
      return;
    }
    case Op::kStandardize:
    case Op::kRobust: {
      double* x = block.num[a.in].data();
      const double center = fc.a, scale = fc.b;
      for (size_t r = 0; r < n; ++r) x[r] = (x[r] - center) / scale;
      return;
    }
    case Op::kMinMax: {
      double* x = block.num[a.in].data();
      const double scale = fc.a, min = fc.b;
      for (size_t r = 0; r < n; ++r) x[r] = x[r] * scale + min;
      return;
    }
    case Op::kLog1p: {
      double* x = block.num[a.in].data();
      for (size_t r = 0; r < n; ++r) x[r] = x[r] > -1 ? std::log1p(x[r]) : kNaN;
      return;
    }
    case Op::kClip: {
      double* x = block.num[a.in].data();
      const double lo = step.clip_min.value_or(-std::numeric_limits<double>::infinity());
      const double hi = step.clip_max.value_or(std::numeric_limits<double>::infinity());
      for (size_t r = 0; r < n; ++r) x[r] = x[r] < lo ? lo : (x[r] > hi ? hi : x[r]);
      return;
    }
    case Op::kBucketize: {
      const double* x = block.num[a.in].data();
      double* y = out_column(a.out);
      const double* t = fc.thresholds.data();
      const double* t_end = t + fc.thresholds.size();
      for (size_t r = 0; r < n; ++r) {
        y[r] = std::isnan(x[r]) ? kNaN : static_cast<double>(std::upper_bound(t, t_end, x[r]) - t);
      }
      return;
    }
    case Op::kOneHot:
    case Op::kOrdinal:
    case Op::kFrequency:
    case Op::kTarget: {
      const CategoryIndex& index = plan.lookups[a.lookup];
      codes.resize(n);
      CodeRows(
          block, a.in, cache,
          [&index](std::string_view v) -> int32_t {
            auto it = index.find(v);
            return it == index.end() ? kUnseen : it->second;
          },
          codes.data());
      if (a.op == Op::kOrdinal) {
        double* y = out_column(a.out);
        for (size_t r = 0; r < n; ++r) {
          y[r] = codes[r] >= 0 ? codes[r] : (codes[r] == kUnseen ? step.unseen : kNaN);
        }
      } else if (a.op == Op::kTarget) {
        double* y = out_column(a.out);
        const double* e = fc.encodings.data();
        const double prior = fc.a;
        for (size_t r = 0; r < n; ++r) {
          y[r] = codes[r] >= 0 ? e[codes[r]] : (codes[r] == kUnseen ? prior : kNaN);
        }
      } else if (a.op == Op::kFrequency) {
        double* y = out_column(a.out);
        const double* f = fc.frequencies.data();
        for (size_t r = 0; r < n; ++r) {
          y[r] = codes[r] >= 0 ? f[codes[r]] : (codes[r] == kUnseen ? 0.0 : kNaN);
        }
      } else {
        const int32_t k = static_cast<int32_t>(fc.categories.size());
        const int32_t width = k + 1 + (step.nulls == NullHandling::kColumn ? 1 : 0);
        std::vector<double*> outs(width);
        for (int32_t j = 0; j < width; ++j) {
          outs[j] = out_column(a.out + j);
          std::fill(outs[j], outs[j] + n, 0.0);
        }
        const int32_t null_target = step.nulls == NullHandling::kColumn  ? k + 1
                                    : step.nulls == NullHandling::kOther ? k
                                                                         : -1;
        for (size_t r = 0; r < n; ++r) {
          int32_t c = codes[r];
          int32_t target = c >= 0 ? c : (c == kUnseen ? k : null_target);
          if (target >= 0) outs[target][r] = 1.0;
        }
      }
      return;
    }
    case Op::kHash: {
      const uint64_t buckets = static_cast<uint64_t>(step.n_features);
      codes.resize(n);
      CodeRows(
          block, a.in, cache,
          [buckets](std::string_view v) -> int32_t {
            return static_cast<int32_t>(stats::HashBytes(v) % buckets);
          },
          codes.data());
      std::vector<double*> outs(buckets);
      for (uint64_t j = 0; j < buckets; ++j) {
        outs[j] = out_column(a.out + static_cast<int>(j));
        std::fill(outs[j], outs[j] + n, 0.0);
      }
      for (size_t r = 0; r < n; ++r) {
        if (codes[r] >= 0) outs[codes[r]][r] = 1.0;
      }
      return;
    }
    case Op::kDatetime: {
      const Column& col = *block.col[a.in];
      const bool timestamp = col.type() == DataType::kTimestamp;
      std::vector<double*> outs(step.parts.size());
      for (size_t j = 0; j < outs.size(); ++j) outs[j] = out_column(a.out + static_cast<int>(j));
      for (size_t r = 0; r < n; ++r) {
        size_t row = block.begin + r;
        if (!col.IsValid(row)) {
          for (double* o : outs) o[r] = kNaN;
          continue;
        }
        int64_t v = col.IntAt(row);
        int64_t days = timestamp ? FloorDiv(v, kMicrosPerDay) : v;
        int64_t hour = timestamp ? (v - days * kMicrosPerDay) / (3600 * kMicrosPerSecond) : 0;
        int64_t year, month, day;
        CivilFromDays(days, &year, &month, &day);
        for (size_t j = 0; j < outs.size(); ++j) {
          double value = 0;
          switch (step.parts[j]) {
            case DatePart::kYear:
              value = static_cast<double>(year);
              break;
            case DatePart::kMonth:
              value = static_cast<double>(month);
              break;
            case DatePart::kDay:
              value = static_cast<double>(day);
              break;
            case DatePart::kWeekday:  // 1970-01-01 was a Thursday (3 when Monday is 0).
              value = static_cast<double>(((days % 7) + 7 + 3) % 7);
              break;
            case DatePart::kHour:
              value = static_cast<double>(hour);
              break;
            case DatePart::kDayOfYear:
              value = static_cast<double>(days - DaysFromCivil(year, 1, 1) + 1);
              break;
          }
          outs[j][r] = value;
        }
      }
      return;
    }
    case Op::kRatio:
    case Op::kProduct:
    case Op::kDifference: {
      const double* x = block.num[a.in].data();
      const double* z = block.num[a.in2].data();
      double* y = out_column(a.out);
      if (a.op == Op::kRatio) {
        for (size_t r = 0; r < n; ++r) y[r] = z[r] == 0 ? kNaN : x[r] / z[r];
      } else if (a.op == Op::kProduct) {
        for (size_t r = 0; r < n; ++r) y[r] = x[r] * z[r];
      } else {
        for (size_t r = 0; r < n; ++r) y[r] = x[r] - z[r];
      }
      return;
    }
    case Op::kPassthrough:
    case Op::kDrop:
      return;
  }
}

// Loads the input slots of rows [begin, begin + size) from `columns` (one per input; null
// for an input the table lacks, which no action reads).
void LoadBlock(const FittedPipeline::Plan& plan, const std::vector<const Column*>& columns,
               size_t begin, size_t size, Block& block) {
  block.begin = begin;
  block.size = size;
  for (size_t i = 0; i < plan.inputs.size(); ++i) {
    const Column* col = columns[i];
    int s = static_cast<int>(i);  // Input i is slot i.
    block.col[s] = col;
    block.fill[s] = nullptr;
    if (!col || plan.slots[s].kind != SlotKind::kNumber) continue;
    std::vector<double>& x = block.num[s];
    x.resize(size);
    switch (col->type()) {
      case DataType::kInt64: {
        col->ints().Visit([&](const auto* values) {
          const auto* v = values + begin;
          for (size_t r = 0; r < size; ++r) x[r] = static_cast<double>(v[r]);
        });
        break;
      }
      case DataType::kFloat64: {
        const double* v = col->doubles().data() + begin;
        std::copy(v, v + size, x.data());
        break;
      }
      case DataType::kBool: {
        const uint8_t* v = col->bools().data() + begin;
        for (size_t r = 0; r < size; ++r) x[r] = v[r] ? 1.0 : 0.0;
        break;
      }
      default:
        ThrowInternal("features: number slot fed from a " +
                      std::string(table::DataTypeName(col->type())) + " column");
    }
    if (col->null_count() > 0) {
      for (size_t r = 0; r < size; ++r) {
        if (col->IsNull(begin + r)) x[r] = kNaN;
      }
    }
  }
}

void CheckFinite(const FittedPipeline::Plan& plan, const std::string& path,
                 const std::string& column, const char* what, double v) {
  if (!std::isfinite(v)) {
    plan.Fail(path, "column '" + column + "': the fitted " + what +
                        " is not finite (the column holds infinite values)");
  }
}

// What target encoding learns from: the label of each training row (NaN when missing) and a
// seeded random order of the rows, which deals them into folds.
struct TargetContext {
  const Column* label = nullptr;  // Null: no label; `label_error` says why.
  std::string label_error;
  uint64_t seed = 0;
  std::vector<uint32_t> order;  // A permutation of the rows; built on first use.
};

// The label as numbers for a target step: the value itself for a number label, or 1 where
// it equals `positive` and 0 elsewhere. Missing labels are NaN.
std::vector<double> TargetValues(const Step& step, const FittedPipeline::Plan& plan,
                                 const TargetContext& target, size_t rows) {
  if (!target.label) plan.Fail(step.path, target.label_error);
  const Column& col = *target.label;
  std::vector<double> y(rows, kNaN);
  if (table::IsTextual(col.type())) {
    if (!step.positive_text) {
      plan.Fail(JsonReader::Join(step.path, "positive"),
                "missing: the label '" + col.name() + "' is " +
                    std::string(table::DataTypeName(col.type())) +
                    ", so name its positive value (a string)");
    }
    for (size_t r = 0; r < rows; ++r) {
      if (col.IsValid(r)) y[r] = col.StringAt(r) == *step.positive_text ? 1.0 : 0.0;
    }
  } else if (KindOf(col.type()) == SlotKind::kNumber) {
    if (step.positive_text) {
      plan.Fail(JsonReader::Join(step.path, "positive"),
                "the label '" + col.name() + "' is " +
                    std::string(table::DataTypeName(col.type())) + ": positive must be a number");
    }
    for (size_t r = 0; r < rows; ++r) {
      if (!col.IsValid(r)) continue;
      double v = col.NumberAt(r);
      y[r] = step.positive_number ? (v == *step.positive_number ? 1.0 : 0.0) : v;
    }
  } else {
    plan.Fail(step.path, "the label '" + col.name() + "' is " +
                             std::string(table::DataTypeName(col.type())) +
                             "; target encoding needs a number or text label");
  }
  return y;
}

// Fisher-Yates with a 64-bit Mersenne Twister: the same seed gives the same folds on every
// platform (std::shuffle's algorithm is not specified).
void BuildOrder(TargetContext& target, size_t rows) {
  if (target.order.size() == rows) return;
  target.order.resize(rows);
  for (size_t i = 0; i < rows; ++i) target.order[i] = static_cast<uint32_t>(i);
  std::mt19937_64 rng(target.seed);
  for (size_t i = rows; i > 1; --i) {
    size_t j = static_cast<size_t>(rng() % i);
    std::swap(target.order[i - 1], target.order[j]);
  }
}

// (sum + smoothing * prior) / (count + smoothing), or the prior when nothing is known.
double Smoothed(double sum, double count, double smoothing, double prior) {
  double weight = count + smoothing;
  return weight > 0 ? (sum + smoothing * prior) / weight : prior;
}

// Fits target encoding of text slot `s`: the full-data encodings into `fc`, and into `oof`
// each training row's out-of-fold value (the encoding learned without the row's fold).
void FitTarget(const Step& step, const FittedPipeline::Plan& plan, const Block& block, int s,
               TargetContext& target, FittedColumn& fc, std::vector<double>& oof) {
  const size_t rows = block.size;
  std::vector<double> y = TargetValues(step, plan, target, rows);
  TextCounts counts = CountText(block, s);
  CategoryIndex index;
  for (const auto& [value, count] : counts.counts) {
    index.emplace(value, static_cast<int32_t>(fc.categories.size()));
    fc.categories.push_back(value);
  }
  std::vector<int32_t> codes(rows);
  DictionaryCodes cache;
  CodeRows(
      block, s, cache,
      [&index](std::string_view v) -> int32_t {
        auto it = index.find(v);
        return it == index.end() ? kUnseen : it->second;
      },
      codes.data());
  BuildOrder(target, rows);
  const size_t k = static_cast<size_t>(step.folds);
  std::vector<uint32_t> fold(rows);
  for (size_t i = 0; i < rows; ++i) fold[target.order[i]] = static_cast<uint32_t>(i % k);
  const size_t c = fc.categories.size();
  // Per fold and category: labeled rows and their label sum; fold totals for the priors.
  std::vector<double> n(k * c, 0), sum(k * c, 0), fold_n(k, 0), fold_sum(k, 0);
  for (size_t r = 0; r < rows; ++r) {
    if (std::isnan(y[r])) continue;
    fold_n[fold[r]] += 1;
    fold_sum[fold[r]] += y[r];
    if (codes[r] >= 0) {
      n[fold[r] * c + codes[r]] += 1;
      sum[fold[r] * c + codes[r]] += y[r];
    }
  }
  double total_n = 0, total_sum = 0;
  for (size_t f = 0; f < k; ++f) {
    total_n += fold_n[f];
    total_sum += fold_sum[f];
  }
  if (total_n == 0) plan.Fail(step.path, "the label has no non-missing value");
  const double prior = total_sum / total_n;
  std::vector<double> cat_n(c, 0), cat_sum(c, 0);
  for (size_t f = 0; f < k; ++f) {
    for (size_t j = 0; j < c; ++j) {
      cat_n[j] += n[f * c + j];
      cat_sum[j] += sum[f * c + j];
    }
  }
  fc.a = prior;
  fc.encodings.resize(c);
  for (size_t j = 0; j < c; ++j) {
    fc.encodings[j] = Smoothed(cat_sum[j], cat_n[j], step.smoothing, prior);
  }
  std::vector<double> fold_prior(k);
  for (size_t f = 0; f < k; ++f) {
    double rest = total_n - fold_n[f];
    fold_prior[f] = rest > 0 ? (total_sum - fold_sum[f]) / rest : prior;
  }
  oof.assign(rows, kNaN);
  for (size_t r = 0; r < rows; ++r) {
    if (codes[r] < 0) continue;  // Missing stays missing.
    size_t f = fold[r], j = static_cast<size_t>(codes[r]);
    oof[r] = Smoothed(cat_sum[j] - sum[f * c + j], cat_n[j] - n[f * c + j], step.smoothing,
                      fold_prior[f]);
  }
}

// Learns the parameters of `step` from the block (all training rows, after earlier steps).
// For target encoding, `oof` receives each column's out-of-fold training values.
FittedStep FitStep(const Step& step, const FittedPipeline::Plan& plan, const Block& block,
                   TargetContext& target, std::vector<std::vector<double>>& oof) {
  FittedStep fs;
  fs.op = step.op;
  fs.clip_min = step.clip_min;
  fs.clip_max = step.clip_max;
  fs.nulls = step.nulls;
  fs.unseen = step.unseen;
  fs.n_features = step.n_features;
  fs.folds = step.folds;
  fs.smoothing = step.smoothing;
  fs.parts = step.parts;
  oof.clear();
  const SlotKind* kind = FittedPipeline::Plan::NeededKind(step.op);
  for (size_t ci = 0; ci < step.columns.size(); ++ci) {
    std::string cpath = JsonReader::Index(JsonReader::Join(step.path, "columns"), ci);
    const std::string& name = step.columns[ci];
    int s = plan.Resolve(name, step.op, kind, cpath);
    const Slot& slot = plan.slots[s];
    FittedColumn fc;
    fc.column = name;
    auto numbers = [&]() {
      std::vector<double> v = Present(block.num[s]);
      if (v.empty()) {
        plan.Fail(cpath, "column '" + name + "' has no non-missing value to fit " +
                             std::string(OpName(step.op)) + " on");
      }
      return v;
    };
    switch (step.op) {
      case Op::kImpute: {
        if (slot.kind == SlotKind::kTime) {
          plan.Fail(cpath, "column '" + name + "' is " + slot.type_name +
                               "; impute needs a number or text column");
        }
        bool text = slot.kind == SlotKind::kText;
        fc.text = text;
        if (step.strategy == ImputeStrategy::kConstant) {
          if (text && !step.fill_text) {
            plan.Fail(
                JsonReader::Join(step.path, "value"),
                "column '" + name + "' is " + slot.type_name + ": the value must be a string");
          }
          if (!text && !step.fill_number) {
            plan.Fail(
                JsonReader::Join(step.path, "value"),
                "column '" + name + "' is " + slot.type_name + ": the value must be a number");
          }
          if (text) {
            fc.fill_text = *step.fill_text;
          } else {
            fc.a = *step.fill_number;
          }
        } else if (text) {
          if (step.strategy != ImputeStrategy::kMostFrequent) {
            plan.Fail(JsonReader::Join(step.path, "strategy"),
                      "column '" + name + "' is " + slot.type_name + "; strategy " +
                          std::string(ImputeStrategyName(step.strategy)) +
                          " needs a number column (use most_frequent or constant)");
          }
          TextCounts counts = CountText(block, s);
          if (counts.counts.empty()) {
            plan.Fail(cpath, "column '" + name + "' has no non-missing value to fit impute on");
          }
          int64_t best = -1;  // Strictly greater: ties go to the smallest value (sorted map).
          for (const auto& [value, count] : counts.counts) {
            if (count > best) {
              best = count;
              fc.fill_text = value;
            }
          }
        } else {
          std::vector<double> v = numbers();
          if (step.strategy == ImputeStrategy::kMean) {
            double sum = 0;
            for (double x : v) sum += x;
            fc.a = sum / static_cast<double>(v.size());
          } else {
            std::sort(v.begin(), v.end());
            if (step.strategy == ImputeStrategy::kMedian) {
              fc.a = Median(v);
            } else {
              size_t best = 0;
              for (size_t i = 0; i < v.size();) {
                size_t j = i;
                while (j < v.size() && v[j] == v[i]) ++j;
                if (j - i > best) {
                  best = j - i;
                  fc.a = v[i];
                }
                i = j;
              }
            }
          }
          CheckFinite(plan, cpath, name, "fill", fc.a);
        }
        break;
      }
      case Op::kStandardize: {
        std::vector<double> v = numbers();
        double sum = 0;
        for (double x : v) sum += x;
        double mean = sum / static_cast<double>(v.size());
        double squares = 0;
        for (double x : v) squares += (x - mean) * (x - mean);
        double scale = std::sqrt(squares / static_cast<double>(v.size()));
        fc.a = mean;
        fc.b = scale == 0 ? 1.0 : scale;  // A constant column: sklearn's scale of 1.
        CheckFinite(plan, cpath, name, "mean", fc.a);
        CheckFinite(plan, cpath, name, "scale", fc.b);
        break;
      }
      case Op::kMinMax: {
        std::vector<double> v = numbers();
        auto [lo, hi] = std::minmax_element(v.begin(), v.end());
        double range = *hi - *lo;
        fc.a = 1.0 / (range == 0 ? 1.0 : range);
        fc.b = 0.0 - *lo * fc.a;
        CheckFinite(plan, cpath, name, "scale", fc.a);
        CheckFinite(plan, cpath, name, "min", fc.b);
        break;
      }
      case Op::kRobust: {
        std::vector<double> v = numbers();
        std::sort(v.begin(), v.end());
        fc.a = Median(v);
        double scale = Percentile(v, step.quantile_high) - Percentile(v, step.quantile_low);
        fc.b = scale == 0 ? 1.0 : scale;
        CheckFinite(plan, cpath, name, "center", fc.a);
        CheckFinite(plan, cpath, name, "scale", fc.b);
        break;
      }
      case Op::kBucketize: {
        std::vector<double> v = numbers();
        std::sort(v.begin(), v.end());
        double lo = v.front(), hi = v.back();
        CheckFinite(plan, cpath, name, "minimum", lo);
        CheckFinite(plan, cpath, name, "maximum", hi);
        if (lo == hi) break;  // Constant: one bin, every value in bin 0 (as sklearn).
        size_t bins = static_cast<size_t>(step.bins);
        std::vector<double> edges;
        if (step.bin_strategy == BinStrategy::kUniform) {
          edges = Linspace(lo, hi, bins + 1);
        } else {
          for (double q : Linspace(0, 100, bins + 1)) edges.push_back(Percentile(v, q));
          // sklearn drops edges closer than 1e-8 to the one before (bins too narrow).
          std::vector<double> kept = {edges[0]};
          for (size_t i = 1; i < edges.size(); ++i) {
            if (edges[i] - edges[i - 1] > 1e-8) kept.push_back(edges[i]);
          }
          edges = std::move(kept);
        }
        // The first and last edges bound nothing: values outside go to the end bins.
        if (edges.size() > 2) fc.thresholds.assign(edges.begin() + 1, edges.end() - 1);
        break;
      }
      case Op::kOneHot: {
        TextCounts counts = CountText(block, s);
        std::vector<std::string> values;
        std::vector<int64_t> n;
        for (const auto& [value, count] : counts.counts) {
          values.push_back(value);
          n.push_back(count);
        }
        // sklearn's OneHotEncoder._identify_infrequent: rare below min_frequency; then, when
        // more than max_categories columns would remain (the other column counted), all
        // but the max_categories - 1 most frequent are rare, ties keeping later values.
        std::vector<bool> rare(values.size(), false);
        size_t rare_count = 0;
        if (step.min_frequency) {
          for (size_t i = 0; i < values.size(); ++i) {
            rare[i] = n[i] < *step.min_frequency;
            rare_count += rare[i];
          }
        }
        size_t current = values.size() - rare_count + 1;
        if (step.max_categories && static_cast<size_t>(*step.max_categories) < current) {
          std::vector<size_t> order(values.size());
          for (size_t i = 0; i < order.size(); ++i) order[i] = i;
          std::stable_sort(order.begin(), order.end(),
                           [&](size_t x, size_t y) { return n[x] < n[y]; });
          size_t keep = static_cast<size_t>(*step.max_categories) - 1;
          for (size_t i = 0; i + keep < order.size(); ++i) rare[order[i]] = true;
        }
        for (size_t i = 0; i < values.size(); ++i) {
          if (!rare[i]) fc.categories.push_back(values[i]);
        }
        break;
      }
      case Op::kOrdinal: {
        TextCounts counts = CountText(block, s);
        for (const auto& [value, count] : counts.counts) fc.categories.push_back(value);
        break;
      }
      case Op::kFrequency: {
        TextCounts counts = CountText(block, s);
        double rows = static_cast<double>(block.size);
        for (const auto& [value, count] : counts.counts) {
          fc.categories.push_back(value);
          fc.frequencies.push_back(static_cast<double>(count) / rows);
        }
        break;
      }
      case Op::kTarget:
        oof.emplace_back();
        FitTarget(step, plan, block, s, target, fc, oof.back());
        break;
      case Op::kRatio:
      case Op::kProduct:
      case Op::kDifference:
        fc.other = step.columns[1];
        fc.output = step.output;
        fs.columns.push_back(std::move(fc));
        return fs;  // One output from both columns.
      default:
        break;
    }
    fs.columns.push_back(std::move(fc));
  }
  return fs;
}

template <typename T>
DenseFeatureMatrix<T> Run(const FittedPipeline::Plan& plan, const table::Table& table) {
  std::vector<const Column*> columns(plan.inputs.size(), nullptr);
  for (size_t i = 0; i < plan.inputs.size(); ++i) {
    const PipelineInput& in = plan.inputs[i];
    if (!in.required) continue;  // Only dropped: never read, whatever the table holds.
    const Column* col = table.FindColumn(in.name);
    if (!col) {
      ThrowInvalidArgument("missing column '" + in.name + "': the feature pipeline was fitted " +
                           "with it (" + std::string(table::DataTypeName(in.type)) + ")");
    }
    if (KindOf(col->type()) != KindOf(in.type)) {
      ThrowInvalidArgument("column '" + in.name + "': the feature pipeline was fitted on " +
                           std::string(table::DataTypeName(in.type)) + ", got " +
                           std::string(table::DataTypeName(col->type())));
    }
    columns[i] = col;
  }
  DenseFeatureMatrix<T> out;
  const size_t rows = table.num_rows();
  const size_t width = plan.feature_names.size();
  out.num_rows = rows;
  out.num_features = width;
  out.feature_names = plan.feature_names;
  out.values.resize(rows * width);

  Block block;
  block.num.resize(plan.slots.size());
  block.col.assign(plan.slots.size(), nullptr);
  block.fill.assign(plan.slots.size(), nullptr);
  std::vector<DictionaryCodes> caches(plan.actions.size());
  std::vector<int32_t> codes;
  for (size_t begin = 0; begin < rows; begin += kBlockRows) {
    size_t size = std::min(kBlockRows, rows - begin);
    LoadBlock(plan, columns, begin, size, block);
    for (size_t i = 0; i < plan.actions.size(); ++i) {
      Apply(plan, plan.actions[i], block, caches[i], codes);
    }
    T* base = out.values.data() + begin * width;
    for (size_t f = 0; f < width; ++f) {
      const double* v = block.num[plan.live[f]].data();
      T* o = base + f;
      for (size_t r = 0; r < size; ++r) o[r * width] = static_cast<T>(v[r]);
    }
  }
  return out;
}

}  // namespace pipeline_internal

FittedPipeline::FittedPipeline() : plan_(std::make_shared<Plan>()) {}

const std::vector<PipelineInput>& FittedPipeline::inputs() const { return plan_->inputs; }
const std::vector<std::string>& FittedPipeline::feature_names() const {
  return plan_->feature_names;
}
size_t FittedPipeline::num_features() const { return plan_->feature_names.size(); }

FeatureMatrix FittedPipeline::Transform(const table::Table& table) const {
  return Run<float>(*plan_, table);
}

FeatureMatrixF64 FittedPipeline::TransformDouble(const table::Table& table) const {
  return Run<double>(*plan_, table);
}

FitResult FitTransform(const FeatureSpec& spec, const table::Table& table,
                       const table::Schema& schema, const FitOptions& options) {
  auto plan = std::make_shared<FittedPipeline::Plan>();
  plan->source = spec.source.empty() ? "features" : spec.source;
  TargetContext target;
  target.seed = options.seed;
  std::vector<const Column*> labels;  // Columns with role label.
  std::vector<const Column*> columns;
  for (const Column& col : table.columns()) {
    table::ColumnRole role = table::ColumnRole::kFeature;
    int f = schema.IndexOf(col.name());
    if (f >= 0) role = schema.field(f).role;
    if (role == table::ColumnRole::kLabel) labels.push_back(&col);
    if (col.name() == options.label) {
      plan->excluded[col.name()] = "is the label and never a feature";
      continue;
    }
    if (role == table::ColumnRole::kLabel || role == table::ColumnRole::kId ||
        role == table::ColumnRole::kIgnore) {
      plan->excluded[col.name()] = "has role " + std::string(table::ColumnRoleName(role)) +
                                   "; label, id and ignore columns are never features";
      continue;
    }
    plan->AddInput(col.name(), col.type());
    columns.push_back(&col);
  }
  if (!options.label.empty()) {
    target.label = table.FindColumn(options.label);
    target.label_error =
        "target encoding needs the label, and the data has no column '" + options.label + "'";
  } else if (labels.size() == 1) {
    target.label = labels[0];
  } else {
    target.label_error = labels.empty() ? "target encoding needs a label: give FitOptions.label "
                                          "or a column with role label"
                                        : "target encoding needs one label, and several columns "
                                          "have role label: give FitOptions.label";
  }
  Block block;
  block.num.resize(plan->slots.size());
  block.col.assign(plan->slots.size(), nullptr);
  block.fill.assign(plan->slots.size(), nullptr);
  LoadBlock(*plan, columns, 0, table.num_rows(), block);
  // Impute on text points the block at its fill inside plan->steps: no reallocation.
  plan->steps.reserve(spec.steps.size());
  std::vector<int32_t> codes;
  std::vector<std::vector<double>> oof;
  for (const Step& step : spec.steps) {
    FittedStep fitted = FitStep(step, *plan, block, target, oof);
    size_t first = plan->actions.size();
    plan->AddStep(std::move(fitted), step.path);
    block.num.resize(plan->slots.size());
    block.col.resize(plan->slots.size(), nullptr);
    block.fill.resize(plan->slots.size(), nullptr);
    for (size_t i = first; i < plan->actions.size(); ++i) {
      const Action& a = plan->actions[i];
      if (a.op == Op::kTarget) {  // Later steps and the training matrix see out-of-fold values.
        block.num[a.out] = std::move(oof[a.column]);
        continue;
      }
      DictionaryCodes cache;
      Apply(*plan, a, block, cache, codes);
    }
  }
  plan->Finalize();
  plan->excluded.clear();

  FitResult result;
  FeatureMatrix& m = result.train;
  const size_t rows = table.num_rows();
  const size_t width = plan->feature_names.size();
  m.num_rows = rows;
  m.num_features = width;
  m.feature_names = plan->feature_names;
  m.values.resize(rows * width);
  for (size_t f = 0; f < width; ++f) {
    const double* v = block.num[plan->live[f]].data();
    float* o = m.values.data() + f;
    for (size_t r = 0; r < rows; ++r) o[r * width] = static_cast<float>(v[r]);
  }
  result.pipeline = FittedPipeline(std::move(plan));
  return result;
}

FittedPipeline Fit(const FeatureSpec& spec, const table::Table& table, const table::Schema& schema,
                   const FitOptions& options) {
  return FitTransform(spec, table, schema, options).pipeline;
}

namespace {

Json NumberOrNan(double v) { return std::isnan(v) ? Json("nan") : Json(v); }

}  // namespace

Json FittedPipeline::ToJson() const {
  Json doc = Json::object();
  doc["format_version"] = kFormatVersion;
  Json inputs = Json::array();
  for (const PipelineInput& in : plan_->inputs) {
    inputs.push_back(
        {{"name", in.name}, {"type", table::DataTypeName(in.type)}, {"required", in.required}});
  }
  doc["inputs"] = std::move(inputs);
  Json steps = Json::array();
  for (const FittedStep& step : plan_->steps) {
    Json js = Json::object();
    js["op"] = OpName(step.op);
    switch (step.op) {
      case Op::kClip:
        if (step.clip_min) js["min"] = *step.clip_min;
        if (step.clip_max) js["max"] = *step.clip_max;
        break;
      case Op::kOneHot:
        js["nulls"] = NullHandlingName(step.nulls);
        break;
      case Op::kOrdinal:
        js["unseen"] = NumberOrNan(step.unseen);
        break;
      case Op::kHash:
        js["n_features"] = step.n_features;
        break;
      case Op::kTarget:
        js["folds"] = step.folds;
        js["smoothing"] = step.smoothing;
        break;
      case Op::kDatetime: {
        Json parts = Json::array();
        for (DatePart p : step.parts) parts.push_back(DatePartName(p));
        js["parts"] = std::move(parts);
        break;
      }
      default:
        break;
    }
    Json cols = Json::array();
    for (const FittedColumn& fc : step.columns) {
      Json jc = Json::object();
      jc["column"] = fc.column;
      switch (step.op) {
        case Op::kImpute:
          if (fc.text) {
            jc["fill"] = fc.fill_text;
          } else {
            jc["fill"] = fc.a;
          }
          break;
        case Op::kStandardize:
          jc["mean"] = fc.a;
          jc["scale"] = fc.b;
          break;
        case Op::kMinMax:
          jc["scale"] = fc.a;
          jc["min"] = fc.b;
          break;
        case Op::kRobust:
          jc["center"] = fc.a;
          jc["scale"] = fc.b;
          break;
        case Op::kBucketize:
          jc["thresholds"] = fc.thresholds;
          break;
        case Op::kOneHot:
        case Op::kOrdinal:
          jc["categories"] = fc.categories;
          break;
        case Op::kFrequency:
          jc["categories"] = fc.categories;
          jc["frequencies"] = fc.frequencies;
          break;
        case Op::kTarget:
          jc["prior"] = fc.a;
          jc["categories"] = fc.categories;
          jc["encodings"] = fc.encodings;
          break;
        case Op::kRatio:
        case Op::kProduct:
        case Op::kDifference:
          jc["other"] = fc.other;
          jc["output"] = fc.output;
          break;
        default:
          break;
      }
      cols.push_back(std::move(jc));
    }
    js["columns"] = std::move(cols);
    steps.push_back(std::move(js));
  }
  doc["steps"] = std::move(steps);
  doc["features"] = plan_->feature_names;
  return doc;
}

FittedPipeline FittedPipeline::FromJson(const Json& doc, std::string_view source) {
  JsonReader r(source);
  r.CheckKeys("", doc, {"format_version", "inputs", "steps", "features"});
  const Json& version = r.Required("", doc, "format_version");
  int64_t v = r.Integer("format_version", version);
  if (v != kFormatVersion) {
    r.Fail("format_version", "unsupported version " + std::to_string(v) + " (this mloop reads " +
                                 std::to_string(kFormatVersion) + ")");
  }
  auto plan = std::make_shared<Plan>();
  plan->source = std::string(source);
  const Json& inputs = r.Required("", doc, "inputs");
  if (!inputs.is_array()) r.WrongType("inputs", "a list", inputs);
  std::set<std::string> input_names;
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::string p = JsonReader::Index("inputs", i);
    r.CheckKeys(p, inputs[i], {"name", "type", "required"});
    std::string name = r.Name(JsonReader::Join(p, "name"), r.Required(p, inputs[i], "name"));
    if (!input_names.insert(name).second) r.Fail(p, "input '" + name + "' is listed twice");
    std::string type_path = JsonReader::Join(p, "type");
    std::string type_name = r.String(type_path, r.Required(p, inputs[i], "type"));
    std::optional<DataType> type = table::DataTypeFromName(type_name);
    if (!type) r.Fail(type_path, "unknown type \"" + type_name + "\"");
    r.Bool(JsonReader::Join(p, "required"), r.Required(p, inputs[i], "required"));
    plan->AddInput(name, *type);
  }
  const Json& steps = r.Required("", doc, "steps");
  if (!steps.is_array()) r.WrongType("steps", "a list", steps);
  for (size_t i = 0; i < steps.size(); ++i) {
    std::string p = JsonReader::Index("steps", i);
    const Json& js = steps[i];
    r.ExpectObject(p, js);
    std::string op_name = r.String(JsonReader::Join(p, "op"), r.Required(p, js, "op"));
    std::optional<Op> op = OpFromName(op_name);
    if (!op) r.Fail(JsonReader::Join(p, "op"), "unknown op \"" + op_name + "\"");
    FittedStep step;
    step.op = *op;
    std::vector<std::string_view> column_keys = {"column"};
    switch (step.op) {
      case Op::kClip:
        r.CheckKeys(p, js, {"op", "columns", "min", "max"});
        if (js.contains("min")) step.clip_min = r.Number(JsonReader::Join(p, "min"), js["min"]);
        if (js.contains("max")) step.clip_max = r.Number(JsonReader::Join(p, "max"), js["max"]);
        break;
      case Op::kOneHot: {
        r.CheckKeys(p, js, {"op", "columns", "nulls"});
        std::string n = r.Choice(JsonReader::Join(p, "nulls"), r.Required(p, js, "nulls"),
                                 {"column", "other", "zeros"});
        step.nulls = n == "column"  ? NullHandling::kColumn
                     : n == "other" ? NullHandling::kOther
                                    : NullHandling::kZeros;
        column_keys = {"column", "categories"};
        break;
      }
      case Op::kOrdinal: {
        r.CheckKeys(p, js, {"op", "columns", "unseen"});
        const Json& u = r.Required(p, js, "unseen");
        step.unseen = u.is_string() && u.get<std::string>() == "nan"
                          ? kNaN
                          : r.Number(JsonReader::Join(p, "unseen"), u);
        column_keys = {"column", "categories"};
        break;
      }
      case Op::kHash:
        r.CheckKeys(p, js, {"op", "columns", "n_features"});
        step.n_features =
            r.IntegerAtLeast(JsonReader::Join(p, "n_features"), r.Required(p, js, "n_features"), 1);
        break;
      case Op::kTarget:
        r.CheckKeys(p, js, {"op", "columns", "folds", "smoothing"});
        step.folds = r.IntegerAtLeast(JsonReader::Join(p, "folds"), r.Required(p, js, "folds"), 2);
        step.smoothing = r.Number(JsonReader::Join(p, "smoothing"), r.Required(p, js, "smoothing"));
        column_keys = {"column", "prior", "categories", "encodings"};
        break;
      case Op::kDatetime: {
        r.CheckKeys(p, js, {"op", "columns", "parts"});
        std::string pp = JsonReader::Join(p, "parts");
        std::vector<std::string> parts = r.Strings(pp, r.Required(p, js, "parts"));
        for (size_t k = 0; k < parts.size(); ++k) {
          std::string n = r.Choice(JsonReader::Index(pp, k), Json(parts[k]),
                                   {"year", "month", "day", "weekday", "hour", "day_of_year"});
          for (DatePart d : {DatePart::kYear, DatePart::kMonth, DatePart::kDay, DatePart::kWeekday,
                             DatePart::kHour, DatePart::kDayOfYear}) {
            if (DatePartName(d) == n) step.parts.push_back(d);
          }
        }
        break;
      }
      default:
        r.CheckKeys(p, js, {"op", "columns"});
        break;
    }
    switch (step.op) {
      case Op::kImpute:
        column_keys = {"column", "fill"};
        break;
      case Op::kStandardize:
      case Op::kRobust:
        if (step.op == Op::kRobust) {
          column_keys = {"column", "center", "scale"};
        } else {
          column_keys = {"column", "mean", "scale"};
        }
        break;
      case Op::kMinMax:
        column_keys = {"column", "scale", "min"};
        break;
      case Op::kBucketize:
        column_keys = {"column", "thresholds"};
        break;
      case Op::kFrequency:
        column_keys = {"column", "categories", "frequencies"};
        break;
      case Op::kRatio:
      case Op::kProduct:
      case Op::kDifference:
        column_keys = {"column", "other", "output"};
        break;
      default:
        break;
    }
    std::string cp = JsonReader::Join(p, "columns");
    const Json& cols = r.Required(p, js, "columns");
    if (!cols.is_array()) r.WrongType(cp, "a list", cols);
    for (size_t c = 0; c < cols.size(); ++c) {
      std::string ep = JsonReader::Index(cp, c);
      const Json& jc = cols[c];
      r.CheckKeys(ep, jc, column_keys);
      auto field = [&](std::string_view key) -> const Json& { return r.Required(ep, jc, key); };
      auto key_path = [&](std::string_view key) { return JsonReader::Join(ep, key); };
      FittedColumn fc;
      fc.column = r.Name(key_path("column"), field("column"));
      switch (step.op) {
        case Op::kImpute: {
          const Json& fill = field("fill");
          if (fill.is_string()) {
            fc.text = true;
            fc.fill_text = fill.get<std::string>();
          } else {
            fc.a = r.Number(key_path("fill"), fill);
          }
          break;
        }
        case Op::kStandardize:
          fc.a = r.Number(key_path("mean"), field("mean"));
          fc.b = r.Number(key_path("scale"), field("scale"));
          break;
        case Op::kMinMax:
          fc.a = r.Number(key_path("scale"), field("scale"));
          fc.b = r.Number(key_path("min"), field("min"));
          break;
        case Op::kRobust:
          fc.a = r.Number(key_path("center"), field("center"));
          fc.b = r.Number(key_path("scale"), field("scale"));
          break;
        case Op::kBucketize:
          fc.thresholds = r.Numbers(key_path("thresholds"), field("thresholds"));
          if (!std::is_sorted(fc.thresholds.begin(), fc.thresholds.end())) {
            r.Fail(key_path("thresholds"), "expected increasing thresholds");
          }
          break;
        case Op::kOneHot:
        case Op::kOrdinal:
        case Op::kFrequency:
        case Op::kTarget: {
          fc.categories = r.Strings(key_path("categories"), field("categories"));
          std::set<std::string> distinct(fc.categories.begin(), fc.categories.end());
          if (distinct.size() != fc.categories.size()) {
            r.Fail(key_path("categories"), "a category is listed twice");
          }
          if (step.op == Op::kFrequency) {
            fc.frequencies = r.Numbers(key_path("frequencies"), field("frequencies"));
          }
          if (step.op == Op::kTarget) {
            fc.a = r.Number(key_path("prior"), field("prior"));
            fc.encodings = r.Numbers(key_path("encodings"), field("encodings"));
          }
          break;
        }
        case Op::kRatio:
        case Op::kProduct:
        case Op::kDifference:
          fc.other = r.Name(key_path("other"), field("other"));
          fc.output = r.Name(key_path("output"), field("output"));
          break;
        default:
          break;
      }
      step.columns.push_back(std::move(fc));
    }
    plan->AddStep(std::move(step), p);
  }
  plan->Finalize();
  const Json& features = r.Required("", doc, "features");
  if (r.Strings("features", features) != plan->feature_names) {
    r.Fail("features", "the feature names do not match what the steps produce");
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i]["required"].get<bool>() != plan->inputs[i].required) {
      r.Fail(JsonReader::Join(JsonReader::Index("inputs", i), "required"),
             "does not match the steps (an input is required when a step other than drop "
             "reads it or it is a feature)");
    }
  }
  return FittedPipeline(std::move(plan));
}

}  // namespace mloop::features
