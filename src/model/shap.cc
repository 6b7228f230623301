#include "model/shap.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"
#include "model/tree_ensemble.h"

namespace mloop::model {
namespace {

// Rows explained at a time by TreeShap::MeanAbsShap.
constexpr size_t kImportanceBlock = 256;

[[noreturn]] void Bad(const std::string& what) { ThrowInvalidArgument("xgboost model: " + what); }

// The document has passed TreeEnsemble's checks when these run, so only what TreeEnsemble does
// not read (sum_hessian) can be missing or malformed here.
const Json& Member(const Json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) Bad("missing key '" + where + "." + key + "'");
  return *it;
}

int64_t IntAt(const Json& a, size_t i) {
  const Json& v = a[i];
  if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
  return v.get<int64_t>();
}

void CheckSizes(std::string_view what, size_t x_size, size_t rows, size_t num_features,
                size_t out_size, size_t per_row) {
  if (x_size != rows * num_features) {
    ThrowInvalidArgument(std::string(what) + ": " + std::to_string(x_size) + " input values for " +
                         std::to_string(rows) + " rows x " + std::to_string(num_features) +
                         " features");
  }
  if (out_size != rows * per_row) {
    ThrowInvalidArgument(std::string(what) + ": output of " + std::to_string(out_size) +
                         " values for " + std::to_string(rows) + " rows x " +
                         std::to_string(per_row) + " values per row");
  }
}

}  // namespace

// --- Building ---------------------------------------------------------------------------

TreeShap TreeShap::FromXgboostJson(std::string_view json_text) {
  return FromXgboostDocument(ParseJson(json_text, "xgboost model"));
}

TreeShap TreeShap::FromXgboostUbjson(std::string_view bytes) {
  Json model;
  try {
    model = Json::from_ubjson(bytes.begin(), bytes.end());
  } catch (const Json::exception& e) {
    Bad(std::string("not UBJSON: ") + e.what());
  }
  return FromXgboostDocument(model);
}

TreeShap TreeShap::FromXgboostDocument(const Json& model) {
  // One reading of the document and one set of refusals: TreeEnsemble checks the document's
  // shape, the booster, the objective and every tree, and gives the base margin.
  const TreeEnsemble ensemble = TreeEnsemble::FromXgboostDocument(model);
  TreeShap s;
  s.num_features_ = ensemble.num_features();
  s.num_groups_ = ensemble.num_groups();
  s.expected_values_.assign(s.num_groups_, static_cast<double>(ensemble.base_margin()));

  const Json& gbtree = model["learner"]["gradient_booster"]["model"];
  const Json& trees = gbtree["trees"];
  const Json& tree_info = gbtree["tree_info"];
  std::vector<double> cover;
  std::vector<double> mean;  // per node of the current tree: cover-weighted mean leaf value.
  std::vector<uint32_t> depth;
  s.trees_.reserve(trees.size());
  for (size_t t = 0; t < trees.size(); ++t) {
    const std::string where = "trees[" + std::to_string(t) + "]";
    const Json& tree = trees[t];
    const Json& left = tree["left_children"];
    const Json& right = tree["right_children"];
    const Json& split_index = tree["split_indices"];
    const Json& split_condition = tree["split_conditions"];
    const Json& default_left = tree["default_left"];
    const size_t n = left.size();
    const Json& hessian = Member(tree, "sum_hessian", where);
    if (!hessian.is_array() || hessian.size() != n) {
      Bad("'" + where + ".sum_hessian' is not an array of " + std::to_string(n) + " node covers");
    }
    cover.assign(n, 0.0);
    for (size_t i = 0; i < n; ++i) {
      const Json& c = hessian[i];
      if (!c.is_number()) {
        Bad("'" + where + ".sum_hessian' entry " + std::to_string(i) + " is not a number");
      }
      // XGBoost keeps covers as float32; read them as it does.
      cover[i] = static_cast<float>(c.get<double>());
      if (!std::isfinite(cover[i]) || cover[i] < 0) {
        Bad(where + " node " + std::to_string(i) + " has cover (sum_hessian) " + c.dump() +
            ": TreeSHAP needs finite, non-negative covers");
      }
    }

    Tree out;
    out.root = static_cast<uint32_t>(s.nodes_.size());
    out.group = static_cast<uint32_t>(tree_info[t].get<int64_t>());
    out.depth = 0;
    depth.assign(n, 0);
    for (size_t i = 0; i < n; ++i) {
      Node node{};
      node.left = -1;
      node.right = -1;
      const int64_t l = IntAt(left, i);
      if (l == -1) {
        node.value = static_cast<float>(split_condition[i].get<double>());
      } else {
        const int64_t r = IntAt(right, i);
        if (cover[i] == 0) {
          Bad(where + " node " + std::to_string(i) +
              " is a split with cover (sum_hessian) 0: TreeSHAP cannot share out its background");
        }
        node.left = static_cast<int32_t>(out.root + l);
        node.right = static_cast<int32_t>(out.root + r);
        node.feature = static_cast<uint32_t>(IntAt(split_index, i));
        node.threshold = static_cast<float>(split_condition[i].get<double>());
        node.default_left = IntAt(default_left, i) != 0;
        node.left_fraction = cover[l] / cover[i];
        node.right_fraction = cover[r] / cover[i];
        // TreeEnsemble checked that children come after their parent.
        depth[l] = depth[r] = depth[i] + 1;
        out.depth = std::max(out.depth, depth[i] + 1);
      }
      s.nodes_.push_back(node);
    }
    // Mean values bottom-up (children after parents), as XGBoost's FillNodeMeanValues: a
    // split's is its children's weighted by their covers, over its own cover.
    mean.assign(n, 0.0);
    for (size_t i = n; i-- > 0;) {
      const Node& node = s.nodes_[out.root + i];
      if (node.left == -1) {
        mean[i] = node.value;
      } else {
        const size_t l = node.left - out.root;
        const size_t r = node.right - out.root;
        mean[i] = (mean[l] * cover[l] + mean[r] * cover[r]) / cover[i];
      }
    }
    s.expected_values_[out.group] += mean[0];
    s.max_depth_ = std::max(s.max_depth_, out.depth);
    if (s.nodes_.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max() / 2)) {
      Bad("too many nodes for mloop's TreeSHAP");
    }
    s.trees_.push_back(out);
  }
  // Path lengths go up to max_depth_ + 1 elements (depth index max_depth_).
  s.ratio_stride_ = s.max_depth_ + 1;
  s.ratios_.assign(s.ratio_stride_ * s.ratio_stride_, Ratio{});
  for (size_t d = 0; d <= s.max_depth_; ++d) {
    for (size_t k = 0; k < d; ++k) {
      const double n = static_cast<double>(d + 1);
      Ratio& r = s.ratios_[d * s.ratio_stride_ + k];
      r.up = static_cast<double>(k + 1) / n;
      r.down = static_cast<double>(d - k) / n;
      r.inverse_up = n / static_cast<double>(k + 1);
      r.inverse_down = n / static_cast<double>(d - k);
    }
  }
  return s;
}

