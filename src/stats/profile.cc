#include "stats/profile.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/thread_pool.h"
#include "core/time.h"
#include "stats/hash.h"
#include "stats/internal/json_fields.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace mloop::stats {
namespace {

using table::Column;
using table::DataType;

// Rows are processed in blocks small enough that a block's values stay in the L1
// cache while every statistic reads them.
constexpr size_t kBlockRows = 1024;

bool IsIntegerLike(DataType type) {
  return type == DataType::kInt64 || type == DataType::kDate || type == DataType::kTimestamp;
}

bool IsNumericLike(DataType type) { return IsIntegerLike(type) || type == DataType::kFloat64; }

bool IsText(DataType type) { return type == DataType::kString || type == DataType::kCategory; }

std::string TypeName(DataType type) { return std::string(table::DataTypeName(type)); }

uint64_t Utf8Length(std::string_view s) {
  uint64_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

Json NumberOrNull(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

// Integer-valued statistics of integer columns (quantiles, bin edges) print as
// integers.
Json Number(double v, bool integral) {
  if (integral && std::fabs(v) < 9.2e18) return Json(static_cast<int64_t>(v));
  return NumberOrNull(v);
}

// Groups equal strings within one block of rows, in order of first appearance, so
// that the top-k summary, the string lengths and the distinct count see each distinct
// value once per block. Open addressing over twice as many slots as a block has rows.
//
// A string of at most 16 bytes is keyed by its bytes, loaded as two words the way
// HashBytes loads them, so that grouping costs one multiply and no memcmp; longer
// strings are keyed by HashBytes and compared in full.
class BlockGrouper {
 public:
  struct Entry {
    std::string_view value;
    uint64_t a;  // The two words of a short string; a is the hash of a long one.
    uint64_t b;
    uint64_t count;
    uint32_t slot;
  };

  BlockGrouper() : slots_(kSlots, kEmpty) { entries_.reserve(kBlockRows); }

  // True when `value` is new in this block.
  bool Add(std::string_view value) {
    const size_t size = value.size();
    const auto* p = reinterpret_cast<const unsigned char*>(value.data());
    uint64_t a = 0;
    uint64_t b = 0;
    if (size > 16) {
      a = HashBytes(value);
    } else if (size >= 8) {
      a = hash_internal::Load64(p);
      b = hash_internal::Load64(p + size - 8);
    } else if (size >= 4) {
      a = hash_internal::Load32(p);
      b = hash_internal::Load32(p + size - 4);
    } else if (size > 0) {
      a = (uint64_t{p[0]} << 16) | (uint64_t{p[size >> 1]} << 8) | p[size - 1];
    }
    uint64_t key =
        size > 16 ? a
                  : hash_internal::MulFold(a ^ hash_internal::kK1, b ^ (size * hash_internal::kK2));
    size_t pos = (key >> 32) & (kSlots - 1);
    while (slots_[pos] != kEmpty) {
      Entry& e = entries_[slots_[pos]];
      if (e.a == a && e.b == b && e.value.size() == size && (size <= 16 || e.value == value)) {
        ++e.count;
        return false;
      }
      pos = (pos + 1) & (kSlots - 1);
    }
    slots_[pos] = static_cast<uint32_t>(entries_.size());
    entries_.push_back(Entry{value, a, b, 1, static_cast<uint32_t>(pos)});
    return true;
  }

  const std::vector<Entry>& entries() const { return entries_; }

  void Clear() {
    for (const Entry& e : entries_) slots_[e.slot] = kEmpty;
    entries_.clear();
  }

 private:
  static constexpr size_t kSlots = 2 * kBlockRows;
  static constexpr uint32_t kEmpty = std::numeric_limits<uint32_t>::max();
  std::vector<uint32_t> slots_;
  std::vector<Entry> entries_;
};

// Counts the distinct keys of a block of values, giving up past kMaxDistinct of them.
// Columns often repeat values (ages, counts, codes, prices); a block with few distinct
// values then costs the sketches one update per distinct value instead of one per row.
class ValueCounter {
 public:
  static constexpr size_t kMaxDistinct = 128;

  // Counts keys[0, n). False when they hold more than kMaxDistinct distinct keys.
  bool Count(const uint64_t* keys, size_t n) {
    ++generation_;
    size_ = 0;
    // A run of equal keys is looked up once.
    for (size_t i = 0; i < n;) {
      const uint64_t key = keys[i];
      size_t run = 1;
      while (i + run < n && keys[i + run] == key) ++run;
      i += run;
      size_t pos = static_cast<size_t>((key * 0x9e3779b97f4a7c15) >> (64 - kSlotBits));
      for (;;) {
        if (stamps_[pos] != generation_) {
          if (size_ == kMaxDistinct) return false;
          stamps_[pos] = generation_;
          slots_[pos] = static_cast<uint16_t>(size_);
          keys_[size_] = key;
          counts_[size_] = run;
          ++size_;
          break;
        }
        if (keys_[slots_[pos]] == key) {
          counts_[slots_[pos]] += run;
          break;
        }
        pos = (pos + 1) & (kSlots - 1);
      }
    }
    return true;
  }

  // As Count, for values[0, n), n at most kBlockRows, that all lie in [lo, lo + kMaxRange):
  // counted by index instead of by hash.
  static constexpr size_t kMaxRange = 4096;
  bool CountRange(const int64_t* values, size_t n, int64_t lo) {
    size_t met = 0;
    bool few = true;
    for (size_t j = 0; j < n; ++j) {
      const auto v =
          static_cast<size_t>(static_cast<uint64_t>(values[j]) - static_cast<uint64_t>(lo));
      // Four copies of the counts, so that a run of one value does not wait on the previous
      // increment of the same counter.
      ++lanes_[j & 3][v];
      // A value met for the first time is kept; without a branch, which mispredicted on each.
      met_[met] = static_cast<uint16_t>(v);
      met += seen_[v] ^ 1;
      seen_[v] = 1;
      if (met > kMaxDistinct) {
        few = false;
        break;
      }
    }
    // Read the counts of the values met, in order, and clear what was touched.
    for (size_t i = 0; i < met; ++i) {
      const size_t v = met_[i];
      if (few) {
        keys_[i] = static_cast<uint64_t>(lo) + v;
        counts_[i] = uint64_t{lanes_[0][v]} + lanes_[1][v] + lanes_[2][v] + lanes_[3][v];
      }
      lanes_[0][v] = lanes_[1][v] = lanes_[2][v] = lanes_[3][v] = 0;
      seen_[v] = 0;
    }
    size_ = few ? met : 0;
    return few;
  }

  size_t size() const { return size_; }
  // In order of first appearance.
  const uint64_t* keys() const { return keys_; }
  const uint64_t* counts() const { return counts_; }

 private:
  static constexpr int kSlotBits = 9;
  static constexpr size_t kSlots = size_t{1} << kSlotBits;  // Four per distinct key.
  uint32_t generation_ = 0;
  size_t size_ = 0;
  // A slot is in use when its stamp is the current generation, so nothing is cleared
  // between blocks.
  uint32_t stamps_[kSlots] = {};
  uint16_t slots_[kSlots] = {};
  uint64_t keys_[kMaxDistinct] = {};
  uint64_t counts_[kMaxDistinct] = {};
  // CountRange: per value index, its counts (at most kBlockRows / 4 each) and whether it was
  // met; all 0 between calls.
  uint16_t lanes_[4][kMaxRange] = {};
  uint8_t seen_[kMaxRange] = {};
  uint16_t met_[kMaxDistinct + 1] = {};
};

// True when rows [begin, end) all hold a value.
bool AllValid(const table::Bitmap& validity, size_t begin, size_t end) {
  const uint64_t* words = validity.words().data();
  for (size_t i = begin; i < end;) {
    const size_t bit = i & 63;
    const size_t n = std::min<size_t>(64 - bit, end - i);
    const uint64_t mask = n == 64 ? ~uint64_t{0} : ((uint64_t{1} << n) - 1) << bit;
    if ((words[i >> 6] & mask) != mask) return false;
    i += n;
  }
  return true;
}

// The smallest and largest of v[0, n), n > 0.
std::pair<int64_t, int64_t> IntRangeScalar(const int64_t* v, size_t n) {
  int64_t lo = v[0];
  int64_t hi = v[0];
  for (size_t j = 1; j < n; ++j) {
    lo = std::min(lo, v[j]);
    hi = std::max(hi, v[j]);
  }
  return {lo, hi};
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
[[gnu::target("avx2")]] std::pair<int64_t, int64_t> IntRangeAvx2(const int64_t* v, size_t n) {
  __m256i lo = _mm256_set1_epi64x(v[0]);
  __m256i hi = lo;
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + j));
    lo = _mm256_blendv_epi8(lo, x, _mm256_cmpgt_epi64(lo, x));
    hi = _mm256_blendv_epi8(hi, x, _mm256_cmpgt_epi64(x, hi));
  }
  alignas(32) int64_t los[4];
  alignas(32) int64_t his[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(los), lo);
  _mm256_store_si256(reinterpret_cast<__m256i*>(his), hi);
  int64_t l = std::min(std::min(los[0], los[1]), std::min(los[2], los[3]));
  int64_t h = std::max(std::max(his[0], his[1]), std::max(his[2], his[3]));
  for (; j < n; ++j) {
    l = std::min(l, v[j]);
    h = std::max(h, v[j]);
  }
  return {l, h};
}
#endif

// IntRangeScalar, with AVX2's 64-bit comparisons where the processor has them: a block's
// range is taken for every block of every integer column, and the scalar loop (a compare and a
// conditional move per bound and value) took 0.38 ms per column of the bench file's size
// (683,781 rows), this one 0.16 ms.
std::pair<int64_t, int64_t> IntRange(const int64_t* v, size_t n) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return IntRangeAvx2(v, n);
#endif
  return IntRangeScalar(v, n);
}

