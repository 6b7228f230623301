// SHA-256 digests, the content addresses of artifacts, sources and contracts.
// A Sha256 hasher is a single-threaded streaming object; the free functions are
// thread-safe.
#ifndef MLOOP_CORE_DIGEST_H_
#define MLOOP_CORE_DIGEST_H_

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace mloop {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // Lowercase hex of the 32-byte digest. The hasher cannot be updated afterwards.
  std::string FinishHex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string Sha256Hex(std::string_view data);

// Streams the file; throws Error (not_found, invalid_argument) naming the path.
std::string Sha256FileHex(const std::filesystem::path& path);

// True when `hex` looks like a SHA-256 digest: 64 lowercase hex characters.
bool IsSha256Hex(std::string_view hex);

}  // namespace mloop

#endif  // MLOOP_CORE_DIGEST_H_
