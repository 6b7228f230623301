#include "model/tree_ensemble.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "core/error.h"

namespace mloop::model {
namespace {

constexpr uint32_t kDefaultLeft = 0x80000000u;
constexpr uint32_t kFeatureMask = 0x7fffffffu;
// Rows evaluated together through one tree: enough independent walks to hide the latency of
// each step's two dependent loads, few enough that the block's rows stay in L1.
constexpr size_t kRowBlock = 64;
// Below this many rows, one row at a time with several trees walked together instead.
constexpr size_t kFewRows = 4;
// Margins computed on the stack at a time by Predict for multi:softmax (which returns one
// value per row but needs every class's margin).
constexpr size_t kArgmaxScratch = 4096;

// One step down a tree kept in its own shape: XGBoost's rule (a missing value takes the
// default side, any other goes left when value < threshold), without a branch. NaN compares
// false with everything, so `v < threshold` alone sends it right; the default-left bit sends it
// left.
template <typename Node>
inline uint32_t Step(const Node* nodes, uint32_t i, const float* row) {
  const Node& n = nodes[i];
  float v = row[n.feature & kFeatureMask];
  uint32_t go_left =
      static_cast<uint32_t>(v < n.value) | ((n.feature >> 31) & static_cast<uint32_t>(v != v));
  return n.right ^ ((n.left ^ n.right) & (0u - go_left));
}

// One step down a complete tree, from slot i to 2i+1 or 2i+2: the slot's comparison is
// `(value, sign flipped when bit 31 is set) < threshold`, false for NaN, and the build put the
// default child at 2i+1 (see FromXgboostDocument).
template <typename Slot>
inline uint32_t CompleteStep(const Slot* slots, uint32_t i, const float* row) {
  const Slot& s = slots[i];
  uint32_t bits;
  std::memcpy(&bits, row + (s.feature & kFeatureMask), sizeof bits);
  bits ^= s.feature & kDefaultLeft;
  float v;
  std::memcpy(&v, &bits, sizeof v);
  return 2 * i + 1 + static_cast<uint32_t>(v < s.threshold);
}

// The sigmoid as XGBoost 1.7's common::Sigmoid computes it (float32, clamped against exp
// overflow), so that probabilities agree to the last bit or close to it.
inline float Sigmoid(float x) {
  constexpr float kEps = 1e-16f;
  x = std::min(-x, 88.7f);
  return 1.0f / (std::exp(x) + 1.0f + kEps);
}

// XGBoost 1.7's common::Softmax over one row's class margins, in place.
inline void Softmax(float* p, size_t n) {
  float max = p[0];
  for (size_t i = 1; i < n; ++i) max = std::fmax(p[i], max);
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    p[i] = std::exp(p[i] - max);
    sum += p[i];
  }
  for (size_t i = 0; i < n; ++i) p[i] /= sum;
}

// --- Reading XGBoost's JSON model ------------------------------------------------------

[[noreturn]] void Bad(const std::string& what) { ThrowInvalidArgument("xgboost model: " + what); }

const Json& Member(const Json& j, const char* key, const std::string& where) {
  if (!j.is_object()) Bad(where + " is not an object");
  auto it = j.find(key);
  if (it == j.end()) Bad("missing key '" + where + "." + key + "'");
  return *it;
}

// XGBoost writes its parameters as strings ("5E-1", "3"); numbers are accepted too.
double NumberParam(const Json& j, const std::string& where) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return v;
  }
  Bad("'" + where + "' is not a number: " + j.dump());
}

size_t CountParam(const Json& j, const std::string& where) {
  double v = NumberParam(j, where);
  if (!(v >= 0) || v != std::floor(v) || v > 1e9) {
    Bad("'" + where + "' is not a count: " + j.dump());
  }
  return static_cast<size_t>(v);
}

const Json& Array(const Json& tree, const char* key, size_t size, const std::string& where) {
  const Json& a = Member(tree, key, where);
  if (!a.is_array()) Bad("'" + where + "." + key + "' is not an array");
  if (a.size() != size) {
    Bad("'" + where + "." + key + "' has " + std::to_string(a.size()) + " entries for " +
        std::to_string(size) + " nodes");
  }
  return a;
}