// Whether the quantile sketch of a numeric column will take its values one by one (blocks of
// many distinct values), which costs several times more than the weighted updates of blocks
// of few values: judged by the first block of rows [begin, end), nulls' slots included.
bool ManyDistinctValues(const Column& column, size_t begin, size_t end, ValueCounter* counter) {
  const size_t n = std::min(end - begin, kBlockRows);
  if (n == 0) return false;
  if (IsIntegerLike(column.type())) {
    int64_t widened[kBlockRows];
    const int64_t* ints = widened;
    if (column.ints().is_narrow()) {
      column.ints().CopyWide(begin, n, widened);
    } else {
      ints = column.ints().wide().data() + begin;
    }
    const auto [lo, hi] = IntRange(ints, n);
    const uint64_t width = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
    return width < ValueCounter::kMaxRange
               ? !counter->CountRange(ints, n, lo)
               : !counter->Count(reinterpret_cast<const uint64_t*>(ints), n);
  }
  uint64_t keys[kBlockRows];
  std::memcpy(keys, column.doubles().data() + begin, n * sizeof(double));
  return !counter->Count(keys, n);
}

// Adds `count` occurrences of a string of length `length` to the length statistics;
// `has_values` says whether any value was added before.
void AddLength(TextStats& t, bool& has_values, uint64_t length, uint64_t count) {
  if (!has_values) {
    t.min_length = t.max_length = length;
    has_values = true;
  } else {
    t.min_length = std::min(t.min_length, length);
    t.max_length = std::max(t.max_length, length);
  }
  t.total_length += length * count;
  if (length == 0) t.empty_count += count;
}

