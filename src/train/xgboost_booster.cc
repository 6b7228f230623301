#include "train/xgboost_booster.h"

#include <dlfcn.h>
#include <xgboost/c_api.h>

#include <cctype>
#include <cmath>
#include <mutex>
#include <set>

#include "core/error.h"
#include "core/json.h"

namespace mloop::train {
namespace {

// The XGBoost C API, loaded with dlopen on first use rather than linked: libxgboost (and the
// libdmlc and libgomp it brings) cost every mloop command about 2 ms of start-up and 3 ms of
// processor time to load and relocate (measured on `mloop --help`), though only training,
// prediction and explanation of boosted trees use it.
struct XgbApi {
  decltype(&::XGBGetLastError) XGBGetLastError;
  decltype(&::XGDMatrixCreateFromMat) XGDMatrixCreateFromMat;
  decltype(&::XGDMatrixFree) XGDMatrixFree;
  decltype(&::XGDMatrixSetFloatInfo) XGDMatrixSetFloatInfo;
  decltype(&::XGBoosterCreate) XGBoosterCreate;
  decltype(&::XGBoosterFree) XGBoosterFree;
  decltype(&::XGBoosterSetParam) XGBoosterSetParam;
  decltype(&::XGBoosterUpdateOneIter) XGBoosterUpdateOneIter;
  decltype(&::XGBoosterEvalOneIter) XGBoosterEvalOneIter;
  decltype(&::XGBoosterPredictFromDMatrix) XGBoosterPredictFromDMatrix;
  decltype(&::XGBoosterSaveModelToBuffer) XGBoosterSaveModelToBuffer;
  decltype(&::XGBoosterLoadModelFromBuffer) XGBoosterLoadModelFromBuffer;
  decltype(&::XGBoosterSaveJsonConfig) XGBoosterSaveJsonConfig;
  decltype(&::XGBoosterBoostedRounds) XGBoosterBoostedRounds;
  decltype(&::XGBoosterGetNumFeature) XGBoosterGetNumFeature;
  decltype(&::XGBoosterSlice) XGBoosterSlice;
  decltype(&::XGBoosterFeatureScore) XGBoosterFeatureScore;
  decltype(&::XGBoostVersion) XGBoostVersion;
};

template <typename F>
void Load(void* handle, const char* name, F* out) {
  void* symbol = ::dlsym(handle, name);
  if (symbol == nullptr) {
    throw Error(ErrorCode::kFailedPrecondition, std::string("xgboost: ") + MLOOP_XGBOOST_LIBRARY +
                                                    " has no " + name +
                                                    " (mloop needs XGBoost 1.6 or later)");
  }
  *out = reinterpret_cast<F>(symbol);
}

const XgbApi& Xgb() {
  static const XgbApi* const api = [] {
    void* handle = ::dlopen(MLOOP_XGBOOST_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      throw Error(ErrorCode::kFailedPrecondition,
                  std::string("xgboost: cannot load ") + MLOOP_XGBOOST_LIBRARY + ": " +
                      (why != nullptr ? why : "unknown error") +
                      " (Debian's package libxgboost0 provides it)");
    }
    // Never unloaded: boosters may live until exit.
    auto* api = new XgbApi;
    Load(handle, "XGBGetLastError", &api->XGBGetLastError);
    Load(handle, "XGDMatrixCreateFromMat", &api->XGDMatrixCreateFromMat);
    Load(handle, "XGDMatrixFree", &api->XGDMatrixFree);
    Load(handle, "XGDMatrixSetFloatInfo", &api->XGDMatrixSetFloatInfo);
    Load(handle, "XGBoosterCreate", &api->XGBoosterCreate);
    Load(handle, "XGBoosterFree", &api->XGBoosterFree);
    Load(handle, "XGBoosterSetParam", &api->XGBoosterSetParam);
    Load(handle, "XGBoosterUpdateOneIter", &api->XGBoosterUpdateOneIter);
    Load(handle, "XGBoosterEvalOneIter", &api->XGBoosterEvalOneIter);
    Load(handle, "XGBoosterPredictFromDMatrix", &api->XGBoosterPredictFromDMatrix);
    Load(handle, "XGBoosterSaveModelToBuffer", &api->XGBoosterSaveModelToBuffer);
    Load(handle, "XGBoosterLoadModelFromBuffer", &api->XGBoosterLoadModelFromBuffer);
    Load(handle, "XGBoosterSaveJsonConfig", &api->XGBoosterSaveJsonConfig);
    Load(handle, "XGBoosterBoostedRounds", &api->XGBoosterBoostedRounds);
    Load(handle, "XGBoosterGetNumFeature", &api->XGBoosterGetNumFeature);
    Load(handle, "XGBoosterSlice", &api->XGBoosterSlice);
    Load(handle, "XGBoosterFeatureScore", &api->XGBoosterFeatureScore);
    Load(handle, "XGBoostVersion", &api->XGBoostVersion);
    return api;
  }();
  return *api;
}

// Runs one C API call's result through the error check: XGBoost returns -1 and keeps the
// message for XGBGetLastError.
void Check(int rc, std::string_view what, ErrorCode code = ErrorCode::kInternal) {
  if (rc == 0) return;
  std::string message = Xgb().XGBGetLastError() != nullptr ? Xgb().XGBGetLastError() : "failed";
  // XGBoost appends a stack trace of its own frames; the first line says what went wrong.
  if (size_t cut = message.find("\nStack trace"); cut != std::string::npos) message.resize(cut);
  while (!message.empty() && std::isspace(static_cast<unsigned char>(message.back()))) {
    message.pop_back();
  }
  throw Error(code, "xgboost: " + std::string(what) + ": " + message);
}

// Prediction through the C API returns a buffer owned by the booster, valid until its next
// call; a lock per booster would be finer, but one is enough while boosters are used from
// one thread each (header).
std::mutex& PredictMutex() {
  static std::mutex* const m = new std::mutex;
  return *m;
}

}  // namespace

XgbMatrix::XgbMatrix(std::span<const float> values, size_t rows, size_t cols)
    : rows_(rows), cols_(cols) {
  if (values.size() != rows * cols) {
    ThrowInvalidArgument("xgboost matrix: " + std::to_string(values.size()) + " values for " +
                         std::to_string(rows) + " rows x " + std::to_string(cols) + " columns");
  }
  DMatrixHandle h = nullptr;
  Check(Xgb().XGDMatrixCreateFromMat(values.data(), rows, cols, std::nanf(""), &h),
        "creating a matrix");
  handle_ = h;
}

XgbMatrix::~XgbMatrix() {
  if (handle_ != nullptr)
    Xgb().XGDMatrixFree(handle_);  // Frees; no error to act on in a destructor.
}

XgbMatrix::XgbMatrix(XgbMatrix&& o) noexcept
    : handle_(std::exchange(o.handle_, nullptr)), rows_(o.rows_), cols_(o.cols_) {}

XgbMatrix& XgbMatrix::operator=(XgbMatrix&& o) noexcept {
  if (this != &o) {
    if (handle_ != nullptr) Xgb().XGDMatrixFree(handle_);
    handle_ = std::exchange(o.handle_, nullptr);
    rows_ = o.rows_;
    cols_ = o.cols_;
  }
  return *this;
}

void XgbMatrix::SetLabels(std::span<const float> labels) {
  if (labels.size() != rows_) {
    ThrowInvalidArgument("xgboost matrix: " + std::to_string(labels.size()) + " labels for " +
                         std::to_string(rows_) + " rows");
  }
  Check(Xgb().XGDMatrixSetFloatInfo(handle_, "label", labels.data(), labels.size()),
        "setting labels");
}

void XgbMatrix::SetWeights(std::span<const float> weights) {
  if (weights.size() != rows_) {
    ThrowInvalidArgument("xgboost matrix: " + std::to_string(weights.size()) + " weights for " +
                         std::to_string(rows_) + " rows");
  }
  Check(Xgb().XGDMatrixSetFloatInfo(handle_, "weight", weights.data(), weights.size()),
        "setting weights");
}

EvalResult ParseEvalLine(std::string_view line) {
  EvalResult out;
  size_t pos = line.find('\t');
  if (line.empty() || line[0] != '[')
    ThrowInternal("xgboost: unexpected eval line: " + std::string(line));
  while (pos != std::string_view::npos) {
    size_t next = line.find('\t', pos + 1);
    std::string_view item = line.substr(
        pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1);
    size_t colon = item.rfind(':');
    if (colon == std::string_view::npos) {
      ThrowInternal("xgboost: unexpected eval item '" + std::string(item) + "'");
    }
    std::string value(item.substr(colon + 1));
    char* end = nullptr;
    double v = std::strtod(value.c_str(), &end);
    if (end == value.c_str()) {
      ThrowInternal("xgboost: unexpected eval value '" + std::string(item) + "'");
    }
    out[std::string(item.substr(0, colon))] = v;
    pos = next;
  }
  return out;
}

XgbBooster::XgbBooster(const std::vector<const XgbMatrix*>& cache) {
  std::vector<DMatrixHandle> handles;
  for (const XgbMatrix* m : cache) handles.push_back(m->handle());
  BoosterHandle h = nullptr;
  Check(Xgb().XGBoosterCreate(handles.data(), handles.size(), &h), "creating a booster");
  handle_ = h;
}

XgbBooster::~XgbBooster() {
  if (handle_ != nullptr)
    Xgb().XGBoosterFree(handle_);  // Frees; no error to act on in a destructor.
}

XgbBooster::XgbBooster(XgbBooster&& o) noexcept : handle_(std::exchange(o.handle_, nullptr)) {}

XgbBooster& XgbBooster::operator=(XgbBooster&& o) noexcept {
  if (this != &o) {
    if (handle_ != nullptr) Xgb().XGBoosterFree(handle_);
    handle_ = std::exchange(o.handle_, nullptr);
  }
  return *this;
}

void XgbBooster::SetParam(const std::string& key, const std::string& value) {
  Check(Xgb().XGBoosterSetParam(handle_, key.c_str(), value.c_str()),
        "parameter " + key + " = '" + value + "'", ErrorCode::kInvalidArgument);
}

void XgbBooster::UpdateOneIter(int round, const XgbMatrix& train) {
  // Parameter values are checked when the first round configures the learner: a bad value
  // surfaces here, so it is reported as the caller's.
  Check(Xgb().XGBoosterUpdateOneIter(handle_, round, train.handle()),
        "boosting round " + std::to_string(round), ErrorCode::kInvalidArgument);
}

EvalResult XgbBooster::EvalOneIter(
    int round, const std::vector<std::pair<std::string, const XgbMatrix*>>& sets) {
  std::vector<DMatrixHandle> handles;
  std::vector<const char*> names;
  for (const auto& [name, m] : sets) {
    handles.push_back(m->handle());
    names.push_back(name.c_str());
  }
  const char* out = nullptr;
  Check(Xgb().XGBoosterEvalOneIter(handle_, round, handles.data(), names.data(), handles.size(),
                                   &out),
        "evaluating round " + std::to_string(round));
  return ParseEvalLine(out);
}

std::vector<float> XgbBooster::Predict(const XgbMatrix& m, bool margin, int rounds) const {
  std::lock_guard<std::mutex> lock(PredictMutex());
  // type 0: values as the objective gives them; 1: margins. strict_shape false: a flat array.
  std::string config = std::string("{\"type\": ") + (margin ? "1" : "0") +
                       ", \"training\": false, \"iteration_begin\": 0, \"iteration_end\": " +
                       std::to_string(rounds) + ", \"strict_shape\": false}";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  Check(
      Xgb().XGBoosterPredictFromDMatrix(handle_, m.handle(), config.c_str(), &shape, &dim, &result),
      "predicting");
  size_t n = 1;
  for (bst_ulong i = 0; i < dim; ++i) n *= shape[i];
  return std::vector<float>(result, result + n);
}

std::vector<float> XgbBooster::PredictContributions(const XgbMatrix& m) const {
  std::lock_guard<std::mutex> lock(PredictMutex());
  const char* config =
      "{\"type\": 2, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
      "\"strict_shape\": false}";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  Check(Xgb().XGBoosterPredictFromDMatrix(handle_, m.handle(), config, &shape, &dim, &result),
        "predicting contributions");
  size_t n = 1;
  for (bst_ulong i = 0; i < dim; ++i) n *= shape[i];
  return std::vector<float>(result, result + n);
}

std::string XgbBooster::Save(std::string_view format) const {
  if (format != "ubj" && format != "json") {
    ThrowInvalidArgument("xgboost: model format '" + std::string(format) +
                         "': expected ubj or json");
  }
  std::string config = "{\"format\": \"" + std::string(format) + "\"}";
  bst_ulong len = 0;
  const char* bytes = nullptr;
  Check(Xgb().XGBoosterSaveModelToBuffer(handle_, config.c_str(), &len, &bytes),
        "saving the model");
  return std::string(bytes, len);
}

XgbBooster XgbBooster::Load(std::string_view bytes) {
  XgbBooster b;
  Check(Xgb().XGBoosterLoadModelFromBuffer(b.handle_, bytes.data(), bytes.size()),
        "loading a model of " + std::to_string(bytes.size()) + " bytes",
        ErrorCode::kInvalidArgument);
  return b;
}

std::string XgbBooster::Config() const {
  bst_ulong len = 0;
  const char* text = nullptr;
  Check(Xgb().XGBoosterSaveJsonConfig(handle_, &len, &text), "reading the configuration");
  return std::string(text, len);
}

int XgbBooster::BoostedRounds() const {
  int n = 0;
  Check(Xgb().XGBoosterBoostedRounds(handle_, &n), "counting rounds");
  return n;
}

size_t XgbBooster::NumFeatures() const {
  bst_ulong n = 0;
  Check(Xgb().XGBoosterGetNumFeature(handle_, &n), "counting features");
  return static_cast<size_t>(n);
}

XgbBooster XgbBooster::Slice(int begin, int end) const {
  BoosterHandle out = nullptr;
  Check(Xgb().XGBoosterSlice(handle_, begin, end, 1, &out),
        "slicing rounds [" + std::to_string(begin) + ", " + std::to_string(end) + ")");
  XgbBooster b;
  Xgb().XGBoosterFree(b.handle_);  // The empty booster made by the default constructor.
  b.handle_ = out;
  return b;
}

std::map<std::string, double> XgbBooster::FeatureScores(const std::vector<std::string>& names,
                                                        std::string_view type) const {
  Json config;
  config["importance_type"] = std::string(type);
  config["feature_names"] = names;
  std::string text = config.dump();
  bst_ulong n = 0, dim = 0;
  const char** features = nullptr;
  const bst_ulong* shape = nullptr;
  const float* scores = nullptr;
  Check(Xgb().XGBoosterFeatureScore(handle_, text.c_str(), &n, &features, &dim, &shape, &scores),
        "feature importance (" + std::string(type) + ")", ErrorCode::kInvalidArgument);
  std::map<std::string, double> out;
  for (bst_ulong i = 0; i < n; ++i) out[features[i]] = scores[i];
  return out;
}

std::string XgbVersion() {
  int major = 0, minor = 0, patch = 0;
  Xgb().XGBoostVersion(&major, &minor, &patch);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

void CheckKnownParameters(const std::map<std::string, std::string>& params) {
  // XGBoost 1.7's documented parameters ("XGBoost Parameters"): global, tree booster, dart,
  // linear booster, learning task, and the objectives' own.
  static const std::set<std::string, std::less<>>* const kKnown =
      new std::set<std::string, std::less<>>{
          // Global and general.
          "booster", "verbosity", "nthread", "disable_default_eval_metric", "num_feature",
          "validate_parameters", "seed", "seed_per_iteration", "gpu_id", "use_rmm",
          // Tree booster.
          "eta", "learning_rate", "gamma", "min_split_loss", "max_depth", "min_child_weight",
          "max_delta_step", "subsample", "sampling_method", "colsample_bytree", "colsample_bylevel",
          "colsample_bynode", "lambda", "reg_lambda", "alpha", "reg_alpha", "tree_method",
          "sketch_eps", "scale_pos_weight", "updater", "refresh_leaf", "process_type",
          "grow_policy", "max_leaves", "max_bin", "predictor", "num_parallel_tree",
          "monotone_constraints", "interaction_constraints", "max_cat_to_onehot",
          "max_cat_threshold", "single_precision_histogram", "max_cached_hist_node",
          // Dart.
          "sample_type", "normalize_type", "rate_drop", "one_drop", "skip_drop",
          // Linear booster.
          "feature_selector", "top_k",
          // Learning task and objectives.
          "objective", "base_score", "eval_metric", "num_class", "tweedie_variance_power",
          "huber_slope", "aft_loss_distribution", "aft_loss_distribution_scale",
          "lambdarank_pair_method", "lambdarank_num_pair_per_sample", "ndcg_exp_gain"};
  for (const auto& [key, value] : params) {
    if (kKnown->find(key) == kKnown->end()) {
      ThrowInvalidArgument("xgboost parameter '" + key +
                           "' is not one XGBoost knows (see XGBoost's parameter list)");
    }
  }
}

}  // namespace mloop::train
