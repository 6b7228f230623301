// XGBoost through its C API (Debian's libxgboost): the one place mloop calls it. Every call is
// checked once here and turned into mloop::Error; every handle is owned by an object whose
// destructor frees it. The C API's headers stay inside xgboost_booster.cc: handles are kept as
// opaque pointers, so users of this header do not see XGBoost's.
//
// Models are saved in XGBoost's own formats (UBJSON, the default of XGBoost 1.6 and later, or
// JSON), which Python's xgboost loads as they are.
//
// Thread-safety: an XgbMatrix is read-only once built and may be shared; an XgbBooster must not
// be used from two threads at once (XGBoost's own rule for training; prediction through the C
// API is serialized here too). The number of threads XGBoost uses is its `nthread` parameter.
//
// Errors (mloop::Error): invalid_argument for what the caller gave (a parameter XGBoost refuses,
// naming the key and value; sizes that do not match; a model that does not load), internal for
// any other failure XGBoost reports; each message carries XGBoost's own text.
#ifndef MLOOP_TRAIN_XGBOOST_BOOSTER_H_
#define MLOOP_TRAIN_XGBOOST_BOOSTER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mloop::train {

// A dense matrix in XGBoost's memory: rows x cols float32 values, row-major, NaN for missing,
// with optional labels and weights (one per row).
class XgbMatrix {
 public:
  // Copies `values` (rows * cols, row-major). Throws invalid_argument when the sizes differ.
  XgbMatrix(std::span<const float> values, size_t rows, size_t cols);
  ~XgbMatrix();
  XgbMatrix(XgbMatrix&&) noexcept;
  XgbMatrix& operator=(XgbMatrix&&) noexcept;
  XgbMatrix(const XgbMatrix&) = delete;
  XgbMatrix& operator=(const XgbMatrix&) = delete;

  // One value per row; throws invalid_argument otherwise.
  void SetLabels(std::span<const float> labels);
  void SetWeights(std::span<const float> weights);

  size_t rows() const { return rows_; }
  size_t cols() const { return cols_; }
  void* handle() const { return handle_; }

 private:
  void* handle_ = nullptr;
  size_t rows_ = 0;
  size_t cols_ = 0;
};

// One evaluation result of one round: {"train-logloss": 0.52, "valid-auc": 0.91}.
using EvalResult = std::map<std::string, double>;

// Parses XGBoost's evaluation line ("[3]\ttrain-logloss:0.52\tvalid-auc:0.91"). Throws
// internal when it does not have that form.
EvalResult ParseEvalLine(std::string_view line);

class XgbBooster {
 public:
  // A booster whose prediction cache holds `cache` (the training and evaluation matrices).
  explicit XgbBooster(const std::vector<const XgbMatrix*>& cache = {});
  ~XgbBooster();
  XgbBooster(XgbBooster&&) noexcept;
  XgbBooster& operator=(XgbBooster&&) noexcept;
  XgbBooster(const XgbBooster&) = delete;
  XgbBooster& operator=(const XgbBooster&) = delete;

  // Sets one booster parameter (XGBoost's name and text value). Throws invalid_argument
  // naming the key and value when XGBoost refuses it. XGBoost accepts names it does not know
  // and only warns when training starts; CheckKnownParameters (below) catches those.
  void SetParam(const std::string& key, const std::string& value);

  // One boosting round on `train` (round numbers start at 0).
  void UpdateOneIter(int round, const XgbMatrix& train);

  // The evaluation metrics of `round` on each named matrix.
  EvalResult EvalOneIter(int round,
                         const std::vector<std::pair<std::string, const XgbMatrix*>>& sets);

  // Predictions for each row of `m`: probabilities (or values) as the objective gives them,
  // or raw margins. For multiclass objectives with probabilities, rows * classes values.
  // `rounds`: use the first `rounds` boosting rounds (0: all).
  std::vector<float> Predict(const XgbMatrix& m, bool margin = false, int rounds = 0) const;

  // XGBoost's SHAP values (predict type 2, pred_contribs; TreeSHAP for gbtree), computed in
  // float32: rows x (num_features + 1) values, or rows x groups x (num_features + 1) for
  // multiclass objectives, each group's last value being its bias.
  std::vector<float> PredictContributions(const XgbMatrix& m) const;

  // The model in "ubj" (UBJSON) or "json" format.
  std::string Save(std::string_view format = "ubj") const;
  // A booster from a saved model (either format). Throws invalid_argument when XGBoost cannot
  // read the bytes.
  static XgbBooster Load(std::string_view bytes);

  // The booster's whole configuration as XGBoost's JSON text (parameters with their values,
  // defaults included).
  std::string Config() const;

  int BoostedRounds() const;
  size_t NumFeatures() const;

  // A booster holding rounds [begin, end) of this one (early stopping keeps the best rounds).
  XgbBooster Slice(int begin, int end) const;

  // Importance of each feature by `type` ("gain", "weight", "cover", "total_gain",
  // "total_cover"), with the features named `names` (one per column); features never used
  // in a split are left out, as XGBoost does.
  std::map<std::string, double> FeatureScores(const std::vector<std::string>& names,
                                              std::string_view type = "gain") const;

 private:
  void* handle_ = nullptr;
};

// The version of the libxgboost mloop runs with, "1.7.4".
std::string XgbVersion();

// Throws invalid_argument naming the first key of `params` that is not an XGBoost booster or
// learner parameter this build knows (the names of XGBoost's documentation, "Parameters"),
// so that a typo such as `max_dept` is an error rather than a warning nobody reads.
void CheckKnownParameters(const std::map<std::string, std::string>& params);

}  // namespace mloop::train

#endif  // MLOOP_TRAIN_XGBOOST_BOOSTER_H_