int ExpectedMinExponent(DataType type) {
  return IsIntegerLike(type) ? Histogram::kIntegerMinExponent : Histogram::kFloatMinExponent;
}

}  // namespace

NumericStats::NumericStats(DataType type)
    : histogram(IsIntegerLike(type) ? Histogram::ForIntegers() : Histogram()) {}

ColumnProfile::ColumnProfile(std::string name, DataType type)
    : name_(std::move(name)), type_(type) {
  if (IsNumericLike(type)) {
    numeric_.emplace(type);
  } else if (IsText(type)) {
    text_.emplace();
  }
}

double ColumnProfile::null_fraction() const {
  return count_ == 0 ? 0.0 : static_cast<double>(nulls_) / static_cast<double>(count_);
}

uint64_t ColumnProfile::distinct_approx() const {
  double estimate = std::round(distinct_.Estimate());
  return std::min(valid(), static_cast<uint64_t>(estimate));
}

void ColumnProfile::AddRows(const Column& column, size_t begin, size_t end) {
  if (column.type() != type_ || column.name() != name_) {
    ThrowInvalidArgument("the profile of column '" + name_ + "' (" + TypeName(type_) +
                         ") cannot take rows of column '" + column.name() + "' (" +
                         TypeName(column.type()) + ")");
  }
  if (begin > end || end > column.size()) {
    ThrowInvalidArgument("column '" + name_ + "': rows [" + std::to_string(begin) + ", " +
                         std::to_string(end) + ") are not within its " +
                         std::to_string(column.size()) + " rows");
  }
  if (numeric_) {
    AddNumericRows(column, begin, end);
  } else if (type_ == DataType::kBool) {
    AddBoolRows(column, begin, end);
  } else if (type_ == DataType::kCategory) {
    AddCategoryRows(column, begin, end);
  } else {
    AddTextRows(column, begin, end);
  }
}

