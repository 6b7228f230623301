// TopK: the most frequent strings of a stream, by the Misra-Gries summary with m
// counters (Misra and Gries 1982; mergeable as in Agarwal et al., "Mergeable
// Summaries", 2012).
//
// Guarantee: each reported count is a lower bound, and the true count of any value is
// at most its reported count (0 when not reported) plus error_bound(), which never
// exceeds n / (m + 1) for n values seen. So every value more frequent than n / (m + 1)
// is reported. When the stream holds at most m distinct values nothing is ever pruned:
// counts are exact and error_bound() is 0, and then merging is exact too (the merge of
// two summaries equals the summary of the union).
//
// Pruning, when more than m values have counters: the (m+1)-th largest count is
// subtracted from every counter and counters at or below 0 are dropped. The result does
// not depend on the order of counters, so the summary is deterministic for a given
// sequence of calls.
//
// A TopK is a value type; concurrent const use is safe, mutation is not.
#ifndef MLOOP_STATS_TOP_K_H_
#define MLOOP_STATS_TOP_K_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/json.h"
#include "stats/hash.h"

namespace mloop::stats {

class TopK {
 public:
  static constexpr size_t kDefaultCapacity = 64;

  struct Item {
    std::string value;
    uint64_t count = 0;
    bool operator==(const Item&) const = default;
  };

  // Throws Error invalid_argument when capacity is 0.
  explicit TopK(size_t capacity = kDefaultCapacity);

  // Adds `count` occurrences of `value` (a Misra-Gries update).
  void Add(std::string_view value, uint64_t count = 1);
  // Adds exact counts for a batch of values, each value at most once in the batch,
  // pruning once at the end (the batch is merged as one summary). Cheaper than Add per
  // value when a caller has grouped equal values.
  void AddCounts(std::span<const std::pair<std::string_view, uint64_t>> counts);
  // Throws Error invalid_argument when the capacities differ.
  void Merge(const TopK& other);

  size_t capacity() const { return capacity_; }
  // Values seen, with their counts.
  uint64_t total() const { return total_; }
  // See above; 0 means every count is exact.
  uint64_t error_bound() const { return error_bound_; }
  bool exact() const { return error_bound_ == 0; }

  // The counters, most frequent first, ties by value ascending.
  std::vector<Item> Items() const;

  // {"capacity", "total", "error_bound", "items": [{"value", "count"}, ...]}.
  Json ToJson() const;
  // Throws Error invalid_argument naming `path` and the key for a capacity of 0, more
  // items than the capacity, a repeated value, a zero count, or counts above total.
  static TopK FromJson(const Json& j, std::string_view path = "top_k");

  bool operator==(const TopK& other) const = default;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return HashBytes(s); }
  };
  using CounterMap = std::unordered_map<std::string, uint64_t, StringHash, std::equal_to<>>;

  // Adds the counts to the counters (each value at most once in `counts`) and prunes
  // once; the caller accounts for total_.
  void MergeCounts(std::span<const std::pair<std::string_view, uint64_t>> counts);

  size_t capacity_;
  uint64_t total_ = 0;
  uint64_t error_bound_ = 0;
  CounterMap counters_;
};

}  // namespace mloop::stats

#endif  // MLOOP_STATS_TOP_K_H_
