// Parsing field text into typed values, and inferring the narrowest type that reads a
// text. Private to the table module; shared by the CSV sniffer, the CSV reader and the
// JSON Lines reader so that all infer types the same way. Pure functions; thread-safe.
#ifndef MLOOP_TABLE_INTERNAL_VALUE_PARSE_H_
#define MLOOP_TABLE_INTERNAL_VALUE_PARSE_H_

#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "core/time.h"
#include "table/schema.h"

namespace mloop::table::internal {

// An optional sign and 1..19 digits, no spaces; false on overflow.
inline bool ParseInt64(std::string_view s, int64_t* out) {
  const char* p = s.data();
  const char* end = p + s.size();
  if (p == end) return false;
  bool neg = false;
  if (*p == '-' || *p == '+') {
    neg = *p == '-';
    if (++p == end) return false;
  }
  uint64_t v = 0;
  const char* start = p;
  for (; p < end; ++p) {
    unsigned d = static_cast<unsigned>(static_cast<unsigned char>(*p) - '0');
    if (d > 9) return false;
    if (p - start >= 18) {
      // Past 18 digits, check for overflow of the magnitude.
      if (v > (UINT64_MAX - d) / 10) return false;
    }
    v = v * 10 + d;
  }
  if (neg) {
    if (v > uint64_t{1} << 63) return false;
    *out = static_cast<int64_t>(0 - v);
  } else {
    if (v > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(v);
  }
  return true;
}

// ParseInt64, kept out of the loops that call the fast path below.
[[gnu::noinline]] inline bool ParseInt64OutOfLine(std::string_view s, int64_t* out) {
  return ParseInt64(s, out);
}

// ParseInt64 for text inside a larger buffer. When the eight bytes at the text may be
// read (`readable_end` bounds the buffer), one to eight digits without a sign, the usual
// field, convert in a few multiplications instead of a loop (the method of simdjson and
// fast_float); anything else takes ParseInt64. Forced inline: it is the body of the
// readers' integer loops.
[[gnu::always_inline]] inline bool ParseInt64(std::string_view s, int64_t* out,
                                              const char* readable_end) {
  static_assert(std::endian::native == std::endian::little,
                "the text's first byte must be the word's lowest");
  const size_t n = s.size();
  if (n - 1 >= 8 || readable_end - s.data() < 8) return ParseInt64OutOfLine(s, out);
  // One or two digits (ages, counts, flags) are cheaper still one by one.
  const unsigned d0 = static_cast<unsigned char>(s[0]) - unsigned{'0'};
  if (n == 1 && d0 <= 9) {
    *out = d0;
    return true;
  }
  if (n == 2) {
    const unsigned d1 = static_cast<unsigned char>(s[1]) - unsigned{'0'};
    if (d0 <= 9 && d1 <= 9) {
      *out = d0 * 10 + d1;
      return true;
    }
  }
  uint64_t w;
  std::memcpy(&w, s.data(), 8);
  // Move the n bytes to the top of the word: the bytes below become zero, which the
  // checks and the conversion treat as leading zeros.
  const unsigned shift = 64 - 8 * static_cast<unsigned>(n);
  w <<= shift;
  const uint64_t digits = w - (0x3030303030303030ULL << shift);
  // Every byte '0'..'9'? Adding 0x46 sets the top bit of a byte above '9', subtracting
  // 0x30 that of a byte below '0'; a carry or borrow only comes from a lower byte that
  // is already bad.
  if ((((w + (0x4646464646464646ULL << shift)) | digits) & 0x8080808080808080ULL) != 0) {
    return ParseInt64OutOfLine(s, out);  // A sign, or not a number.
  }
  uint64_t v = (digits * 10) + (digits >> 8);  // Each even byte: ten times a digit + the next.
  v = (((v & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
       (((v >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >>
      32;
  *out = static_cast<int64_t>(v);
  return true;
}

// Decimal or scientific notation, "inf", "-inf", "nan" (any case); a leading '+' is
// allowed. Hexadecimal is not.
inline bool ParseFloat64(std::string_view s, double* out) {
  const char* p = s.data();
  const char* end = p + s.size();
  if (p < end && *p == '+') ++p;
  if (p == end) return false;
  auto [ptr, ec] = std::from_chars(p, end, *out, std::chars_format::general);
  return ec == std::errc() && ptr == end;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// "true" / "false" in any case.
inline bool ParseBool(std::string_view s, bool* out) {
  if (s.size() == 4 && EqualsIgnoreCase(s, "true")) {
    *out = true;
    return true;
  }
  if (s.size() == 5 && EqualsIgnoreCase(s, "false")) {
    *out = false;
    return true;
  }
  return false;
}

// A date-only text in a timestamp column means midnight UTC.
inline bool ParseTimestampOrDate(std::string_view s, int64_t* out) {
  if (s.size() == 10) {
    auto d = ParseIsoDate(s);
    if (!d) return false;
    *out = *d * kMicrosPerDay;
    return true;
  }
  auto t = ParseIsoTimestamp(s);
  if (!t) return false;
  *out = *t;
  return true;
}

// The narrowest type that reads `s`: bool, int64, float64, date, timestamp, else string.
inline DataType InferValueType(std::string_view s) {
  if (s.empty()) return DataType::kString;
  char c = s[0];
  if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.') {
    int64_t i;
    if (ParseInt64(s, &i)) return DataType::kInt64;
    if (s.size() == 10 && ParseIsoDate(s)) return DataType::kDate;
    if (s.size() > 10 && ParseIsoTimestamp(s)) return DataType::kTimestamp;
  }
  double d;
  if (ParseFloat64(s, &d)) return DataType::kFloat64;
  bool b;
  if (ParseBool(s, &b)) return DataType::kBool;
  return DataType::kString;
}

// The narrowest type that reads values of both types: int64 and float64 join to
// float64, date and timestamp to timestamp, anything else that differs to string.
inline DataType JoinTypes(DataType a, DataType b) {
  if (a == b) return a;
  auto both = [&](DataType x, DataType y) { return (a == x && b == y) || (a == y && b == x); };
  if (both(DataType::kInt64, DataType::kFloat64)) return DataType::kFloat64;
  if (both(DataType::kDate, DataType::kTimestamp)) return DataType::kTimestamp;
  return DataType::kString;
}

}  // namespace mloop::table::internal

#endif  // MLOOP_TABLE_INTERNAL_VALUE_PARSE_H_
