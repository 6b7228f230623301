// Base64 (RFC 4648, standard alphabet, with padding), for the compact text form of
// HyperLogLog registers in stored profiles. Pure and thread-safe.
#ifndef MLOOP_STATS_INTERNAL_BASE64_H_
#define MLOOP_STATS_INTERNAL_BASE64_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mloop::stats::internal {

std::string Base64Encode(const uint8_t* data, size_t size);
// nullopt when `text` is not canonical padded base64 (wrong length, a character out of
// the alphabet, misplaced padding, non-zero bits in the padding).
std::optional<std::vector<uint8_t>> Base64Decode(std::string_view text);

}  // namespace mloop::stats::internal

#endif  // MLOOP_STATS_INTERNAL_BASE64_H_
