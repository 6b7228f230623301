#include "stats/drift.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/testing.h"

namespace mloop::stats {
namespace {

using table::Column;
using table::DataType;
using test::ExpectError;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<double> Normal(size_t n, double mean, double sd, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(mean, sd);
  std::vector<double> v(n);
  for (double& x : v) x = d(rng);
  return v;
}

// A float64 column of `values`, with `nulls` nulls after them.
ColumnProfile DoubleProfile(const std::vector<double>& values, size_t nulls = 0) {
  Column c("x", DataType::kFloat64);
  for (double x : values) c.AppendDouble(x);
  for (size_t i = 0; i < nulls; ++i) c.AppendNull();
  return ProfileColumn(c);
}

// An int64 column holding value v counts[v] times.
ColumnProfile IntProfile(const std::vector<size_t>& counts) {
  Column c("n", DataType::kInt64);
  for (size_t v = 0; v < counts.size(); ++v) {
    for (size_t i = 0; i < counts[v]; ++i) c.AppendInt(static_cast<int64_t>(v));
  }
  return ProfileColumn(c);
}

ColumnProfile TextProfile(DataType type,
                          const std::vector<std::pair<std::string, size_t>>& counts) {
  Column c("city", type);
  for (const auto& [value, n] : counts) {
    for (size_t i = 0; i < n; ++i) c.AppendString(value);
  }
  return ProfileColumn(c);
}

double SumOfShares(const PsiResult& r, bool reference) {
  double sum = 0;
  for (const PsiBin& b : r.bins) sum += reference ? b.reference : b.current;
  return sum;
}

TEST(PsiFromProportionsTest, MatchesHandComputedValues) {
  // (0.4 - 0.5) ln(0.4 / 0.5) + (0.4 - 0.3) ln(0.4 / 0.3) + 0.
  EXPECT_NEAR(PsiFromProportions(std::vector<double>{0.5, 0.3, 0.2},
                                 std::vector<double>{0.4, 0.4, 0.2}, 1e-4),
              0.051082562377, 1e-12);
  // The empty reference bin is floored at epsilon: + (0.1 - 1e-4) ln(0.1 / 1e-4).
  EXPECT_NEAR(PsiFromProportions(std::vector<double>{0.5, 0.5, 0.0},
                                 std::vector<double>{0.5, 0.4, 0.1}, 1e-4),
              0.712399107502, 1e-12);
  EXPECT_EQ(PsiFromProportions(std::vector<double>{0.0, 1.0}, std::vector<double>{0.0, 1.0}, 1e-4),
            0.0);
  EXPECT_EQ(PsiFromProportions(std::vector<double>{}, std::vector<double>{}, 1e-4), 0.0);
}

TEST(PsiFromProportionsTest, RejectsBadInput) {
  std::vector<double> two = {0.5, 0.5};
  std::vector<double> three = {0.2, 0.3, 0.5};
  ExpectError(ErrorCode::kInvalidArgument, {"2 reference shares", "3 current shares"},
              [&] { PsiFromProportions(two, three, 1e-4); });
  ExpectError(ErrorCode::kInvalidArgument, {"share 1"}, [&] {
    PsiFromProportions(two, std::vector<double>{0.5, -0.1}, 1e-4);
  });
  ExpectError(ErrorCode::kInvalidArgument, {"share 0"}, [&] {
    PsiFromProportions(std::vector<double>{kNaN, 0.5}, two, 1e-4);
  });
  for (double epsilon : {0.0, -1.0, 1.0, kNaN}) {
    ExpectError(ErrorCode::kInvalidArgument, {"epsilon"},
                [&] { PsiFromProportions(two, two, epsilon); });
  }
}

TEST(PopulationStabilityIndexTest, IdenticalProfilesHaveNoDrift) {
  ColumnProfile p = DoubleProfile(Normal(100000, 5, 2, 1), 100);
  PsiResult r = PopulationStabilityIndex(p, p);
  EXPECT_LT(r.psi, 1e-3);
  ASSERT_EQ(r.bins.size(), 11u);  // Deciles and the null bin.
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(r.bins[i].kind, PsiBinKind::kRange);
    EXPECT_EQ(r.bins[i].reference, r.bins[i].current);
    // The sketch's rank error is about 1.65% per edge at k = 200.
    EXPECT_NEAR(r.bins[i].reference, 0.1 * 100000 / 100100, 0.02);
  }
  EXPECT_EQ(r.bins.front().lower, -kInf);
  EXPECT_EQ(r.bins.back().kind, PsiBinKind::kNull);
  EXPECT_DOUBLE_EQ(r.bins.back().reference, 100.0 / 100100);
  EXPECT_NEAR(SumOfShares(r, true), 1.0, 1e-12);
}

TEST(PopulationStabilityIndexTest, SameDistributionHasLittleDrift) {
  PsiResult r = PopulationStabilityIndex(DoubleProfile(Normal(100000, 0, 1, 2)),
                                         DoubleProfile(Normal(100000, 0, 1, 3)));
  EXPECT_LT(r.psi, 0.01);
}

TEST(PopulationStabilityIndexTest, ShiftedNormalMatchesExactPsiWithSameEdges) {
  std::vector<double> ref = Normal(100000, 0, 1, 4);
  std::vector<double> cur = Normal(100000, 1, 1, 5);
  PsiResult r = PopulationStabilityIndex(DoubleProfile(ref), DoubleProfile(cur));
  EXPECT_GT(r.psi, 0.2);

  // The exact shares of the raw values in the same bins.
  std::vector<double> exact_ref;
  std::vector<double> exact_cur;
  double sum = 0;
  for (const PsiBin& b : r.bins) {
    sum += b.contribution;
    if (b.kind != PsiBinKind::kRange) {
      exact_ref.push_back(0);
      exact_cur.push_back(0);
      continue;
    }
    auto share = [&](const std::vector<double>& v) {
      size_t in = 0;
      for (double x : v) in += (x > b.lower && x <= b.upper) ? 1 : 0;
      return static_cast<double>(in) / static_cast<double>(v.size());
    };
    exact_ref.push_back(share(ref));
    exact_cur.push_back(share(cur));
  }
  double exact = PsiFromProportions(exact_ref, exact_cur, 1e-4);
  EXPECT_GT(exact, 0.2);
  EXPECT_NEAR(r.psi, exact, 0.02);
  EXPECT_NEAR(sum, r.psi, 1e-12);
  ASSERT_EQ(r.bins.size(), 11u);
  EXPECT_EQ(r.bins[9].upper, kInf);
  EXPECT_TRUE(r.bins[9].label.ends_with(", +inf)")) << r.bins[9].label;
}

TEST(PopulationStabilityIndexTest, FewDistinctIntegersGetOneBinPerValue) {
  // 100 values: the sketch holds them all and answers exactly. The deciles are
  // 0, 0, 0, 0, 1, 1, 1, 2, 2: edges {0, 1, 2}.
  PsiResult r =
      PopulationStabilityIndex(IntProfile({40, 30, 20, 10}), IntProfile({25, 25, 25, 25}));
  ASSERT_EQ(r.bins.size(), 5u);
  EXPECT_EQ(r.bins[0].label, "(-inf, 0]");
  EXPECT_EQ(r.bins[1].label, "(0, 1]");
  EXPECT_EQ(r.bins[2].label, "(1, 2]");
  EXPECT_EQ(r.bins[3].label, "(2, +inf)");
  EXPECT_EQ(r.bins[4].label, "<null>");
  EXPECT_EQ(r.bins[1].lower, 0);
  EXPECT_EQ(r.bins[1].upper, 1);
  const double ref_shares[] = {0.4, 0.3, 0.2, 0.1, 0};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_DOUBLE_EQ(r.bins[i].reference, ref_shares[i]) << i;
    EXPECT_DOUBLE_EQ(r.bins[i].current, i < 4 ? 0.25 : 0) << i;
  }
  // Sum of (0.25 - p) ln(0.25 / p) for p = 0.4, 0.3, 0.2, 0.1.
  EXPECT_NEAR(r.psi, 0.228217409573, 1e-12);
}