void ColumnProfile::AddNumericRows(const Column& column, size_t begin, size_t end,
                                   NumericParts parts) {
  NumericStats& s = *numeric_;
  const bool sketch = parts != NumericParts::kAllButSketch;
  const bool rest = parts != NumericParts::kSketch;
  const table::Bitmap& validity = column.validity();
  uint64_t valid_rows = 0;
  auto counter = std::make_unique<ValueCounter>();
  if (IsIntegerLike(type_)) {
    const table::IntVector& values = column.ints();
    int64_t gathered[kBlockRows];
    double doubles[kBlockRows];
    bool has_values = !s.moments.empty();
    for (size_t b = begin; b < end; b += kBlockRows) {
      size_t e = std::min(end, b + kBlockRows);
      // The valid values: the column's own when the block has no null and they are int64,
      // else gathered (and widened) without a branch per row.
      size_t n = 0;
      const int64_t* ints = gathered;
      if (!AllValid(validity, b, e)) {
        values.Visit([&](const auto* v) {
          for (size_t i = b; i < e; ++i) {
            gathered[n] = v[i];
            n += validity.Get(i);
          }
        });
      } else if (values.is_narrow()) {
        n = e - b;
        values.CopyWide(b, n, gathered);
      } else {
        n = e - b;
        ints = values.wide().data() + b;
      }
      if (n == 0) continue;
      valid_rows += n;
      const auto [lo, hi] = IntRange(ints, n);
      // Values of a narrow range are counted by index, others by hash.
      const uint64_t width = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
      const bool few = width < ValueCounter::kMaxRange
                           ? counter->CountRange(ints, n, lo)
                           : counter->Count(reinterpret_cast<const uint64_t*>(ints), n);
      const size_t d = few ? counter->size() : n;
      const int64_t* keys = few ? reinterpret_cast<const int64_t*>(counter->keys()) : ints;
      if (sketch) {
        for (size_t j = 0; j < d; ++j) doubles[j] = static_cast<double>(keys[j]);
        if (few) {
          s.quantiles.UpdateWeighted(std::span<const double>(doubles, d),
                                     std::span<const uint64_t>(counter->counts(), d));
        } else {
          s.quantiles.Update(std::span<const double>(doubles, n));
        }
      }
      if (!rest) continue;
      uint64_t zeros = 0;
      for (size_t j = 0; j < d; ++j) zeros += keys[j] == 0 ? (few ? counter->counts()[j] : 1) : 0;
      s.int_min = has_values ? std::min(s.int_min, lo) : lo;
      s.int_max = has_values ? std::max(s.int_max, hi) : hi;
      has_values = true;
      s.zeros += zeros;
      if (few) {
        std::span<const uint64_t> counts(counter->counts(), d);
        s.moments.AddIntCounts(keys, counts.data(), d);
        s.histogram.AddIntCounts(std::span<const int64_t>(keys, d), counts);
        for (size_t j = 0; j < d; ++j) distinct_.AddHash(HashInt64(keys[j]));
        continue;
      }
      s.moments.AddIntBlock(ints, n);
      s.histogram.AddIntBlock(std::span<const int64_t>(ints, n));
      // Registers only grow, so a run of equal values needs one hash.
      int64_t previous = ints[0];
      distinct_.AddHash(HashInt64(previous));
      for (size_t j = 1; j < n; ++j) {
        if (ints[j] != previous) {
          previous = ints[j];
          distinct_.AddHash(HashInt64(previous));
        }
      }
    }
  } else {
    const double* values = column.doubles().data();
    double all[kBlockRows];
    double finite[kBlockRows];
    uint64_t keys[kBlockRows];
    for (size_t b = begin; b < end; b += kBlockRows) {
      size_t e = std::min(end, b + kBlockRows);
      size_t n = 0;
      for (size_t i = b; i < e; ++i) {
        all[n] = values[i];
        n += validity.Get(i);
      }
      if (n == 0) continue;
      valid_rows += n;
      size_t m = 0;
      uint64_t zeros = 0;
      uint64_t nans = 0;
      for (size_t j = 0; j < n; ++j) {
        double x = all[j];
        if (std::isfinite(x)) {
          finite[m++] = x;
          zeros += x == 0;
        } else {
          nans += std::isnan(x);
        }
      }
      if (rest) {
        s.zeros += zeros;
        s.nan_count += nans;
        s.inf_count += (n - m) - nans;
        // NaN and infinities are values too: they count towards the distinct count.
        for (size_t j = 0; m < n && j < n; ++j) {
          if (!std::isfinite(all[j])) distinct_.AddHash(HashDouble(all[j]));
        }
      }
      if (m == 0) continue;
      for (size_t j = 0; j < m; ++j) keys[j] = std::bit_cast<uint64_t>(finite[j]);
      if (counter->Count(keys, m)) {
        size_t d = counter->size();
        for (size_t j = 0; j < d; ++j) all[j] = std::bit_cast<double>(counter->keys()[j]);
        std::span<const uint64_t> counts(counter->counts(), d);
        if (sketch) s.quantiles.UpdateWeighted(std::span<const double>(all, d), counts);
        if (!rest) continue;
        for (size_t j = 0; j < d; ++j) distinct_.AddHash(HashDouble(all[j]));
        s.moments.AddCounts(all, counts.data(), d);
        s.histogram.AddCounts(std::span<const double>(all, d), counts);
        continue;
      }
      if (sketch) s.quantiles.Update(std::span<const double>(finite, m));
      if (!rest) continue;
      // Registers only grow, so a run of equal values needs one hash.
      uint64_t previous = keys[0];
      distinct_.AddHash(HashDouble(finite[0]));
      for (size_t j = 1; j < m; ++j) {
        if (keys[j] != previous) {
          previous = keys[j];
          distinct_.AddHash(HashDouble(finite[j]));
        }
      }
      s.moments.AddBlock(finite, m);
      s.histogram.AddBlock(std::span<const double>(finite, m));
    }
  }
  if (!rest) return;
  count_ += end - begin;
  nulls_ += (end - begin) - valid_rows;
}

void ColumnProfile::AddBoolRows(const Column& column, size_t begin, size_t end) {
  const table::Bitmap& validity = column.validity();
  const uint8_t* values = column.bools().data();
  uint64_t valid_rows = 0;
  uint64_t trues = 0;
  for (size_t i = begin; i < end; ++i) {
    uint64_t valid = validity.Get(i);
    valid_rows += valid;
    trues += valid & (values[i] != 0);
  }
  true_count_ += trues;
  if (trues > 0) distinct_.AddHash(HashInt64(1));
  if (valid_rows > trues) distinct_.AddHash(HashInt64(0));
  count_ += end - begin;
  nulls_ += (end - begin) - valid_rows;
}

void ColumnProfile::AddTextRows(const Column& column, size_t begin, size_t end) {
  TextStats& t = *text_;
  const table::Bitmap& validity = column.validity();
  bool has_values = valid() > 0;
  uint64_t valid_rows = 0;
  BlockGrouper grouper;
  std::vector<std::pair<std::string_view, uint64_t>> batch;
  batch.reserve(kBlockRows);
  const bool is_string = type_ == DataType::kString;
  const uint64_t* offsets = is_string ? column.offsets().data() : nullptr;
  const char* chars = column.chars().data();
  for (size_t b = begin; b < end; b += kBlockRows) {
    size_t e = std::min(end, b + kBlockRows);
    for (size_t i = b; i < e; ++i) {
      if (!validity.Get(i)) continue;
      ++valid_rows;
      std::string_view value =
          is_string ? std::string_view(chars + offsets[i], offsets[i + 1] - offsets[i])
                    : column.StringAt(i);
      grouper.Add(value);
    }
    batch.clear();
    for (const BlockGrouper::Entry& entry : grouper.entries()) {
      distinct_.AddHash(HashBytes(entry.value));
      AddLength(t, has_values, Utf8Length(entry.value), entry.count);
      batch.emplace_back(entry.value, entry.count);
    }
    t.top_k.AddCounts(batch);
    grouper.Clear();
  }
  count_ += end - begin;
  nulls_ += (end - begin) - valid_rows;
}

