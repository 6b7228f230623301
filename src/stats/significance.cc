#include "stats/significance.h"

#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <limits>
#include <numeric>
#include <vector>

#include "core/error.h"
#include "stats/exact_sum.h"

namespace mloop::stats {
namespace {

namespace bm = boost::math;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

void CheckNotNaN(double x, const char* what) {
  if (std::isnan(x)) ThrowInvalidArgument(std::string(what) + ": argument is NaN");
}

void CheckDf(double df, const char* what) {
  if (!(df > 0)) {
    ThrowInvalidArgument(std::string(what) + ": degrees of freedom must be > 0, got " +
                         std::to_string(df));
  }
}

void CheckBinomial(int64_t n, double p, const char* what) {
  if (n < 0) {
    ThrowInvalidArgument(std::string(what) + ": trials must be >= 0, got " + std::to_string(n));
  }
  if (!(p >= 0 && p <= 1)) {
    ThrowInvalidArgument(std::string(what) + ": probability must be in [0, 1], got " +
                         std::to_string(p));
  }
}

// Arguments are checked before every Boost call, so Boost's default policy (throw on a domain
// error) never fires on user input; what remains (a series that fails to converge) is a bug on
// our side, reported as mloop::Error internal rather than a Boost exception.
template <typename F>
double Evaluate(const char* what, const F& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    ThrowInternal(std::string(what) + ": Boost.Math failed: " + e.what());
  }
}

bm::binomial_distribution<double> Binomial(int64_t n, double p) {
  return bm::binomial_distribution<double>(static_cast<double>(n), p);
}

// Midranks (1-based, ties get the mean of their ranks) of `values`, in their order.
std::vector<double> MidRanks(const std::vector<float>& values) {
  std::vector<uint32_t> order(values.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&](uint32_t x, uint32_t y) { return values[x] < values[y]; });
  std::vector<double> ranks(values.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i + 1;
    while (j < order.size() && values[order[j]] == values[order[i]]) ++j;
    // Positions i..j-1 hold ranks i+1..j; their mean is (i + j + 1) / 2.
    double midrank = 0.5 * static_cast<double>(i + j + 1);
    for (size_t t = i; t < j; ++t) ranks[order[t]] = midrank;
    i = j;
  }
  return ranks;
}

// One score's DeLong structural components (Sun & Xu 2014): v10[i] = mean over negatives of
// psi(X_i, Y_j) for each positive, v01[j] = mean over positives of psi(X_i, Y_j).
struct Components {
  double auc;
  std::vector<double> v10;
  std::vector<double> v01;
};

Components StructuralComponents(std::span<const float> labels, std::span<const float> scores) {
  std::vector<float> pos, neg, all;
  for (size_t r = 0; r < labels.size(); ++r) (labels[r] == 1 ? pos : neg).push_back(scores[r]);
  all.reserve(labels.size());
  all.insert(all.end(), pos.begin(), pos.end());
  all.insert(all.end(), neg.begin(), neg.end());
  const std::vector<double> tx = MidRanks(pos);
  const std::vector<double> ty = MidRanks(neg);
  const std::vector<double> tz = MidRanks(all);
  const size_t m = pos.size();
  const double dm = static_cast<double>(m);
  const double dn = static_cast<double>(neg.size());
  Components c;
  c.v10.resize(m);
  c.v01.resize(neg.size());
  // tz - tx is the count of negatives below X_i plus half those equal to it: a multiple of
  // 1/2, exact in double, so the AUC's numerator is exact below 2^52 pairs.
  double pairs_won = 0;
  for (size_t i = 0; i < m; ++i) {
    const double won = tz[i] - tx[i];
    pairs_won += won;
    c.v10[i] = won / dn;
  }
  for (size_t j = 0; j < neg.size(); ++j) c.v01[j] = 1.0 - (tz[m + j] - ty[j]) / dm;
  c.auc = pairs_won / (dm * dn);
  return c;
}

// Sample covariance (divisor size - 1) of x and y around their known means.
double Covariance(const std::vector<double>& x, double mean_x, const std::vector<double>& y,
                  double mean_y) {
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) sum += (x[i] - mean_x) * (y[i] - mean_y);
  return sum / static_cast<double>(x.size() - 1);
}

