// A dictionary from strings to dense int32 codes, in order of first appearance: the
// encoder of category columns. Open addressing with linear probing; each slot holds the
// first 32 bytes of its string, so that looking up a short string (nearly every category
// value) is a few vector operations that touch no other memory, because readers call
// FindOrAdd once per field. Private to the table module. Not thread-safe: each parser
// thread has its own.
#ifndef MLOOP_TABLE_INTERNAL_STRING_DICTIONARY_H_
#define MLOOP_TABLE_INTERNAL_STRING_DICTIONARY_H_

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace mloop::table::internal {

// A 64-bit hash of a short byte string. The tail is read with at most two overlapping
// loads, never byte by byte: byte-wise stores followed by a wide load stall on
// store-to-load forwarding, which made the byte loop the reader's hottest spot.
inline uint64_t HashBytes(const char* p, size_t n) {
  const size_t len = n;
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xff51afd7ed558ccdULL);
  while (n > 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
    p += 8;
    n -= 8;
  }
  uint64_t w = 0;
  if (len >= 8) {
    std::memcpy(&w, p + n - 8, 8);  // The last eight bytes, overlapping hashed ones.
  } else if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    w = (uint64_t{a} << 32) | b;
  } else if (n > 0) {
    w = (uint64_t{static_cast<uint8_t>(p[0])} << 16) |
        (uint64_t{static_cast<uint8_t>(p[n >> 1])} << 8) | static_cast<uint8_t>(p[n - 1]);
  }
  h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 32;
  return h;
}

// True when the `n` bytes at `a` and `b` are equal; inlined for the short strings of
// category columns, where a libc call would cost more than the compare.
inline bool BytesEqual(const char* a, const char* b, size_t n) {
  while (n >= 8) {
    uint64_t x, y;
    std::memcpy(&x, a, 8);
    std::memcpy(&y, b, 8);
    if (x != y) return false;
    a += 8;
    b += 8;
    n -= 8;
  }
  while (n > 0) {
    if (*a++ != *b++) return false;
    --n;
  }
  return true;
}

// The first 32 bytes of a string, zero-padded: the whole of nearly every category value,
// compared and hashed as two 16-byte vectors (with SSE2) instead of byte by byte.
class StringHead {
 public:
  static constexpr size_t kBytes = 32;

  StringHead() = default;
  // `readable_end` (at or past the string's end) bounds what may be read: with 32
  // readable bytes the head is two loads and masks, else a copy.
  static StringHead Of(const char* p, size_t len, const char* readable_end) {
    return OfShort(p, len < kBytes ? len : kBytes, readable_end);
  }
  // Of for a string of at most kBytes bytes.
  static StringHead OfShort(const char* p, size_t n, const char* readable_end) {
    StringHead h;
    if (readable_end - p >= static_cast<ptrdiff_t>(kBytes)) {
#ifdef __SSE2__
      const auto* keep = reinterpret_cast<const __m128i*>(kKeep.bytes[n]);
      h.lo_ = _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)),
                            _mm_loadu_si128(keep));
      h.hi_ = _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)),
                            _mm_loadu_si128(keep + 1));
      return h;
#endif
    }
    char buf[kBytes] = {};
    std::memcpy(buf, p, n);
    h.Load(buf);
    return h;
  }

  bool operator==(const StringHead& o) const {
#ifdef __SSE2__
    const __m128i eq = _mm_and_si128(_mm_cmpeq_epi8(lo_, o.lo_), _mm_cmpeq_epi8(hi_, o.hi_));
    return _mm_movemask_epi8(eq) == 0xFFFF;
#else
    return std::memcmp(bytes_, o.bytes_, kBytes) == 0;
#endif
  }

  // Two words that together hold every bit of the head (folded by XOR).
  std::array<uint64_t, 2> Fold() const {
    std::array<uint64_t, 2> w;
#if defined(__SSE2__) && defined(__x86_64__)
    const __m128i x = _mm_xor_si128(lo_, hi_);
    w[0] = static_cast<uint64_t>(_mm_cvtsi128_si64(x));
    w[1] = static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(x, x)));
#elif defined(__SSE2__)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(w.data()), _mm_xor_si128(lo_, hi_));
#else
    uint64_t v[4];
    std::memcpy(v, bytes_, kBytes);
    w[0] = v[0] ^ v[2];
    w[1] = v[1] ^ v[3];
#endif
    return w;
  }

 private:
  void Load(const char* p) {
#ifdef __SSE2__
    lo_ = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    hi_ = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16));
#else
    std::memcpy(bytes_, p, kBytes);
#endif
  }

  // kKeep.bytes[n] masks all but the first n bytes.
  struct Masks {
    alignas(16) unsigned char bytes[kBytes + 1][kBytes];
  };
  static constexpr Masks kKeep = [] {
    Masks m{};
    for (size_t n = 0; n <= kBytes; ++n) {
      for (size_t i = 0; i < n; ++i) m.bytes[n][i] = 0xFF;
    }
    return m;
  }();

#ifdef __SSE2__
  __m128i lo_{};
  __m128i hi_{};
#else
  unsigned char bytes_[kBytes] = {};
#endif
};

class StringDictionary {
 public:
  StringDictionary() { Rehash(64); }

  // The code of `s`, added as the next code when new. Bytes from s.data() up to
  // `readable_end` may be read (never used beyond `s`); pass the end of the buffer `s`
  // points into, so that short strings load in whole words.
  //
  // Forced inline: GCC's heuristics would not inline it into the readers' large loops,
  // and the call cost a third of a lookup.
  [[gnu::always_inline]] int32_t FindOrAdd(std::string_view s, const char* readable_end) {
    return Lookup<true>(*this, s, readable_end);
  }
  int32_t FindOrAdd(std::string_view s) { return FindOrAdd(s, s.data() + s.size()); }

