#include "core/file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/id.h"

namespace mloop {
namespace {

namespace fs = std::filesystem;

// A fresh folder under the system temp folder, removed with everything in it.
class TempDir {
 public:
  TempDir()
      : path_(fs::temp_directory_path() / ("mloop_file_test_" + NewId())) {
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_,
                   ec);  // Best effort: a leftover temp folder is harmless.
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void WriteBytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::set<std::string> EntriesOf(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

template <typename F>
Error CatchError(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no mloop::Error thrown";
  return Error(ErrorCode::kInternal, "<none>");
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

const std::string kBinary("line 1\n\0\0\xff\xfe\r\nend\0", 17);

TEST(ReadFileTest, RoundTripsBinaryBytesIncludingNul) {
  TempDir dir;
  fs::path file = dir.path() / "binary.bin";
  WriteBytes(file, kBinary);
  std::string read = ReadFile(file);
  EXPECT_EQ(read.size(), 17u);
  EXPECT_EQ(read, kBinary);
}

TEST(ReadFileTest, EmptyFile) {
  TempDir dir;
  fs::path file = dir.path() / "empty.txt";
  WriteBytes(file, "");
  EXPECT_EQ(ReadFile(file), "");
}

TEST(ReadFileTest, LargeFile) {
  TempDir dir;
  fs::path file = dir.path() / "large.bin";
  std::string bytes;
  for (size_t i = 0; i < (3u << 20); ++i) {
    bytes.push_back(static_cast<char>(i % 253));
  }
  WriteBytes(file, bytes);
  EXPECT_EQ(ReadFile(file), bytes);
}

TEST(ReadFileTest, MissingFileIsNotFoundNamingThePath) {
  TempDir dir;
  fs::path missing = dir.path() / "missing.csv";
  Error e = CatchError([&] { ReadFile(missing); });
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_TRUE(Contains(e.message(), missing.string())) << e.message();
  EXPECT_TRUE(Contains(e.message(), "no such file")) << e.message();
}

TEST(ReadFileTest, DirectoryIsInvalidArgument) {
  TempDir dir;
  Error e = CatchError([&] { ReadFile(dir.path()); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(e.message(), dir.path().string())) << e.message();
  EXPECT_TRUE(Contains(e.message(), "is a directory")) << e.message();
}

TEST(ReadFileTest, DeviceIsNotARegularFile) {
  if (!fs::exists("/dev/null")) GTEST_SKIP() << "no /dev/null here";
  Error e = CatchError([] { ReadFile("/dev/null"); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(e.message(), "/dev/null")) << e.message();
  EXPECT_TRUE(Contains(e.message(), "not a regular file")) << e.message();
}

TEST(ReadFileTest, FollowsSymlinks) {
  TempDir dir;
  fs::path target = dir.path() / "target.txt";
  WriteBytes(target, "through the link");
  fs::path link = dir.path() / "link.txt";
  fs::create_symlink(target, link);
  EXPECT_EQ(ReadFile(link), "through the link");

  fs::path dangling = dir.path() / "dangling.txt";
  fs::create_symlink(dir.path() / "gone.txt", dangling);
  Error e = CatchError([&] { ReadFile(dangling); });
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_TRUE(Contains(e.message(), dangling.string())) << e.message();
}

TEST(CheckReadableFileTest, AcceptsFilesAndRejectsMissingAndDirectories) {
  TempDir dir;
  fs::path file = dir.path() / "ok.txt";
  WriteBytes(file, "ok");
  EXPECT_NO_THROW(CheckReadableFile(file));

  fs::path missing = dir.path() / "nope.txt";
  Error not_found = CatchError([&] { CheckReadableFile(missing); });
  EXPECT_EQ(not_found.code(), ErrorCode::kNotFound);
  EXPECT_TRUE(Contains(not_found.message(), missing.string()));

  Error is_dir = CatchError([&] { CheckReadableFile(dir.path()); });
  EXPECT_EQ(is_dir.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(is_dir.message(), dir.path().string()));
  EXPECT_TRUE(Contains(is_dir.message(), "is a directory"));
}

TEST(WriteFileAtomicTest, CreatesANewFile) {
  TempDir dir;
  fs::path file = dir.path() / "new.bin";
  WriteFileAtomic(file, kBinary);
  EXPECT_EQ(ReadFile(file), kBinary);
  EXPECT_EQ(EntriesOf(dir.path()), std::set<std::string>{"new.bin"});
}

TEST(WriteFileAtomicTest, ReplacesContentAndLeavesNoTemporaryFiles) {
  TempDir dir;
  fs::path file = dir.path() / "mloop.yaml";
  WriteBytes(file, "old content that is longer than the new one\n");
  WriteFileAtomic(file, "new\n");
  EXPECT_EQ(ReadFile(file), "new\n");
  WriteFileAtomic(file, "");
  EXPECT_EQ(ReadFile(file), "");
  WriteFileAtomic(file, kBinary);
  EXPECT_EQ(ReadFile(file), kBinary);
  EXPECT_EQ(EntriesOf(dir.path()), std::set<std::string>{"mloop.yaml"});
}

TEST(WriteFileAtomicTest, ManyWritesLeaveOnlyTheTargets) {
  TempDir dir;
  for (int i = 0; i < 20; ++i) {
    WriteFileAtomic(dir.path() / "a.txt", "a" + std::to_string(i));
    WriteFileAtomic(dir.path() / "b.txt", "b" + std::to_string(i));
  }
  EXPECT_EQ(ReadFile(dir.path() / "a.txt"), "a19");
  EXPECT_EQ(ReadFile(dir.path() / "b.txt"), "b19");
  EXPECT_EQ(EntriesOf(dir.path()), (std::set<std::string>{"a.txt", "b.txt"}));
}

TEST(WriteFileAtomicTest, MissingFolderIsInvalidArgumentNamingThePath) {
  TempDir dir;
  fs::path file = dir.path() / "no_such_folder" / "out.txt";
  Error e = CatchError([&] { WriteFileAtomic(file, "x"); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(e.message(), file.string())) << e.message();
  EXPECT_TRUE(Contains(e.message(), "cannot create")) << e.message();
  EXPECT_TRUE(EntriesOf(dir.path()).empty());
}

TEST(WriteFileAtomicTest, FailedRenameLeavesTargetAndNoTemporaryFile) {
  // Renaming a file over a non-empty folder fails; the folder and its content
  // stay.
  TempDir dir;
  fs::path target = dir.path() / "target";
  fs::create_directories(target);
  WriteBytes(target / "keep.txt", "kept");
  Error e = CatchError([&] { WriteFileAtomic(target, "data"); });
  EXPECT_EQ(e.code(), ErrorCode::kDataLoss);
  EXPECT_TRUE(Contains(e.message(), target.string())) << e.message();
  EXPECT_TRUE(Contains(e.message(), "rename failed")) << e.message();
  EXPECT_EQ(EntriesOf(dir.path()), std::set<std::string>{"target"});
  EXPECT_EQ(ReadFile(target / "keep.txt"), "kept");
}

TEST(MappedFileTest, EmptyFileMapsToEmptyView) {
  TempDir dir;
  fs::path file = dir.path() / "empty.csv";
  WriteBytes(file, "");
  MappedFile mapped(file);
  EXPECT_TRUE(mapped.view().empty());
  EXPECT_EQ(mapped.view().size(), 0u);
  EXPECT_EQ(mapped.path(), file);
}

TEST(MappedFileTest, ViewHoldsTheFileBytes) {
  TempDir dir;
  fs::path file = dir.path() / "data.bin";
  WriteBytes(file, kBinary);
  MappedFile mapped(file);
  EXPECT_EQ(mapped.view(), kBinary);
  EXPECT_EQ(mapped.path(), file);
}

TEST(MappedFileTest, ViewSurvivesAtomicReplacementOfTheFile) {
  TempDir dir;
  fs::path file = dir.path() / "data.txt";
  WriteBytes(file, "version one");
  MappedFile mapped(file);
  WriteFileAtomic(file, "version two, longer");
  EXPECT_EQ(mapped.view(), "version one");
  EXPECT_EQ(MappedFile(file).view(), "version two, longer");
}

TEST(MappedFileTest, MissingAndDirectoryThrowNamingThePath) {
  TempDir dir;
  fs::path missing = dir.path() / "missing.bin";
  Error not_found = CatchError([&] { MappedFile m(missing); });
  EXPECT_EQ(not_found.code(), ErrorCode::kNotFound);
  EXPECT_TRUE(Contains(not_found.message(), missing.string()));

  Error is_dir = CatchError([&] { MappedFile m(dir.path()); });
  EXPECT_EQ(is_dir.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(is_dir.message(), dir.path().string()));
  EXPECT_TRUE(Contains(is_dir.message(), "is a directory"));
}

TEST(MappedFileTest, MoveConstructionTransfersTheMapping) {
  TempDir dir;
  fs::path file = dir.path() / "a.bin";
  WriteBytes(file, kBinary);
  MappedFile original(file);
  const char* data = original.view().data();

  MappedFile moved(std::move(original));
  EXPECT_EQ(moved.view(), kBinary);
  EXPECT_EQ(moved.view().data(), data);  // The same mapping, not a copy.
  EXPECT_EQ(moved.path(), file);
  EXPECT_TRUE(original.view().empty());  // NOLINT(bugprone-use-after-move)
}

TEST(MappedFileTest, MoveAssignmentReleasesTheOldMapping) {
  TempDir dir;
  fs::path a = dir.path() / "a.txt";
  fs::path b = dir.path() / "b.txt";
  WriteBytes(a, "contents of a");
  WriteBytes(b, "b");
  MappedFile target(a);
  MappedFile source(b);
  target = std::move(source);
  EXPECT_EQ(target.view(), "b");
  EXPECT_EQ(target.path(), b);
  EXPECT_TRUE(source.view().empty());  // NOLINT(bugprone-use-after-move)

  // Assigning an empty mapping over a live one, and moving from a moved-from
  // one.
  MappedFile empty_target(a);
  empty_target = std::move(source);
  EXPECT_TRUE(empty_target.view().empty());
  MappedFile again(std::move(source));
  EXPECT_TRUE(again.view().empty());
}

TEST(MappedFileTest, SelfMoveAssignmentKeepsTheMapping) {
  TempDir dir;
  fs::path file = dir.path() / "self.txt";
  WriteBytes(file, "self");
  MappedFile mapped(file);
  MappedFile& alias = mapped;
  mapped = std::move(alias);
  EXPECT_EQ(mapped.view(), "self");
  EXPECT_EQ(mapped.path(), file);
}

TEST(MappedFileTest, MoveOfEmptyFileMapping) {
  TempDir dir;
  fs::path file = dir.path() / "empty";
  WriteBytes(file, "");
  MappedFile a(file);
  MappedFile b(std::move(a));
  EXPECT_TRUE(b.view().empty());
  EXPECT_EQ(b.path(), file);
}

}  // namespace
}  // namespace mloop
