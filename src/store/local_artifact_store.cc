#include "store/local_artifact_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "core/digest.h"
#include "core/error.h"
#include "core/file.h"
#include "core/id.h"

namespace mloop::store {

namespace fs = std::filesystem;

namespace {

constexpr size_t kChunkSize = 1 << 20;

std::string ErrnoText(int error) { return std::strerror(error); }

// Owns a file descriptor.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Close(); }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  // Gives up ownership.
  int Release() { return std::exchange(fd_, -1); }
  // Returns ::close's result; the descriptor is gone either way.
  int Close() {
    int rc = 0;
    if (fd_ >= 0) rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

void CheckDigest(std::string_view digest) {
  if (!IsSha256Hex(digest)) {
    ThrowInvalidArgument("not a SHA-256 digest (64 lowercase hex characters): '" +
                         std::string(digest) + "'");
  }
}

// Reads up to `size` bytes, retrying on EINTR; returns 0 at the end of the
// file.
size_t ReadSome(int fd, void* buffer, size_t size, const fs::path& path) {
  while (true) {
    ssize_t n = ::read(fd, buffer, size);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    ThrowDataLoss(path.string() + ": read error: " + ErrnoText(errno));
  }
}

// A file being written under a unique name, removed unless it was renamed into
// place.
class TempFile {
 public:
  // Creates the file in `dir` with permissions `mode` (before the umask).
  // Throws Error invalid_argument naming `what_for` when it cannot be created.
  TempFile(const fs::path& dir, mode_t mode, const fs::path& what_for)
      : path_(dir / (".mloop-tmp-" + std::to_string(::getpid()) + "-" + NewId())),
        fd_(::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) {
    if (fd_.get() < 0) {
      ThrowInvalidArgument(what_for.string() + ": cannot create " + path_.string() + ": " +
                           ErrnoText(errno));
    }
  }
  ~TempFile() {
    fd_.Close();
    if (!renamed_) {
      // Nothing useful to do if this fails: the file is in a temporary folder
      // and the error that brought us here is what the caller needs to see.
      (void)::unlink(path_.c_str());
    }
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void Write(const void* data, size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      ssize_t n = ::write(fd_.get(), p, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) ThrowDataLoss(path_.string() + ": write failed: " + ErrnoText(errno));
      p += n;
      size -= static_cast<size_t>(n);
    }
  }

  // Makes the bytes durable and closes the file.
  void Finish() {
    if (::fsync(fd_.get()) != 0) {
      ThrowDataLoss(path_.string() + ": fsync failed: " + ErrnoText(errno));
    }
    if (fd_.Close() != 0) {
      ThrowDataLoss(path_.string() + ": close failed: " + ErrnoText(errno));
    }
  }

  // Renames the finished file to `target` and makes the rename durable.
  void RenameTo(const fs::path& target) {
    if (::rename(path_.c_str(), target.c_str()) != 0) {
      ThrowDataLoss(target.string() + ": rename from " + path_.string() +
                    " failed: " + ErrnoText(errno));
    }
    renamed_ = true;
    SyncDirectory(target.parent_path());
  }

 private:
  fs::path path_;
  UniqueFd fd_;
  bool renamed_ = false;
};

// True when `path` is a regular file of `size` bytes. A file of another size is
// a damaged copy that a new Put repairs.
bool HasCompleteCopy(const fs::path& path, uint64_t size) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         static_cast<uint64_t>(st.st_size) == size;
}

[[noreturn]] void ThrowMismatch(std::string_view digest, const fs::path& path, uint64_t size,
                                const std::string& actual) {
  ThrowDataLoss("artifact " + std::string(digest) + " at " + path.string() + " is damaged: its " +
                std::to_string(size) + " bytes hash to " + actual +
                "; the file was changed or truncated on disk");
}

class LocalArtifactReader final : public ArtifactReader {
 public:
  LocalArtifactReader(std::string digest, fs::path path, int fd, uint64_t size)
      : digest_(std::move(digest)), path_(std::move(path)), fd_(fd), size_(size) {}

  size_t Read(void* buffer, size_t size) override {
    if (done_) return 0;
    size_t n = size == 0 ? 0 : ReadSome(fd_.get(), buffer, size, path_);
    if (n > 0) {
      hasher_.Update(buffer, n);
      read_ += n;
      return n;
    }
    if (size == 0) return 0;
    done_ = true;
    std::string actual = hasher_.FinishHex();
    if (actual != digest_) ThrowMismatch(digest_, path_, read_, actual);
    return 0;
  }

  uint64_t size() const override { return size_; }

 private:
  std::string digest_;
  fs::path path_;
  UniqueFd fd_;
  uint64_t size_;
  uint64_t read_ = 0;
  bool done_ = false;
  Sha256 hasher_;
};

}  // namespace

LocalArtifactStore::LocalArtifactStore(const fs::path& root) : root_(fs::absolute(root)) {
  for (const fs::path& dir : {root_ / "sha256", root_ / "tmp"}) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir)) {
      ThrowInvalidArgument(dir.string() + ": cannot create the artifact store folder: " +
                           (ec ? ec.message() : "not a folder"));
    }
  }
}