int64_t IntAt(const Json& a, size_t i, const std::string& where) {
  const Json& v = a[i];
  if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
  if (!v.is_number_integer())
    Bad("'" + where + "' entry " + std::to_string(i) + " is not an integer");
  return v.get<int64_t>();
}

float FloatAt(const Json& a, size_t i, const std::string& where) {
  const Json& v = a[i];
  if (!v.is_number()) Bad("'" + where + "' entry " + std::to_string(i) + " is not a number");
  // XGBoost writes each float32 with enough digits to read back the same float32.
  return static_cast<float>(v.get<double>());
}

struct ObjectiveInfo {
  OutputTransform transform;
  enum class BaseScore { kIdentity, kLogit, kLog } base;
};

bool LookUpObjective(std::string_view name, ObjectiveInfo* info) {
  using B = ObjectiveInfo::BaseScore;
  struct Entry {
    std::string_view name;
    ObjectiveInfo info;
  };
  static constexpr Entry kObjectives[] = {
      {"reg:squarederror", {OutputTransform::kIdentity, B::kIdentity}},
      {"reg:linear", {OutputTransform::kIdentity, B::kIdentity}},
      {"reg:squaredlogerror", {OutputTransform::kIdentity, B::kIdentity}},
      {"reg:pseudohubererror", {OutputTransform::kIdentity, B::kIdentity}},
      {"reg:absoluteerror", {OutputTransform::kIdentity, B::kIdentity}},
      // XGBoost 1.7 takes binary:logitraw's base_score as a margin (its ProbToMargin is the
      // default, the identity), unlike binary:logistic's.
      {"binary:logitraw", {OutputTransform::kIdentity, B::kIdentity}},
      {"binary:logistic", {OutputTransform::kSigmoid, B::kLogit}},
      {"reg:logistic", {OutputTransform::kSigmoid, B::kLogit}},
      {"count:poisson", {OutputTransform::kExp, B::kLog}},
      {"reg:gamma", {OutputTransform::kExp, B::kLog}},
      {"reg:tweedie", {OutputTransform::kExp, B::kLog}},
      {"multi:softprob", {OutputTransform::kSoftmax, B::kIdentity}},
      {"multi:softmax", {OutputTransform::kArgmax, B::kIdentity}},
  };
  for (const Entry& e : kObjectives) {
    if (e.name == name) {
      *info = e.info;
      return true;
    }
  }
  return false;
}

}  // namespace

TreeEnsemble TreeEnsemble::FromXgboostJson(std::string_view json_text) {
  return FromXgboostDocument(ParseJson(json_text, "xgboost model"));
}

TreeEnsemble TreeEnsemble::FromXgboostUbjson(std::string_view bytes) {
  Json model;
  try {
    model = Json::from_ubjson(bytes.begin(), bytes.end());
  } catch (const Json::exception& e) {
    Bad(std::string("not UBJSON: ") + e.what());
  }
  return FromXgboostDocument(model);
}