void ColumnProfile::AddCategoryRows(const Column& column, size_t begin, size_t end) {
  const std::vector<std::string>& dictionary = column.dictionary();
  // Counting by code costs a pass over the dictionary; for a dictionary much larger
  // than the range, group the strings instead.
  if (dictionary.size() > 4 * (end - begin) + kBlockRows) {
    AddTextRows(column, begin, end);
    return;
  }
  TextStats& t = *text_;
  const table::Bitmap& validity = column.validity();
  // The extra last slot counts the nulls, whose codes mean nothing (but are within
  // [0, max(1, dictionary size)), as Column keeps them: 0 for an empty dictionary, whose null
  // slot that is).
  const size_t slots = dictionary.size() + 1;
  const size_t null_slot = dictionary.size();
  // Rows go to kLanes copies of the counters in turn, so that a run of one code does not
  // wait on the previous increment of the same counter; a word of 64 rows is counted whole
  // and, if it holds nulls, its null rows' counts are moved to the null slot after.
  constexpr size_t kLanes = 4;
  const size_t lanes = slots <= 4096 ? kLanes : 1;
  std::vector<uint64_t> per_lane(lanes * slots);
  // Templated on the code width (one byte for dictionaries up to 256 entries).
  column.codes().Visit([&](const auto* codes) {
    const uint64_t* words = validity.words().data();
    size_t i = begin;
    auto count_one = [&](size_t row, size_t lane) {
      ++per_lane[lane * slots + (validity.Get(row) ? static_cast<size_t>(codes[row]) : null_slot)];
    };
    for (; i < end && (i & 63) != 0; ++i) count_one(i, 0);
    if (lanes == kLanes) {
      uint64_t* lane0 = per_lane.data();
      for (; i + 64 <= end; i += 64) {
        for (size_t k = i; k < i + 64; k += kLanes) {
          ++lane0[static_cast<size_t>(codes[k])];
          ++lane0[slots + static_cast<size_t>(codes[k + 1])];
          ++lane0[2 * slots + static_cast<size_t>(codes[k + 2])];
          ++lane0[3 * slots + static_cast<size_t>(codes[k + 3])];
        }
        // The lanes are only ever summed, so lane 0 takes the corrections (wrapping below zero
        // for a while is fine in unsigned arithmetic).
        for (uint64_t nulls = ~words[i >> 6]; nulls != 0; nulls &= nulls - 1) {
          --lane0[static_cast<size_t>(codes[i + static_cast<size_t>(std::countr_zero(nulls))])];
          ++lane0[null_slot];
        }
      }
    }
    for (; i < end; ++i) count_one(i, 0);
  });
  std::vector<uint64_t> per_code(per_lane.begin(), per_lane.begin() + slots);
  for (size_t lane = 1; lane < lanes; ++lane) {
    for (size_t c = 0; c < slots; ++c) per_code[c] += per_lane[lane * slots + c];
  }
  bool has_values = valid() > 0;
  std::vector<std::pair<std::string_view, uint64_t>> batch;
  for (size_t code = 0; code < dictionary.size(); ++code) {
    uint64_t count = per_code[code];
    if (count == 0) continue;
    std::string_view value = dictionary[code];
    distinct_.AddHash(HashBytes(value));
    AddLength(t, has_values, Utf8Length(value), count);
    batch.emplace_back(value, count);
  }
  t.top_k.AddCounts(batch);
  count_ += end - begin;
  nulls_ += per_code[null_slot];
}

void ColumnProfile::CheckMergeable(const ColumnProfile& other) const {
  if (other.name_ != name_ || other.type_ != type_) {
    ThrowInvalidArgument("cannot merge the profile of column '" + name_ + "' (" + TypeName(type_) +
                         ") with that of column '" + other.name_ + "' (" + TypeName(other.type_) +
                         ")");
  }
  // The sketches' parameters must agree too: profiles read from JSON may have been built
  // with others.
  bool compatible = distinct_.precision() == other.distinct_.precision();
  if (numeric_) {
    compatible = compatible && numeric_->quantiles.k() == other.numeric_->quantiles.k() &&
                 numeric_->histogram.min_exponent() == other.numeric_->histogram.min_exponent();
  }
  if (text_) compatible = compatible && text_->top_k.capacity() == other.text_->top_k.capacity();
  if (!compatible) {
    ThrowInvalidArgument("cannot merge the profiles of column '" + name_ +
                         "': their sketches have different parameters");
  }
}

