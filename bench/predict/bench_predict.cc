// Times mloop's compiled tree evaluator (model::TreeEnsemble) against XGBoost's in-place
// prediction (XGBoosterPredictFromDense, the C API Python's inplace_predict uses) on the same
// model and the same rows, one thread each, in alternating rounds, and prints both medians and
// their ratio at batch 1 (latency), 1,000 and 100,000 rows (throughput).
//
// The model: binary:logistic, 100 trees of depth 6 (hist), trained here on 50,000 rows of
// seeded Adult-like synthetic data with 20 features and some missing values; the timed rows are
// 100,000 others from the same distribution. Both sides return probabilities, and the run
// fails (exit 1) when they differ by more than 1e-6 anywhere.
//
//   bench_predict [ROUNDS]     (default 7)
#include <xgboost/c_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/tree_ensemble.h"
#include "train/xgboost_booster.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kFeatures = 20;
constexpr size_t kTrainRows = 50'000;
constexpr size_t kTestRows = 100'000;
constexpr size_t kSingleRowCalls = 2'000;  // per round, in groups of kGroup calls
constexpr size_t kGroup = 10;
constexpr size_t kMidBatch = 1'000;
constexpr size_t kMidCalls = 20;  // batches of 1,000 per round

void XgbCheck(int rc, const char* what) {
  if (rc != 0) {
    std::fprintf(stderr, "bench_predict: xgboost: %s: %s\n", what, XGBGetLastError());
    std::exit(1);
  }
}

// Adult-like rows: ages, counts, skewed money columns that are mostly zero, a few one-hot-like
// indicator columns and plain numbers; about 2% missing in five columns. The label comes from
// a nonlinear score, so that 100 depth-6 trees have something to learn.
void MakeRows(size_t rows, uint64_t seed, std::vector<float>* x, std::vector<float>* y) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> unit;
  x->resize(rows * kFeatures);
  y->resize(rows);
  for (size_t r = 0; r < rows; ++r) {
    float* f = x->data() + r * kFeatures;
    f[0] = std::floor(17 + 73 * unit(rng) * unit(rng) + 10 * unit(rng));     // age
    f[1] = std::exp(12 + 0.5f * normal(rng));                                // fnlwgt
    f[2] = std::floor(1 + 15 * unit(rng));                                   // education_num
    f[3] = unit(rng) < 0.92f ? 0 : std::floor(std::exp(7 + 2 * unit(rng)));  // capital_gain
    f[4] = unit(rng) < 0.95f ? 0 : std::floor(1500 + 1000 * unit(rng));      // capital_loss
    f[5] = std::floor(std::clamp(40 + 12 * normal(rng), 1.0f, 99.0f));       // hours_per_week
    for (size_t k = 6; k < 12; ++k) f[k] = unit(rng) < 0.3f ? 1.0f : 0.0f;   // indicators
    for (size_t k = 12; k < kFeatures; ++k) f[k] = normal(rng);
    float score = 0.04f * (f[0] - 38) + 0.3f * (f[2] - 10) + (f[3] > 5000 ? 2.5f : 0) +
                  (f[4] > 1800 ? 1.2f : 0) + 0.03f * (f[5] - 40) + 0.8f * f[6] - 0.6f * f[7] +
                  0.5f * f[8] * f[9] + 0.4f * f[12] - 0.3f * f[13] * f[14] +
                  0.5f * std::sin(2 * f[15]) + 0.8f * normal(rng) - 1.2f;
    (*y)[r] = score > 0 ? 1.0f : 0.0f;
    for (size_t k : {0, 2, 5, 12, 16}) {
      if (unit(rng) < 0.02f) f[k] = std::nanf("");
    }
  }
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// XGBoost's in-place prediction on `rows` rows at `x`, given its array interface text.
struct XgbPredictor {
  BoosterHandle booster = nullptr;
  std::string config =
      "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
      "\"strict_shape\": false, \"missing\": NaN, \"cache_id\": 0}";

  static std::string ArrayInterface(const float* x, size_t rows) {
    return "{\"data\": [" + std::to_string(reinterpret_cast<uintptr_t>(x)) +
           ", true], \"shape\": [" + std::to_string(rows) + ", " + std::to_string(kFeatures) +
           "], \"typestr\": \"<f4\", \"version\": 3}";
  }

