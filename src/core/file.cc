#include "core/file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/error.h"
#include "core/id.h"

namespace mloop {
namespace fs = std::filesystem;

namespace {

std::string ErrnoText() { return std::strerror(errno); }

// Opens `path` for reading and checks it is a regular file; returns the descriptor.
int OpenRegularFile(const fs::path& path, struct stat* st) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) ThrowNotFound(path.string() + ": no such file");
    if (errno == EISDIR) ThrowInvalidArgument(path.string() + ": is a directory, not a file");
    ThrowInvalidArgument(path.string() + ": cannot open: " + ErrnoText());
  }
  if (::fstat(fd, st) != 0) {
    std::string msg = ErrnoText();
    ::close(fd);
    ThrowInvalidArgument(path.string() + ": cannot stat: " + msg);
  }
  if (S_ISDIR(st->st_mode)) {
    ::close(fd);
    ThrowInvalidArgument(path.string() + ": is a directory, not a file");
  }
  if (!S_ISREG(st->st_mode)) {
    ::close(fd);
    ThrowInvalidArgument(path.string() + ": is not a regular file");
  }
  return fd;
}

}  // namespace

void CheckReadableFile(const fs::path& path) {
  struct stat st;
  ::close(OpenRegularFile(path, &st));
}

std::string ReadFile(const fs::path& path) {
  struct stat st;
  int fd = OpenRegularFile(path, &st);
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string msg = ErrnoText();
      ::close(fd);
      ThrowDataLoss(path.string() + ": read error: " + msg);
    }
    if (n == 0) break;  // The file shrank while we read it.
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  ::close(fd);
  return out;
}

void SyncDirectory(const fs::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // Best effort: some filesystems refuse to open folders.
  // fsync of a folder can fail with EINVAL on filesystems that do not support it; the
  // rename itself has happened, so there is nothing better to do than go on.
  (void)::fsync(fd);
  ::close(fd);
}

void WriteFileAtomic(const fs::path& path, std::string_view data) {
  fs::path dir = path.parent_path();
  fs::path tmp = (dir.empty() ? fs::path(".") : dir) /
                 ("." + path.filename().string() + ".tmp-" + NewId().substr(0, 12));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    ThrowInvalidArgument(path.string() + ": cannot create: " + ErrnoText());
  }
  auto fail = [&](const std::string& what) {
    std::string msg = ErrnoText();
    ::close(fd);
    ::unlink(tmp.c_str());
    ThrowDataLoss(path.string() + ": " + what + ": " + msg);
  };
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write failed");
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) fail("fsync failed");
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    ThrowDataLoss(path.string() + ": close failed: " + ErrnoText());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string msg = ErrnoText();
    ::unlink(tmp.c_str());
    ThrowDataLoss(path.string() + ": rename failed: " + msg);
  }
  SyncDirectory(dir);
}

MappedFile::MappedFile(const fs::path& path, bool populate) : path_(path) {
  struct stat st;
  int fd = OpenRegularFile(path, &st);
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {
    // MAP_POPULATE: readers touch every page anyway; faulting them in one go is faster.
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0), fd, 0);
    if (p == MAP_FAILED) {
      std::string msg = ErrnoText();
      ::close(fd);
      ThrowInvalidArgument(path.string() + ": cannot map: " + msg);
    }
    ::madvise(p, size_, MADV_SEQUENTIAL);
    data_ = static_cast<const char*>(p);
  }
  ::close(fd);
}

void MappedFile::Release(size_t offset, size_t length) const {
  if (data_ == nullptr || offset >= size_) return;
  length = std::min(length, size_ - offset);
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  auto begin = reinterpret_cast<uintptr_t>(data_) + offset;
  auto end = begin + length;
  begin = (begin + page - 1) / page * page;  // Whole pages only: round inwards.
  end = end / page * page;
  // A hint; if the kernel declines, the pages merely stay.
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)), data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
    path_ = std::move(other.path_);
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

}  // namespace mloop