void ColumnProfile::Merge(const ColumnProfile& other) {
  CheckMergeable(other);
  if (numeric_) {
    NumericStats& s = *numeric_;
    const NumericStats& o = *other.numeric_;
    if (!o.moments.empty()) {
      bool has_values = !s.moments.empty();
      s.int_min = has_values ? std::min(s.int_min, o.int_min) : o.int_min;
      s.int_max = has_values ? std::max(s.int_max, o.int_max) : o.int_max;
    }
    s.moments.Merge(o.moments);
    s.zeros += o.zeros;
    s.nan_count += o.nan_count;
    s.inf_count += o.inf_count;
    s.quantiles.Merge(o.quantiles);
    s.histogram.Merge(o.histogram);
  }
  if (text_) {
    TextStats& t = *text_;
    const TextStats& o = *other.text_;
    if (other.valid() > 0) {
      bool has_values = valid() > 0;
      t.min_length = has_values ? std::min(t.min_length, o.min_length) : o.min_length;
      t.max_length = has_values ? std::max(t.max_length, o.max_length) : o.max_length;
    }
    t.total_length += o.total_length;
    t.empty_count += o.empty_count;
    t.top_k.Merge(o.top_k);
  }
  true_count_ += other.true_count_;
  distinct_.Merge(other.distinct_);
  count_ += other.count_;
  nulls_ += other.nulls_;
}

Json ColumnProfile::ToJson() const {
  Json j = Json::object();
  j["name"] = name_;
  j["type"] = TypeName(type_);
  j["count"] = count_;
  j["nulls"] = nulls_;
  j["null_fraction"] = null_fraction();
  j["distinct_approx"] = distinct_approx();
  Json sketches = Json::object();
  sketches["distinct"] = distinct_.ToJson();
  if (numeric_) {
    const NumericStats& s = *numeric_;
    const Welford& m = s.moments;
    const bool integral = IsIntegerLike(type_);
    const bool has_values = !m.empty();
    if (integral) {
      j["min"] = has_values ? Json(s.int_min) : Json(nullptr);
      j["max"] = has_values ? Json(s.int_max) : Json(nullptr);
    } else {
      j["min"] = NumberOrNull(m.min());
      j["max"] = NumberOrNull(m.max());
    }
    if (type_ == DataType::kDate || type_ == DataType::kTimestamp) {
      auto format = type_ == DataType::kDate ? FormatIsoDate : FormatIsoTimestamp;
      j["min_iso"] = has_values ? Json(format(s.int_min)) : Json(nullptr);
      j["max_iso"] = has_values ? Json(format(s.int_max)) : Json(nullptr);
    }
    j["mean"] = NumberOrNull(m.mean());
    j["std"] = NumberOrNull(m.sample_std());
    j["variance"] = NumberOrNull(m.sample_variance());
    std::optional<int64_t> int_sum = integral ? m.exact_sum().ToInt64() : std::optional<int64_t>();
    j["sum"] = int_sum ? Json(*int_sum) : NumberOrNull(m.sum());
    j["zeros"] = s.zeros;
    if (type_ == DataType::kFloat64) {
      j["nan_count"] = s.nan_count;
      j["inf_count"] = s.inf_count;
    }
    if (has_values) {
      std::vector<double> q = s.quantiles.Quantiles(kProfileQuantiles);
      Json quantiles = Json::object();
      for (size_t i = 0; i < q.size(); ++i) {
        quantiles[std::string(kProfileQuantileNames[i])] = Number(q[i], integral);
      }
      j["quantiles"] = std::move(quantiles);
    } else {
      j["quantiles"] = nullptr;
    }
    Json bins = Json::array();
    for (const Histogram::Bin& bin : s.histogram.Bins()) {
      bins.push_back(Json{{"lower", Number(bin.lower, integral)},
                          {"upper", Number(bin.upper, integral)},
                          {"count", bin.count}});
    }
    j["histogram"] = std::move(bins);
    sketches["moments"] = m.ToJson();
    sketches["quantiles"] = s.quantiles.ToJson();
    sketches["histogram"] = s.histogram.ToJson();
  } else if (type_ == DataType::kBool) {
    j["true_count"] = true_count_;
    j["false_count"] = valid() - true_count_;
  } else if (text_) {
    const TextStats& t = *text_;
    const bool has_values = valid() > 0;
    j["min_length"] = has_values ? Json(t.min_length) : Json(nullptr);
    j["max_length"] = has_values ? Json(t.max_length) : Json(nullptr);
    j["mean_length"] =
        has_values ? Json(static_cast<double>(t.total_length) / static_cast<double>(valid()))
                   : Json(nullptr);
    j["empty_count"] = t.empty_count;
    Json top = Json::array();
    for (const TopK::Item& item : t.top_k.Items()) {
      top.push_back(Json{{"value", item.value}, {"count", item.count}});
    }
    j["top_k"] = std::move(top);
    j["top_k_error_bound"] = t.top_k.error_bound();
    sketches["top_k"] = t.top_k.ToJson();
    sketches["total_length"] = t.total_length;
  }
  j["sketches"] = std::move(sketches);
  return j;
}

