// What every reader does first with its input. Private to the table module; pure functions,
// thread-safe.
#ifndef MLOOP_TABLE_INTERNAL_INPUT_H_
#define MLOOP_TABLE_INTERNAL_INPUT_H_

#include <cstring>
#include <string>
#include <string_view>

#include "core/error.h"

namespace mloop::table::internal {

// Throws Error invalid_argument "SOURCE: empty file" for an empty input, and returns the
// input without its UTF-8 byte-order mark.
inline std::string_view CheckedText(std::string_view data, const std::string& source) {
  if (data.empty()) ThrowInvalidArgument(source + ": empty file");
  if (data.size() >= 3 && std::memcmp(data.data(), "\xEF\xBB\xBF", 3) == 0) {
    data.remove_prefix(3);
  }
  return data;
}

}  // namespace mloop::table::internal

#endif  // MLOOP_TABLE_INTERNAL_INPUT_H_
