// 64-bit hashes of bytes and of numbers, used by the sketches of this module
// (HyperLogLog's registers, the profile's per-block grouping of strings). The
// functions are pure and thread-safe.
//
// The hash values are part of the stored profile format: a serialized HyperLogLog
// holds registers derived from them, and merging it with one built by another hash
// would count every value twice. Changing any function here therefore requires a new
// kProfileFormatVersion (profile.h). The byte hash reads its input as little-endian
// words on every machine, so the values do not depend on the host.
//
// The construction follows the idea of wyhash (fold the 128-bit product of two 64-bit
// words) with constants taken from the fractional parts of square roots. It is fast
// and mixes well enough for sketches; it is neither cryptographic nor seeded per
// process, so it must not key hash tables that untrusted input can flood.
#ifndef MLOOP_STATS_HASH_H_
#define MLOOP_STATS_HASH_H_

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>

namespace mloop::stats {

namespace hash_internal {

// Fractional parts of sqrt(2), sqrt(3), sqrt(5), sqrt(7), and of the golden ratio.
inline constexpr uint64_t kK0 = 0x6a09e667f3bcc908;
inline constexpr uint64_t kK1 = 0xbb67ae8584caa73b;
inline constexpr uint64_t kK2 = 0x3c6ef372fe94f82b;
inline constexpr uint64_t kK3 = 0xa54ff53a5f1d36f1;
inline constexpr uint64_t kK4 = 0x9e3779b97f4a7c15;

inline uint64_t MulFold(uint64_t a, uint64_t b) {
  unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

inline uint64_t Load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

inline uint64_t Load32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}

// A final avalanche so that the high bits, which HyperLogLog uses for the register
// index, depend on every input bit.
inline uint64_t Finish(uint64_t h) {
  h ^= h >> 32;
  h *= kK4;
  h ^= h >> 29;
  return h;
}

}  // namespace hash_internal

inline uint64_t HashBytes(const void* data, size_t size) {
  namespace hi = hash_internal;
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t seed = hi::kK0;
  uint64_t a = 0;
  uint64_t b = 0;
  if (size <= 16) {
    if (size >= 8) {
      a = hi::Load64(p);
      b = hi::Load64(p + size - 8);
    } else if (size >= 4) {
      a = hi::Load32(p);
      b = hi::Load32(p + size - 4);
    } else if (size > 0) {
      // Every byte of a 1 to 3 byte input (some twice when there are fewer than 3).
      a = (uint64_t{p[0]} << 16) | (uint64_t{p[size >> 1]} << 8) | p[size - 1];
    }
  } else {
    size_t left = size;
    while (left > 16) {
      seed = hi::MulFold(hi::Load64(p) ^ hi::kK1, hi::Load64(p + 8) ^ seed);
      p += 16;
      left -= 16;
    }
    // The last 16 bytes, overlapping the previous block when `size` is not a multiple.
    a = hi::Load64(p + left - 16);
    b = hi::Load64(p + left - 8);
  }
  return hi::Finish(hi::MulFold(hi::MulFold(a ^ hi::kK1, b ^ seed) ^ hi::kK2, size ^ hi::kK3));
}

inline uint64_t HashBytes(std::string_view s) { return HashBytes(s.data(), s.size()); }

inline uint64_t HashInt64(int64_t v) {
  namespace hi = hash_internal;
  uint64_t h = hi::MulFold(static_cast<uint64_t>(v) ^ hi::kK1, hi::kK2);
  return hi::Finish(hi::MulFold(h ^ hi::kK3, hi::kK0));
}

// -0.0 hashes as 0.0 and every NaN as one NaN, so that values that compare equal (and
// all NaNs, which a profile counts as one value) count once.
inline uint64_t HashDouble(double v) {
  namespace hi = hash_internal;
  if (v == 0) v = 0;
  if (std::isnan(v)) v = std::numeric_limits<double>::quiet_NaN();
  uint64_t h = hi::MulFold(std::bit_cast<uint64_t>(v) ^ hi::kK2, hi::kK3);
  return hi::Finish(hi::MulFold(h ^ hi::kK1, hi::kK0));
}

}  // namespace mloop::stats

#endif  // MLOOP_STATS_HASH_H_