TEST(PopulationStabilityIndexTest, ManyIntegersStayNearExact) {
  // 100k values of 0..19: the profile sketches repeated integers by weight.
  std::mt19937_64 rng(6);
  std::binomial_distribution<int> ref_d(19, 0.5);
  std::binomial_distribution<int> cur_d(19, 0.55);
  std::vector<size_t> ref(20), cur(20);
  for (int i = 0; i < 100000; ++i) {
    ++ref[static_cast<size_t>(ref_d(rng))];
    ++cur[static_cast<size_t>(cur_d(rng))];
  }
  PsiResult r = PopulationStabilityIndex(IntProfile(ref), IntProfile(cur));
  std::vector<double> exact_ref;
  std::vector<double> exact_cur;
  for (const PsiBin& b : r.bins) {
    double in_ref = 0;
    double in_cur = 0;
    for (size_t v = 0; v < 20; ++v) {
      double x = static_cast<double>(v);
      if (b.kind == PsiBinKind::kRange && x > b.lower && x <= b.upper) {
        in_ref += static_cast<double>(ref[v]) / 100000;
        in_cur += static_cast<double>(cur[v]) / 100000;
      }
    }
    exact_ref.push_back(in_ref);
    exact_cur.push_back(in_cur);
  }
  // Edges fall on integers, deduplicated: fewer than 10 range bins.
  EXPECT_LE(r.bins.size(), 11u);
  EXPECT_NEAR(r.psi, PsiFromProportions(exact_ref, exact_cur, 1e-4), 0.02);
  EXPECT_GT(r.psi, 0.1);
}