// --- TreeSHAP -----------------------------------------------------------------------------
//
// Algorithm 2 of Lundberg et al. 2018. Walking down a tree, the path keeps one element per
// distinct feature split on so far (after a placeholder for the root). For each element, the
// zero fraction is the share of the background that reaches here through that feature's splits
// and the one fraction is whether the row itself does; the weights are, for each subset size,
// the total weight over subsets of path features of the permutations that reach this node.
// At a leaf, each feature's Shapley value gains (one - zero) times the leaf value times the
// path's weight with that feature taken out again. A feature split on twice along one path is
// first unwound, then extended with the product of its fractions, so that it counts once.

TreeShap::Workspace TreeShap::NewWorkspace() const {
  Workspace w;
  // Each level of the recursion copies its parent's path (at most depth + 1 elements) and adds
  // one: (D + 2)(D + 3) / 2 elements for trees of depth D.
  const size_t d = max_depth_ + 2;
  w.path.resize(d * (d + 1) / 2);
  w.followed.resize(max_depth_ + 1);
  return w;
}

// Appends a feature with its fractions as element `depth` of a path of `depth` elements and
// updates the subset-size weights for one more feature.
void TreeShap::ExtendPath(PathElement* path, uint32_t depth, double zero_fraction,
                          double one_fraction, int32_t feature) const {
  path[depth].feature = feature;
  path[depth].zero_fraction = zero_fraction;
  path[depth].one_fraction = one_fraction;
  path[depth].weight = depth == 0 ? 1.0 : 0.0;
  const Ratio* ratio = ratios_.data() + depth * ratio_stride_;
  for (uint32_t k = depth; k-- > 0;) {
    path[k + 1].weight += one_fraction * path[k].weight * ratio[k].up;
    path[k].weight = zero_fraction * path[k].weight * ratio[k].down;
  }
}

