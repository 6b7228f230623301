#include "stats/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <thread>

#include "core/error.h"

namespace mloop::stats {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return x;
}

// Lemire's nearly divisionless method: a uniform integer in [0, range), range >= 1.
uint64_t UniformBelow(std::mt19937_64& rng, uint64_t range) {
  unsigned __int128 product = static_cast<unsigned __int128>(rng()) * range;
  uint64_t low = static_cast<uint64_t>(product);
  if (low < range) {
    const uint64_t threshold = (0 - range) % range;  // 2^64 mod range.
    while (low < threshold) {
      product = static_cast<unsigned __int128>(rng()) * range;
      low = static_cast<uint64_t>(product);
    }
  }
  return static_cast<uint64_t>(product >> 64);
}

void DrawRows(size_t rows, uint64_t seed, int64_t index, std::vector<uint32_t>& out) {
  std::mt19937_64 rng(SplitMix64(seed + static_cast<uint64_t>(index + 1) * 0x9E3779B97F4A7C15ULL));
  out.resize(rows);
  for (auto& row : out) row = static_cast<uint32_t>(UniformBelow(rng, rows));
}

void CheckRows(size_t rows, const char* what) {
  if (rows == 0 || rows > std::numeric_limits<uint32_t>::max()) {
    ThrowInvalidArgument(std::string(what) + ": rows must be in [1, 2^32 - 1], got " +
                         std::to_string(rows));
  }
}

}  // namespace

std::vector<uint32_t> BootstrapResampleRows(size_t rows, uint64_t seed, int64_t index) {
  CheckRows(rows, "BootstrapResampleRows");
  if (index < 0) {
    ThrowInvalidArgument("BootstrapResampleRows: index must be >= 0, got " + std::to_string(index));
  }
  std::vector<uint32_t> out;
  DrawRows(rows, seed, index, out);
  return out;
}

double LinearQuantile(std::span<const double> sorted, double q) {
  if (sorted.empty()) ThrowInvalidArgument("LinearQuantile: no values");
  if (!(q >= 0 && q <= 1)) {
    ThrowInvalidArgument("LinearQuantile: q must be in [0, 1], got " + std::to_string(q));
  }
  const double h = static_cast<double>(sorted.size() - 1) * q;
  const double floor_h = std::floor(h);
  const size_t lo = static_cast<size_t>(floor_h);
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double gamma = h - floor_h;
  const double a = sorted[lo], b = sorted[hi];
  const double diff = b - a;
  // numpy's _lerp: from the nearer end, so that gamma 1 gives b exactly.
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

BootstrapInterval PairedBootstrap(size_t rows,
                                  const std::function<double(std::span<const uint32_t>)>& delta,
                                  int64_t resamples, double confidence, uint64_t seed,
                                  size_t threads) {
  CheckRows(rows, "PairedBootstrap");
  if (resamples < 2) {
    ThrowInvalidArgument("PairedBootstrap: resamples must be >= 2, got " +
                         std::to_string(resamples));
  }
  if (!(confidence > 0 && confidence < 1)) {
    ThrowInvalidArgument("PairedBootstrap: confidence must be in (0, 1), got " +
                         std::to_string(confidence));
  }
  if (threads == 0) ThrowInvalidArgument("PairedBootstrap: threads must be >= 1");

  std::vector<uint32_t> all(rows);
  std::iota(all.begin(), all.end(), 0u);
  const double estimate = delta(all);
  if (!std::isfinite(estimate)) {
    ThrowInvalidArgument("PairedBootstrap: the statistic on all rows is " +
                         std::to_string(estimate));
  }
  all = {};

  std::vector<double> values(static_cast<size_t>(resamples));
  threads = std::min(threads, static_cast<size_t>(resamples));
  // Worker w computes resamples w, w + threads, ...; it stops at its first exception, which
  // is kept with its index so that the lowest one is rethrown.
  struct Failure {
    int64_t index = std::numeric_limits<int64_t>::max();
    std::exception_ptr error;
  };
  std::vector<Failure> failures(threads);
  auto work = [&](size_t w) {
    std::vector<uint32_t> sample;
    for (int64_t i = static_cast<int64_t>(w); i < resamples; i += static_cast<int64_t>(threads)) {
      try {
        DrawRows(rows, seed, i, sample);
        values[static_cast<size_t>(i)] = delta(sample);
      } catch (...) {
        failures[w] = {i, std::current_exception()};
        return;
      }
    }
  };
  if (threads == 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (size_t w = 0; w < threads; ++w) pool.emplace_back(work, w);
    for (auto& t : pool) t.join();
  }
  const auto first =
      std::min_element(failures.begin(), failures.end(),
                       [](const Failure& x, const Failure& y) { return x.index < y.index; });
  if (first->error) std::rethrow_exception(first->error);
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      ThrowInvalidArgument("PairedBootstrap: the statistic on resample " + std::to_string(i) +
                           " is " + std::to_string(values[i]));
    }
  }

  double sum = 0;
  for (double v : values) sum += v;
  const double mean = sum / static_cast<double>(values.size());
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  std::sort(values.begin(), values.end());
  const double alpha = (1 - confidence) / 2;
  return {estimate,
          LinearQuantile(values, alpha),
          LinearQuantile(values, 1 - alpha),
          std::sqrt(squares / static_cast<double>(values.size() - 1)),
          resamples,
          confidence};
}

}  // namespace mloop::stats