fs::path LocalArtifactStore::PathOf(std::string_view digest) const {
  CheckDigest(digest);
  return root_ / "sha256" / std::string(digest.substr(0, 2)) / std::string(digest.substr(2));
}

namespace {

// Moves the finished `temp` into place at `target`, creating its folder.
void Install(TempFile& temp, const fs::path& target) {
  const fs::path dir = target.parent_path();
  std::error_code ec;
  if (fs::create_directories(dir, ec)) {
    SyncDirectory(dir.parent_path());  // Make the new folder itself durable.
  }
  if (ec) {
    ThrowDataLoss(dir.string() + ": cannot create folder: " + ec.message());
  }
  temp.RenameTo(target);
}

}  // namespace

std::string LocalArtifactStore::Put(std::string_view bytes) {
  std::string digest = Sha256Hex(bytes);
  fs::path target = PathOf(digest);
  if (HasCompleteCopy(target, bytes.size())) return digest;
  TempFile temp(root_ / "tmp", 0444, target);
  temp.Write(bytes.data(), bytes.size());
  temp.Finish();
  Install(temp, target);
  return digest;
}

std::string LocalArtifactStore::PutFile(const fs::path& path) {
  CheckReadableFile(path);
  UniqueFd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) {
    if (errno == ENOENT) ThrowNotFound(path.string() + ": no such file");
    ThrowInvalidArgument(path.string() + ": cannot open: " + ErrnoText(errno));
  }
  // One pass: hash and copy at once, then name the copy by the digest.
  TempFile temp(root_ / "tmp", 0444, path);
  Sha256 hasher;
  std::string buffer(kChunkSize, '\0');
  uint64_t size = 0;
  while (size_t n = ReadSome(in.get(), buffer.data(), buffer.size(), path)) {
    hasher.Update(buffer.data(), n);
    temp.Write(buffer.data(), n);
    size += n;
  }
  std::string digest = hasher.FinishHex();
  fs::path target = PathOf(digest);
  if (HasCompleteCopy(target, size)) return digest;  // `temp` removes itself.
  temp.Finish();
  Install(temp, target);
  return digest;
}

std::string LocalArtifactStore::Get(std::string_view digest) {
  fs::path path = PathOf(digest);
  if (!Exists(digest)) {
    ThrowNotFound("artifact " + std::string(digest) + " not found in " + root_.string());
  }
  std::string bytes = ReadFile(path);
  std::string actual = Sha256Hex(bytes);
  if (actual != digest) ThrowMismatch(digest, path, bytes.size(), actual);
  return bytes;
}

std::unique_ptr<ArtifactReader> LocalArtifactStore::Open(std::string_view digest) {
  fs::path path = PathOf(digest);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      ThrowNotFound("artifact " + std::string(digest) + " not found in " + root_.string());
    }
    ThrowDataLoss(path.string() + ": cannot open artifact " + std::string(digest) + ": " +
                  ErrnoText(errno));
  }
  UniqueFd owned(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ThrowDataLoss(path.string() + ": artifact " + std::string(digest) + " is not a regular file");
  }
  owned.Release();  // The reader owns it from here.
  return std::make_unique<LocalArtifactReader>(std::string(digest), path, fd,
                                               static_cast<uint64_t>(st.st_size));
}

void LocalArtifactStore::CopyTo(std::string_view digest, const fs::path& destination) {
  std::unique_ptr<ArtifactReader> reader = Open(digest);
  fs::path dir = destination.parent_path();
  TempFile temp(dir.empty() ? fs::path(".") : dir, 0644, destination);
  std::string buffer(kChunkSize, '\0');
  // The reader throws data_loss at the end on a mismatch; `temp` is then
  // removed and `destination` left as it was.
  while (size_t n = reader->Read(buffer.data(), buffer.size())) {
    temp.Write(buffer.data(), n);
  }
  temp.Finish();
  temp.RenameTo(destination);
}

bool LocalArtifactStore::Exists(std::string_view digest) {
  struct stat st;
  return ::stat(PathOf(digest).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

uint64_t LocalArtifactStore::Size(std::string_view digest) {
  struct stat st;
  if (::stat(PathOf(digest).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    ThrowNotFound("artifact " + std::string(digest) + " not found in " + root_.string());
  }
  return static_cast<uint64_t>(st.st_size);
}

std::vector<std::string> LocalArtifactStore::List() {
  std::vector<std::string> digests;
  std::error_code ec;
  for (const auto& folder : fs::directory_iterator(root_ / "sha256", ec)) {
    std::string prefix = folder.path().filename().string();
    if (prefix.size() != 2 || !folder.is_directory()) continue;
    for (const auto& file : fs::directory_iterator(folder.path())) {
      std::string digest = prefix + file.path().filename().string();
      if (IsSha256Hex(digest) && file.is_regular_file()) digests.push_back(digest);
    }
  }
  if (ec) {
    ThrowDataLoss(root_.string() + "/sha256: cannot list artifacts: " + ec.message());
  }
  std::sort(digests.begin(), digests.end());
  return digests;
}

}  // namespace mloop::store
