// A compiled evaluator for XGBoost tree ensembles (gbtree): the model's trees flattened into
// contiguous arrays (8-byte splits of complete trees in level order, or 16-byte nodes for
// deep trees), evaluated over a row-major float32 matrix without calling XGBoost: blocks of
// 64 rows through one tree at a time for batches, several trees side by side for one row.
// It is built from the JSON model XGBoost writes (XgbBooster::Save("json"),
// Python's Booster.save_model("m.json"); XGBoost 1.7's schema) and gives XGBoost's own
// predictions (or from its UBJSON model, the same document): the same tree walk, the same float32
// sums in the same order, the same transforms.
//
// Missing values are NaN. At each split a missing value goes to the tree's default side
// (`default_left`); any other value goes left when `value < threshold`, as in XGBoost.
// The base score is XGBoost's `base_score`, which XGBoost stores in output space (a
// probability for binary:logistic and reg:logistic): it is turned into a margin the way
// XGBoost 1.7's objective does (logit for binary:logistic and reg:logistic; log for
// count:poisson, reg:gamma and reg:tweedie; itself otherwise, binary:logitraw included) in
// float32, and every row starts from it before the trees' leaf values are added.
//
// Thread-safety: a TreeEnsemble is immutable once built; any number of threads may call its
// const methods at once. Evaluation allocates nothing (the caller passes the output buffer;
// multi:softmax's Predict keeps its class margins on the stack, up to 4,096 classes) and does
// no setup per call.
//
// Not supported, refused when building (see FromXgboostJson): dart and gblinear boosters,
// categorical splits, multi-target trees. Missing values are always NaN (XGBoost's default
// `missing`), and there is no per-row base_margin.
#ifndef MLOOP_MODEL_TREE_ENSEMBLE_H_
#define MLOOP_MODEL_TREE_ENSEMBLE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace mloop::model {

// How margins become predictions; each names the XGBoost objectives that use it.
enum class OutputTransform {
  kIdentity,  // reg:squarederror, reg:squaredlogerror, reg:pseudohubererror,
              // reg:absoluteerror, binary:logitraw: the margin itself.
  kSigmoid,   // binary:logistic, reg:logistic: 1 / (1 + exp(-margin)).
  kExp,       // count:poisson, reg:gamma, reg:tweedie: exp(margin).
  kSoftmax,   // multi:softprob: one probability per class, summing to 1.
  kArgmax,    // multi:softmax: the index of the largest class margin, as a float.
};

class TreeEnsemble {
 public:
  // Builds the evaluator from XGBoost's JSON model text. Throws Error invalid_argument when
  // the text is not JSON, is not an XGBoost model (naming the missing or malformed key), or
  // uses what this evaluator does not support, saying which: a booster other than gbtree
  // (gblinear, dart), categorical splits, vector leaves (multi-target trees), or an
  // objective outside OutputTransform's list (ranking, survival, ...).
  static TreeEnsemble FromXgboostJson(std::string_view json_text);
  // The same from XGBoost's UBJSON model bytes (XgbBooster::Save("ubj"), XGBoost's default
  // format since 1.6), which hold the same document.
  static TreeEnsemble FromXgboostUbjson(std::string_view bytes);
  // The same, from the model already parsed (a different name, as a string converts to Json).
  static TreeEnsemble FromXgboostDocument(const Json& model);

  // Input columns per row: XGBoost's num_feature.
  size_t num_features() const { return num_features_; }
  // Margins per row (PredictMargin): num_class for multiclass objectives, else 1.
  size_t num_groups() const { return num_groups_; }
  // Values per row of Predict: num_class for multi:softprob, else 1.
  size_t num_outputs() const { return transform_ == OutputTransform::kSoftmax ? num_groups_ : 1; }
  size_t num_trees() const { return trees_.size(); }
  // The depth of the deepest tree (0 for a lone leaf).
  uint32_t max_depth() const;
  // Nodes of the XGBoost model (splits and leaves).
  size_t num_nodes() const { return num_nodes_; }
  const std::string& objective() const { return objective_; }
  OutputTransform transform() const { return transform_; }
  // base_score as a margin (what every row starts from before the trees).
  float base_margin() const { return base_margin_; }