// scipy.stats._binomtest._binary_search_for_binom_tst: the i in [lo, hi] with
// a(i) <= d < a(i + 1), for a ascending on [lo, hi].
template <typename F>
int64_t BinarySearchForBinomTest(const F& a, double d, int64_t lo, int64_t hi) {
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    const double midval = a(mid);
    if (midval < d) {
      lo = mid + 1;
    } else if (midval > d) {
      hi = mid - 1;
    } else {
      return mid;
    }
  }
  return a(lo) <= d ? lo : lo - 1;
}

}  // namespace

double NormalCdf(double z) {
  CheckNotNaN(z, "NormalCdf");
  if (std::isinf(z)) return z > 0 ? 1.0 : 0.0;
  return Evaluate("NormalCdf", [&] { return bm::cdf(bm::normal_distribution<double>(), z); });
}

double NormalSf(double z) {
  CheckNotNaN(z, "NormalSf");
  if (std::isinf(z)) return z > 0 ? 0.0 : 1.0;
  return Evaluate("NormalSf",
                  [&] { return bm::cdf(bm::complement(bm::normal_distribution<double>(), z)); });
}

double NormalQuantile(double q) {
  if (!(q > 0 && q < 1)) {
    ThrowInvalidArgument("NormalQuantile: probability must be in (0, 1), got " + std::to_string(q));
  }
  return Evaluate("NormalQuantile",
                  [&] { return bm::quantile(bm::normal_distribution<double>(), q); });
}

double ChiSquaredCdf(double x, double df) {
  CheckNotNaN(x, "ChiSquaredCdf");
  CheckDf(df, "ChiSquaredCdf");
  if (x <= 0) return 0.0;
  if (std::isinf(x)) return 1.0;
  return Evaluate("ChiSquaredCdf",
                  [&] { return bm::cdf(bm::chi_squared_distribution<double>(df), x); });
}

double ChiSquaredSf(double x, double df) {
  CheckNotNaN(x, "ChiSquaredSf");
  CheckDf(df, "ChiSquaredSf");
  if (x <= 0) return 1.0;
  if (std::isinf(x)) return 0.0;
  return Evaluate("ChiSquaredSf", [&] {
    return bm::cdf(bm::complement(bm::chi_squared_distribution<double>(df), x));
  });
}

double StudentTCdf(double t, double df) {
  CheckNotNaN(t, "StudentTCdf");
  CheckDf(df, "StudentTCdf");
  if (std::isinf(t)) return t > 0 ? 1.0 : 0.0;
  return Evaluate("StudentTCdf",
                  [&] { return bm::cdf(bm::students_t_distribution<double>(df), t); });
}

double StudentTSf(double t, double df) {
  CheckNotNaN(t, "StudentTSf");
  CheckDf(df, "StudentTSf");
  if (std::isinf(t)) return t > 0 ? 0.0 : 1.0;
  return Evaluate("StudentTSf", [&] {
    return bm::cdf(bm::complement(bm::students_t_distribution<double>(df), t));
  });
}

double BinomialPmf(int64_t k, int64_t n, double p) {
  CheckBinomial(n, p, "BinomialPmf");
  if (k < 0 || k > n) return 0.0;
  return Evaluate("BinomialPmf", [&] { return bm::pdf(Binomial(n, p), static_cast<double>(k)); });
}

double BinomialCdf(int64_t k, int64_t n, double p) {
  CheckBinomial(n, p, "BinomialCdf");
  if (k < 0) return 0.0;
  if (k >= n) return 1.0;
  return Evaluate("BinomialCdf", [&] { return bm::cdf(Binomial(n, p), static_cast<double>(k)); });
}

double BinomialSf(int64_t k, int64_t n, double p) {
  CheckBinomial(n, p, "BinomialSf");
  if (k < 0) return 1.0;
  if (k >= n) return 0.0;
  return Evaluate("BinomialSf",
                  [&] { return bm::cdf(bm::complement(Binomial(n, p), static_cast<double>(k))); });
}

