// Recognises the missing-value markers of CsvOptions::null_values in field texts. Shared
// by the CSV reader and the sniffer so that both agree on what is missing. Private to the
// table module. Immutable after construction; thread-safe.
#ifndef MLOOP_TABLE_INTERNAL_NULL_MATCHER_H_
#define MLOOP_TABLE_INTERNAL_NULL_MATCHER_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "table/internal/csv_tokenizer.h"
#include "table/internal/string_dictionary.h"

namespace mloop::table::internal {

// Most fields are ruled out by their length or first byte alone, so the usual cost is
// two table lookups, not a string compare per marker.
class NullMatcher {
 public:
  explicit NullMatcher(const std::vector<std::string>& values) : values_(values) {
    first_.fill(0);
    for (const auto& v : values_) {
      if (v.empty()) {
        empty_ = true;
        continue;
      }
      if (v.size() < 64) length_mask_ |= uint64_t{1} << v.size();
      first_[static_cast<uint8_t>(v[0])] = 1;
    }
  }

  // True when `text` is one of the markers and not quoted: a quoted marker is text.
  // Forced inline, as the readers call it once per field; the compares are not.
  [[gnu::always_inline]] bool Matches(std::string_view text, bool quoted) const {
    if (quoted) return false;
    if (text.empty()) return empty_;
    if (!first_[static_cast<uint8_t>(text[0])]) return false;
    if (text.size() < 64 && ((length_mask_ >> text.size()) & 1) == 0) return false;
    return Compare(text);
  }
  bool operator()(const FieldRef& f) const { return Matches(f.view(), f.quoted); }

 private:
  [[gnu::noinline]] bool Compare(std::string_view text) const {
    for (const auto& v : values_) {
      if (v.size() == text.size() && BytesEqual(v.data(), text.data(), text.size())) {
        return true;
      }
    }
    return false;
  }

  std::vector<std::string> values_;
  std::array<uint8_t, 256> first_;
  uint64_t length_mask_ = 0;  // Bit n set: some marker has n bytes (n < 64).
  bool empty_ = false;
};

}  // namespace mloop::table::internal

#endif  // MLOOP_TABLE_INTERNAL_NULL_MATCHER_H_
