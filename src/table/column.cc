#include "table/column.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/error.h"
#include "core/time.h"

namespace mloop::table {

void Bitmap::AppendMany(bool v, size_t n) {
  // Fill the current partial word bit by bit, then whole words.
  while (n > 0 && (size_ & 63) != 0) {
    Append(v);
    --n;
  }
  while (n >= 64) {
    words_.push_back(v ? ~uint64_t{0} : 0);
    size_ += 64;
    n -= 64;
  }
  while (n > 0) {
    Append(v);
    --n;
  }
}

void Bitmap::AppendBitmap(const Bitmap& other) {
  if ((size_ & 63) == 0) {
    words_.insert(words_.end(), other.words_.begin(), other.words_.end());
    size_ += other.size_;
    return;
  }
  // Unaligned: each source word lands across two destination words.
  const unsigned shift = size_ & 63;
  for (size_t w = 0; w < other.words_.size(); ++w) {
    uint64_t word = other.words_[w];
    words_.back() |= word << shift;
    words_.push_back(word >> (64 - shift));
  }
  size_ += other.size_;
  words_.resize((size_ + 63) / 64);
}

// Baseline x86-64 has no popcnt instruction: without a clone for the machines that have one
// (nearly all; the loader picks it), each word would cost a library call.
#if defined(__x86_64__) && !defined(__clang__)
#define MLOOP_POPCNT_CLONES [[gnu::target_clones("popcnt", "default")]]
#else
#define MLOOP_POPCNT_CLONES
#endif

MLOOP_POPCNT_CLONES size_t Bitmap::CountSet() const {
  size_t n = 0;
  for (uint64_t w : words_) n += static_cast<size_t>(std::popcount(w));
  return n;
}

Bitmap Bitmap::FromWords(std::vector<uint64_t> words, size_t size) {
  if (words.size() != (size + 63) / 64) {
    ThrowInvalidArgument("bitmap: " + std::to_string(words.size()) + " words cannot hold " +
                         std::to_string(size) + " bits");
  }
  if (size & 63) words.back() &= (uint64_t{1} << (size & 63)) - 1;
  Bitmap b;
  b.words_ = std::move(words);
  b.size_ = size;
  return b;
}

double Column::NumberAt(size_t i) const {
  switch (type_) {
    case DataType::kInt64:
    case DataType::kDate:
    case DataType::kTimestamp:
      return static_cast<double>(ints_[i]);
    case DataType::kFloat64:
      return doubles_[i];
    case DataType::kBool:
      return bools_[i];
    default:
      return std::nan("");
  }
}

std::string Column::ValueToString(size_t i) const {
  if (IsNull(i)) return "";
  switch (type_) {
    case DataType::kInt64:
      return std::to_string(ints_[i]);
    case DataType::kFloat64: {
      char buf[64];
      auto [p, ec] = std::to_chars(buf, buf + sizeof buf, doubles_[i]);
      return std::string(buf, p);
    }
    case DataType::kBool:
      return bools_[i] ? "true" : "false";
    case DataType::kDate:
      return FormatIsoDate(ints_[i]);
    case DataType::kTimestamp:
      return FormatIsoTimestamp(ints_[i]);
    case DataType::kString:
    case DataType::kCategory:
      return std::string(StringAt(i));
  }
  return "";
}

void Column::AppendNull() {
  switch (type_) {
    case DataType::kInt64:
    case DataType::kDate:
    case DataType::kTimestamp:
      ints_.PushBack(0);
      break;
    case DataType::kFloat64:
      doubles_.push_back(0);
      break;
    case DataType::kBool:
      bools_.push_back(0);
      break;
    case DataType::kString:
      offsets_.push_back(chars_.size());
      break;
    case DataType::kCategory:
      codes_.PushBack(0);
      break;
  }
  validity_.Append(false);
}

int32_t Column::LookupOrAddCode(std::string_view v) {
  // A copy shares the index with its original; whichever appends first builds its
  // own, so two copies (possibly on two threads) never use one map.
  if (!code_index_ || code_index_.use_count() > 1 ||
      code_index_->map.size() != dictionary_.size()) {
    code_index_ = std::make_shared<CodeIndex>();
    for (size_t i = 0; i < dictionary_.size(); ++i) {
      code_index_->map.emplace(dictionary_[i], static_cast<int32_t>(i));
    }
  }
  auto it = code_index_->map.find(std::string(v));
  if (it != code_index_->map.end()) return it->second;
  int32_t code = static_cast<int32_t>(dictionary_.size());
  dictionary_.emplace_back(v);
  code_index_->map.emplace(std::string(v), code);
  return code;
}

void Column::AppendString(std::string_view v) {
  if (type_ == DataType::kCategory) {
    codes_.PushBack(LookupOrAddCode(v));
  } else {
    chars_.append(v);
    offsets_.push_back(chars_.size());
  }
  validity_.Append(true);
}

void Column::AppendFrom(const Column& other, size_t i) {
  if (other.IsNull(i)) {
    AppendNull();
    return;
  }
  switch (type_) {
    case DataType::kInt64:
    case DataType::kDate:
    case DataType::kTimestamp:
      AppendInt(other.ints_[i]);
      break;
    case DataType::kFloat64:
      AppendDouble(other.doubles_[i]);
      break;
    case DataType::kBool:
      AppendBool(other.bools_[i] != 0);
      break;
    case DataType::kString:
    case DataType::kCategory:
      AppendString(other.StringAt(i));
      break;
  }
}

void Column::AppendColumn(const Column& other) {
  if (&other == this) {
    // The loops below read `other` while they grow this column's buffers.
    const Column copy = other;
    AppendColumn(copy);
    return;
  }
  if (other.type_ != type_) {
    ThrowInternal("AppendColumn: column '" + name_ + "' is " + std::string(DataTypeName(type_)) +
                  ", the appended one " + std::string(DataTypeName(other.type_)));
  }
  switch (type_) {
    case DataType::kInt64:
    case DataType::kDate:
    case DataType::kTimestamp:
      ints_.Append(other.ints_);
      break;
    case DataType::kFloat64:
      doubles_.insert(doubles_.end(), other.doubles_.begin(), other.doubles_.end());
      break;
    case DataType::kBool:
      bools_.insert(bools_.end(), other.bools_.begin(), other.bools_.end());
      break;
    case DataType::kString: {
      uint64_t base = chars_.size();
      chars_.append(other.chars_);
      offsets_.reserve(offsets_.size() + other.size());
      for (size_t i = 1; i < other.offsets_.size(); ++i) {
        offsets_.push_back(base + other.offsets_[i]);
      }
      break;
    }
    case DataType::kCategory: {
      std::vector<int32_t> remap(other.dictionary_.size());
      for (size_t i = 0; i < remap.size(); ++i) {
        remap[i] = LookupOrAddCode(other.dictionary_[i]);
      }
      codes_.Reserve(codes_.size() + other.codes_.size());
      other.codes_.Visit([&](const auto* codes) {
        for (size_t i = 0; i < other.codes_.size(); ++i) {
          codes_.PushBack(other.IsValid(i) ? remap[static_cast<size_t>(codes[i])] : 0);
        }
      });
      break;
    }
  }
  validity_.AppendBitmap(other.validity_);
}

void Column::Reserve(size_t rows) {
  validity_.Reserve(rows);
  switch (type_) {
    case DataType::kInt64:
    case DataType::kDate:
    case DataType::kTimestamp:
      ints_.Reserve(rows);
      break;
    case DataType::kFloat64:
      doubles_.reserve(rows);
      break;
    case DataType::kBool:
      bools_.reserve(rows);
      break;
    case DataType::kString:
      offsets_.reserve(rows + 1);
      break;
    case DataType::kCategory:
      codes_.Reserve(rows);
      break;
  }
}

namespace {
// True when every code is in [0, limit). Readers build millions of rows, so this checks
// four codes per step with SSE2; only a failing column is searched for the culprit.
bool CodesInRange(const std::vector<int32_t>& codes, size_t limit) {
  if (limit > static_cast<size_t>(INT32_MAX)) limit = static_cast<size_t>(INT32_MAX);
  const int32_t* p = codes.data();
  const int32_t* end = p + codes.size();
  const int32_t top = static_cast<int32_t>(limit) - 1;
#ifdef __SSE2__
  // In range: neither above top nor below 0.
  const __m128i vtop = _mm_set1_epi32(top);
  const __m128i zero = _mm_setzero_si128();
  __m128i out = _mm_setzero_si128();
  for (; end - p >= 4; p += 4) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    out = _mm_or_si128(out, _mm_or_si128(_mm_cmpgt_epi32(v, vtop), _mm_cmpgt_epi32(zero, v)));
  }
  if (_mm_movemask_epi8(out) != 0) return false;
#endif
  for (; p < end; ++p) {
    if (*p < 0 || *p > top) return false;
  }
  return true;
}

// One-byte codes: their maximum, sixteen at a time with SSE2.
bool CodesInRange(const std::vector<uint8_t>& codes, size_t limit) {
  if (limit > 256 || codes.empty()) return true;
  const uint8_t* p = codes.data();
  const uint8_t* end = p + codes.size();
  uint8_t top = 0;
#ifdef __SSE2__
  __m128i m = _mm_setzero_si128();
  for (; end - p >= 16; p += 16) {
    m = _mm_max_epu8(m, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  alignas(16) uint8_t lanes[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(lanes), m);
  for (uint8_t lane : lanes) top = std::max(top, lane);
#endif
  for (; p < end; ++p) top = std::max(top, *p);
  return top < limit;
}

}  // namespace

void WidenValues(const uint8_t* src, size_t n, int32_t* dst) {
  size_t i = 0;
#ifdef __SSE2__
  const __m128i zero = _mm_setzero_si128();
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    const __m128i lo = _mm_unpacklo_epi8(v, zero);
    const __m128i hi = _mm_unpackhi_epi8(v, zero);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_unpacklo_epi16(lo, zero));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 4), _mm_unpackhi_epi16(lo, zero));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 8), _mm_unpacklo_epi16(hi, zero));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 12), _mm_unpackhi_epi16(hi, zero));
  }