TEST(PopulationStabilityIndexTest, NullsHaveTheirOwnBin) {
  std::vector<double> values = Normal(900, 0, 1, 7);
  // 10% nulls against 30% nulls, the values alike.
  PsiResult r = PopulationStabilityIndex(
      DoubleProfile(values, 100), DoubleProfile({values.begin(), values.begin() + 700}, 300));
  const PsiBin& null_bin = r.bins.back();
  EXPECT_EQ(null_bin.kind, PsiBinKind::kNull);
  EXPECT_DOUBLE_EQ(null_bin.reference, 0.1);
  EXPECT_DOUBLE_EQ(null_bin.current, 0.3);
  EXPECT_NEAR(null_bin.contribution, 0.2 * std::log(3.0), 1e-12);
  EXPECT_TRUE(std::isnan(null_bin.lower));
  EXPECT_NEAR(SumOfShares(r, true), 1.0, 1e-12);
  EXPECT_NEAR(SumOfShares(r, false), 1.0, 1e-12);
}

TEST(PopulationStabilityIndexTest, NonFiniteValuesHaveTheirOwnBin) {
  std::vector<double> values = Normal(100, 0, 1, 8);
  PsiResult same = PopulationStabilityIndex(DoubleProfile(values), DoubleProfile(values));
  for (const PsiBin& b : same.bins) EXPECT_NE(b.kind, PsiBinKind::kNonFinite);

  std::vector<double> with_nan = values;
  with_nan[0] = kNaN;
  with_nan[1] = kInf;
  PsiResult r = PopulationStabilityIndex(DoubleProfile(values), DoubleProfile(with_nan));
  ASSERT_GE(r.bins.size(), 2u);
  const PsiBin& bin = r.bins[r.bins.size() - 2];
  EXPECT_EQ(bin.kind, PsiBinKind::kNonFinite);
  EXPECT_EQ(bin.label, "<nan/inf>");
  EXPECT_EQ(bin.reference, 0);
  EXPECT_DOUBLE_EQ(bin.current, 0.02);
  EXPECT_NEAR(SumOfShares(r, false), 1.0, 1e-12);
}

TEST(PopulationStabilityIndexTest, CategoricalShift) {
  ColumnProfile ref = TextProfile(DataType::kString, {{"a", 50}, {"b", 30}, {"c", 20}});
  // A category column is comparable with a string column.
  ColumnProfile cur = TextProfile(DataType::kCategory, {{"a", 40}, {"b", 30}, {"d", 30}});
  PsiResult r = PopulationStabilityIndex(ref, cur);
  ASSERT_EQ(r.bins.size(), 6u);
  const char* labels[] = {"a", "b", "c", "d", "<other>", "<null>"};
  const double ref_shares[] = {0.5, 0.3, 0.2, 0, 0, 0};
  const double cur_shares[] = {0.4, 0.3, 0, 0.3, 0, 0};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(r.bins[i].label, labels[i]);
    EXPECT_DOUBLE_EQ(r.bins[i].reference, ref_shares[i]) << i;
    EXPECT_DOUBLE_EQ(r.bins[i].current, cur_shares[i]) << i;
  }
  EXPECT_EQ(r.bins[0].kind, PsiBinKind::kValue);
  EXPECT_EQ(r.bins[4].kind, PsiBinKind::kOther);
  // -0.1 ln(0.8) + (1e-4 - 0.2) ln(1e-4 / 0.2) + (0.3 - 1e-4) ln(0.3 / 1e-4).
  EXPECT_NEAR(r.psi, 3.942844390332, 1e-9);
}

TEST(PopulationStabilityIndexTest, OtherBinHoldsValuesNeitherTopKLists) {
  // 200 values once each and "x" 800 times: the top-k (64 counters) keeps "x" and
  // prunes the rest, which go to "<other>".
  std::vector<std::pair<std::string, size_t>> ref_counts = {{"x", 800}};
  for (int i = 0; i < 200; ++i) ref_counts.emplace_back("v" + std::to_string(i), 1);
  ColumnProfile ref = TextProfile(DataType::kString, ref_counts);
  ColumnProfile cur = TextProfile(DataType::kString, {{"x", 500}, {"y", 500}});
  PsiResult r = PopulationStabilityIndex(ref, cur);
  EXPECT_NEAR(SumOfShares(r, true), 1.0, 1e-12);
  EXPECT_NEAR(SumOfShares(r, false), 1.0, 1e-12);
  ASSERT_GE(r.bins.size(), 2u);
  const PsiBin& other = r.bins[r.bins.size() - 2];
  EXPECT_EQ(other.kind, PsiBinKind::kOther);
  EXPECT_GT(other.reference, 0);
  EXPECT_EQ(other.current, 0);
  EXPECT_GT(r.psi, 0.2);
}

