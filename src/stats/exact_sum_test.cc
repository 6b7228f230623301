#include "stats/exact_sum.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace mloop::stats {
namespace {

// Doubles over a wide range of magnitudes and both signs, subnormals included.
std::vector<double> WideDoubles(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> mantissa(-1, 1);
  std::uniform_int_distribution<int> exponent(-1074, 1000);
  std::vector<double> out;
  for (size_t i = 0; i < n; ++i) out.push_back(std::ldexp(mantissa(rng), exponent(rng)));
  return out;
}

TEST(ExactSumTest, TwoValuesRoundLikeHardwareAddition) {
  // IEEE addition rounds the exact sum of two doubles once, as Value() must.
  std::vector<double> a = WideDoubles(20000, 1);
  std::mt19937_64 rng(2);
  std::uniform_int_distribution<int> shift(-60, 60);
  for (size_t i = 0; i < a.size(); ++i) {
    // A partner within 2^60 of the first, so the two overlap and round.
    double b = std::ldexp(a[i], shift(rng)) * (i % 2 ? -0.75 : 1.3);
    if (!std::isfinite(b)) continue;
    ExactSum s;
    s.Add(a[i]);
    s.Add(b);
    EXPECT_EQ(s.Value(), a[i] + b) << a[i] << " + " << b;
  }
}

TEST(ExactSumTest, IsIndependentOfOrderAndGrouping) {
  std::vector<double> values = WideDoubles(5000, 3);
  ExactSum forward;
  for (double v : values) forward.Add(v);
  std::vector<double> shuffled = values;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937_64(4));
  ExactSum left;
  ExactSum right;
  for (size_t i = 0; i < shuffled.size(); ++i) (i % 3 ? left : right).Add(shuffled[i]);
  left.Merge(right);
  EXPECT_EQ(left, forward);
  EXPECT_EQ(left.Value(), forward.Value());
  EXPECT_EQ(left.ToString(), forward.ToString());
}

TEST(ExactSumTest, NoIntermediateRoundingOrOverflow) {
  ExactSum s;
  s.Add(1e16);
  s.Add(1);
  s.Add(-1e16);
  EXPECT_EQ(s.Value(), 1.0);

  ExactSum big;
  double max = std::numeric_limits<double>::max();
  big.Add(max);
  big.Add(max);
  EXPECT_EQ(big.Value(), std::numeric_limits<double>::infinity());
  big.Add(-max);
  EXPECT_EQ(big.Value(), max);

  ExactSum tenths;
  for (int i = 0; i < 10; ++i) tenths.Add(0.1);
  // The exact sum of ten copies of the double nearest 0.1 rounds to 1.
  EXPECT_EQ(tenths.Value(), 1.0);

  ExactSum tiny;
  double denorm = std::numeric_limits<double>::denorm_min();
  tiny.Add(denorm);
  tiny.Add(denorm);
  EXPECT_EQ(tiny.Value(), 2 * denorm);
}

TEST(ExactSumTest, IgnoresNonFiniteValues) {
  ExactSum s;
  s.Add(2.5);
  s.Add(std::numeric_limits<double>::quiet_NaN());
  s.Add(-std::numeric_limits<double>::infinity());
  EXPECT_EQ(s.Value(), 2.5);
}

TEST(ExactSumTest, IntegersStayExactBeyondDoublePrecision) {
  ExactSum s;
  s.AddInt64(std::numeric_limits<int64_t>::max());
  s.AddInt64(std::numeric_limits<int64_t>::min());
  EXPECT_EQ(s.ToInt64(), -1);

  ExactSum t;
  t.AddInt64((int64_t{1} << 53) + 1);
  t.AddInt64(2);
  EXPECT_EQ(t.ToInt64(), (int64_t{1} << 53) + 3);

  ExactSum wide;
  __int128 v = static_cast<__int128>(std::numeric_limits<int64_t>::max()) * 1000;
  wide.AddInt128(v);
  EXPECT_FALSE(wide.ToInt64().has_value());
  wide.AddInt128(-v + 7);
  EXPECT_EQ(wide.ToInt64(), 7);

  ExactSum fraction;
  fraction.Add(0.5);
  EXPECT_FALSE(fraction.ToInt64().has_value());
}

TEST(ExactSumTest, TextIsCanonicalAndRoundTrips) {
  ExactSum zero;
  EXPECT_EQ(zero.ToString(), "0x0p+0");
  ExactSum one;
  one.Add(1.0);
  EXPECT_EQ(one.ToString(), "0x1p+0");
  ExactSum minus;
  minus.Add(-1.5);
  EXPECT_EQ(minus.ToString(), "-0x3p-1");

  std::vector<double> values = WideDoubles(300, 5);
  ExactSum s;
  for (double v : values) s.Add(v);
  s.AddInt64(-123456789);
  std::optional<ExactSum> back = ExactSum::FromString(s.ToString());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, s);
  EXPECT_EQ(back->Value(), s.Value());

  EXPECT_EQ(ExactSum::FromString("0x0p+0"), ExactSum());
  EXPECT_EQ(ExactSum::FromString("0X00A.p+0"), std::nullopt);
  for (const char* bad : {"", "1.5", "0x", "0xp+1", "0x1", "0x1p", "0x1g+1", "0x1p+1x", "--0x1p+0",
                          "0x1p+99999", "0x1p-2000"}) {
    EXPECT_EQ(ExactSum::FromString(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace mloop::stats