TreeEnsemble TreeEnsemble::FromXgboostDocument(const Json& model) {
  TreeEnsemble e;
  const Json& learner = Member(model, "learner", "model");
  const Json& params = Member(learner, "learner_model_param", "learner");
  const Json& booster = Member(learner, "gradient_booster", "learner");

  const Json& objective =
      Member(Member(learner, "objective", "learner"), "name", "learner.objective");
  if (!objective.is_string()) Bad("'learner.objective.name' is not a string");
  e.objective_ = objective.get<std::string>();
  ObjectiveInfo info;
  if (!LookUpObjective(e.objective_, &info)) {
    Bad("objective '" + e.objective_ +
        "' is not supported by mloop's evaluator (supported: regression reg:*, binary:logistic, "
        "binary:logitraw, count:poisson, reg:gamma, reg:tweedie, multi:softprob, "
        "multi:softmax)");
  }
  e.transform_ = info.transform;

  const Json& name = Member(booster, "name", "learner.gradient_booster");
  if (name != "gbtree") {
    Bad("booster '" + (name.is_string() ? name.get<std::string>() : name.dump()) +
        "' is not supported by mloop's evaluator (only gbtree)");
  }

  e.num_features_ = CountParam(Member(params, "num_feature", "learner.learner_model_param"),
                               "learner.learner_model_param.num_feature");
  size_t num_class = CountParam(Member(params, "num_class", "learner.learner_model_param"),
                                "learner.learner_model_param.num_class");
  size_t num_target = 1;
  if (params.contains("num_target")) {
    num_target = CountParam(params["num_target"], "learner.learner_model_param.num_target");
  }
  e.num_groups_ = std::max<size_t>({num_class, num_target, 1});
  if ((info.transform == OutputTransform::kSoftmax || info.transform == OutputTransform::kArgmax) &&
      num_class == 0) {
    Bad("objective '" + e.objective_ + "' without num_class");
  }

  // XGBoost keeps base_score as the user gave it, in output space, and turns it into a margin
  // with its objective's ProbToMargin in float32 when it loads the model.
  float base_score =
      static_cast<float>(NumberParam(Member(params, "base_score", "learner.learner_model_param"),
                                     "learner.learner_model_param.base_score"));
  switch (info.base) {
    case ObjectiveInfo::BaseScore::kIdentity:
      e.base_margin_ = base_score;
      break;
    case ObjectiveInfo::BaseScore::kLogit:
      if (!(base_score > 0.0f && base_score < 1.0f)) {
        Bad("base_score " + std::to_string(base_score) +
            " of a logistic objective is not in (0, 1)");
      }
      e.base_margin_ = -std::log(1.0f / base_score - 1.0f);
      break;
    case ObjectiveInfo::BaseScore::kLog:
      if (!(base_score > 0.0f)) {
        Bad("base_score " + std::to_string(base_score) + " of objective '" + e.objective_ +
            "' is not positive");
      }
      e.base_margin_ = std::log(base_score);
      break;
  }

  const Json& gbtree = Member(booster, "model", "learner.gradient_booster");
  const Json& trees = Member(gbtree, "trees", "learner.gradient_booster.model");
  const Json& tree_info = Member(gbtree, "tree_info", "learner.gradient_booster.model");
  if (!trees.is_array() || !tree_info.is_array() || trees.size() != tree_info.size()) {
    Bad("'trees' and 'tree_info' are not arrays of the same length");
  }

  // Each tree as XGBoost has it, checked, then stored complete or in its own shape.
  struct Parsed {
    std::vector<int64_t> left, right, feature;
    std::vector<bool> default_left;
    std::vector<float> value;
  } p;
  std::vector<uint32_t> depth;  // per node of the current tree, from the root.
  e.trees_.reserve(trees.size());
  for (size_t t = 0; t < trees.size(); ++t) {
    const std::string where = "trees[" + std::to_string(t) + "]";
    const Json& tree = trees[t];
    const Json& left = Member(tree, "left_children", where);
    if (!left.is_array() || left.empty())
      Bad("'" + where + ".left_children' is not a non-empty array");
    const size_t n = left.size();
    const Json& right = Array(tree, "right_children", n, where);
    const Json& split_index = Array(tree, "split_indices", n, where);
    const Json& split_condition = Array(tree, "split_conditions", n, where);
    const Json& default_left = Array(tree, "default_left", n, where);
    if (tree.contains("split_type")) {
      const Json& split_type = Array(tree, "split_type", n, where);
      for (size_t i = 0; i < n; ++i) {
        if (IntAt(split_type, i, where + ".split_type") != 0) {
          Bad(where + " has a categorical split (node " + std::to_string(i) +
              "): not supported by mloop's evaluator");
        }
      }
    }
    if (tree.contains("tree_param") && tree["tree_param"].contains("size_leaf_vector")) {
      size_t leaf_vector = CountParam(tree["tree_param"]["size_leaf_vector"],
                                      where + ".tree_param.size_leaf_vector");
      if (leaf_vector > 1) Bad(where + " has vector leaves: not supported by mloop's evaluator");
    }
    int64_t group = tree_info[t].is_number_integer() ? tree_info[t].get<int64_t>() : -1;
    if (group < 0 || static_cast<size_t>(group) >= e.num_groups_) {
      Bad("'tree_info[" + std::to_string(t) + "]' is not an output group below " +
          std::to_string(e.num_groups_));
    }

    p.left.assign(n, -1);
    p.right.assign(n, -1);
    p.feature.assign(n, 0);
    p.default_left.assign(n, false);
    p.value.assign(n, 0.0f);
    depth.assign(n, 0);
    uint32_t max_depth = 0;
    bool infinite_threshold = false;
    for (size_t i = 0; i < n; ++i) {
      int64_t l = IntAt(left, i, where + ".left_children");
      int64_t r = IntAt(right, i, where + ".right_children");
      // A leaf keeps its value in split_conditions, as XGBoost writes it.
      p.value[i] = FloatAt(split_condition, i, where + ".split_conditions");
      if (l == -1) continue;
      // Children come after their parent in XGBoost's trees; requiring it rules out cycles
      // and lets one forward pass set every node's depth.
      if (l <= static_cast<int64_t>(i) || r <= static_cast<int64_t>(i) ||
          l >= static_cast<int64_t>(n) || r >= static_cast<int64_t>(n)) {
        Bad(where + " node " + std::to_string(i) + " has children " + std::to_string(l) + " and " +
            std::to_string(r) + " outside the tree");
      }
      int64_t feature = IntAt(split_index, i, where + ".split_indices");
      if (feature < 0 || static_cast<size_t>(feature) >= e.num_features_) {
        Bad(where + " node " + std::to_string(i) + " splits on feature " + std::to_string(feature) +
            " of " + std::to_string(e.num_features_));
      }
      p.left[i] = l;
      p.right[i] = r;
      p.feature[i] = feature;
      p.default_left[i] = IntAt(default_left, i, where + ".default_left") != 0;
      if (!std::isfinite(p.value[i])) infinite_threshold = true;
      depth[l] = depth[r] = depth[i] + 1;
      max_depth = std::max(max_depth, depth[i] + 1);
    }
    e.num_nodes_ += n;

    Tree out;
    out.depth = max_depth;
    out.group = static_cast<uint32_t>(group);
    // The complete form's comparison for default-left splits needs a finite threshold.
    out.complete = max_depth <= kMaxCompleteDepth && !infinite_threshold;
    if (out.complete) {
      const size_t slots = (size_t{1} << max_depth) - 1;
      out.offset = static_cast<uint32_t>(e.slots_.size());
      out.leaves = static_cast<uint32_t>(e.leaves_.size());
      e.slots_.resize(e.slots_.size() + slots, Slot{0, 0.0f});
      e.leaves_.resize(e.leaves_.size() + slots + 1, 0.0f);
      Slot* s = e.slots_.data() + out.offset;
      float* leaves = e.leaves_.data() + out.leaves;
      // Places node `i` at slot `pos` of level `level`; a leaf above the last level fills every
      // slot under it, so any walk from there ends on its value.
      auto place = [&](auto& self, int64_t i, size_t pos, uint32_t level) -> void {
        if (level == max_depth) {
          leaves[pos - slots] = p.value[i];
          return;
        }
        if (p.left[i] == -1) {
          self(self, i, 2 * pos + 1, level + 1);
          self(self, i, 2 * pos + 2, level + 1);
          return;
        }
        // A step goes to 2i+2 when the comparison holds and to 2i+1 otherwise, NaN included.
        // Default right: compare value < threshold; the left child at 2i+2.
        // Default left: compare -value < nextafter(-threshold, +inf), which holds exactly when
        // value >= threshold; the right child at 2i+2. (Exact unless the FPU flushes denormal
        // inputs to zero, which mloop does not ask for.)
        uint32_t f = static_cast<uint32_t>(p.feature[i]);
        if (p.default_left[i]) {
          s[pos] = Slot{f | kDefaultLeft,
                        std::nextafter(-p.value[i], std::numeric_limits<float>::infinity())};
          self(self, p.left[i], 2 * pos + 1, level + 1);
          self(self, p.right[i], 2 * pos + 2, level + 1);
        } else {
          s[pos] = Slot{f, p.value[i]};
          self(self, p.right[i], 2 * pos + 1, level + 1);
          self(self, p.left[i], 2 * pos + 2, level + 1);
        }
      };
      place(place, 0, 0, 0);
    } else {
      const uint32_t base = static_cast<uint32_t>(e.nodes_.size());
      out.offset = base;
      out.leaves = 0;
      for (size_t i = 0; i < n; ++i) {
        Node node;
        if (p.left[i] == -1) {
          node =
              Node{0, p.value[i], base + static_cast<uint32_t>(i), base + static_cast<uint32_t>(i)};
        } else {
          node = Node{static_cast<uint32_t>(p.feature[i]) | (p.default_left[i] ? kDefaultLeft : 0),
                      p.value[i], base + static_cast<uint32_t>(p.left[i]),
                      base + static_cast<uint32_t>(p.right[i])};
        }
        e.nodes_.push_back(node);
      }
    }
    if (e.slots_.size() > std::numeric_limits<uint32_t>::max() / 4 ||
        e.nodes_.size() > std::numeric_limits<uint32_t>::max() / 4) {
      Bad("too many nodes for mloop's evaluator");
    }
    e.trees_.push_back(out);
  }
  for (size_t t = 0; t + kTreeLanes <= e.trees_.size(); t += kTreeLanes) {
    bool same = true;
    for (size_t k = 0; k < kTreeLanes; ++k) {
      same = same && e.trees_[t + k].complete && e.trees_[t + k].depth == e.trees_[t].depth;
    }
    e.lockstep_.push_back(same);
  }
  return e;
}

