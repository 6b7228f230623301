#include "core/id.h"

#include <cstdint>
#include <mutex>
#include <random>

namespace mloop {

std::string NewId() {
  static std::mutex mu;
  static std::mt19937_64 rng = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  uint64_t a, b;
  {
    std::lock_guard<std::mutex> lock(mu);
    a = rng();
    b = rng();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[i] = kHex[(a >> (60 - 4 * i)) & 15];
    out[16 + i] = kHex[(b >> (60 - 4 * i)) & 15];
  }
  return out;
}

}  // namespace mloop