ColumnProfile ColumnProfile::FromJson(const Json& j, std::string_view path) {
  using internal::Field;
  using internal::GetUint;
  using internal::KeyPath;
  using internal::ThrowBadKey;
  internal::RequireObject(j, path.empty() ? "column" : path);
  std::string name = internal::GetString(j, path, "name");
  std::string type_name = internal::GetString(j, path, "type");
  std::optional<DataType> type = table::DataTypeFromName(type_name);
  if (!type || table::DataTypeName(*type) != type_name) {
    ThrowBadKey(KeyPath(path, "type"),
                "must be a type name such as int64 or string, not '" + type_name + "'");
  }
  ColumnProfile p(std::move(name), *type);
  p.count_ = GetUint(j, path, "count");
  p.nulls_ = GetUint(j, path, "nulls");
  if (p.nulls_ > p.count_) ThrowBadKey(KeyPath(path, "nulls"), "must not exceed count");
  const uint64_t valid = p.valid();
  const std::string sk = KeyPath(path, "sketches");
  const Json& sketches = internal::GetObject(j, path, "sketches");
  p.distinct_ = HyperLogLog::FromJson(Field(sketches, sk, "distinct"), KeyPath(sk, "distinct"));
  if (p.numeric_) {
    NumericStats& s = *p.numeric_;
    s.moments = Welford::FromJson(Field(sketches, sk, "moments"), KeyPath(sk, "moments"));
    s.quantiles =
        QuantileSketch::FromJson(Field(sketches, sk, "quantiles"), KeyPath(sk, "quantiles"));
    s.histogram = Histogram::FromJson(Field(sketches, sk, "histogram"), KeyPath(sk, "histogram"));
    s.zeros = GetUint(j, path, "zeros");
    if (p.type_ == DataType::kFloat64) {
      s.nan_count = GetUint(j, path, "nan_count");
      s.inf_count = GetUint(j, path, "inf_count");
    }
    const uint64_t finite = s.moments.count();
    if (finite > valid || valid - finite != s.nan_count + s.inf_count) {
      ThrowBadKey(KeyPath(sk, "moments.count"),
                  "does not match count - nulls - nan_count - inf_count");
    }
    if (s.zeros > finite) ThrowBadKey(KeyPath(path, "zeros"), "exceeds the values counted");
    if (s.quantiles.n() != finite) {
      ThrowBadKey(KeyPath(sk, "quantiles.n"), "does not match moments.count");
    }
    if (s.histogram.total() != finite) {
      ThrowBadKey(KeyPath(sk, "histogram.counts"), "do not add up to moments.count");
    }
    if (s.histogram.min_exponent() != ExpectedMinExponent(p.type_)) {
      ThrowBadKey(KeyPath(sk, "histogram.min_exponent"),
                  "must be " + std::to_string(ExpectedMinExponent(p.type_)) + " for a " +
                      type_name + " column");
    }
    if (IsIntegerLike(p.type_) && finite > 0) {
      s.int_min = internal::GetInt(j, path, "min");
      s.int_max = internal::GetInt(j, path, "max");
      if (s.int_min > s.int_max) ThrowBadKey(KeyPath(path, "min"), "must not exceed max");
    }
  } else if (p.type_ == DataType::kBool) {
    p.true_count_ = GetUint(j, path, "true_count");
    if (p.true_count_ > valid) {
      ThrowBadKey(KeyPath(path, "true_count"), "exceeds count - nulls");
    }
  } else if (p.text_) {
    TextStats& t = *p.text_;
    if (valid > 0) {
      t.min_length = GetUint(j, path, "min_length");
      t.max_length = GetUint(j, path, "max_length");
      if (t.min_length > t.max_length) {
        ThrowBadKey(KeyPath(path, "min_length"), "must not exceed max_length");
      }
    }
    t.empty_count = GetUint(j, path, "empty_count");
    if (t.empty_count > valid) ThrowBadKey(KeyPath(path, "empty_count"), "exceeds count - nulls");
    t.total_length = GetUint(sketches, sk, "total_length");
    t.top_k = TopK::FromJson(Field(sketches, sk, "top_k"), KeyPath(sk, "top_k"));
    if (t.top_k.total() != valid) {
      ThrowBadKey(KeyPath(sk, "top_k.total"), "does not match count - nulls");
    }
  }
  return p;
}

TableProfile::TableProfile(const table::Schema& schema) {
  columns_.reserve(schema.size());
  for (const table::Field& f : schema.fields()) columns_.emplace_back(f.name, f.type);
}

const ColumnProfile* TableProfile::FindColumn(std::string_view name) const {
  for (const ColumnProfile& c : columns_) {
    if (c.name() == name) return &c;
  }
  return nullptr;
}