uint32_t TreeEnsemble::max_depth() const {
  uint32_t depth = 0;
  for (const Tree& t : trees_) depth = std::max(depth, t.depth);
  return depth;
}

void TreeEnsemble::CheckSizes(std::span<const float> x, size_t rows, std::span<float> out,
                              size_t per_row) const {
  if (x.size() != rows * num_features_) {
    ThrowInvalidArgument("tree ensemble: " + std::to_string(x.size()) + " input values for " +
                         std::to_string(rows) + " rows x " + std::to_string(num_features_) +
                         " features");
  }
  if (out.size() != rows * per_row) {
    ThrowInvalidArgument("tree ensemble: output of " + std::to_string(out.size()) + " values for " +
                         std::to_string(rows) + " rows x " + std::to_string(per_row) + " outputs");
  }
}

void TreeEnsemble::PredictMargin(std::span<const float> x, size_t rows,
                                 std::span<float> out) const {
  CheckSizes(x, rows, out, num_groups_);
  Margins(x.data(), rows, out.data());
}

void TreeEnsemble::Predict(std::span<const float> x, size_t rows, std::span<float> out) const {
  CheckSizes(x, rows, out, num_outputs());
  const size_t g = num_groups_;
  switch (transform_) {
    case OutputTransform::kIdentity:
      Margins(x.data(), rows, out.data());
      return;
    case OutputTransform::kSigmoid:
      Margins(x.data(), rows, out.data());
      for (float& v : out) v = Sigmoid(v);
      return;
    case OutputTransform::kExp:
      Margins(x.data(), rows, out.data());
      for (float& v : out) v = std::exp(v);
      return;
    case OutputTransform::kSoftmax:
      Margins(x.data(), rows, out.data());
      for (size_t r = 0; r < rows; ++r) Softmax(out.data() + r * g, g);
      return;
    case OutputTransform::kArgmax: {
      std::array<float, kArgmaxScratch> stack;
      std::vector<float> heap;  // Only for more than kArgmaxScratch classes.
      float* scratch = stack.data();
      size_t chunk = kArgmaxScratch / g;
      if (chunk == 0) {
        heap.resize(g);
        scratch = heap.data();
        chunk = 1;
      }
      for (size_t r0 = 0; r0 < rows; r0 += chunk) {
        size_t n = std::min(chunk, rows - r0);
        Margins(x.data() + r0 * num_features_, n, scratch);
        for (size_t r = 0; r < n; ++r) {
          const float* m = scratch + r * g;
          out[r0 + r] = static_cast<float>(std::max_element(m, m + g) - m);
        }
      }
      return;
    }
  }
}