  // Raw margins of `rows` rows of `x` (rows * num_features() float32 values, row-major, NaN
  // for missing) into `out` (rows * num_groups() values, row-major): base margin plus the
  // leaf values of each output group's trees. Throws invalid_argument when the sizes of `x`
  // or `out` do not match `rows`.
  void PredictMargin(std::span<const float> x, size_t rows, std::span<float> out) const;

  // Predictions as XGBoost's predict gives them (output_margin false): the margins through
  // the objective's transform, into `out` (rows * num_outputs() values). Same errors as
  // PredictMargin.
  void Predict(std::span<const float> x, size_t rows, std::span<float> out) const;

  // Trees of depth up to kMaxCompleteDepth are stored complete (every level full, a missing
  // split replaced by a copy of its leaf below it), split slots in level order, so that a walk
  // needs no child offsets: from slot i it goes to 2i+1 or 2i+2. Deeper trees keep their own
  // shape, in 16-byte nodes with child offsets.
  static constexpr uint32_t kMaxCompleteDepth = 10;

 private:
  // A split of a complete tree. Bit 31 of `feature` set: the value's sign is flipped before
  // the comparison (see FromXgboostDocument), which is how missing values reach the default
  // side without a test of their own.
  struct Slot {
    uint32_t feature;
    float threshold;
  };
  // A node of a tree stored in its own shape. Leaves point to themselves on both sides, so a
  // walk of the tree's depth steps always ends on its leaf without testing for one.
  struct Node {
    uint32_t feature;  // the split's column; bit 31 set: missing values go left.
    float value;       // the split threshold, or the leaf value at a leaf.
    uint32_t left;     // index in nodes_ of the left child (itself at a leaf).
    uint32_t right;    // index in nodes_ of the right child (itself at a leaf).
  };
  struct Tree {
    bool complete;    // stored in slots_ and leaves_; else in nodes_.
    uint32_t depth;   // steps from the root to the deepest leaf.
    uint32_t offset;  // first slot in slots_, or the root in nodes_.
    uint32_t leaves;  // complete trees: first leaf in leaves_ (2^depth of them).
    uint32_t group;   // the output group it adds to (XGBoost's tree_info).
  };
  static_assert(sizeof(Slot) == 8 && sizeof(Node) == 16);
  // Trees one row walks side by side, so that their loads overlap.
  static constexpr size_t kTreeLanes = 8;

  TreeEnsemble() = default;
  void CheckSizes(std::span<const float> x, size_t rows, std::span<float> out,
                  size_t per_row) const;
  void Margins(const float* x, size_t rows, float* out) const;
  void MarginsOneRow(const float* row, float* out) const;
  void MarginsRowBlock(const float* x, size_t rows, float* out) const;
  float OneTree(const Tree& tree, const float* row) const;

  std::vector<Slot> slots_;    // complete trees' splits, tree after tree.
  std::vector<float> leaves_;  // complete trees' leaves, tree after tree.
  std::vector<Node> nodes_;    // the other trees' nodes, tree after tree.
  std::vector<Tree> trees_;    // in XGBoost's order, which is the order leaf values are summed.
  // Per run of kTreeLanes trees from the start: true when all are complete and of one depth,
  // so that one row can walk them side by side.
  std::vector<bool> lockstep_;
  size_t num_nodes_ = 0;
  size_t num_features_ = 0;
  size_t num_groups_ = 1;
  std::string objective_;
  OutputTransform transform_ = OutputTransform::kIdentity;
  float base_margin_ = 0.0f;
};

}  // namespace mloop::model

#endif  // MLOOP_MODEL_TREE_ENSEMBLE_H_