TestResult McNemar(int64_t b, int64_t c, McNemarMethod method) {
  if (b < 0 || c < 0) {
    ThrowInvalidArgument("McNemar: discordant counts must be >= 0, got b = " + std::to_string(b) +
                         ", c = " + std::to_string(c));
  }
  const int64_t n = b + c;
  const bool exact = method == McNemarMethod::kExact || (method == McNemarMethod::kAuto && n < 25);
  if (exact) {
    const int64_t low = std::min(b, c);
    const double p = n == 0 ? 1.0 : std::min(1.0, 2.0 * BinomialCdf(low, n, 0.5));
    return {static_cast<double>(low), p, 0, "mcnemar_exact"};
  }
  if (n == 0) return {0.0, 1.0, 1, "mcnemar_chi2"};
  const double diff = static_cast<double>(std::llabs(b - c)) - 1.0;
  const double statistic = diff * diff / static_cast<double>(n);
  return {statistic, ChiSquaredSf(statistic, 1), 1, "mcnemar_chi2"};
}

TestResult McNemar(std::span<const uint8_t> a_correct, std::span<const uint8_t> b_correct,
                   McNemarMethod method) {
  if (a_correct.size() != b_correct.size()) {
    ThrowInvalidArgument(
        "McNemar: correctness vectors differ in size: " + std::to_string(a_correct.size()) +
        " and " + std::to_string(b_correct.size()));
  }
  int64_t b = 0, c = 0;
  for (size_t i = 0; i < a_correct.size(); ++i) {
    const bool a = a_correct[i] != 0, other = b_correct[i] != 0;
    b += a && !other;
    c += !a && other;
  }
  return McNemar(b, c, method);
}

TestResult BinomialTest(int64_t k, int64_t n, double p, Alternative alternative) {
  if (n < 1) ThrowInvalidArgument("BinomialTest: trials must be >= 1, got " + std::to_string(n));
  if (k < 0 || k > n) {
    ThrowInvalidArgument("BinomialTest: successes must be in [0, " + std::to_string(n) + "], got " +
                         std::to_string(k));
  }
  CheckBinomial(n, p, "BinomialTest");
  const double statistic = static_cast<double>(k) / static_cast<double>(n);
  double pval = 1.0;
  switch (alternative) {
    case Alternative::kLess:
      pval = BinomialCdf(k, n, p);
      break;
    case Alternative::kGreater:
      pval = BinomialSf(k - 1, n, p);
      break;
    case Alternative::kTwoSided: {
      // scipy.stats.binomtest, SciPy 1.10, line for line.
      const double d = BinomialPmf(k, n, p);
      const double rerr = 1 + 1e-7;
      const double mode = p * static_cast<double>(n);
      const double dk = static_cast<double>(k);
      if (dk == mode) {
        pval = 1.0;
      } else if (dk < mode) {
        // The outcomes above the mode no more likely than k: from n - y + 1 up to n.
        const int64_t ix =
            BinarySearchForBinomTest([&](int64_t x) { return -BinomialPmf(x, n, p); }, -d * rerr,
                                     static_cast<int64_t>(std::ceil(mode)), n);
        const int64_t y = n - ix + (d * rerr == BinomialPmf(ix, n, p) ? 1 : 0);
        pval = BinomialCdf(k, n, p) + BinomialSf(n - y, n, p);
      } else {
        // The outcomes below the mode no more likely than k: from 0 up to y - 1.
        const int64_t ix =
            BinarySearchForBinomTest([&](int64_t x) { return BinomialPmf(x, n, p); }, d * rerr, 0,
                                     static_cast<int64_t>(std::floor(mode)));
        const int64_t y = ix + 1;
        pval = BinomialCdf(y - 1, n, p) + BinomialSf(k - 1, n, p);
      }
      break;
    }
  }
  return {statistic, std::min(1.0, pval), 0, "binomial_exact"};
}