TEST(PopulationStabilityIndexTest, BoolColumns) {
  auto profile = [](size_t nulls, size_t falses, size_t trues) {
    Column c("flag", DataType::kBool);
    for (size_t i = 0; i < nulls; ++i) c.AppendNull();
    for (size_t i = 0; i < falses; ++i) c.AppendBool(false);
    for (size_t i = 0; i < trues; ++i) c.AppendBool(true);
    return ProfileColumn(c);
  };
  PsiResult r = PopulationStabilityIndex(profile(10, 81, 9), profile(30, 63, 7));
  ASSERT_EQ(r.bins.size(), 3u);
  EXPECT_EQ(r.bins[0].label, "false");
  EXPECT_EQ(r.bins[1].label, "true");
  // 0.2 ln 3 + (0.63 - 0.81) ln(0.63 / 0.81) + (0.07 - 0.09) ln(0.07 / 0.09).
  EXPECT_NEAR(r.psi, 0.269985343390, 1e-12);
}

TEST(PopulationStabilityIndexTest, DatesAreBinnedLikeNumbers) {
  Column ref("day", DataType::kDate);
  Column cur("day", DataType::kDate);
  for (int64_t d = 0; d < 1000; ++d) {
    ref.AppendInt(19000 + d);
    cur.AppendInt(19500 + d);
  }
  PsiResult r = PopulationStabilityIndex(ProfileColumn(ref), ProfileColumn(cur));
  EXPECT_EQ(r.bins.size(), 11u);
  // Half of the current days are past the reference's last edge.
  EXPECT_NEAR(r.bins[9].current, 0.6, 0.03);
  EXPECT_GT(r.psi, 1.0);
}

TEST(PopulationStabilityIndexTest, ConfigurableBins) {
  ColumnProfile p = DoubleProfile(Normal(1000, 0, 1, 9));
  EXPECT_EQ(PopulationStabilityIndex(p, p, {.bins = 4}).bins.size(), 5u);
  PsiResult one = PopulationStabilityIndex(p, p, {.bins = 1});
  ASSERT_EQ(one.bins.size(), 2u);
  EXPECT_EQ(one.bins[0].label, "(-inf, +inf)");
  EXPECT_EQ(one.bins[0].reference, 1);
}

TEST(PopulationStabilityIndexTest, AllNullReferenceHasOneRangeBin) {
  PsiResult r = PopulationStabilityIndex(DoubleProfile({}, 10), DoubleProfile({1, 2, 3}, 1));
  ASSERT_EQ(r.bins.size(), 2u);
  EXPECT_EQ(r.bins[0].reference, 0);
  EXPECT_DOUBLE_EQ(r.bins[0].current, 0.75);
  EXPECT_EQ(r.bins[1].reference, 1);
  EXPECT_DOUBLE_EQ(r.bins[1].current, 0.25);
}

TEST(PopulationStabilityIndexTest, RejectsIncompatibleTypesAndEmptyProfiles) {
  ColumnProfile numbers = IntProfile({1, 2, 3});
  ColumnProfile doubles = DoubleProfile({1, 2, 3});
  ColumnProfile text = TextProfile(DataType::kString, {{"a", 1}});
  ExpectError(ErrorCode::kInvalidArgument, {"columns 'n' and 'city'", "int64", "string"},
              [&] { PopulationStabilityIndex(numbers, text); });
  Column day("x", DataType::kDate);
  day.AppendInt(1);
  Column ts("x", DataType::kTimestamp);
  ts.AppendInt(1);
  ExpectError(ErrorCode::kInvalidArgument, {"column 'x'", "date", "timestamp"},
              [&] { PopulationStabilityIndex(ProfileColumn(day), ProfileColumn(ts)); });
  // int64 against float64 is allowed.
  EXPECT_NO_THROW(PopulationStabilityIndex(numbers, doubles));

  ColumnProfile empty("x", DataType::kFloat64);
  ExpectError(ErrorCode::kInvalidArgument, {"column 'x'", "current profile has no rows"},
              [&] { PopulationStabilityIndex(doubles, empty); });
  ExpectError(ErrorCode::kInvalidArgument, {"reference profile has no rows"},
              [&] { PopulationStabilityIndex(empty, doubles); });
  ExpectError(ErrorCode::kInvalidArgument, {"bins"},
              [&] { PopulationStabilityIndex(doubles, doubles, {.bins = 0}); });
  ExpectError(ErrorCode::kInvalidArgument, {"epsilon"},
              [&] { PopulationStabilityIndex(doubles, doubles, {.epsilon = 0}); });
}

}  // namespace
}  // namespace mloop::stats
