// Significance tests for comparing two models on the same rows (a challenger against the
// champion in evaluation, a current window against a reference in monitoring), and the
// distribution functions they rest on.
//
// Each test reproduces a reference implementation, named in its comment, to about 1e-12
// relative (tests/reference/significance_scipy.py checks 1e-9 on the Adult data): the test
// statistic with the reference's exact formula, the p-value from Boost.Math's distributions
// (the ones SciPy itself uses for the binomial), never from a hand-written series.
//
// Errors are mloop::Error invalid_argument, as each function states: sizes that disagree,
// too few rows, labels other than 0 and 1, NaN inputs, parameters out of range. Everything
// here is a pure function of its arguments and safe to call from several threads.
#ifndef MLOOP_STATS_SIGNIFICANCE_H_
#define MLOOP_STATS_SIGNIFICANCE_H_

#include <cstdint>
#include <span>
#include <string>

namespace mloop::stats {

// The outcome of a hypothesis test.
struct TestResult {
  // The test statistic, in the reference implementation's definition (each test says which).
  double statistic;
  // The probability, under the null hypothesis, of a statistic at least as extreme; in [0, 1],
  // or NaN where a test says so (PairedTTest of identical samples).
  double p_value;
  // Degrees of freedom of the statistic's reference distribution; 0 when it has none (exact
  // tests).
  double df = 0;
  // What was computed, for reports: "mcnemar_exact", "mcnemar_chi2", "binomial_exact",
  // "paired_t".
  std::string method;
};

// Which deviations from the null hypothesis count, as SciPy's `alternative` argument.
enum class Alternative {
  kTwoSided,  // "two-sided": either direction.
  kLess,      // "less": the statistic is below its null value.
  kGreater,   // "greater": the statistic is above its null value.
};

// --- Distribution functions (Boost.Math, double precision) -------------------------------
// Cdf(x) = P(X <= x); Sf(x) = P(X > x) = 1 - Cdf(x), computed directly so that small upper
// tails (down to the smallest double) keep their relative precision. Errors: a NaN
// argument, a parameter out of range (df <= 0, n < 0, p outside [0, 1]).

double NormalCdf(double z);
double NormalSf(double z);
// The z with NormalCdf(z) = q, for q in (0, 1).
double NormalQuantile(double q);
// Chi-squared with `df` degrees of freedom; x < 0 gives Cdf 0 and Sf 1.
double ChiSquaredCdf(double x, double df);
double ChiSquaredSf(double x, double df);
// Student's t with `df` degrees of freedom; x may be ±infinity.
double StudentTCdf(double t, double df);
double StudentTSf(double t, double df);
// Binomial with `n` trials of success probability `p`: Pmf(k) = P(K = k), Cdf(k) = P(K <= k),
// Sf(k) = P(K > k) (SciPy's binom.sf). k outside [0, n] gives the obvious 0 or 1.
double BinomialPmf(int64_t k, int64_t n, double p);
double BinomialCdf(int64_t k, int64_t n, double p);
double BinomialSf(int64_t k, int64_t n, double p);

// --- McNemar's test ------------------------------------------------------------------------

// How McNemar's test computes its p-value.
enum class McNemarMethod {
  kAuto,        // kExact when b + c < 25, else kChiSquared (the usual rule of thumb).
  kExact,       // Exact two-sided binomial test of b against Binomial(b + c, 1/2).
  kChiSquared,  // Chi-squared with Edwards' continuity correction, 1 degree of freedom.
};

// McNemar's test of equal error rates for two classifiers scored on the same rows, from the
// discordant counts: `b` rows that classifier A gets right and B wrong, `c` the reverse.
// As statsmodels.stats.contingency_tables.mcnemar([[., b], [c, .]], exact, correction=True):
//   exact:       statistic = min(b, c), p = min(1, 2 * BinomialCdf(min(b, c), b + c, 1/2)),
//                df = 0, method "mcnemar_exact";
//   chi-squared: statistic = (|b - c| - 1)^2 / (b + c), p = ChiSquaredSf(statistic, 1),
//                df = 1, method "mcnemar_chi2". Like statsmodels, the correction is not
//                clipped at 0: b == c gives statistic 1 / (b + c), not 0.
// b + c == 0 (the classifiers agree on every row) gives statistic 0 and p 1 under either
// method (statsmodels' chi-squared would divide by zero). Errors: b or c negative.
TestResult McNemar(int64_t b, int64_t c, McNemarMethod method = McNemarMethod::kAuto);

// The same from per-row correctness (nonzero = the classifier got the row right) of the two
// classifiers: b counts rows where A is right and B wrong, c the reverse. Errors: spans of
// different sizes.
TestResult McNemar(std::span<const uint8_t> a_correct, std::span<const uint8_t> b_correct,
                   McNemarMethod method = McNemarMethod::kAuto);

// --- Exact binomial test -------------------------------------------------------------------

// Exact test that `k` successes in `n` trials come from success probability `p`, as
// scipy.stats.binomtest(k, n, p, alternative) (SciPy >= 1.7): statistic = k / n, df = 0,
// method "binomial_exact". kLess: p = Cdf(k); kGreater: p = Sf(k - 1). kTwoSided follows
// SciPy's definition, the sum of the probabilities of all outcomes no more likely than k
// (Pmf(i) <= Pmf(k) * (1 + 1e-7), SciPy's relative tolerance), found by binary search on
// the far side of the mode, capped at 1; it is not twice the smaller tail. k == n * p gives
// p 1. Errors: n < 1, k outside [0, n], p outside [0, 1].
TestResult BinomialTest(int64_t k, int64_t n, double p = 0.5,
                        Alternative alternative = Alternative::kTwoSided);

// --- Paired t-test -------------------------------------------------------------------------

// Student's t-test that the mean of the differences a[i] - b[i] is 0 (per-row losses of two
// models), as scipy.stats.ttest_rel(a, b, alternative): d = a - b, n = d.size(),
// statistic = mean(d) / sqrt(var(d) / n) with var's divisor n - 1, df = n - 1, method
// "paired_t"; kTwoSided p = 2 * StudentTSf(|t|, df), kLess p = StudentTCdf(t, df), kGreater
// p = StudentTSf(t, df). The mean is the exactly rounded one (ExactSum). As SciPy: when
// every difference is the same, var(d) = 0 and the statistic is ±infinity with p 0 (one-sided
// tests in the wrong direction: p 1) if that difference is nonzero, and NaN with p NaN when
// the samples are identical (no evidence either way; callers should treat NaN as "not
// significant"). Errors: spans of different sizes, fewer than 2 pairs, a NaN value.
TestResult PairedTTest(std::span<const double> a, std::span<const double> b,
                       Alternative alternative = Alternative::kTwoSided);

// --- DeLong's test on two correlated ROC AUCs ----------------------------------------------

struct DeLongResult {
  // ROC AUC of each score (RocAuc in metrics.h: ties count one half) and auc_a - auc_b.
  double auc_a;
  double auc_b;
  double difference;
  // sqrt of DeLong's estimate of Var(auc_a - auc_b).
  double std_error;
  // difference / std_error, and its two-sided p-value 2 * NormalSf(|z|). A one-sided p that A
  // is better is NormalSf(z).
  double z;
  double p_value;
  // difference -/+ NormalQuantile((1 + confidence) / 2) * std_error.
  double ci_low;
  double ci_high;
};

// DeLong, DeLong & Clarke-Pearson (1988), "Comparing the areas under two or more correlated
// receiver operating characteristic curves: a nonparametric approach", for two scores of the
// same rows, computed with the O(n log n) midrank algorithm of Sun & Xu (2014), "Fast
// implementation of DeLong's algorithm for comparing the areas under correlated receiver
// operating characteristic curves". With m positives X_i and n negatives Y_j and
// psi(x, y) = 1 if x > y, 1/2 if x == y, 0 otherwise, each score r has the structural
// components V10_r(X_i) = mean_j psi(X_i, Y_j) and V01_r(Y_j) = mean_i psi(X_i, Y_j), whose
// means are its AUC; S10 and S01 are their 2x2 sample covariance matrices (divisor m - 1 and
// n - 1), S = S10 / m + S01 / n, and Var(auc_a - auc_b) = S_aa + S_bb - 2 S_ab. SciPy and
// statsmodels have no DeLong test; the reference script computes the components pairwise in
// numpy (and pROC's roc.test(method = "delong") computes the same).
//
// When std_error is 0 (identical scores, or both perfect): z = 0 and p = 1 if the difference
// is 0, else z = ±infinity and p = 0. Errors: spans of different sizes, a label other than 0
// or 1, fewer than 2 positives or 2 negatives (the covariances need two of each), a NaN
// score, confidence outside (0, 1).
DeLongResult DeLong(std::span<const float> labels01, std::span<const float> scores_a,
                    std::span<const float> scores_b, double confidence = 0.95);

}  // namespace mloop::stats

#endif  // MLOOP_STATS_SIGNIFICANCE_H_
