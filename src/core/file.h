// Files: checked opening with errors that name the path, whole-file reads, read-only
// memory maps, and atomic writes (temporary name, fsync, rename, fsync of the folder)
// so that a reader never sees a half-written file.
#ifndef MLOOP_CORE_FILE_H_
#define MLOOP_CORE_FILE_H_

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace mloop {

// Throws Error not_found when `path` does not exist, invalid_argument when it is a
// directory or not a regular file, naming the path either way.
void CheckReadableFile(const std::filesystem::path& path);

// Reads the whole file. Throws as CheckReadableFile, and data_loss on a read error.
std::string ReadFile(const std::filesystem::path& path);

// Writes `data` to `path` atomically: the bytes go to a temporary file in the same
// folder, are fsynced, renamed over `path`, and the folder is fsynced. On any failure
// the temporary file is removed and `path` is unchanged; throws Error naming the path.
void WriteFileAtomic(const std::filesystem::path& path, std::string_view data);

// Makes sure the bytes of a just-renamed entry are durable in `dir`.
void SyncDirectory(const std::filesystem::path& dir);

// A read-only memory map of a whole file. Empty files map to an empty view. Movable,
// not copyable; the view is valid while the MappedFile lives. Reading from several
// threads is safe.
class MappedFile {
 public:
  // Throws as CheckReadableFile. With `populate`, every page is read in at once (fastest
  // when the whole file is read next); without, pages are read as they are touched, which
  // with Release keeps only the part being worked on in memory.
  explicit MappedFile(const std::filesystem::path& path, bool populate = true);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view view() const { return {data_, size_}; }
  const std::filesystem::path& path() const { return path_; }

  // Tells the kernel the whole pages inside [offset, offset + length) are not needed any
  // more: they leave the process's memory, and are read from the file again if touched.
  // The view stays valid. A hint: errors are ignored.
  void Release(size_t offset, size_t length) const;

 private:
  std::filesystem::path path_;
  const char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace mloop

#endif  // MLOOP_CORE_FILE_H_