#endif
  for (; i < n; ++i) dst[i] = src[i];
}

void WidenValues(const int32_t* src, size_t n, int64_t* dst) {
  size_t i = 0;
#ifdef __SSE2__
  for (; i + 4 <= n; i += 4) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    const __m128i sign = _mm_srai_epi32(v, 31);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_unpacklo_epi32(v, sign));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 2), _mm_unpackhi_epi32(v, sign));
  }
#endif
  for (; i < n; ++i) dst[i] = src[i];
}

namespace {
void CheckSize(const std::string& name, size_t values, const Bitmap& validity) {
  if (values != validity.size()) {
    ThrowInternal("column '" + name + "': " + std::to_string(values) + " values but " +
                  std::to_string(validity.size()) + " validity bits");
  }
}
}  // namespace

Column Column::FromInts(std::string name, DataType type, IntVector values, Bitmap validity) {
  CheckSize(name, values.size(), validity);
  Column c(std::move(name), type);
  c.ints_ = std::move(values);
  c.validity_ = std::move(validity);
  return c;
}

Column Column::FromDoubles(std::string name, std::vector<double> values, Bitmap validity) {
  CheckSize(name, values.size(), validity);
  Column c(std::move(name), DataType::kFloat64);
  c.doubles_ = std::move(values);
  c.validity_ = std::move(validity);
  return c;
}