TestResult PairedTTest(std::span<const double> a, std::span<const double> b,
                       Alternative alternative) {
  if (a.size() != b.size()) {
    ThrowInvalidArgument("PairedTTest: samples differ in size: " + std::to_string(a.size()) +
                         " and " + std::to_string(b.size()));
  }
  if (a.size() < 2) {
    ThrowInvalidArgument("PairedTTest: needs at least 2 pairs, got " + std::to_string(a.size()));
  }
  const size_t n = a.size();
  std::vector<double> d(n);
  ExactSum sum;
  bool constant = true;
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) {
      ThrowInvalidArgument("PairedTTest: value at row " + std::to_string(i) + " is NaN");
    }
    d[i] = a[i] - b[i];
    if (!std::isfinite(d[i])) {
      ThrowInvalidArgument("PairedTTest: difference at row " + std::to_string(i) +
                           " is not finite");
    }
    sum.Add(d[i]);
    constant = constant && d[i] == d[0];
  }
  const double dn = static_cast<double>(n);
  const double df = dn - 1;
  double t;
  if (constant) {
    // Zero variance: SciPy divides by 0 (its mean of equal values is exact) and gets NaN for
    // identical samples, ±infinity otherwise.
    t = d[0] == 0 ? kNaN : std::copysign(kInf, d[0]);
  } else {
    const double mean = sum.Value() / dn;
    double squares = 0;
    for (double x : d) squares += (x - mean) * (x - mean);
    t = mean / std::sqrt(squares / df / dn);
  }
  double pval = 1.0;
  if (std::isnan(t)) {
    pval = kNaN;
  } else {
    switch (alternative) {
      case Alternative::kLess:
        pval = StudentTCdf(t, df);
        break;
      case Alternative::kGreater:
        pval = StudentTSf(t, df);
        break;
      case Alternative::kTwoSided:
      default:
        pval = std::min(1.0, 2.0 * StudentTSf(std::fabs(t), df));
        break;
    }
  }
  return {t, pval, df, "paired_t"};
}

DeLongResult DeLong(std::span<const float> labels01, std::span<const float> scores_a,
                    std::span<const float> scores_b, double confidence) {
  if (labels01.size() != scores_a.size() || labels01.size() != scores_b.size()) {
    ThrowInvalidArgument("DeLong: sizes differ: " + std::to_string(labels01.size()) + " labels, " +
                         std::to_string(scores_a.size()) + " and " +
                         std::to_string(scores_b.size()) + " scores");
  }
  if (!(confidence > 0 && confidence < 1)) {
    ThrowInvalidArgument("DeLong: confidence must be in (0, 1), got " + std::to_string(confidence));
  }
  size_t positives = 0;
  for (size_t r = 0; r < labels01.size(); ++r) {
    if (labels01[r] != 0 && labels01[r] != 1) {
      ThrowInvalidArgument("DeLong: label at row " + std::to_string(r) + " is " +
                           std::to_string(labels01[r]) + ", not 0 or 1");
    }
    if (std::isnan(scores_a[r]) || std::isnan(scores_b[r])) {
      ThrowInvalidArgument("DeLong: score at row " + std::to_string(r) + " is NaN");
    }
    positives += labels01[r] == 1;
  }
  const size_t negatives = labels01.size() - positives;
  if (positives < 2 || negatives < 2) {
    ThrowInvalidArgument("DeLong: needs at least 2 positives and 2 negatives, got " +
                         std::to_string(positives) + " and " + std::to_string(negatives));
  }
  const Components a = StructuralComponents(labels01, scores_a);
  const Components b = StructuralComponents(labels01, scores_b);
  const double m = static_cast<double>(positives), n = static_cast<double>(negatives);
  // S = S10 / m + S01 / n, for the entries aa, bb and ab.
  auto s = [&](const Components& x, const Components& y) {
    return Covariance(x.v10, x.auc, y.v10, y.auc) / m + Covariance(x.v01, x.auc, y.v01, y.auc) / n;
  };
  const double variance = s(a, a) + s(b, b) - 2 * s(a, b);
  DeLongResult result;
  result.auc_a = a.auc;
  result.auc_b = b.auc;
  result.difference = a.auc - b.auc;
  // Rounding can leave a tiny negative variance for (nearly) identical scores.
  result.std_error = std::sqrt(std::max(0.0, variance));
  if (result.std_error > 0) {
    result.z = result.difference / result.std_error;
    result.p_value = std::min(1.0, 2.0 * NormalSf(std::fabs(result.z)));
  } else if (result.difference == 0) {
    result.z = 0;
    result.p_value = 1;
  } else {
    result.z = std::copysign(kInf, result.difference);
    result.p_value = 0;
  }
  const double half_width = NormalQuantile(0.5 + 0.5 * confidence) * result.std_error;
  result.ci_low = result.difference - half_width;
  result.ci_high = result.difference + half_width;
  return result;
}

}  // namespace mloop::stats