// Takes element `index` out of a path whose last element is `depth`: the inverse of the
// ExtendPath that added it.
void TreeShap::UnwindPath(PathElement* path, uint32_t depth, uint32_t index) const {
  const double zero_fraction = path[index].zero_fraction;
  const Ratio* ratio = ratios_.data() + depth * ratio_stride_;
  if (path[index].one_fraction != 0) {
    double next = path[depth].weight;
    for (uint32_t k = depth; k-- > 0;) {
      const double w = path[k].weight;
      path[k].weight = next * ratio[k].inverse_up;
      next = w - path[k].weight * zero_fraction * ratio[k].down;
    }
  } else {
    // zero_fraction is not 0 here: Recurse stops where both fractions are.
    const double inverse_zero = 1.0 / zero_fraction;
    for (uint32_t k = depth; k-- > 0;) path[k].weight *= ratio[k].inverse_down * inverse_zero;
  }
  for (uint32_t k = index; k < depth; ++k) {
    path[k].feature = path[k + 1].feature;
    path[k].zero_fraction = path[k + 1].zero_fraction;
    path[k].one_fraction = path[k + 1].one_fraction;
  }
}

// At a leaf: adds to each path feature's value (one - zero) x leaf value x the sum of the
// weights the path would have with that feature unwound. One fractions are 0 or 1 (whether the
// row goes this way), which is what lets the unwound sum skip divisions: for a feature the row
// does not follow, the sum is the same for every such feature up to the factor 1 / zero, which
// (one - zero) = -zero cancels.
void TreeShap::AddLeaf(const PathElement* path, uint32_t depth, double leaf, double* phi,
                       Unwound* followed) const {
  const Ratio* ratio = ratios_.data() + depth * ratio_stride_;
  double not_followed = 0;
  for (uint32_t k = 0; k < depth; ++k) not_followed += path[k].weight * ratio[k].inverse_down;
  uint32_t m = 0;
  for (uint32_t e = 1; e <= depth; ++e) {
    if (path[e].one_fraction == 0) {
      phi[path[e].feature] -= not_followed * leaf;
    } else {
      followed[m++] = Unwound{path[depth].weight, 0.0, path[e].zero_fraction, path[e].feature};
    }
  }
  // The followed features' unwound sums side by side: independent recurrences, so that their
  // multiplications overlap.
  for (uint32_t k = depth; k-- > 0;) {
    const double inverse_up = ratio[k].inverse_up;
    const double down = ratio[k].down;
    const double weight = path[k].weight;
    for (uint32_t i = 0; i < m; ++i) {
      const double w = followed[i].next * inverse_up;
      followed[i].total += w;
      followed[i].next = weight - w * followed[i].zero_fraction * down;
    }
  }
  for (uint32_t i = 0; i < m; ++i) {
    phi[followed[i].feature] += followed[i].total * (1.0 - followed[i].zero_fraction) * leaf;
  }
}

void TreeShap::Recurse(const float* row, double* phi, uint32_t node_index, uint32_t depth,
                       PathElement* parent_path, double zero_fraction, double one_fraction,
                       int32_t feature, Unwound* scratch) const {
  // No background and not the row's way: nothing below can change any subset's value.
  if (zero_fraction == 0 && one_fraction == 0) return;
  PathElement* path = parent_path + depth + 1;
  std::copy(parent_path, parent_path + depth + 1, path);
  ExtendPath(path, depth, zero_fraction, one_fraction, feature);

  const Node& node = nodes_[node_index];
  if (node.left == -1) {
    AddLeaf(path, depth, node.value, phi, scratch);
    return;
  }

  const float v = row[node.feature];
  const bool go_left = std::isnan(v) ? node.default_left : v < node.threshold;
  const uint32_t hot = static_cast<uint32_t>(go_left ? node.left : node.right);
  const uint32_t cold = static_cast<uint32_t>(go_left ? node.right : node.left);
  const double hot_fraction = go_left ? node.left_fraction : node.right_fraction;
  const double cold_fraction = go_left ? node.right_fraction : node.left_fraction;

  // A feature already on the path is unwound, and comes back with both splits' fractions.
  double incoming_zero = 1.0;
  double incoming_one = 1.0;
  const int32_t f = static_cast<int32_t>(node.feature);
  for (uint32_t k = 1; k <= depth; ++k) {
    if (path[k].feature == f) {
      incoming_zero = path[k].zero_fraction;
      incoming_one = path[k].one_fraction;
      UnwindPath(path, depth, k);
      --depth;
      break;
    }
  }
  Recurse(row, phi, hot, depth + 1, path, hot_fraction * incoming_zero, incoming_one, f, scratch);
  Recurse(row, phi, cold, depth + 1, path, cold_fraction * incoming_zero, 0.0, f, scratch);
}

void TreeShap::ExplainRows(const float* x, size_t rows, double* out, Workspace& w) const {
  const size_t per_group = num_features_ + 1;
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x + r * num_features_;
    double* o = out + r * values_per_row();
    std::fill(o, o + values_per_row(), 0.0);
    for (size_t g = 0; g < num_groups_; ++g) o[g * per_group + num_features_] = expected_values_[g];
    for (const Tree& tree : trees_) {
      // The root placeholder (feature -1, fractions 1) starts the path.
      Recurse(row, o + tree.group * per_group, tree.root, 0, w.path.data(), 1.0, 1.0, -1,
              w.followed.data());
    }
  }
}

