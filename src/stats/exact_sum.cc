#include "stats/exact_sum.h"

#include <charconv>
#include <cmath>
#include <vector>

namespace mloop::stats {
namespace {

constexpr int64_t kDigitBase = int64_t{1} << 32;

template <size_t N>
void PropagateCarries(std::array<int64_t, N>& d) {
  for (size_t i = 0; i + 1 < N; ++i) {
    int64_t carry = d[i] >> 32;  // Arithmetic shift: floor(d[i] / 2^32).
    d[i] -= carry * kDigitBase;
    d[i + 1] += carry;
  }
}

// The magnitude of a normalized accumulator, and its sign.
template <size_t N>
bool TakeMagnitude(std::array<int64_t, N>& d) {
  bool negative = d[N - 1] < 0;
  if (negative) {
    for (int64_t& x : d) x = -x;
    PropagateCarries(d);
  }
  return negative;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void ExactSum::AddInt128(__int128 v) {
  bool negative = v < 0;
  unsigned __int128 magnitude =
      negative ? 0 - static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  // 2^0 is bit 18 of digit 33: split the magnitude shifted by 18 into five digits.
  constexpr uint32_t kFirst = kIntegerShift >> 5;
  constexpr uint32_t kOffset = kIntegerShift & 31;
  uint64_t low = static_cast<uint64_t>(magnitude);
  uint64_t high = static_cast<uint64_t>(magnitude >> 64);
  uint64_t words[5] = {
      (low << kOffset) & 0xffffffff,
      (low >> (32 - kOffset)) & 0xffffffff,
      ((low >> (64 - kOffset)) | (high << kOffset)) & 0xffffffff,
      (high >> (32 - kOffset)) & 0xffffffff,
      high >> (64 - kOffset),
  };
  for (uint32_t i = 0; i < 5; ++i) {
    int64_t w = static_cast<int64_t>(words[i]);
    digits_[kFirst + i] += negative ? -w : w;
  }
  if (++pending_ == kNormalizeEvery) Normalize();
}

void ExactSum::Normalize() {
  PropagateCarries(digits_);
  pending_ = 0;
}

std::array<int64_t, ExactSum::kDigits> ExactSum::Normalized() const {
  std::array<int64_t, kDigits> d = digits_;
  PropagateCarries(d);
  return d;
}

void ExactSum::Merge(const ExactSum& other) {
  Normalize();
  std::array<int64_t, kDigits> d = other.Normalized();
  for (int i = 0; i < kDigits; ++i) digits_[i] += d[i];
  Normalize();
}

bool ExactSum::IsZero() const {
  std::array<int64_t, kDigits> d = Normalized();
  for (int64_t x : d) {
    if (x != 0) return false;
  }
  return true;
}

bool ExactSum::operator==(const ExactSum& other) const {
  return Normalized() == other.Normalized();
}

double ExactSum::Value() const {
  std::array<int64_t, kDigits> d = Normalized();
  bool negative = TakeMagnitude(d);
  int top = kDigits - 1;
  while (top >= 0 && d[top] == 0) --top;
  if (top < 0) return 0.0;
  // Take the top three digits (at least 65 significant bits) and fold everything below
  // into a sticky bit, so that the one conversion to double rounds correctly.
  int low = top < 2 ? 0 : top - 2;
  unsigned __int128 window = 0;
  for (int i = top; i >= low; --i) {
    window = (window << 32) | static_cast<uint64_t>(d[i]);
  }
  for (int i = 0; i < low; ++i) {
    if (d[i] != 0) {
      window |= 1;
      break;
    }
  }
  // When low is 0 the window is exact; a subnormal result then has fewer than 53
  // significant bits, so neither the conversion nor ldexp rounds twice.
  double magnitude =
      std::ldexp(static_cast<double>(window), 32 * low - static_cast<int>(kIntegerShift));
  return negative ? -magnitude : magnitude;
}

std::optional<int64_t> ExactSum::ToInt64() const {
  std::array<int64_t, kDigits> d = Normalized();
  bool negative = TakeMagnitude(d);
  constexpr int kFirst = kIntegerShift >> 5;
  constexpr int kOffset = kIntegerShift & 31;
  for (int i = 0; i < kFirst; ++i) {
    if (d[i] != 0) return std::nullopt;
  }
  if ((d[kFirst] & ((int64_t{1} << kOffset) - 1)) != 0) return std::nullopt;
  for (int i = kFirst + 3; i < kDigits; ++i) {
    if (d[i] != 0) return std::nullopt;
  }
  unsigned __int128 magnitude = (static_cast<unsigned __int128>(d[kFirst]) >> kOffset) |
                                (static_cast<unsigned __int128>(d[kFirst + 1]) << (32 - kOffset)) |
                                (static_cast<unsigned __int128>(d[kFirst + 2]) << (64 - kOffset));
  constexpr unsigned __int128 kLimit = static_cast<unsigned __int128>(1) << 63;
  if (negative) {
    if (magnitude > kLimit) return std::nullopt;
    return static_cast<int64_t>(0 - static_cast<uint64_t>(magnitude));
  }
  if (magnitude >= kLimit) return std::nullopt;
  return static_cast<int64_t>(magnitude);
}

std::string ExactSum::ToString() const {
  std::array<int64_t, kDigits> d = Normalized();
  bool negative = TakeMagnitude(d);
  int top = kDigits - 1;
  while (top >= 0 && d[top] == 0) --top;
  if (top < 0) return "0x0p+0";
  int bottom = 0;
  while (d[bottom] == 0) ++bottom;
  // Write the magnitude as an odd integer times a power of two, which makes the text
  // canonical: one value, one string.
  int zeros = std::countr_zero(static_cast<uint64_t>(d[bottom]));
  std::vector<uint64_t> words;  // 32-bit words of magnitude >> (32 bottom + zeros).
  for (int i = bottom; i <= top; ++i) {
    uint64_t w = static_cast<uint64_t>(d[i]) >> zeros;
    if (zeros > 0 && i + 1 <= top) {
      w |= (static_cast<uint64_t>(d[i + 1]) << (32 - zeros)) & 0xffffffff;
    }
    // The top digit may exceed 32 bits; it is the last word and keeps them.
    if (i < top) w &= 0xffffffff;
    words.push_back(w);
  }
  while (words.size() > 1 && words.back() == 0) words.pop_back();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = negative ? "-0x" : "0x";
  bool leading = true;
  for (size_t i = words.size(); i-- > 0;) {
    int nibbles = i + 1 == words.size() ? 16 : 8;
    for (int n = nibbles - 1; n >= 0; --n) {
      int v = static_cast<int>((words[i] >> (4 * n)) & 0xf);
      if (leading && v == 0) continue;
      leading = false;
      out += kHex[v];
    }
  }
  int exponent = 32 * bottom + zeros - static_cast<int>(kIntegerShift);
  out += exponent < 0 ? "p-" : "p+";
  out += std::to_string(exponent < 0 ? -exponent : exponent);
  return out;
}

std::optional<ExactSum> ExactSum::FromString(std::string_view text) {
  bool negative = false;
  if (!text.empty() && text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  if (text.size() < 2 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) {
    return std::nullopt;
  }
  text.remove_prefix(2);
  size_t p = text.find_first_of("pP");
  if (p == std::string_view::npos || p == 0) return std::nullopt;
  std::string_view hex = text.substr(0, p);
  std::string_view exp_text = text.substr(p + 1);
  if (!exp_text.empty() && exp_text.front() == '+') exp_text.remove_prefix(1);
  int exponent = 0;
  auto [end, ec] = std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
  if (ec != std::errc() || end != exp_text.data() + exp_text.size() || exp_text.empty()) {
    return std::nullopt;
  }
  while (hex.size() > 1 && hex.front() == '0') hex.remove_prefix(1);
  // Bits of the value sit at positions exponent + 1074 and up; keep them clear of the
  // top digit, which holds the sign and the headroom for carries.
  constexpr int64_t kMaxBits = 32 * (kDigits - 1);
  int64_t base = int64_t{exponent} + kIntegerShift;
  if (base < 0 || base + 4 * static_cast<int64_t>(hex.size()) > kMaxBits) {
    if (hex == "0") return ExactSum();
    return std::nullopt;
  }
  ExactSum sum;
  for (size_t j = 0; j < hex.size(); ++j) {
    int v = HexValue(hex[hex.size() - 1 - j]);
    if (v < 0) return std::nullopt;
    int64_t bit = base + 4 * static_cast<int64_t>(j);
    int64_t contribution = int64_t{v} << (bit & 31);
    sum.digits_[bit >> 5] += negative ? -contribution : contribution;
  }
  sum.Normalize();
  return sum;
}

}  // namespace mloop::stats