void TreeEnsemble::Margins(const float* x, size_t rows, float* out) const {
  if (rows < kFewRows) {
    for (size_t r = 0; r < rows; ++r) {
      MarginsOneRow(x + r * num_features_, out + r * num_groups_);
    }
    return;
  }
  for (size_t r0 = 0; r0 < rows; r0 += kRowBlock) {
    size_t n = std::min(kRowBlock, rows - r0);
    MarginsRowBlock(x + r0 * num_features_, n, out + r0 * num_groups_);
  }
}

float TreeEnsemble::OneTree(const Tree& tree, const float* row) const {
  if (tree.complete) {
    const Slot* s = slots_.data() + tree.offset;
    uint32_t i = 0;
    for (uint32_t d = tree.depth; d > 0; --d) i = CompleteStep(s, i, row);
    return leaves_[tree.leaves + i - ((1u << tree.depth) - 1)];
  }
  const Node* nodes = nodes_.data();
  uint32_t i = tree.offset;
  for (uint32_t d = tree.depth; d > 0; --d) i = Step(nodes, i, row);
  return nodes[i].value;
}

// One row: kTreeLanes trees of one depth walked side by side, so that their loads overlap.
// Leaf values are then added in tree order, as XGBoost adds them, so the float32 sums are the
// same.
void TreeEnsemble::MarginsOneRow(const float* row, float* out) const {
  std::fill(out, out + num_groups_, base_margin_);
  const size_t num_trees = trees_.size();
  size_t t = 0;
  for (; t + kTreeLanes <= num_trees; t += kTreeLanes) {
    const Tree* trees = trees_.data() + t;
    if (!lockstep_[t / kTreeLanes]) {
      for (size_t k = 0; k < kTreeLanes; ++k) out[trees[k].group] += OneTree(trees[k], row);
      continue;
    }
    const Slot* s[kTreeLanes];
    uint32_t idx[kTreeLanes];
    for (size_t k = 0; k < kTreeLanes; ++k) {
      s[k] = slots_.data() + trees[k].offset;
      idx[k] = 0;
    }
    const uint32_t depth = trees[0].depth;
    for (uint32_t d = 0; d < depth; ++d) {
      for (size_t k = 0; k < kTreeLanes; ++k) idx[k] = CompleteStep(s[k], idx[k], row);
    }
    const uint32_t first_leaf = (1u << depth) - 1;
    for (size_t k = 0; k < kTreeLanes; ++k) {
      out[trees[k].group] += leaves_[trees[k].leaves + idx[k] - first_leaf];
    }
  }
  for (; t < num_trees; ++t) out[trees_[t].group] += OneTree(trees_[t], row);
}