  // Returns XGBoost's buffer (valid until the next call) holding rows values.
  const float* Predict(const std::string& array_interface) const {
    const bst_ulong* shape = nullptr;
    bst_ulong dim = 0;
    const float* out = nullptr;
    XgbCheck(XGBoosterPredictFromDense(booster, array_interface.c_str(), config.c_str(), nullptr,
                                       &shape, &dim, &out),
             "XGBoosterPredictFromDense");
    return out;
  }
};

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 7;
  if (rounds < 1) {
    std::fprintf(stderr, "usage: bench_predict [ROUNDS]\n");
    return 2;
  }
  std::vector<float> train_x, train_y, x, y;
  MakeRows(kTrainRows, 1, &train_x, &train_y);
  MakeRows(kTestRows, 2, &x, &y);

  std::string model_json;
  mloop::model::TreeEnsemble ensemble = [&] {
    try {
      mloop::train::XgbMatrix m(train_x, kTrainRows, kFeatures);
      m.SetLabels(train_y);
      mloop::train::XgbBooster b({&m});
      for (auto [k, v] : {std::pair{"objective", "binary:logistic"},
                          {"max_depth", "6"},
                          {"eta", "0.1"},
                          {"tree_method", "hist"},
                          {"seed", "1"},
                          {"nthread", "1"}}) {
        b.SetParam(k, v);
      }
      for (int i = 0; i < 100; ++i) b.UpdateOneIter(i, m);
      model_json = b.Save("json");
      return mloop::model::TreeEnsemble::FromXgboostJson(model_json);
    } catch (const mloop::Error& e) {
      std::fprintf(stderr, "bench_predict: %s\n", e.what());
      std::exit(1);
    }
  }();

  // XGBoost's side: the same model, loaded from the same JSON, one thread.
  XgbPredictor xgb;
  XgbCheck(XGBoosterCreate(nullptr, 0, &xgb.booster), "XGBoosterCreate");
  XgbCheck(XGBoosterLoadModelFromBuffer(xgb.booster, model_json.data(), model_json.size()),
           "XGBoosterLoadModelFromBuffer");
  XgbCheck(XGBoosterSetParam(xgb.booster, "nthread", "1"), "XGBoosterSetParam");

  // Same answers first: every row's probability.
  std::vector<float> ours(kTestRows);
  ensemble.Predict(x, kTestRows, ours);
  {
    const float* theirs = xgb.Predict(XgbPredictor::ArrayInterface(x.data(), kTestRows));
    double worst = 0;
    for (size_t i = 0; i < kTestRows; ++i) {
      worst = std::max(worst, std::fabs(double(ours[i]) - double(theirs[i])));
    }
    if (!(worst <= 1e-6)) {
      std::fprintf(stderr, "bench_predict: predictions differ by up to %g\n", worst);
      return 1;
    }
    std::printf("bench/predict: %zu trees, %zu nodes, %zu features; xgboost %s, one thread\n",
                ensemble.num_trees(), ensemble.num_nodes(), kFeatures,
                mloop::train::XgbVersion().c_str());
    std::printf("  predictions agree on %zu rows (max |diff| %.3g)\n", kTestRows, worst);
  }

  // Batch 1: each row its own call. XGBoost's array interface texts are made before timing
  // (its best case: a caller has to make one per call).
  std::vector<std::string> row_interfaces(kSingleRowCalls);
  for (size_t i = 0; i < kSingleRowCalls; ++i) {
    row_interfaces[i] = XgbPredictor::ArrayInterface(x.data() + i * kFeatures, 1);
  }
  std::vector<std::string> mid_interfaces(kMidCalls);
  for (size_t i = 0; i < kMidCalls; ++i) {
    mid_interfaces[i] =
        XgbPredictor::ArrayInterface(x.data() + i * kMidBatch * kFeatures, kMidBatch);
  }
  const std::string all_interface = XgbPredictor::ArrayInterface(x.data(), kTestRows);
  std::vector<float> out(kTestRows);
  volatile float sink = 0;

  std::vector<double> m1, x1, mk, xk, mb, xb;      // seconds per call
  for (int round = -1; round < rounds; ++round) {  // round -1 warms up, not counted
    // Batch 1.
    for (int side = 0; side < 2; ++side) {
      std::vector<double>& into = side == 0 ? m1 : x1;
      for (size_t g = 0; g < kSingleRowCalls; g += kGroup) {
        auto t0 = Clock::now();
        for (size_t i = g; i < g + kGroup; ++i) {
          if (side == 0) {
            ensemble.Predict(std::span<const float>(x.data() + i * kFeatures, kFeatures), 1,
                             std::span<float>(out.data(), 1));
            sink = sink + out[0];
          } else {
            sink = sink + *xgb.Predict(row_interfaces[i]);
          }
        }
        auto t1 = Clock::now();
        if (round >= 0) into.push_back(Seconds(t0, t1) / kGroup);
      }
    }
    // Batch 1,000.
    for (size_t i = 0; i < kMidCalls; ++i) {
      auto t0 = Clock::now();
      ensemble.Predict(
          std::span<const float>(x.data() + i * kMidBatch * kFeatures, kMidBatch * kFeatures),
          kMidBatch, std::span<float>(out.data(), kMidBatch));
      auto t1 = Clock::now();
      sink = sink + xgb.Predict(mid_interfaces[i])[0];
      auto t2 = Clock::now();
      if (round >= 0) {
        mk.push_back(Seconds(t0, t1));
        xk.push_back(Seconds(t1, t2));
      }
    }
    // Batch 100,000.
    auto t0 = Clock::now();
    ensemble.Predict(x, kTestRows, out);
    auto t1 = Clock::now();
    sink = sink + xgb.Predict(all_interface)[0];
    auto t2 = Clock::now();
    if (round >= 0) {
      mb.push_back(Seconds(t0, t1));
      xb.push_back(Seconds(t1, t2));
    }
  }
  XGBoosterFree(xgb.booster);

  auto line = [](const std::vector<double>& m, const std::vector<double>& x, size_t rows,
                 double goal) {
    double ms = Median(m), xs = Median(x);
    std::printf(
        "  batch %-7zu mloop %10.2f us (%7.1f ns/row)   xgboost %10.2f us (%7.1f ns/row)"
        "   ratio %5.1fx (goal: at least %.1fx)\n",
        rows, ms * 1e6, ms * 1e9 / rows, xs * 1e6, xs * 1e9 / rows, xs / ms, goal);
  };
  std::printf("  %d rounds, medians per call:\n", rounds);
  line(m1, x1, 1, 5.0);
  line(mk, xk, kMidBatch, 1.5);
  line(mb, xb, kTestRows, 1.5);
  std::printf(
      "{\"batch_1\": {\"mloop_s\": %.9f, \"xgboost_s\": %.9f}, "
      "\"batch_1000\": {\"mloop_s\": %.9f, \"xgboost_s\": %.9f}, "
      "\"batch_100000\": {\"mloop_s\": %.9f, \"xgboost_s\": %.9f}}\n",
      Median(m1), Median(x1), Median(mk), Median(xk), Median(mb), Median(xb));
  return 0;
}
