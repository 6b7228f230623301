// SHAP explanations of mloop's models in margin space: per row, per output group, one value per
// input feature and a bias, the values summing to the row's margin (Lundberg and Lee's local
// accuracy). Global importance is the mean |SHAP| of each feature over a set of rows.
//
//   TreeShap       XGBoost gbtree models: TreeSHAP, Lundberg et al. 2018 ("Consistent
//                  Individualized Feature Attribution for Tree Ensembles"), Algorithm 2, the
//                  path-dependent version XGBoost's pred_contribs computes: the background is
//                  the training data as the trees saw it, through each node's cover (XGBoost's
//                  `sum_hessian`).
//   ExplainLinear  LinearModel: the exact SHAP values under feature independence with the
//                  training means as background, coef_j * (x_j - mean_j).
//   MeanAbsShap    mean |SHAP| per group and feature over explained rows.
//
// Layout of an explanation, XGBoost's predict(pred_contribs=True): rows x groups x
// (num_features + 1) doubles, row-major; within a group, the features' values in column order,
// then the bias (the group's expected margin). For one group that is rows x (num_features + 1),
// exactly XGBoost's array. Values are computed in double; XGBoost computes them in float32, so
// the two agree to float rounding (measured: within 1.2e-6 of the largest |value| of the row's
// group, or 6.5e-6 absolute on Adult's logistic model), not to the bit.
//
// Thread-safety: a TreeShap is immutable once built; any number of threads may call its const
// methods at once. Explain allocates its scratch once per call, not per row: O(D^2) elements
// of 32 bytes for trees of depth D (tens of kilobytes at depth 30; deep lossguide trees cost
// more), and the model keeps a (D + 1)^2 table of ratios.
#ifndef MLOOP_MODEL_SHAP_H_
#define MLOOP_MODEL_SHAP_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "model/linear_model.h"

namespace mloop::model {

class TreeShap {
 public:
  // Builds from XGBoost's model document (the one TreeEnsemble reads). Refuses what
  // TreeEnsemble::FromXgboostDocument refuses, with the same errors (Error invalid_argument:
  // dart and gblinear boosters, categorical splits, vector leaves, unsupported objectives,
  // malformed documents), and in addition a tree without `sum_hessian` (node covers) or whose
  // covers are not finite and non-negative, or a split whose cover is 0 (its children's shares
  // of the background would be 0/0).
  static TreeShap FromXgboostDocument(const Json& model);
  // The same from the JSON text (XgbBooster::Save("json")).
  static TreeShap FromXgboostJson(std::string_view json_text);
  // The same from the UBJSON bytes (XgbBooster::Save("ubj")).
  static TreeShap FromXgboostUbjson(std::string_view bytes);

  // Input columns per row: XGBoost's num_feature.
  size_t num_features() const { return num_features_; }
  // Output groups (margins per row): num_class for multiclass objectives, else 1.
  size_t num_groups() const { return num_groups_; }
  // Values per explained row: num_groups() * (num_features() + 1).
  size_t values_per_row() const { return num_groups_ * (num_features_ + 1); }
  // Per group, the bias of every explanation: base margin plus each of the group's trees' mean
  // leaf value weighted by cover (the expected margin over the trees' training data).
  const std::vector<double>& expected_values() const { return expected_values_; }

  // Explains `rows` rows of `x` (rows * num_features() float32 values, row-major, NaN for
  // missing: it follows each split's default side, as in prediction) into `out`
  // (rows * values_per_row() doubles, the layout at the top of this file). Each row's values of
  // a group sum to its margin (TreeEnsemble::PredictMargin) up to rounding. Time per row is
  // O(T L D^2) for T trees of L leaves and depth D. Throws Error invalid_argument when the size
  // of `x` or `out` does not match `rows`.
  void Explain(std::span<const float> x, size_t rows, std::span<double> out) const;

  // Global importance: the mean |SHAP value| of each feature over `rows` rows of `x`, as
  // num_groups() x num_features() doubles (group after group; the bias left out). Explains the
  // rows in blocks, so memory does not grow with `rows`. Zero rows give NaN. Same errors as
  // Explain for the size of `x`.
  std::vector<double> MeanAbsShap(std::span<const float> x, size_t rows) const;

