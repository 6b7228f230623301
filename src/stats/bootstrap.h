// The paired bootstrap: a confidence interval for a statistic of two models evaluated on the
// same rows (typically a metric's challenger-minus-champion delta), from the statistic
// recomputed on resamples of the rows drawn with replacement. Both models see the same
// resampled rows, which is what makes the interval account for their correlation.
//
// Reproducible: the resampled rows are a documented function of (seed, resample index,
// rows), identical on every platform and for any thread count (see PairedBootstrap). Errors
// are mloop::Error invalid_argument. PairedBootstrap is safe to call from several threads;
// with threads > 1 it calls `delta` concurrently.
#ifndef MLOOP_STATS_BOOTSTRAP_H_
#define MLOOP_STATS_BOOTSTRAP_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace mloop::stats {

struct BootstrapInterval {
  // The statistic on all rows (rows 0..rows-1 in order), not the mean of the resamples.
  double estimate;
  // The percentile interval: the (1 - confidence) / 2 and (1 + confidence) / 2 quantiles of
  // the resampled statistics, with numpy.quantile's default (linear) interpolation.
  double low;
  double high;
  // Sample standard deviation (divisor resamples - 1) of the resampled statistics.
  double std_error;
  int64_t resamples;
  double confidence;
};

// Resample i (0-based) draws its `rows` row indices, each uniform in [0, rows), from
// std::mt19937_64 seeded with SplitMix64(seed + (i + 1) * 0x9E3779B97F4A7C15) (the mixing
// step of Steele, Lea & Flood's SplitMix64), each index by Lemire's multiply-and-reject
// method ("Fast random integer generation in an interval", 2019) on 64-bit draws. The
// standard fixes mt19937_64's output exactly (unlike std::uniform_int_distribution's), so
// a (rows, seed) pair gives the same resamples everywhere. The indices are passed to
// `delta` in the order drawn.
//
// `delta` returns the statistic on the given rows (indices may repeat); it is called once on
// all rows for the estimate, then once per resample. With threads > 1 the resamples are
// spread over that many threads, so `delta` must be safe to call concurrently; the result
// does not depend on the thread count. An exception from `delta` propagates (the one of the
// lowest resample index when several threads throw).
//
// Errors: rows == 0 or rows > 2^32 - 1, resamples < 2, confidence outside (0, 1), threads
// == 0, a NaN or infinite statistic (the message names the resample; a metric undefined on
// some resamples, such as ROC AUC on a resample with one class, needs the caller to decide
// what it means).
BootstrapInterval PairedBootstrap(size_t rows,
                                  const std::function<double(std::span<const uint32_t>)>& delta,
                                  int64_t resamples = 1000, double confidence = 0.95,
                                  uint64_t seed = 0, size_t threads = 1);

// The row indices of resample `index` as PairedBootstrap draws them, for tests and for
// callers that need to replay one resample.
std::vector<uint32_t> BootstrapResampleRows(size_t rows, uint64_t seed, int64_t index);

// numpy.quantile(values, q) with its default method "linear" (Hyndman & Fan's type 7):
// sorted values x, h = (size - 1) * q, x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] -
// x[floor(h)]), with numpy's two-sided interpolation formula. `sorted` must be ascending and
// non-empty; q in [0, 1].
double LinearQuantile(std::span<const double> sorted, double q);

}  // namespace mloop::stats

#endif  // MLOOP_STATS_BOOTSTRAP_H_
