// A dictionary from strings to dense int32 codes, in order of first appearance: the
// encoder of category columns. Open addressing with linear probing and stored hashes,
// because readers call FindOrAdd once per field. Private to the table module. Not
// thread-safe: each parser thread has its own.
#ifndef MLOOP_TABLE_INTERNAL_STRING_DICTIONARY_H_
#define MLOOP_TABLE_INTERNAL_STRING_DICTIONARY_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

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

class StringDictionary {
 public:
  StringDictionary() { Rehash(64); }

  int32_t FindOrAdd(std::string_view s) {
    const uint64_t h = HashBytes(s.data(), s.size());
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.code < 0) return Insert(slot, h, s);
      if (slot.hash == h && slot.len == s.size() &&
          BytesEqual(chars_.data() + starts_[static_cast<size_t>(slot.code)], s.data(),
                     s.size())) {
        return slot.code;
      }
    }
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
  struct Slot {
    uint64_t hash;
    int32_t code;  // -1: empty.
    uint32_t len;
  };

  int32_t Insert(Slot& slot, uint64_t h, std::string_view s) {
    int32_t code = static_cast<int32_t>(size());
    chars_.append(s);
    starts_.push_back(chars_.size());
    slot = Slot{h, code, static_cast<uint32_t>(s.size())};
    if (size() * 2 > slots_.size()) Rehash(slots_.size() * 2);
    return code;
  }

  void Rehash(size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{0, -1, 0});
    size_t mask = capacity - 1;
    for (const Slot& s : old) {
      if (s.code < 0) continue;
      size_t i = s.hash & mask;
      while (slots_[i].code >= 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  std::string chars_;
  std::vector<size_t> starts_{0};  // Code i is chars_[starts_[i], starts_[i + 1]).
};

}  // namespace mloop::table::internal

#endif  // MLOOP_TABLE_INTERNAL_STRING_DICTIONARY_H_