void TreeShap::Explain(std::span<const float> x, size_t rows, std::span<double> out) const {
  CheckSizes("tree shap", x.size(), rows, num_features_, out.size(), values_per_row());
  if (rows == 0) return;
  Workspace w = NewWorkspace();
  ExplainRows(x.data(), rows, out.data(), w);
}

std::vector<double> TreeShap::MeanAbsShap(std::span<const float> x, size_t rows) const {
  CheckSizes("tree shap", x.size(), rows, num_features_, 0, 0);
  std::vector<double> sum(num_groups_ * num_features_, 0.0);
  if (rows == 0) {
    std::fill(sum.begin(), sum.end(), std::numeric_limits<double>::quiet_NaN());
    return sum;
  }
  Workspace w = NewWorkspace();
  std::vector<double> block(std::min(rows, kImportanceBlock) * values_per_row());
  const size_t per_group = num_features_ + 1;
  for (size_t r0 = 0; r0 < rows; r0 += kImportanceBlock) {
    const size_t n = std::min(kImportanceBlock, rows - r0);
    ExplainRows(x.data() + r0 * num_features_, n, block.data(), w);
    for (size_t r = 0; r < n; ++r) {
      const double* o = block.data() + r * values_per_row();
      for (size_t g = 0; g < num_groups_; ++g) {
        for (size_t j = 0; j < num_features_; ++j) {
          sum[g * num_features_ + j] += std::fabs(o[g * per_group + j]);
        }
      }
    }
  }
  for (double& v : sum) v /= static_cast<double>(rows);
  return sum;
}

// --- Linear models ---------------------------------------------------------------------------

void ExplainLinear(const LinearModel& model, std::span<const double> feature_means,
                   std::span<const float> x, size_t rows, std::span<double> out) {
  const size_t f = model.num_features();
  const size_t groups = model.num_groups();
  const size_t per_group = f + 1;
  if (feature_means.size() != f) {
    ThrowInvalidArgument("linear shap: " + std::to_string(feature_means.size()) +
                         " feature means for " + std::to_string(f) + " features");
  }
  for (size_t j = 0; j < f; ++j) {
    if (!std::isfinite(feature_means[j])) {
      ThrowInvalidArgument("linear shap: the mean of feature " + std::to_string(j) +
                           " is not finite");
    }
  }
  CheckSizes("linear shap", x.size(), rows, f, out.size(), groups * per_group);
  const std::vector<double>& coef = model.coef();
  std::vector<double> bias(model.intercept());
  for (size_t g = 0; g < groups; ++g) {
    for (size_t j = 0; j < f; ++j) bias[g] += coef[g * f + j] * feature_means[j];
  }
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x.data() + r * f;
    double* o = out.data() + r * groups * per_group;
    if (std::any_of(row, row + f, [](float v) { return std::isnan(v); })) {
      std::fill(o, o + groups * per_group, std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    for (size_t g = 0; g < groups; ++g) {
      for (size_t j = 0; j < f; ++j) {
        o[g * per_group + j] = coef[g * f + j] * (static_cast<double>(row[j]) - feature_means[j]);
      }
      o[g * per_group + f] = bias[g];
    }
  }
}

// --- Global importance -----------------------------------------------------------------------

std::vector<double> MeanAbsShap(std::span<const double> explanations, size_t rows,
                                size_t num_groups, size_t num_features) {
  const size_t per_group = num_features + 1;
  const size_t per_row = num_groups * per_group;
  if (explanations.size() != rows * per_row) {
    ThrowInvalidArgument("mean |shap|: " + std::to_string(explanations.size()) + " values for " +
                         std::to_string(rows) + " rows x " + std::to_string(per_row) +
                         " values per row");
  }
  std::vector<double> sum(num_groups * num_features, 0.0);
  size_t kept = 0;
  for (size_t r = 0; r < rows; ++r) {
    const double* o = explanations.data() + r * per_row;
    if (std::any_of(o, o + per_row, [](double v) { return std::isnan(v); })) continue;
    ++kept;
    for (size_t g = 0; g < num_groups; ++g) {
      for (size_t j = 0; j < num_features; ++j) {
        sum[g * num_features + j] += std::fabs(o[g * per_group + j]);
      }
    }
  }
  for (double& v : sum) {
    v = kept == 0 ? std::numeric_limits<double>::quiet_NaN() : v / static_cast<double>(kept);
  }
  return sum;
}

}  // namespace mloop::model
