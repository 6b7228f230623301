#include "stats/significance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "core/testing.h"

namespace mloop::stats {
namespace {

using test::ExpectError;

// Expected values below come from SciPy 1.10 / statsmodels 0.13 unless worked out by hand.
constexpr double kRel = 1e-12;

void ExpectRel(double got, double want, double rel = kRel) {
  EXPECT_NEAR(got, want, rel * std::fabs(want)) << "want " << want;
}

TEST(DistributionTest, MatchesScipy) {
  ExpectRel(NormalCdf(0), 0.5);
  ExpectRel(NormalSf(30), 4.906713927147908e-198, 1e-10);
  ExpectRel(NormalQuantile(0.975), 1.959963984540054);
  ExpectRel(ChiSquaredSf(361.0 / 60, 1), 0.014171388254012323);
  ExpectRel(ChiSquaredSf(1000, 1), 1.7958327848007363e-219, 1e-10);
  ExpectRel(ChiSquaredCdf(361.0 / 60, 1), 1 - 0.014171388254012323);
  ExpectRel(StudentTSf(2.5, 7), 0.020496109292876437);
  ExpectRel(StudentTCdf(-2.5, 7), 0.020496109292876437);
  ExpectRel(StudentTSf(30, 10), 1.9808961710156598e-11, 1e-10);
  ExpectRel(BinomialCdf(3, 10, 0.3), 0.6496107184000002);
  ExpectRel(BinomialSf(3, 10, 0.3), 0.3503892815999998);
  // 10 choose 3 * 0.3^3 * 0.7^7.
  ExpectRel(BinomialPmf(3, 10, 0.3), 120 * 0.027 * std::pow(0.7, 7));
}

TEST(DistributionTest, EdgesAndErrors) {
  EXPECT_EQ(NormalSf(std::numeric_limits<double>::infinity()), 0);
  EXPECT_EQ(ChiSquaredSf(-1, 1), 1);
  EXPECT_EQ(ChiSquaredCdf(0, 3), 0);
  EXPECT_EQ(StudentTCdf(-std::numeric_limits<double>::infinity(), 4), 0);
  EXPECT_EQ(BinomialCdf(-1, 10, 0.5), 0);
  EXPECT_EQ(BinomialCdf(10, 10, 0.5), 1);
  EXPECT_EQ(BinomialSf(-1, 10, 0.5), 1);
  EXPECT_EQ(BinomialPmf(11, 10, 0.5), 0);
  ExpectError(ErrorCode::kInvalidArgument, {"NaN"}, [] { NormalCdf(std::nan("")); });
  ExpectError(ErrorCode::kInvalidArgument, {"degrees of freedom", "0"}, [] { ChiSquaredSf(1, 0); });
  ExpectError(ErrorCode::kInvalidArgument, {"probability", "1.5"}, [] { BinomialCdf(1, 3, 1.5); });
  ExpectError(ErrorCode::kInvalidArgument, {"(0, 1)"}, [] { NormalQuantile(1); });
}

TEST(McNemarTest, ExactSmallCounts) {
  // b + c = 12 < 25: p = 2 * P(Binomial(12, 1/2) <= 2) = 2 * (1 + 12 + 66) / 4096.
  TestResult r = McNemar(10, 2);
  EXPECT_EQ(r.method, "mcnemar_exact");
  EXPECT_EQ(r.statistic, 2);
  EXPECT_EQ(r.df, 0);
  EXPECT_DOUBLE_EQ(r.p_value, 158.0 / 4096);
  EXPECT_DOUBLE_EQ(McNemar(2, 10).p_value, 158.0 / 4096);
  // Equal counts: twice a tail above 1/2, capped at 1.
  EXPECT_EQ(McNemar(5, 5).p_value, 1);
  // b + c = 24 is still exact (statsmodels: 0.8388197422027588).
  r = McNemar(13, 11);
  EXPECT_EQ(r.method, "mcnemar_exact");
  ExpectRel(r.p_value, 0.8388197422027588);
}

TEST(McNemarTest, ChiSquaredLargeCounts) {
  // b + c = 60 >= 25: (|40 - 20| - 1)^2 / 60 = 361 / 60.
  TestResult r = McNemar(40, 20);
  EXPECT_EQ(r.method, "mcnemar_chi2");
  EXPECT_DOUBLE_EQ(r.statistic, 361.0 / 60);
  EXPECT_EQ(r.df, 1);
  ExpectRel(r.p_value, 0.014171388254012323);
  EXPECT_EQ(McNemar(13, 12).method, "mcnemar_chi2");
  // statsmodels does not clip the correction: b == c gives 1 / (b + c).
  r = McNemar(30, 30);
  EXPECT_DOUBLE_EQ(r.statistic, 1.0 / 60);
  ExpectRel(r.p_value, 0.897278961260083);
  r = McNemar(2000, 1000);
  ExpectRel(r.statistic, 999.0 * 999 / 3000);
  ExpectRel(r.p_value, 2.5230053428432517e-74, 1e-10);
}

TEST(McNemarTest, ForcedMethodsAndNoDisagreement) {
  EXPECT_EQ(McNemar(40, 20, McNemarMethod::kExact).method, "mcnemar_exact");
  EXPECT_EQ(McNemar(10, 2, McNemarMethod::kChiSquared).method, "mcnemar_chi2");
  EXPECT_DOUBLE_EQ(McNemar(10, 2, McNemarMethod::kChiSquared).statistic, 49.0 / 12);
  for (McNemarMethod m :
       {McNemarMethod::kAuto, McNemarMethod::kExact, McNemarMethod::kChiSquared}) {
    TestResult r = McNemar(0, 0, m);
    EXPECT_EQ(r.statistic, 0);
    EXPECT_EQ(r.p_value, 1);
  }
  ExpectError(ErrorCode::kInvalidArgument, {"b = -1"}, [] { McNemar(-1, 3); });
}

TEST(McNemarTest, CountsDiscordantRows) {
  // Rows: both right, A only (x3), B only, both wrong.
  std::vector<uint8_t> a = {1, 1, 1, 1, 0, 0};
  std::vector<uint8_t> b = {1, 0, 0, 0, 1, 0};
  TestResult r = McNemar(a, b);
  EXPECT_EQ(r.statistic, 1);  // min(3, 1).
  EXPECT_DOUBLE_EQ(r.p_value, 2 * 5.0 / 16);
  EXPECT_DOUBLE_EQ(r.p_value, McNemar(3, 1).p_value);
  ExpectError(ErrorCode::kInvalidArgument, {"6", "5"}, [&] { McNemar(a, std::span(b).first(5)); });
}

TEST(BinomialTestTest, TwoSidedIsScipys) {
  // Symmetric: 2 * (1 + 10 + 45 + 120) / 1024.
  TestResult r = BinomialTest(3, 10);
  EXPECT_EQ(r.method, "binomial_exact");
  EXPECT_DOUBLE_EQ(r.statistic, 0.3);
  EXPECT_DOUBLE_EQ(r.p_value, 352.0 / 1024);
  // Asymmetric p: not twice the smaller tail (which would be 2 * 0.0867 for k = 7).
  ExpectRel(BinomialTest(7, 20, 0.2).p_value, 0.09822172861346881);
  ExpectRel(BinomialTest(2, 10, 0.3).p_value, 0.7331720679999996);
  ExpectRel(BinomialTest(1, 10, 0.3).p_value, 0.2995766784999998);
  EXPECT_EQ(BinomialTest(3, 10, 0.3).p_value, 1);  // k == n p.
  ExpectRel(BinomialTest(7, 20, 0.2, Alternative::kGreater).p_value, 0.08669251356740035);
  ExpectRel(BinomialTest(7, 20, 0.2, Alternative::kLess).p_value, 0.9678573369191248);
  EXPECT_EQ(BinomialTest(0, 5, 0).p_value, 1);
  EXPECT_EQ(BinomialTest(1, 5, 0).p_value, 0);
}

TEST(BinomialTestTest, Errors) {
  ExpectError(ErrorCode::kInvalidArgument, {"trials", "0"}, [] { BinomialTest(0, 0); });
  ExpectError(ErrorCode::kInvalidArgument, {"[0, 4]", "5"}, [] { BinomialTest(5, 4); });
  ExpectError(ErrorCode::kInvalidArgument, {"probability"}, [] { BinomialTest(1, 4, -0.1); });
}

TEST(PairedTTest, TinySample) {
  // d = {1, 1, 2, 2}: mean 3/2, variance 1/3, t = (3/2) / sqrt(1/12) = 3 sqrt(3).
  std::vector<double> a = {1, 2, 3, 4}, b = {0, 1, 1, 2};
  TestResult r = PairedTTest(a, b);
  EXPECT_EQ(r.method, "paired_t");
  EXPECT_EQ(r.df, 3);
  ExpectRel(r.statistic, 3 * std::sqrt(3.0));
  ExpectRel(r.p_value, 0.013846832988859047);
  ExpectRel(PairedTTest(a, b, Alternative::kLess).p_value, 0.9930765835055705);
  ExpectRel(PairedTTest(a, b, Alternative::kGreater).p_value, 0.013846832988859047 / 2);
  ExpectRel(PairedTTest(b, a).statistic, -3 * std::sqrt(3.0));
}

TEST(PairedTTest, ZeroVarianceFollowsScipy) {
  std::vector<double> a = {1, 2, 3}, shifted = {0.9, 1.9, 2.9};
  TestResult same = PairedTTest(a, a);
  EXPECT_TRUE(std::isnan(same.statistic));
  EXPECT_TRUE(std::isnan(same.p_value));
  std::vector<double> b = {0, 1, 2};
  TestResult r = PairedTTest(a, b);
  EXPECT_EQ(r.statistic, std::numeric_limits<double>::infinity());
  EXPECT_EQ(r.p_value, 0);
  EXPECT_EQ(PairedTTest(a, b, Alternative::kLess).p_value, 1);
}

TEST(PairedTTest, Errors) {
  std::vector<double> a = {1, 2, 3}, b = {1, 2};
  ExpectError(ErrorCode::kInvalidArgument, {"3", "2"}, [&] { PairedTTest(a, b); });
  ExpectError(ErrorCode::kInvalidArgument, {"at least 2"},
              [&] { PairedTTest(std::span(a).first(1), std::span(b).first(1)); });
  std::vector<double> nan = {1, std::nan(""), 3};
  ExpectError(ErrorCode::kInvalidArgument, {"row 1", "NaN"}, [&] { PairedTTest(a, nan); });
}

TEST(DeLongTest, TinyExampleByHand) {
  // Positives (rows 0, 1) and negatives (rows 2, 3).
  // A: X = {0.9, 0.4}, Y = {0.5, 0.1}: V10 = {1, 1/2}, V01 = {1/2, 1}, AUC 3/4.
  // B: X = {0.8, 0.7}, Y = {0.3, 0.7} (a tie): V10 = {1, 3/4}, V01 = {1, 3/4}, AUC 7/8.
  // S10 = [[1/8, 1/16], [1/16, 1/32]], S01 = [[1/8, -1/16], [-1/16, 1/32]], S = (S10 + S01)/2
  // = [[1/8, 0], [0, 1/32]]: Var = 5/32, z = (-1/8) / sqrt(5/32) = -1 / sqrt(10).
  std::vector<float> labels = {1, 1, 0, 0};
  std::vector<float> a = {0.9f, 0.4f, 0.5f, 0.1f};
  std::vector<float> b = {0.8f, 0.7f, 0.3f, 0.7f};
  DeLongResult r = DeLong(labels, a, b);
  EXPECT_DOUBLE_EQ(r.auc_a, 0.75);
  EXPECT_DOUBLE_EQ(r.auc_b, 0.875);
  EXPECT_DOUBLE_EQ(r.difference, -0.125);
  EXPECT_DOUBLE_EQ(r.std_error, std::sqrt(5.0 / 32));
  EXPECT_DOUBLE_EQ(r.z, -1 / std::sqrt(10.0));
  ExpectRel(r.p_value, 0.7518296340458492);
  ExpectRel(r.ci_low, -0.125 - 1.959963984540054 * std::sqrt(5.0 / 32));
  ExpectRel(r.ci_high, -0.125 + 1.959963984540054 * std::sqrt(5.0 / 32));
  // Swapping the scores mirrors everything.
  DeLongResult s = DeLong(labels, b, a);
  EXPECT_DOUBLE_EQ(s.z, -r.z);
  EXPECT_DOUBLE_EQ(s.p_value, r.p_value);
}

TEST(DeLongTest, IdenticalScores) {
  std::vector<float> labels = {1, 0, 1, 0, 1, 0};
  std::vector<float> a = {0.9f, 0.2f, 0.4f, 0.5f, 0.7f, 0.1f};
  DeLongResult r = DeLong(labels, a, a);
  EXPECT_EQ(r.difference, 0);
  EXPECT_EQ(r.std_error, 0);
  EXPECT_EQ(r.z, 0);
  EXPECT_EQ(r.p_value, 1);
}

TEST(DeLongTest, Errors) {
  std::vector<float> labels = {1, 0, 1, 0}, s = {0.1f, 0.2f, 0.3f, 0.4f}, short_s = {0.1f};
  ExpectError(ErrorCode::kInvalidArgument, {"4 labels", "1"}, [&] { DeLong(labels, s, short_s); });
  std::vector<float> bad = {1, 0, 2, 0};
  ExpectError(ErrorCode::kInvalidArgument, {"row 2", "not 0 or 1"}, [&] { DeLong(bad, s, s); });
  std::vector<float> one_pos = {1, 0, 0, 0};
  ExpectError(ErrorCode::kInvalidArgument, {"2 positives", "got 1 and 3"},
              [&] { DeLong(one_pos, s, s); });
  std::vector<float> nan = {0.1f, std::nanf(""), 0.3f, 0.4f};
  ExpectError(ErrorCode::kInvalidArgument, {"row 1", "NaN"}, [&] { DeLong(labels, s, nan); });
  ExpectError(ErrorCode::kInvalidArgument, {"confidence"}, [&] { DeLong(labels, s, s, 1.0); });
}

// --- Reference results on Adult, for tests/reference/significance_scipy.py ----------------

struct Adult {
  std::vector<float> label, age, fnlwgt, education_num, capital_gain, capital_loss, hours;
};

Adult ReadAdult() {
  Adult adult;
  const std::string path = std::string(MLOOP_DATASETS_DIR) + "/adult/adult.data";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::stringstream fields(line);
    for (std::string cell; std::getline(fields, cell, ',');) {
      f.push_back(cell.substr(cell.find_first_not_of(' ')));
    }
    if (f.size() != 15) {
      ADD_FAILURE() << "adult.data: " << f.size() << " fields in: " << line;
      break;
    }
    adult.age.push_back(std::stof(f[0]));
    adult.fnlwgt.push_back(std::stof(f[2]));
    adult.education_num.push_back(std::stof(f[4]));
    adult.capital_gain.push_back(std::stof(f[10]));
    adult.capital_loss.push_back(std::stof(f[11]));
    adult.hours.push_back(std::stof(f[12]));
    adult.label.push_back(f[14] == ">50K" ? 1.0f : 0.0f);
  }
  return adult;
}

std::string Num(double x) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", x);
  return buf;
}

