#include "stats/quantile_sketch.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "core/error.h"
#include "stats/hash.h"
#include "stats/internal/json_fields.h"

namespace mloop::stats {
namespace {

constexpr uint32_t kMinLevelCapacity = 8;
constexpr uint64_t kSeed = 0x4b4c4c2d71756e74;  // "KLL-qunt"
constexpr size_t kMaxLevels = 61;               // Weights 2^h must add up in a uint64.
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// k * (2/3)^depth rounded to the nearest integer, at least kMinLevelCapacity; integer
// arithmetic so that every machine computes the same capacities.
uint32_t LevelCapacity(uint32_t k, size_t depth) {
  if (depth > 30) return kMinLevelCapacity;  // k (2/3)^31 < 1 for every k <= 65535.
  uint64_t pow3 = 1;
  for (size_t i = 0; i < depth; ++i) pow3 *= 3;
  uint64_t twice_scaled = (uint64_t{2} * k) << depth;
  uint64_t rounded = (twice_scaled / pow3 + 1) >> 1;
  return static_cast<uint32_t>(std::max<uint64_t>(kMinLevelCapacity, rounded));
}

std::string Hex64(uint64_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<size_t>(i)] = kHex[v & 0xf];
  return s;
}

std::optional<uint64_t> ParseHex64(std::string_view s) {
  if (s.size() != 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

// Merges the n sorted items from(0), ..., from(n - 1) into the sorted `into`, in place from
// the back, so that the items of `into` below the smallest new one stay where they are. Of
// equal items, those of `into` go first when kIntoFirst, else last: the order a forward merge
// with that rule gives, whatever the items' bits (0.0 and -0.0 compare equal but print
// differently).
template <bool kIntoFirst, typename From>
void MergeSortedInto(std::vector<double>& into, size_t n, From from) {
  size_t i = into.size();
  size_t j = n;
  into.resize(i + n);
  double* out = into.data();
  size_t o = i + j;
  while (i > 0 && j > 0) {
    const double a = out[i - 1];
    const double b = from(j - 1);
    // Whether into's item comes after from's in the merged order.
    const bool into_last = kIntoFirst ? b < a : !(a < b);
    out[--o] = into_last ? a : b;
    i -= into_last;
    j -= !into_last;
  }
  while (j > 0) {
    --j;
    out[--o] = from(j);
  }
}

}  // namespace

QuantileSketch::QuantileSketch(uint32_t k)
    : k_(k),
      min_(std::numeric_limits<double>::infinity()),
      max_(-std::numeric_limits<double>::infinity()),
      rng_(kSeed) {
  if (k < kMinK || k > kMaxK) {
    ThrowInvalidArgument("quantile sketch: k must be from " + std::to_string(kMinK) + " to " +
                         std::to_string(kMaxK) + ", not " + std::to_string(k));
  }
  AddLevel();
}

double QuantileSketch::min() const { return empty() ? kNaN : min_; }
double QuantileSketch::max() const { return empty() ? kNaN : max_; }

double QuantileSketch::NormalizedRankError(uint32_t k) {
  return 2.446 / std::pow(static_cast<double>(k), 0.9433);
}

void QuantileSketch::AddLevel() {
  levels_.emplace_back();
  size_t num_levels = levels_.size();
  capacities_.resize(num_levels);
  capacity_ = 0;
  for (size_t h = 0; h < num_levels; ++h) {
    capacities_[h] = LevelCapacity(k_, num_levels - 1 - h);
    capacity_ += capacities_[h];
  }
}

bool QuantileSketch::NextCoin() {
  // A counter run through the module's integer hash: cheap, and fully determined by
  // the stored state.
  return (HashInt64(static_cast<int64_t>(rng_++)) >> 63) != 0;
}

uint64_t QuantileSketch::NextRandom() { return HashInt64(static_cast<int64_t>(rng_++)); }

void QuantileSketch::Update(double x) {
  if (!std::isfinite(x)) return;
  ++n_;
  min_ = std::min(min_, x);
  max_ = std::max(max_, x);
  if (sample_level_ > 0) {
    UpdateSampled(x);
    return;
  }
  if (size_ >= capacity_) {
    Compress();
    MaybeRaiseSampleLevel();
    if (sample_level_ > 0) {
      UpdateSampled(x);
      return;
    }
  }
  levels_[0].push_back(x);
  ++size_;
}

void QuantileSketch::UpdateSampled(double x) {
  ++group_count_;
  if (group_count_ == group_next_) {
    group_item_ = x;
    NextReplacement(group_count_);
  }
  if (group_count_ < (uint64_t{1} << sample_level_)) return;
  CloseGroup();
}

void QuantileSketch::UpdateSampled(const double* values, size_t n) {
  size_t i = 0;
  while (i < n) {
    // The values that complete (or continue) the current group; of them, only those at the
    // group's replacement positions are read.
    const uint64_t group_size = uint64_t{1} << sample_level_;
    const uint64_t take = std::min<uint64_t>(group_size - group_count_, n - i);
    const uint64_t count_after = group_count_ + take;
    while (group_next_ <= count_after) {
      // group_next_ is 1-based in the group and above group_count_.
      group_item_ = values[i + static_cast<size_t>(group_next_ - group_count_ - 1)];
      NextReplacement(group_next_);
    }
    group_count_ = count_after;
    i += static_cast<size_t>(take);
    if (group_count_ < group_size) return;
    CloseGroup();
  }
}

void QuantileSketch::NextReplacement(uint64_t count) {
  // Reservoir sampling of one item, skipping ahead: the sample survives values
  // count+1 .. t with probability count / t, so the next replacement is at
  // floor(count / u) + 1 for u uniform in (0, 1].
  double u = static_cast<double>((NextRandom() >> 11) + 1) * 0x1p-53;
  const double q = static_cast<double>(count) / u;
  // Below 2^52, floor(q) + 1 is exact as a double and is q's truncation plus one: the usual
  // case, without the floor (this function is on the sampler's critical path).
  if (q < 0x1p52) {
    group_next_ = static_cast<uint64_t>(q) + 1;
    return;
  }
  double next = std::floor(q) + 1;
  group_next_ = next >= 0x1p63 ? std::numeric_limits<uint64_t>::max() : static_cast<uint64_t>(next);
}

void QuantileSketch::CloseGroup() {
  std::vector<double>& level = levels_[sample_level_];
  // The place after the items <= the sample, as upper_bound finds it: in a level this short
  // (about 12 items at k = 200) counting them costs less than the mispredicted branches of a
  // binary search.
  size_t at = 0;
  if (level.size() <= 64) {
    for (double y : level) at += y <= group_item_;
  } else {
    at = static_cast<size_t>(std::upper_bound(level.begin(), level.end(), group_item_) -
                             level.begin());
  }
  level.insert(level.begin() + static_cast<std::ptrdiff_t>(at), group_item_);
  ++size_;
  group_count_ = 0;
  group_next_ = 1;
  while (size_ > capacity_) Compress();
  MaybeRaiseSampleLevel();
}

void QuantileSketch::MaybeRaiseSampleLevel() {
  if (levels_.size() <= sample_level_ + size_t{kCompactorLevels}) return;
  FlushGroup();
  sample_level_ = static_cast<uint32_t>(levels_.size() - kCompactorLevels);
}

void QuantileSketch::FlushGroup() {
  if (group_count_ == 0) return;
  const size_t num_parts = static_cast<size_t>(std::bit_width(group_count_));
  if (parts_.size() < num_parts) parts_.resize(num_parts);
  for (uint64_t w = group_count_; w != 0; w &= w - 1) {
    parts_[static_cast<size_t>(std::countr_zero(w))].push_back(group_item_);
  }
  group_count_ = 0;
  group_next_ = 1;
  InsertParts(num_parts, /*sorted=*/true);  // One item per part.
}

void QuantileSketch::Update(std::span<const double> values) {
  size_t i = 0;
  while (i < values.size() && sample_level_ == 0) {
    if (size_ >= capacity_) {
      Compress();
      MaybeRaiseSampleLevel();
      if (sample_level_ > 0) break;
    }
    size_t take = std::min(values.size() - i, capacity_ - size_);
    std::vector<double>& level0 = levels_[0];
    double lo = min_;
    double hi = max_;
    size_t added = 0;
    for (size_t j = i; j < i + take; ++j) {
      double x = values[j];
      if (!std::isfinite(x)) continue;
      level0.push_back(x);
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      ++added;
    }
    min_ = lo;
    max_ = hi;
    size_ += added;
    n_ += added;
    i += take;
  }
  if (i == values.size()) return;
  // The sampler reads only the values that replace a group's sample: with every value
  // finite (the usual case), the rest is taken as a block, which is the same as one by one.
  double lo = min_;
  double hi = max_;
  bool all_finite = true;
  for (size_t j = i; j < values.size(); ++j) {
    double x = values[j];
    all_finite &= std::isfinite(x);
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  if (all_finite) {
    n_ += values.size() - i;
    min_ = lo;
    max_ = hi;
    UpdateSampled(values.data() + i, values.size() - i);
    return;
  }
  for (; i < values.size(); ++i) {
    double x = values[i];
    if (!std::isfinite(x)) continue;
    ++n_;
    min_ = std::min(min_, x);
    max_ = std::max(max_, x);
    UpdateSampled(x);
  }
}

void QuantileSketch::UpdateWeighted(std::span<const double> values,
                                    std::span<const uint64_t> weights) {
  // parts_[h], h < num_parts: the values with bit h in the weight. Part 0 goes to level 0, which
  // is unsorted and keeps its order (part of the state): it takes the values in their order. The
  // parts above are sorted; when the values are distinct, one sort of them all orders every part
  // at once, for less than sorting each part.
  size_t num_parts = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    double x = values[i];
    uint64_t w = weights[i];
    if (!std::isfinite(x) || w == 0) continue;
    if (w >> (kMaxLevels - 2) != 0) {
      ClearParts(num_parts);
      sorted_.clear();
      ThrowInvalidArgument("quantile sketch: weight " + std::to_string(w) + " is too large");
    }
    n_ += w;
    min_ = std::min(min_, x);
    max_ = std::max(max_, x);
    const size_t width = static_cast<size_t>(std::bit_width(w));
    if (num_parts < width) {
      num_parts = width;
      if (parts_.size() < num_parts) parts_.resize(num_parts);
    }
    if (w & 1) parts_[0].push_back(x);
    if (w > 1) sorted_.emplace_back(x, w);
  }
  std::sort(sorted_.begin(), sorted_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  // Equal values (0.0 and -0.0 are equal but print differently) leave the order of a part to
  // its own sort, over the values in their given order as before.
  const bool distinct =
      std::adjacent_find(sorted_.begin(), sorted_.end(), [](const auto& a, const auto& b) {
        return a.first == b.first;
      }) == sorted_.end();
  if (distinct) {
    for (const auto& [x, weight] : sorted_) {
      for (uint64_t w = weight & ~uint64_t{1}; w != 0; w &= w - 1) {
        parts_[static_cast<size_t>(std::countr_zero(w))].push_back(x);
      }
    }
  } else {
    for (size_t i = 0; i < values.size(); ++i) {
      const double x = values[i];
      if (!std::isfinite(x) || weights[i] <= 1) continue;
      for (uint64_t w = weights[i] & ~uint64_t{1}; w != 0; w &= w - 1) {
        parts_[static_cast<size_t>(std::countr_zero(w))].push_back(x);
      }
    }
  }
  sorted_.clear();
  InsertParts(num_parts, /*sorted=*/distinct);
  MaybeRaiseSampleLevel();
}

void QuantileSketch::ClearParts(size_t num_parts) {
  for (size_t h = 0; h < num_parts; ++h) parts_[h].clear();
}

void QuantileSketch::InsertParts(size_t num_parts, bool sorted) {
  // One level above the highest part, so that compaction always has a level to fill.
  while (levels_.size() < num_parts + 1) AddLevel();
  for (size_t h = 0; h < num_parts; ++h) {
    std::vector<double>& part = parts_[h];
    if (part.empty()) continue;
    std::vector<double>& level = levels_[h];
    if (h == 0) {
      level.insert(level.end(), part.begin(), part.end());
    } else {
      if (!sorted) std::sort(part.begin(), part.end());
      // As std::merge(level, part): of equal items, the level's first.
      MergeSortedInto</*kIntoFirst=*/true>(level, part.size(),
                                           [&part](size_t i) { return part[i]; });
    }
    size_ += part.size();
  }
  ClearParts(num_parts);
  while (size_ > capacity_) Compress();
}

void QuantileSketch::Compress() {
  size_t level = 0;
  while (level < levels_.size() && levels_[level].size() < capacities_[level]) ++level;
  if (level == levels_.size()) {
    ThrowInternal("quantile sketch: compress found no level at capacity");
  }
  if (level + 1 == levels_.size()) {
    if (levels_.size() >= kMaxLevels) ThrowInternal("quantile sketch: too many levels");
    AddLevel();
  }
  CompactLevel(level);
}

void QuantileSketch::CompactLevel(size_t level) {
  std::vector<double>& items = levels_[level];
  std::vector<double>& above = levels_[level + 1];
  if (level == 0) std::sort(items.begin(), items.end());
  // With an odd count the smallest item stays behind, so the rest pairs up.
  size_t odd = items.size() & 1;
  size_t half = items.size() / 2;
  size_t next = odd + (NextCoin() ? 1 : 0);
  // Items next, next + 2, ... go up; of equal items, those coming up go first.
  const double* taken = items.data() + next;
  MergeSortedInto</*kIntoFirst=*/false>(above, half, [taken](size_t i) { return taken[2 * i]; });
  items.resize(odd);
  size_ -= half;
}

void QuantileSketch::Merge(const QuantileSketch& other) {
  if (other.k_ != k_) {
    ThrowInvalidArgument("cannot merge quantile sketches with different k (" + std::to_string(k_) +
                         " and " + std::to_string(other.k_) + ")");
  }
  if (other.empty()) return;
  if (&other == this || other.group_count_ > 0) {
    // A copy to flush the other's partial group into its levels (or to read itself).
    QuantileSketch copy = other;
    copy.FlushGroup();
    MergeLevels(copy);
    return;
  }
  MergeLevels(other);
}

void QuantileSketch::MergeLevels(const QuantileSketch& other) {
  FlushGroup();
  while (levels_.size() < other.levels_.size()) AddLevel();
  levels_[0].insert(levels_[0].end(), other.levels_[0].begin(), other.levels_[0].end());
  for (size_t h = 1; h < other.levels_.size(); ++h) {
    const std::vector<double>& theirs = other.levels_[h];
    if (theirs.empty()) continue;
    // As std::merge(ours, theirs): of equal items, ours first.
    MergeSortedInto</*kIntoFirst=*/true>(levels_[h], theirs.size(),
                                         [&theirs](size_t i) { return theirs[i]; });
  }
  size_ += other.size_;
  n_ += other.n_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  // A deterministic function of both states, so later coin flips depend on both.
  rng_ = HashInt64(static_cast<int64_t>(rng_ ^ HashInt64(static_cast<int64_t>(other.rng_))));
  sample_level_ = std::max(sample_level_, other.sample_level_);
  while (size_ > capacity_) Compress();
  MaybeRaiseSampleLevel();
}

QuantileSketch::SortedView QuantileSketch::MakeSortedView() const {
  std::vector<std::pair<double, uint64_t>> weighted;
  weighted.reserve(size_);
  for (size_t h = 0; h < levels_.size(); ++h) {
    for (double x : levels_[h]) weighted.emplace_back(x, uint64_t{1} << h);
  }
  if (group_count_ > 0) weighted.emplace_back(group_item_, group_count_);
  std::sort(weighted.begin(), weighted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  SortedView view;
  view.items.reserve(weighted.size());
  view.cumulative.reserve(weighted.size());
  uint64_t total = 0;
  for (const auto& [x, w] : weighted) {
    total += w;
    view.items.push_back(x);
    view.cumulative.push_back(total);
  }
  return view;
}

double QuantileSketch::QuantileFromView(const SortedView& view, double q) const {
  if (!(q >= 0 && q <= 1)) {
    ThrowInvalidArgument("quantile: q must be in [0, 1], not " + std::to_string(q));
  }
  if (empty()) return kNaN;
  if (q == 0) return min_;
  if (q == 1) return max_;
  double target = q * static_cast<double>(n_);
  auto it = std::partition_point(view.cumulative.begin(), view.cumulative.end(),
                                 [target](uint64_t c) { return static_cast<double>(c) < target; });
  if (it == view.cumulative.end()) return max_;
  return view.items[static_cast<size_t>(it - view.cumulative.begin())];
}

double QuantileSketch::Quantile(double q) const { return QuantileFromView(MakeSortedView(), q); }

std::vector<double> QuantileSketch::Quantiles(std::span<const double> qs) const {
  SortedView view = MakeSortedView();
  std::vector<double> out;
  out.reserve(qs.size());
  for (double q : qs) out.push_back(QuantileFromView(view, q));
  return out;
}

double QuantileSketch::Rank(double x) const {
  double split[] = {x};
  return Cdf(split)[0];
}

std::vector<double> QuantileSketch::Cdf(std::span<const double> split_points) const {
  for (size_t i = 0; i < split_points.size(); ++i) {
    if (std::isnan(split_points[i]) || (i > 0 && split_points[i] < split_points[i - 1])) {
      ThrowInvalidArgument("quantile sketch: split points must be ascending numbers");
    }
  }
  if (empty()) return std::vector<double>(split_points.size(), kNaN);
  SortedView view = MakeSortedView();
  std::vector<double> out;
  out.reserve(split_points.size());
  for (double x : split_points) {
    if (x < min_) {
      out.push_back(0);
    } else if (x >= max_) {
      out.push_back(1);
    } else {
      auto it = std::upper_bound(view.items.begin(), view.items.end(), x);
      size_t below = static_cast<size_t>(it - view.items.begin());
      uint64_t weight = below == 0 ? 0 : view.cumulative[below - 1];
      out.push_back(static_cast<double>(weight) / static_cast<double>(n_));
    }
  }
  return out;
}

bool QuantileSketch::operator==(const QuantileSketch& other) const {
  return k_ == other.k_ && n_ == other.n_ && rng_ == other.rng_ && size_ == other.size_ &&
         (empty() || (min_ == other.min_ && max_ == other.max_)) &&
         sample_level_ == other.sample_level_ && group_count_ == other.group_count_ &&
         (group_count_ == 0 ||
          (group_item_ == other.group_item_ && group_next_ == other.group_next_)) &&
         levels_ == other.levels_;
}

Json QuantileSketch::ToJson() const {
  Json j = Json::object();
  j["k"] = k_;
  j["n"] = n_;
  j["min"] = empty() ? Json(nullptr) : Json(min_);
  j["max"] = empty() ? Json(nullptr) : Json(max_);
  j["coin_state"] = Hex64(rng_);
  j["sample_level"] = sample_level_;
  j["group_count"] = group_count_;
  j["group_item"] = group_count_ > 0 ? Json(group_item_) : Json(nullptr);
  j["group_next"] = group_count_ > 0 ? group_next_ : 1;
  Json levels = Json::array();
  for (const auto& level : levels_) levels.push_back(level);
  j["levels"] = std::move(levels);
  return j;
}

QuantileSketch QuantileSketch::FromJson(const Json& j, std::string_view path) {
  using internal::KeyPath;
  using internal::ThrowBadKey;
  uint64_t k = internal::GetUint(j, path, "k");
  if (k < kMinK || k > kMaxK) {
    ThrowBadKey(KeyPath(path, "k"),
                "must be from " + std::to_string(kMinK) + " to " + std::to_string(kMaxK));
  }
  QuantileSketch s(static_cast<uint32_t>(k));
  s.n_ = internal::GetUint(j, path, "n");
  std::optional<uint64_t> rng = ParseHex64(internal::GetString(j, path, "coin_state"));
  if (!rng) ThrowBadKey(KeyPath(path, "coin_state"), "must be 16 lowercase hex digits");
  s.rng_ = *rng;
  std::string levels_path = KeyPath(path, "levels");
  const Json& levels = internal::GetArray(j, path, "levels");
  if (levels.empty() || levels.size() > kMaxLevels) {
    ThrowBadKey(levels_path, "must hold 1 to " + std::to_string(kMaxLevels) + " levels");
  }
  while (s.levels_.size() < levels.size()) s.AddLevel();
  unsigned __int128 weight = 0;
  for (size_t h = 0; h < levels.size(); ++h) {
    std::string level_path = levels_path + "[" + std::to_string(h) + "]";
    if (!levels[h].is_array()) ThrowBadKey(level_path, "must be an array");
    std::vector<double>& items = s.levels_[h];
    for (size_t i = 0; i < levels[h].size(); ++i) {
      items.push_back(
          internal::ElementDouble(levels[h][i], level_path + "[" + std::to_string(i) + "]"));
    }
    if (h > 0 && !std::is_sorted(items.begin(), items.end())) {
      ThrowBadKey(level_path, "must be sorted ascending");
    }
    s.size_ += items.size();
    weight += static_cast<unsigned __int128>(items.size()) << h;
  }
  s.sample_level_ = static_cast<uint32_t>(
      std::min<uint64_t>(internal::GetUint(j, path, "sample_level"), kMaxLevels));
  if (s.sample_level_ >= levels.size()) {
    ThrowBadKey(KeyPath(path, "sample_level"), "must be below the number of levels");
  }
  s.group_count_ = internal::GetUint(j, path, "group_count");
  if (s.group_count_ >= (uint64_t{1} << s.sample_level_) && s.group_count_ > 0) {
    ThrowBadKey(KeyPath(path, "group_count"), "must be below 2^sample_level");
  }
  s.group_next_ = internal::GetUint(j, path, "group_next");
  if (s.group_next_ <= s.group_count_) {
    ThrowBadKey(KeyPath(path, "group_next"), "must exceed group_count");
  }
  if (s.group_count_ > 0) {
    s.group_item_ = internal::GetDouble(j, path, "group_item");
    weight += s.group_count_;
  } else if (!internal::Field(j, path, "group_item").is_null()) {
    ThrowBadKey(KeyPath(path, "group_item"), "must be null when group_count is 0");
  }
  if (weight != s.n_) {
    ThrowBadKey(KeyPath(path, "n"), "does not match the weights of the levels");
  }
  if (s.size_ > s.capacity_) ThrowBadKey(levels_path, "hold more items than k allows");
  if (s.n_ == 0) {
    if (!internal::Field(j, path, "min").is_null() || !internal::Field(j, path, "max").is_null()) {
      ThrowBadKey(path, "is empty but has a min or max");
    }
    return s;
  }
  s.min_ = internal::GetDouble(j, path, "min");
  s.max_ = internal::GetDouble(j, path, "max");
  for (const auto& items : s.levels_) {
    for (double x : items) {
      if (x < s.min_ || x > s.max_) ThrowBadKey(levels_path, "hold an item outside [min, max]");
    }
  }
  if (s.group_count_ > 0 && (s.group_item_ < s.min_ || s.group_item_ > s.max_)) {
    ThrowBadKey(KeyPath(path, "group_item"), "is outside [min, max]");
  }
  return s;
}

}  // namespace mloop::stats