 private:
  // A node of one tree, children as indices into nodes_ (-1 at a leaf).
  struct Node {
    int32_t left;
    int32_t right;
    uint32_t feature;
    float threshold;        // value < threshold goes left.
    double value;           // the leaf value, at a leaf.
    double left_fraction;   // cover(left) / cover(this): the share of the background going left.
    double right_fraction;  // cover(right) / cover(this).
    bool default_left;      // where a missing value goes.
  };
  struct Tree {
    uint32_t root;   // index in nodes_.
    uint32_t depth;  // steps from the root to the deepest leaf.
    uint32_t group;  // the output group it adds to.
  };
  // One step of a decision path in TreeSHAP's bookkeeping (the paper's m).
  struct PathElement {
    int32_t feature;       // -1 for the path's root placeholder.
    double zero_fraction;  // share of the background that follows the path through the feature.
    double one_fraction;   // 1 if the row follows the path through the feature, else 0.
    double weight;         // permutation weight of subsets of this size.
  };

  // For a path whose last element is d (d + 1 elements) and an element k < d: the factors of
  // TreeSHAP's weight updates, (k + 1) / (d + 1), (d - k) / (d + 1) and their inverses.
  struct Ratio {
    double up;
    double down;
    double inverse_up;
    double inverse_down;
  };

  // A path feature the row follows, while AddLeaf computes its unwound sum.
  struct Unwound {
    double next;
    double total;
    double zero_fraction;
    int32_t feature;
  };
  // What one Explain call allocates: the path of every recursion level, and AddLeaf's scratch.
  struct Workspace {
    std::vector<PathElement> path;
    std::vector<Unwound> followed;
  };

  TreeShap() = default;
  void ExtendPath(PathElement* path, uint32_t depth, double zero_fraction, double one_fraction,
                  int32_t feature) const;
  void UnwindPath(PathElement* path, uint32_t depth, uint32_t index) const;
  Workspace NewWorkspace() const;
  void AddLeaf(const PathElement* path, uint32_t depth, double leaf, double* phi,
               Unwound* followed) const;
  void ExplainRows(const float* x, size_t rows, double* out, Workspace& w) const;
  void Recurse(const float* row, double* phi, uint32_t node, uint32_t depth,
               PathElement* parent_path, double zero_fraction, double one_fraction, int32_t feature,
               Unwound* scratch) const;

  std::vector<Node> nodes_;
  std::vector<Tree> trees_;
  std::vector<double> expected_values_;
  std::vector<Ratio> ratios_;  // ratio_stride_ x ratio_stride_, indexed [d][k].
  size_t ratio_stride_ = 0;
  uint32_t max_depth_ = 0;
  size_t num_features_ = 0;
  size_t num_groups_ = 1;
};

// Exact SHAP values of a linear model in margin space, with independent features and
// `feature_means` (num_features() values, the training means) as the background: for group g,
// phi_gj = coef_gj * (x_j - mean_j) and the bias is intercept_g + sum_j coef_gj * mean_j. `x`
// is rows * num_features() float32 values, row-major; `out` rows * num_groups() *
// (num_features() + 1) doubles, the layout at the top of this file. A row with a NaN input gets
// NaN in all its outputs, bias included (a linear model needs complete rows; see
// linear_model.h). Throws Error invalid_argument when a size does not match or a mean is not
// finite.
void ExplainLinear(const LinearModel& model, std::span<const double> feature_means,
                   std::span<const float> x, size_t rows, std::span<double> out);

// Global importance from explanations already computed (`explanations`: rows x num_groups x
// (num_features + 1), the layout above): the mean |value| per group and feature, num_groups x
// num_features doubles. Rows with a NaN value (a linear model's incomplete rows) are left out;
// with no row left, every mean is NaN. Throws Error invalid_argument when the size does not
// match.
std::vector<double> MeanAbsShap(std::span<const double> explanations, size_t rows,
                                size_t num_groups, size_t num_features);

}  // namespace mloop::model

#endif  // MLOOP_MODEL_SHAP_H_
