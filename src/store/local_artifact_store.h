// LocalArtifactStore is the ArtifactStore in a local folder, the default store
// of a workspace (.mloop/artifacts). Layout under its root:
//
//   sha256/ab/cdef...   the artifact whose digest is "abcdef..." (64 hex characters: the
//                       first two name the folder, the other 62 the file), read-only
//   tmp/                files being written; a leftover here is from a crashed write and
//                       is safe to delete when no mloop command is running
//
// A write goes to a unique file in tmp/, is fsynced, renamed into sha256/ and
// the folder is fsynced, so a reader or a crash never leaves a partial artifact
// under sha256/. Two writers of the same bytes both succeed: the second rename
// replaces the file with identical bytes.
//
// Thread-safety: the object holds no mutable state; any number of threads and
// processes may use the same folder at once. Errors: as artifact_store.h lists.
#ifndef MLOOP_STORE_LOCAL_ARTIFACT_STORE_H_
#define MLOOP_STORE_LOCAL_ARTIFACT_STORE_H_

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/artifact_store.h"

namespace mloop::store {

class LocalArtifactStore final : public ArtifactStore {
 public:
  // Uses the folder `root`, creating it and its sha256/ and tmp/ folders when
  // missing. Throws Error invalid_argument naming the folder when it cannot be
  // created (a file is in the way, permissions).
  explicit LocalArtifactStore(const std::filesystem::path& root);

  std::string Put(std::string_view bytes) override;
  std::string PutFile(const std::filesystem::path& path) override;
  std::string Get(std::string_view digest) override;
  void CopyTo(std::string_view digest, const std::filesystem::path& destination) override;
  std::unique_ptr<ArtifactReader> Open(std::string_view digest) override;
  bool Exists(std::string_view digest) override;
  uint64_t Size(std::string_view digest) override;
  std::vector<std::string> List() override;

  // The absolute folder of the store.
  const std::filesystem::path& root() const { return root_; }

  // Where the artifact's file is or would be. Reading that file directly skips
  // the digest check: only for readers that verify the bytes themselves (the
  // columnar file format carries its own digests) and want to memory-map it.
  // Throws Error invalid_argument for a bad digest.
  std::filesystem::path PathOf(std::string_view digest) const;

 private:
  std::filesystem::path root_;
};

}  // namespace mloop::store

#endif  // MLOOP_STORE_LOCAL_ARTIFACT_STORE_H_
