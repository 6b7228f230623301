#include "core/file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/testing.h"

namespace mloop {
namespace {

namespace fs = std::filesystem;
using test::EntriesOf;
using test::ExpectError;
using test::TempDir;
using test::WriteBytes;

const std::string kBinary("line 1\n\0\0\xff\xfe\r\nend\0", 17);

TEST(ReadFileTest, RoundTripsBinaryBytesIncludingNul) {
  TempDir dir;
  std::string read = ReadFile(dir.Write("binary.bin", kBinary));
  EXPECT_EQ(read.size(), 17u);
  EXPECT_EQ(read, kBinary);
}

TEST(ReadFileTest, EmptyFile) {
  TempDir dir;
  EXPECT_EQ(ReadFile(dir.Write("empty.txt", "")), "");
}

TEST(ReadFileTest, LargeFile) {
  TempDir dir;
  std::string bytes;
  for (size_t i = 0; i < (3u << 20); ++i) {
    bytes.push_back(static_cast<char>(i % 253));
  }
  EXPECT_EQ(ReadFile(dir.Write("large.bin", bytes)), bytes);
}

TEST(ReadFileTest, MissingFileIsNotFoundNamingThePath) {
  TempDir dir;
  fs::path missing = dir.path() / "missing.csv";
  ExpectError(ErrorCode::kNotFound, {missing.string(), "no such file"}, [&] { ReadFile(missing); });
}

TEST(ReadFileTest, DirectoryIsInvalidArgument) {
  TempDir dir;
  ExpectError(ErrorCode::kInvalidArgument, {dir.path().string(), "is a directory"},
              [&] { ReadFile(dir.path()); });
}

TEST(ReadFileTest, DeviceIsNotARegularFile) {
  ExpectError(ErrorCode::kInvalidArgument, {"/dev/null", "not a regular file"},
              [] { ReadFile("/dev/null"); });
}

TEST(ReadFileTest, FollowsSymlinks) {
  TempDir dir;
  fs::path target = dir.Write("target.txt", "through the link");
  fs::path link = dir.path() / "link.txt";
  fs::create_symlink(target, link);
  EXPECT_EQ(ReadFile(link), "through the link");

  fs::path dangling = dir.path() / "dangling.txt";
  fs::create_symlink(dir.path() / "gone.txt", dangling);
  ExpectError(ErrorCode::kNotFound, {dangling.string()}, [&] { ReadFile(dangling); });
}

TEST(CheckReadableFileTest, AcceptsFilesAndRejectsMissingAndDirectories) {
  TempDir dir;
  EXPECT_NO_THROW(CheckReadableFile(dir.Write("ok.txt", "ok")));

  fs::path missing = dir.path() / "nope.txt";
  ExpectError(ErrorCode::kNotFound, {missing.string()}, [&] { CheckReadableFile(missing); });
  ExpectError(ErrorCode::kInvalidArgument, {dir.path().string(), "is a directory"},
              [&] { CheckReadableFile(dir.path()); });
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
  fs::path file = dir.Write("mloop.yaml", "old content that is longer than the new one\n");
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
  ExpectError(ErrorCode::kInvalidArgument, {file.string(), "cannot create"},
              [&] { WriteFileAtomic(file, "x"); });
  EXPECT_TRUE(EntriesOf(dir.path()).empty());
}

TEST(WriteFileAtomicTest, FailedRenameLeavesTargetAndNoTemporaryFile) {
  // Renaming a file over a non-empty folder fails; the folder and its content
  // stay.
  TempDir dir;
  fs::path target = dir.path() / "target";
  fs::create_directories(target);
  WriteBytes(target / "keep.txt", "kept");
  ExpectError(ErrorCode::kDataLoss, {target.string(), "rename failed"},
              [&] { WriteFileAtomic(target, "data"); });
  EXPECT_EQ(EntriesOf(dir.path()), std::set<std::string>{"target"});
  EXPECT_EQ(ReadFile(target / "keep.txt"), "kept");
}

TEST(MappedFileTest, EmptyFileMapsToEmptyView) {
  TempDir dir;
  fs::path file = dir.Write("empty.csv", "");
  MappedFile mapped(file);
  EXPECT_TRUE(mapped.view().empty());
  EXPECT_EQ(mapped.view().size(), 0u);
  EXPECT_EQ(mapped.path(), file);
}

TEST(MappedFileTest, ViewHoldsTheFileBytes) {
  TempDir dir;
  fs::path file = dir.Write("data.bin", kBinary);
  MappedFile mapped(file);
  EXPECT_EQ(mapped.view(), kBinary);
  EXPECT_EQ(mapped.path(), file);
}

TEST(MappedFileTest, ViewSurvivesAtomicReplacementOfTheFile) {
  TempDir dir;
  fs::path file = dir.Write("data.txt", "version one");
  MappedFile mapped(file);
  WriteFileAtomic(file, "version two, longer");
  EXPECT_EQ(mapped.view(), "version one");
  EXPECT_EQ(MappedFile(file).view(), "version two, longer");
}

TEST(MappedFileTest, MissingAndDirectoryThrowNamingThePath) {
  TempDir dir;
  fs::path missing = dir.path() / "missing.bin";
  ExpectError(ErrorCode::kNotFound, {missing.string()}, [&] { MappedFile m(missing); });
  ExpectError(ErrorCode::kInvalidArgument, {dir.path().string(), "is a directory"},
              [&] { MappedFile m(dir.path()); });
}

TEST(MappedFileTest, MoveConstructionTransfersTheMapping) {
  TempDir dir;
  fs::path file = dir.Write("a.bin", kBinary);
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
  fs::path a = dir.Write("a.txt", "contents of a");
  fs::path b = dir.Write("b.txt", "b");
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
  fs::path file = dir.Write("self.txt", "self");
  MappedFile mapped(file);
  MappedFile& alias = mapped;
  mapped = std::move(alias);
  EXPECT_EQ(mapped.view(), "self");
  EXPECT_EQ(mapped.path(), file);
}

TEST(MappedFileTest, MoveOfEmptyFileMapping) {
  TempDir dir;
  fs::path file = dir.Write("empty", "");
  MappedFile a(file);
  MappedFile b(std::move(a));
  EXPECT_TRUE(b.view().empty());
  EXPECT_EQ(b.path(), file);
}

}  // namespace
}  // namespace mloop