const char* AlternativeName(Alternative a) {
  switch (a) {
    case Alternative::kLess:
      return "less";
    case Alternative::kGreater:
      return "greater";
    default:
      return "two-sided";
  }
}

// With MLOOP_SIGNIFICANCE_REFERENCE_DIR set, writes Adult's inputs and mloop's results of every
// test there (inputs.csv, mcnemar.csv, binomtest.csv, ttest.csv, delong.csv) for
// tests/reference/significance_scipy.py to recompute with statsmodels, SciPy and numpy; without
// it, into a temporary folder, so the same computations run in every build.
TEST(SignificanceReferenceTest, WritesAdultResults) {
  test::TempDir scratch;
  const char* env_dir = std::getenv("MLOOP_SIGNIFICANCE_REFERENCE_DIR");
  const std::filesystem::path dir = env_dir != nullptr ? env_dir : scratch.path().string();
  const Adult adult = ReadAdult();
  const size_t total = adult.label.size();
  ASSERT_EQ(total, 32561u);

  // Two simple classifiers, "over 50K when age >= 40" and "when education_num >= 13", and two
  // probability models on the same columns whose per-row log losses the t-test compares.
  std::vector<uint8_t> by_age(total), by_education(total), by_hours(total);
  std::vector<double> loss_age(total), loss_education(total);
  for (size_t r = 0; r < total; ++r) {
    const bool y = adult.label[r] == 1;
    by_age[r] = (adult.age[r] >= 40) == y;
    by_education[r] = (adult.education_num[r] >= 13) == y;
    by_hours[r] = (adult.hours[r] >= 45) == y;
    const double pa = 1 / (1 + std::exp(-(adult.age[r] - 45.0) / 10));
    const double pe = 1 / (1 + std::exp(-(adult.education_num[r] - 12.0) / 2));
    loss_age[r] = -std::log(y ? pa : 1 - pa);
    loss_education[r] = -std::log(y ? pe : 1 - pe);
  }
  {
    std::ofstream out(dir / "inputs.csv");
    out << "label,age,fnlwgt,education_num,capital_gain,capital_loss,hours_per_week,"
           "correct_age,correct_education,correct_hours,loss_age,loss_education\n";
    for (size_t r = 0; r < total; ++r) {
      out << Num(adult.label[r]) << ',' << Num(adult.age[r]) << ',' << Num(adult.fnlwgt[r]) << ','
          << Num(adult.education_num[r]) << ',' << Num(adult.capital_gain[r]) << ','
          << Num(adult.capital_loss[r]) << ',' << Num(adult.hours[r]) << ',' << int{by_age[r]}
          << ',' << int{by_education[r]} << ',' << int{by_hours[r]} << ',' << Num(loss_age[r])
          << ',' << Num(loss_education[r]) << '\n';
    }
    ASSERT_TRUE(out.good());
  }

  const std::vector<size_t> prefixes = {20,  40,  60,   100,  150,   200,
                                        300, 500, 1000, 3000, 10000, total};
  {
    std::ofstream out(dir / "mcnemar.csv");
    out << "a,b,rows,method,statistic,p_value,df,used\n";
    const std::vector<std::pair<std::string, const std::vector<uint8_t>*>> pairs = {
        {"correct_age", &by_age},
        {"correct_education", &by_education},
        {"correct_hours", &by_hours}};
    size_t exact = 0, chi2 = 0;
    for (size_t x = 0; x < pairs.size(); ++x) {
      for (size_t y = x + 1; y < pairs.size(); ++y) {
        for (size_t rows : prefixes) {
          for (auto [name, method] : {std::pair{"auto", McNemarMethod::kAuto},
                                      {"exact", McNemarMethod::kExact},
                                      {"chi2", McNemarMethod::kChiSquared}}) {
            TestResult r = McNemar(std::span(*pairs[x].second).first(rows),
                                   std::span(*pairs[y].second).first(rows), method);
            (r.method == "mcnemar_exact" ? exact : chi2) += method == McNemarMethod::kAuto;
            out << pairs[x].first << ',' << pairs[y].first << ',' << rows << ',' << name << ','
                << Num(r.statistic) << ',' << Num(r.p_value) << ',' << r.df << ',' << r.method
                << '\n';
          }
        }
      }
    }
    EXPECT_GT(exact, 0u);  // Both regimes of the automatic choice are exercised.
    EXPECT_GT(chi2, 0u);
    ASSERT_TRUE(out.good());
  }
  {
    std::ofstream out(dir / "binomtest.csv");
    out << "k,n,p,alternative,statistic,p_value\n";
    for (size_t rows : prefixes) {
      int64_t k = 0;
      for (size_t r = 0; r < rows; ++r) k += adult.label[r] == 1;
      const int64_t n = static_cast<int64_t>(rows);
      for (double p : {0.5, 0.2408, 0.25, 0.1, 0.9}) {
        for (Alternative alt :
             {Alternative::kTwoSided, Alternative::kLess, Alternative::kGreater}) {
          TestResult r = BinomialTest(k, n, p, alt);
          out << k << ',' << n << ',' << Num(p) << ',' << AlternativeName(alt) << ','
              << Num(r.statistic) << ',' << Num(r.p_value) << '\n';
        }
      }
    }
    ASSERT_TRUE(out.good());
  }
  {
    std::ofstream out(dir / "ttest.csv");
    out << "rows,alternative,statistic,p_value,df\n";
    for (size_t rows : prefixes) {
      for (Alternative alt : {Alternative::kTwoSided, Alternative::kLess, Alternative::kGreater}) {
        TestResult r = PairedTTest(std::span(loss_age).first(rows),
                                   std::span(loss_education).first(rows), alt);
        out << rows << ',' << AlternativeName(alt) << ',' << Num(r.statistic) << ','
            << Num(r.p_value) << ',' << r.df << '\n';
      }
    }
    ASSERT_TRUE(out.good());
  }
  {
    std::ofstream out(dir / "delong.csv");
    out << "a,b,rows,auc_a,auc_b,difference,std_error,z,p_value,ci_low,ci_high\n";
    const std::vector<std::pair<std::string, const std::vector<float>*>> pairs = {
        {"age", &adult.age},
        {"education_num", &adult.education_num},
        {"hours_per_week", &adult.hours},
        {"fnlwgt", &adult.fnlwgt},
        {"capital_gain", &adult.capital_gain},
        {"capital_loss", &adult.capital_loss}};
    for (auto [x, y] : {std::pair{0, 1}, {1, 2}, {0, 3}, {4, 5}, {2, 4}}) {
      for (size_t rows : {size_t{100}, size_t{1000}, size_t{3000}, total}) {
        DeLongResult r =
            DeLong(std::span(adult.label).first(rows), std::span(*pairs[x].second).first(rows),
                   std::span(*pairs[y].second).first(rows));
        out << pairs[x].first << ',' << pairs[y].first << ',' << rows << ',' << Num(r.auc_a) << ','
            << Num(r.auc_b) << ',' << Num(r.difference) << ',' << Num(r.std_error) << ','
            << Num(r.z) << ',' << Num(r.p_value) << ',' << Num(r.ci_low) << ',' << Num(r.ci_high)
            << '\n';
      }
    }
    ASSERT_TRUE(out.good());
  }
}

}  // namespace
}  // namespace mloop::stats
