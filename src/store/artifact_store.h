// ArtifactStore is the interface to the content-addressed store of mloop's
// files: dataset versions, model bundles, reports. An artifact is an immutable
// byte string named by its digest, the lowercase hex SHA-256 of its bytes
// (core/digest.h), so the same bytes are stored once and every reader can check
// it got what was written. Implementations: LocalArtifactStore (a folder, the
// default) and, later, S3.
//
// Writes are atomic: an artifact is either absent or complete. Every read
// verifies the bytes against the digest.
//
// Implementations are thread-safe and safe to use from several processes at
// once.
//
// Errors (mloop::Error):
//   invalid_argument  `digest` is not 64 lowercase hex characters; a source file to put is
//                     a directory; a destination cannot be created.
//   not_found         no artifact with that digest; a source file does not exist.
//   data_loss         the stored bytes do not hash to their digest (changed or truncated
//                     on disk), named by digest and location; an I/O error.
//   unavailable       a remote store could not be reached.
#ifndef MLOOP_STORE_ARTIFACT_STORE_H_
#define MLOOP_STORE_ARTIFACT_STORE_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mloop::store {

// Streams the bytes of one artifact, verifying them as it goes. Not
// thread-safe: one reader per thread.
class ArtifactReader {
 public:
  virtual ~ArtifactReader() = default;

  // Reads up to `size` bytes into `buffer` and returns how many were read; 0
  // means the end. When the end is reached, checks the digest of everything
  // read and throws Error data_loss when it does not match. Bytes handed out
  // before that are not yet verified: a caller that acts on them before the end
  // must be ready to undo.
  virtual size_t Read(void* buffer, size_t size) = 0;

  // The artifact's size in bytes as stored (before verification).
  virtual uint64_t size() const = 0;
};

class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;

  // Stores `bytes` and returns their digest. Storing bytes that are already
  // there does nothing more and returns the same digest. Throws Error data_loss
  // on an I/O error.
  virtual std::string Put(std::string_view bytes) = 0;

  // Stores the contents of the file at `path`, streaming it (it may be larger
  // than memory), and returns its digest. Throws Error not_found or
  // invalid_argument naming `path` when it cannot be read as a file, data_loss
  // on an I/O error.
  virtual std::string PutFile(const std::filesystem::path& path) = 0;

  // The artifact's bytes, verified. Throws Error invalid_argument (bad digest),
  // not_found (no such artifact), data_loss (bytes do not match the digest).
  virtual std::string Get(std::string_view digest) = 0;

  // Writes the artifact to the file `destination` (replacing it), streaming and
  // verifying. The file appears atomically and only once verified: on data_loss
  // it is left as it was. Throws as Get, and invalid_argument when
  // `destination` cannot be created (its folder does not exist, permissions).
  virtual void CopyTo(std::string_view digest, const std::filesystem::path& destination) = 0;

  // A streaming reader of the artifact, for artifacts too large for Get. Throws
  // invalid_argument or not_found as Get when opening; the reader throws
  // data_loss.
  virtual std::unique_ptr<ArtifactReader> Open(std::string_view digest) = 0;

  // True when an artifact with that digest is stored. Throws Error
  // invalid_argument for a bad digest. Does not verify the bytes.
  virtual bool Exists(std::string_view digest) = 0;

  // The stored size in bytes. Throws Error invalid_argument (bad digest),
  // not_found. Does not verify the bytes.
  virtual uint64_t Size(std::string_view digest) = 0;

  // The digests of all stored artifacts, sorted.
  virtual std::vector<std::string> List() = 0;
};

}  // namespace mloop::store

#endif  // MLOOP_STORE_ARTIFACT_STORE_H_
