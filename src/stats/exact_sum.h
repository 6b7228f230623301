// ExactSum: the exact sum of finite doubles and int64s, held as one wide fixed-point
// integer in units of 2^-1074 (the smallest subnormal double), so that every finite
// double and every int64 is an integer in it. Adding never rounds, which makes the sum
// independent of order and grouping: sum(A) + sum(B) equals sum(A ∪ B) bit for bit,
// which is what lets a profile of two halves merge into exactly the profile of the
// whole. Value() rounds the exact sum to the nearest double once, at the end.
//
// The accumulator is 68 digits of 32 bits (2176 bits): room for 2^64 additions of the
// largest double without overflow. Non-finite inputs are ignored. An ExactSum is a
// value type; concurrent const use is safe, mutation is not.
#ifndef MLOOP_STATS_EXACT_SUM_H_
#define MLOOP_STATS_EXACT_SUM_H_

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mloop::stats {

class ExactSum {
 public:
  void Add(double x) {
    uint64_t bits = std::bit_cast<uint64_t>(x);
    uint32_t biased_exponent = static_cast<uint32_t>(bits >> 52) & 0x7ff;
    if (biased_exponent == 0x7ff) return;  // NaN or infinity.
    uint64_t mantissa = bits & ((uint64_t{1} << 52) - 1);
    // x = mantissa * 2^(shift - 1074); a subnormal has no implicit leading bit.
    uint32_t shift = 0;
    if (biased_exponent != 0) {
      mantissa |= uint64_t{1} << 52;
      shift = biased_exponent - 1;
    }
    AddShifted(mantissa, shift, (bits >> 63) != 0);
  }

  // Adds x `times` times, exactly (a mantissa of 53 bits times a count below 2^11 fits
  // the 64 bits AddShifted takes; larger counts go in slices).
  void Add(double x, uint64_t times) {
    uint64_t bits = std::bit_cast<uint64_t>(x);
    uint32_t biased_exponent = static_cast<uint32_t>(bits >> 52) & 0x7ff;
    if (biased_exponent == 0x7ff) return;
    uint64_t mantissa = bits & ((uint64_t{1} << 52) - 1);
    uint32_t shift = 0;
    if (biased_exponent != 0) {
      mantissa |= uint64_t{1} << 52;
      shift = biased_exponent - 1;
    }
    constexpr uint64_t kSlice = uint64_t{1} << 11;
    for (; times > 0; times -= std::min(times, kSlice - 1)) {
      AddShifted(mantissa * std::min(times, kSlice - 1), shift, (bits >> 63) != 0);
    }
  }

  void AddInt64(int64_t v) {
    uint64_t magnitude = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    AddShifted(magnitude, kIntegerShift, v < 0);
  }

  // The sum of up to 2^62 int64 values, as the caller accumulated it in 128 bits.
  void AddInt128(__int128 v);

  void Merge(const ExactSum& other);

  // The exact sum rounded to the nearest double (ties to even); ±infinity when it is
  // beyond the range of doubles.
  double Value() const;

  // The sum when it is an integer that fits in an int64.
  std::optional<int64_t> ToInt64() const;

  bool IsZero() const;

  // A lossless text form: a C99 hexadecimal floating literal with as many hex digits as
  // needed, such as "0x1p+0" or "-0x3243f6a8885a308d3p-64". FromString accepts what
  // ToString writes (any number of digits, any binary exponent that keeps the value in
  // range) and returns nullopt for anything else.
  std::string ToString() const;
  static std::optional<ExactSum> FromString(std::string_view text);

  bool operator==(const ExactSum& other) const;

 private:
  static constexpr int kDigits = 68;
  static constexpr uint32_t kIntegerShift = 1074;  // The bit of 2^0.
  // Each addition changes a digit by less than 2^32, so 2^30 of them cannot overflow a
  // normalized digit (below 2^32) held in an int64.
  static constexpr uint32_t kNormalizeEvery = uint32_t{1} << 30;

  void AddShifted(uint64_t magnitude, uint32_t shift, bool negative) {
    // magnitude < 2^64 shifted by < 32: at most 96 bits, three digits.
    uint32_t index = shift >> 5;
    unsigned __int128 t = static_cast<unsigned __int128>(magnitude) << (shift & 31);
    int64_t d0 = static_cast<int64_t>(static_cast<uint64_t>(t) & 0xffffffff);
    int64_t d1 = static_cast<int64_t>(static_cast<uint64_t>(t >> 32) & 0xffffffff);
    int64_t d2 = static_cast<int64_t>(static_cast<uint64_t>(t >> 64));
    if (negative) {
      digits_[index] -= d0;
      digits_[index + 1] -= d1;
      digits_[index + 2] -= d2;
    } else {
      digits_[index] += d0;
      digits_[index + 1] += d1;
      digits_[index + 2] += d2;
    }
    if (++pending_ == kNormalizeEvery) Normalize();
  }

  // Propagates carries so that digits 0..kDigits-2 are in [0, 2^32) and the top digit
  // carries the sign. The represented value does not change.
  void Normalize();
  // A normalized copy.
  std::array<int64_t, kDigits> Normalized() const;

  // Digit i has weight 2^(32 i - 1074); not normalized while pending_ > 0.
  std::array<int64_t, kDigits> digits_{};
  uint32_t pending_ = 0;
};

}  // namespace mloop::stats

#endif  // MLOOP_STATS_EXACT_SUM_H_