Column Column::FromBools(std::string name, std::vector<uint8_t> values, Bitmap validity) {
  CheckSize(name, values.size(), validity);
  Column c(std::move(name), DataType::kBool);
  c.bools_ = std::move(values);
  c.validity_ = std::move(validity);
  return c;
}

Column Column::FromStringValues(std::string name, const std::vector<std::string>& values) {
  std::vector<uint64_t> offsets{0};
  std::string chars;
  for (const std::string& v : values) {
    chars += v;
    offsets.push_back(chars.size());
  }
  Bitmap valid;
  valid.AppendMany(true, values.size());
  return FromStrings(std::move(name), std::move(offsets), std::move(chars), std::move(valid));
}

Column Column::FromStrings(std::string name, std::vector<uint64_t> offsets, std::string chars,
                           Bitmap validity) {
  if (offsets.empty() || offsets.back() != chars.size()) {
    ThrowInternal("column '" + name + "': string offsets do not end at the text's size");
  }
  CheckSize(name, offsets.size() - 1, validity);
  Column c(std::move(name), DataType::kString);
  c.offsets_ = std::move(offsets);
  c.chars_ = std::move(chars);
  c.validity_ = std::move(validity);
  return c;
}

Column Column::FromCategory(std::string name, CodeVector codes, std::vector<std::string> dictionary,
                            Bitmap validity) {
  CheckSize(name, codes.size(), validity);
  const size_t limit = std::max<size_t>(dictionary.size(), 1);
  const bool in_range =
      codes.is_narrow() ? CodesInRange(codes.narrow(), limit) : CodesInRange(codes.wide(), limit);
  if (!in_range) {
    for (size_t i = 0; i < codes.size(); ++i) {
      const int32_t code = codes[i];
      if (code < 0 || static_cast<size_t>(code) >= limit) {
        ThrowInternal("column '" + name + "': category code " + std::to_string(code) +
                      " is outside the dictionary");
      }
    }
  }
  Column c(std::move(name), DataType::kCategory);
  c.codes_ = std::move(codes);
  c.dictionary_ = std::move(dictionary);
  c.validity_ = std::move(validity);
  return c;
}

}  // namespace mloop::table