void TableProfile::AddRows(const table::Table& table, size_t begin, size_t end) {
  if (begin > end || end > table.num_rows()) {
    ThrowInvalidArgument("profile: rows [" + std::to_string(begin) + ", " + std::to_string(end) +
                         ") are not within the table's " + std::to_string(table.num_rows()) +
                         " rows");
  }
  if (columns_.empty() && rows_ == 0) {
    for (const Column& c : table.columns()) columns_.emplace_back(c.name(), c.type());
  }
  if (table.num_columns() != columns_.size()) {
    ThrowInvalidArgument("profile: the table has " + std::to_string(table.num_columns()) +
                         " columns, the profile " + std::to_string(columns_.size()));
  }
  for (size_t i = 0; i < columns_.size(); ++i) {
    const Column& c = table.column(i);
    if (c.name() != columns_[i].name() || c.type() != columns_[i].type()) {
      ThrowInvalidArgument("profile: column " + std::to_string(i) + " of the table is '" +
                           c.name() + "' (" + TypeName(c.type()) + "), of the profile '" +
                           columns_[i].name() + "' (" + TypeName(columns_[i].type()) + ")");
    }
  }
  // Numeric columns cost the most (their quantile sketches): they start first, so that the
  // last column to finish is a cheap one. The sketch of a column of many distinct values costs
  // more than all else in its column (fnlwgt in the bench file: 9.6 of 14.5 ms) and, alone, it
  // finished last on one core: it is a task of its own, started first, and the rest of its
  // column another, started next.
  using Parts = ColumnProfile::NumericParts;
  std::vector<size_t> heavy;
  {
    auto counter = std::make_unique<ValueCounter>();
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (IsNumericLike(columns_[i].type()) &&
          ManyDistinctValues(table.column(i), begin, end, counter.get())) {
        heavy.push_back(i);
      }
    }
  }
  std::vector<std::pair<size_t, Parts>> tasks;
  tasks.reserve(columns_.size() + heavy.size());
  for (size_t i : heavy) tasks.emplace_back(i, Parts::kSketch);
  for (size_t i : heavy) tasks.emplace_back(i, Parts::kAllButSketch);
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (IsNumericLike(columns_[i].type()) == (pass == 0) &&
          std::find(heavy.begin(), heavy.end(), i) == heavy.end()) {
        tasks.emplace_back(i, Parts::kAll);
      }
    }
  }
  // The names, types and range were checked above, which is all ColumnProfile::AddRows adds
  // to AddNumericRows; a column's two parts touch disjoint members.
  ThreadPool::Default().ParallelFor(tasks.size(), [&](size_t k) {
    const auto [i, parts] = tasks[k];
    if (parts == Parts::kAll) {
      columns_[i].AddRows(table.column(i), begin, end);
    } else {
      columns_[i].AddNumericRows(table.column(i), begin, end, parts);
    }
  });
  rows_ += end - begin;
}

void TableProfile::Merge(const TableProfile& other) {
  if (columns_.empty() && rows_ == 0) {
    *this = other;
    return;
  }
  size_t n = std::max(columns_.size(), other.columns_.size());
  for (size_t i = 0; i < n; ++i) {
    if (i >= columns_.size()) {
      ThrowInvalidArgument("cannot merge profiles: column '" + other.columns_[i].name() +
                           "' is only in the profile being merged in");
    }
    if (i >= other.columns_.size()) {
      ThrowInvalidArgument("cannot merge profiles: column '" + columns_[i].name() +
                           "' is missing from the profile being merged in");
    }
    const ColumnProfile& a = columns_[i];
    const ColumnProfile& b = other.columns_[i];
    if (a.name() != b.name()) {
      ThrowInvalidArgument("cannot merge profiles: column " + std::to_string(i) + " is '" +
                           a.name() + "' in one and '" + b.name() + "' in the other");
    }
    if (a.type() != b.type()) {
      ThrowInvalidArgument("cannot merge profiles: column '" + a.name() + "' is " +
                           TypeName(a.type()) + " in one and " + TypeName(b.type()) +
                           " in the other");
    }
  }
  for (size_t i = 0; i < columns_.size(); ++i) columns_[i].CheckMergeable(other.columns_[i]);
  for (size_t i = 0; i < columns_.size(); ++i) columns_[i].Merge(other.columns_[i]);
  rows_ += other.rows_;
}

Json TableProfile::ToJson() const {
  Json j = Json::object();
  j["format_version"] = kProfileFormatVersion;
  j["rows"] = rows_;
  Json columns = Json::array();
  for (const ColumnProfile& c : columns_) columns.push_back(c.ToJson());
  j["columns"] = std::move(columns);
  return j;
}

TableProfile TableProfile::FromJson(const Json& j) {
  using internal::ThrowBadKey;
  if (!j.is_object()) ThrowInvalidArgument("invalid profile: not a JSON object");
  uint64_t version = internal::GetUint(j, "", "format_version");
  if (version != kProfileFormatVersion) {
    ThrowBadKey("format_version", "is " + std::to_string(version) +
                                      "; this version of mloop reads version " +
                                      std::to_string(kProfileFormatVersion));
  }
  TableProfile p;
  p.rows_ = internal::GetUint(j, "", "rows");
  const Json& columns = internal::GetArray(j, "", "columns");
  p.columns_.reserve(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    std::string path = "columns[" + std::to_string(i) + "]";
    if (internal::GetUint(columns[i], path, "count") != p.rows_) {
      ThrowBadKey(path + ".count", "must equal rows");
    }
    ColumnProfile c = ColumnProfile::FromJson(columns[i], path);
    if (p.FindColumn(c.name()) != nullptr) {
      ThrowBadKey(path + ".name", "repeats column '" + c.name() + "'");
    }
    p.columns_.push_back(std::move(c));
  }
  return p;
}

ColumnProfile ProfileColumn(const Column& column) {
  ColumnProfile p(column.name(), column.type());
  p.AddRows(column, 0, column.size());
  return p;
}

TableProfile ProfileRows(const table::Table& table, size_t begin, size_t end) {
  TableProfile p;
  p.AddRows(table, begin, end);
  return p;
}

TableProfile ProfileTable(const table::Table& table) {
  return ProfileRows(table, 0, table.num_rows());
}

}  // namespace mloop::stats
