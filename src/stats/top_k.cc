#include "stats/top_k.h"

#include <algorithm>

#include "core/error.h"
#include "stats/internal/json_fields.h"

namespace mloop::stats {

TopK::TopK(size_t capacity) : capacity_(capacity) {
  if (capacity == 0) ThrowInvalidArgument("top-k: capacity must be at least 1");
}

void TopK::MergeCounts(std::span<const std::pair<std::string_view, uint64_t>> counts) {
  std::vector<std::pair<std::string_view, uint64_t>> fresh;
  for (const auto& [value, count] : counts) {
    if (count == 0) continue;
    auto it = counters_.find(value);
    if (it != counters_.end()) {
      it->second += count;
    } else {
      fresh.emplace_back(value, count);
    }
  }
  if (counters_.size() + fresh.size() <= capacity_) {
    for (const auto& [value, count] : fresh) counters_.emplace(std::string(value), count);
    return;
  }
  // Prune: subtract the (m+1)-th largest count from every counter and drop those at or
  // below 0. The cut is found before the fresh values are stored, so the ones it drops
  // at once (most of them, for a column of unique ids) never allocate.
  std::vector<uint64_t> all;
  all.reserve(counters_.size() + fresh.size());
  for (const auto& [value, count] : counters_) all.push_back(count);
  for (const auto& [value, count] : fresh) all.push_back(count);
  std::nth_element(all.begin(), all.begin() + static_cast<ptrdiff_t>(capacity_), all.end(),
                   std::greater<>());
  uint64_t cut = all[capacity_];
  for (auto it = counters_.begin(); it != counters_.end();) {
    if (it->second <= cut) {
      it = counters_.erase(it);
    } else {
      it->second -= cut;
      ++it;
    }
  }
  for (const auto& [value, count] : fresh) {
    if (count > cut) counters_.emplace(std::string(value), count - cut);
  }
  // Every value's true count lost at most `cut` here, and the m + 1 largest counters
  // each gave up `cut`, which is why the sum of cuts stays <= n / (m + 1).
  error_bound_ += cut;
}

void TopK::Add(std::string_view value, uint64_t count) {
  std::pair<std::string_view, uint64_t> one(value, count);
  AddCounts(std::span(&one, 1));
}

void TopK::AddCounts(std::span<const std::pair<std::string_view, uint64_t>> counts) {
  for (const auto& [value, count] : counts) total_ += count;
  MergeCounts(counts);
}

void TopK::Merge(const TopK& other) {
  if (other.capacity_ != capacity_) {
    ThrowInvalidArgument("cannot merge top-k summaries of capacity " + std::to_string(capacity_) +
                         " and " + std::to_string(other.capacity_));
  }
  if (&other == this) {
    TopK copy = other;
    Merge(copy);
    return;
  }
  std::vector<std::pair<std::string_view, uint64_t>> counts(other.counters_.begin(),
                                                            other.counters_.end());
  MergeCounts(counts);
  // The other's total includes what its pruning removed, which its counters do not.
  total_ += other.total_;
  error_bound_ += other.error_bound_;
}

std::vector<TopK::Item> TopK::Items() const {
  std::vector<Item> items;
  items.reserve(counters_.size());
  for (const auto& [value, count] : counters_) items.push_back(Item{value, count});
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.count != b.count ? a.count > b.count : a.value < b.value;
  });
  return items;
}

Json TopK::ToJson() const {
  Json j = Json::object();
  j["capacity"] = capacity_;
  j["total"] = total_;
  j["error_bound"] = error_bound_;
  Json items = Json::array();
  for (const Item& item : Items()) {
    items.push_back(Json{{"value", item.value}, {"count", item.count}});
  }
  j["items"] = std::move(items);
  return j;
}

TopK TopK::FromJson(const Json& j, std::string_view path) {
  using internal::KeyPath;
  using internal::ThrowBadKey;
  uint64_t capacity = internal::GetUint(j, path, "capacity");
  if (capacity == 0 || capacity > (uint64_t{1} << 24)) {
    ThrowBadKey(KeyPath(path, "capacity"), "must be from 1 to 16777216");
  }
  TopK t(static_cast<size_t>(capacity));
  t.total_ = internal::GetUint(j, path, "total");
  t.error_bound_ = internal::GetUint(j, path, "error_bound");
  std::string items_path = KeyPath(path, "items");
  const Json& items = internal::GetArray(j, path, "items");
  if (items.size() > capacity) ThrowBadKey(items_path, "hold more items than the capacity");
  uint64_t sum = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    std::string item_path = items_path + "[" + std::to_string(i) + "]";
    std::string value = internal::GetString(items[i], item_path, "value");
    uint64_t count = internal::GetUint(items[i], item_path, "count");
    if (count == 0) ThrowBadKey(KeyPath(item_path, "count"), "must be positive");
    if (!t.counters_.emplace(value, count).second) {
      ThrowBadKey(KeyPath(item_path, "value"), "repeats an earlier value");
    }
    sum += count;
    if (sum > t.total_) ThrowBadKey(KeyPath(path, "total"), "is below the sum of the counts");
  }
  if (t.error_bound_ > t.total_ / (capacity + 1)) {
    ThrowBadKey(KeyPath(path, "error_bound"), "exceeds total / (capacity + 1)");
  }
  return t;
}

}  // namespace mloop::stats