  // The code of `s`, or -1 when it has none; `readable_end` as for FindOrAdd.
  [[gnu::always_inline]] int32_t Find(std::string_view s, const char* readable_end) const {
    return Lookup<false>(*this, s, readable_end);
  }

  size_t size() const { return starts_.size() - 1; }
  std::string_view value(size_t code) const {
    return std::string_view(chars_).substr(starts_[code], starts_[code + 1] - starts_[code]);
  }
  std::vector<std::string> TakeValues() const {
    std::vector<std::string> out;
    out.reserve(size());
    for (size_t i = 0; i < size(); ++i) out.emplace_back(value(i));
    return out;
  }

 private:
  // A string's head, length and code; longer strings compare their tail in chars_.
  struct Slot {
    StringHead head;
    uint32_t len;
    int32_t code;  // -1: empty.
  };
  static Slot Empty() { return Slot{StringHead(), ~uint32_t{0}, -1}; }

  // FindOrAdd (kAdd) or Find of `s` in `self` (a const StringDictionary for Find). Only the
  // usual case is inline: a string of up to 32 bytes found in its home slot.
  template <bool kAdd, typename Self>
  [[gnu::always_inline]] static int32_t Lookup(Self& self, std::string_view s,
                                               const char* readable_end) {
    if (s.size() <= StringHead::kBytes) {
      const StringHead head = StringHead::OfShort(s.data(), s.size(), readable_end);
      const size_t i = self.Home(Hash(head, s));
      // The head is the whole string; an empty slot's length matches none.
      if (self.slots_[i].head == head && self.slots_[i].len == s.size()) return self.slots_[i].code;
      return ProbeShort<kAdd>(self, i, s, readable_end);
    }
    return ProbeLong<kAdd>(self, s);
  }

  // Lookup of a string of up to 32 bytes from slot i on, which does not hold it: its code,
  // or at the first empty slot, the code it is added as (kAdd) or -1. The head is computed
  // again rather than passed, which would keep it in memory.
  template <bool kAdd, typename Self>
  [[gnu::noinline]] static int32_t ProbeShort(Self& self, size_t i, std::string_view s,
                                              const char* readable_end) {
    const StringHead head = StringHead::Of(s.data(), s.size(), readable_end);
    for (;; i = (i + 1) & self.mask_) {
      const Slot& slot = self.slots_[i];
      if (slot.head == head && slot.len == s.size()) return slot.code;
      if (slot.code < 0) return NotFound<kAdd>(self, i, head, s);
    }
  }

  // Lookup of a string over 32 bytes: the head, then the tail in chars_.
  template <bool kAdd, typename Self>
  [[gnu::noinline]] static int32_t ProbeLong(Self& self, std::string_view s) {
    const StringHead head = StringHead::Of(s.data(), s.size(), s.data() + s.size());
    for (size_t i = self.Home(Hash(head, s));; i = (i + 1) & self.mask_) {
      const Slot& slot = self.slots_[i];
      if (slot.code < 0) return NotFound<kAdd>(self, i, head, s);
      if (slot.head == head && slot.len == s.size() &&
          BytesEqual(self.chars_.data() + self.starts_[static_cast<size_t>(slot.code)] +
                         StringHead::kBytes,
                     s.data() + StringHead::kBytes, s.size() - StringHead::kBytes)) {
        return slot.code;
      }
    }
  }

  // What a lookup that reached empty slot i answers.
  template <bool kAdd, typename Self>
  static int32_t NotFound(Self& self, size_t i, const StringHead& head, std::string_view s) {
    if constexpr (kAdd) {
      return self.Insert(i, head, s);
    } else {
      (void)self, (void)i, (void)head, (void)s;
      return -1;
    }
  }

  // Up to 32 bytes the head is the whole string: its two folded words and the length,
  // combined and multiplied by 2^64 / golden ratio. Home() takes the product's top bits,
  // which every bit of the input reaches (Fibonacci hashing): one multiplication on the
  // lookup's critical path instead of two and a mix, and on the bench file fewer values
  // than before miss their home slot.
  static uint64_t Hash(const StringHead& head, std::string_view s) {
    if (s.size() > StringHead::kBytes) return HashBytes(s.data(), s.size());
    const std::array<uint64_t, 2> w = head.Fold();
    return (w[0] ^ (std::rotl(w[1], 32) + s.size())) * 0x9E3779B97F4A7C15ULL;
  }

  // The home slot of a hash: its top bits.
  size_t Home(uint64_t hash) const { return static_cast<size_t>(hash >> shift_); }

  int32_t Insert(size_t slot, const StringHead& head, std::string_view s) {
    int32_t code = static_cast<int32_t>(size());
    chars_.append(s);
    starts_.push_back(chars_.size());
    slots_[slot] = Slot{head, static_cast<uint32_t>(s.size()), code};
    if (size() * 2 > slots_.size()) Rehash(slots_.size() * 2);
    return code;
  }

  void Rehash(size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Empty());
    mask_ = capacity - 1;
    shift_ = static_cast<unsigned>(64 - std::countr_zero(capacity));
    for (const Slot& s : old) {
      if (s.code < 0) continue;
      size_t i = Home(Hash(s.head, value(static_cast<size_t>(s.code))));
      while (slots_[i].code >= 0) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;      // slots_.size() - 1; the size is a power of two.
  unsigned shift_ = 64;  // 64 - log2(slots_.size()).
  std::string chars_;
  std::vector<size_t> starts_{0};  // Code i is chars_[starts_[i], starts_[i + 1]).
};

}  // namespace mloop::table::internal

#endif  // MLOOP_TABLE_INTERNAL_STRING_DICTIONARY_H_