// A block of up to kRowBlock rows through every tree, tree after tree: the block's rows stay
// in L1 while the trees stream through, and the rows' walks of one tree are independent.
void TreeEnsemble::MarginsRowBlock(const float* x, size_t rows, float* out) const {
  const size_t f = num_features_;
  const size_t g = num_groups_;
  std::fill(out, out + rows * g, base_margin_);
  uint32_t idx[kRowBlock];
  for (const Tree& tree : trees_) {
    float* o = out + tree.group;
    if (tree.complete) {
      const Slot* s = slots_.data() + tree.offset;
      for (size_t r = 0; r < rows; ++r) idx[r] = 0;
      for (uint32_t d = tree.depth; d > 0; --d) {
        for (size_t r = 0; r < rows; ++r) idx[r] = CompleteStep(s, idx[r], x + r * f);
      }
      const float* leaves = leaves_.data() + tree.leaves;
      const uint32_t first_leaf = (1u << tree.depth) - 1;
      for (size_t r = 0; r < rows; ++r) o[r * g] += leaves[idx[r] - first_leaf];
    } else {
      const Node* nodes = nodes_.data();
      for (size_t r = 0; r < rows; ++r) idx[r] = tree.offset;
      for (uint32_t d = tree.depth; d > 0; --d) {
        for (size_t r = 0; r < rows; ++r) idx[r] = Step(nodes, idx[r], x + r * f);
      }
      for (size_t r = 0; r < rows; ++r) o[r * g] += nodes[idx[r]].value;
    }
  }
}

}  // namespace mloop::model
