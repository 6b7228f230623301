#include "store/local_artifact_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/digest.h"
#include "core/error.h"
#include "core/file.h"
#include "core/testing.h"

namespace mloop::store {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;
using test::EntriesOf;
using test::ExpectError;
using test::TempDir;
using test::WriteBytes;

// The SHA-256 of "hello\n".
constexpr char kHelloDigest[] = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

// Artifacts are read-only; a test that damages one makes it writable first.
void Damage(const fs::path& path, const std::string& bytes) {
  fs::permissions(path, fs::perms::owner_write, fs::perm_options::add);
  WriteBytes(path, bytes);
}

class LocalArtifactStoreTest : public ::testing::Test {
 protected:
  fs::path Root() const { return dir_.path() / "artifacts"; }

  TempDir dir_;
  LocalArtifactStore store_{dir_.path() / "artifacts"};
};

TEST_F(LocalArtifactStoreTest, PutThenGetRoundTrips) {
  std::string digest = store_.Put("hello\n");
  EXPECT_EQ(digest, kHelloDigest);
  EXPECT_EQ(store_.Get(digest), "hello\n");
  EXPECT_TRUE(store_.Exists(digest));
  EXPECT_EQ(store_.Size(digest), 6u);

  fs::path file = Root() / "sha256" / "58" / std::string(kHelloDigest + 2);
  EXPECT_EQ(store_.PathOf(digest), file);
  EXPECT_TRUE(fs::is_regular_file(file));
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read)
      << "artifacts are read-only";

  const std::string binary = "\0\1\2\xff\0"s + std::string(70000, '\0');
  std::string binary_digest = store_.Put(binary);
  EXPECT_EQ(binary_digest, Sha256Hex(binary));
  EXPECT_EQ(store_.Get(binary_digest), binary);

  std::string empty_digest = store_.Put("");
  EXPECT_EQ(empty_digest, Sha256Hex(""));
  EXPECT_EQ(store_.Get(empty_digest), "");
  EXPECT_EQ(store_.Size(empty_digest), 0u);
}

TEST_F(LocalArtifactStoreTest, PutOfExistingContentIsIdempotent) {
  std::string first = store_.Put("same bytes");
  fs::file_time_type written = fs::last_write_time(store_.PathOf(first));
  std::string second = store_.Put("same bytes");
  EXPECT_EQ(first, second);
  EXPECT_EQ(fs::last_write_time(store_.PathOf(first)), written) << "not rewritten";
  EXPECT_EQ(store_.List(), std::vector<std::string>{first});
  EXPECT_EQ(EntriesOf(Root() / "tmp").size(), 0u);
}

TEST_F(LocalArtifactStoreTest, PutLeavesNoTemporaryFiles) {
  store_.Put("a");
  store_.Put("b");
  fs::path source = dir_.Write("source.bin", "c");
  store_.PutFile(source);
  store_.PutFile(source);  // Already stored: the copy is dropped.
  EXPECT_EQ(EntriesOf(Root() / "tmp").size(), 0u);
  for (const auto& entry : fs::recursive_directory_iterator(Root() / "sha256")) {
    if (entry.is_regular_file()) {
      EXPECT_EQ(entry.path().filename().string().size(), 62u) << entry.path();
    }
  }
  EXPECT_EQ(store_.List().size(), 3u);
}

TEST_F(LocalArtifactStoreTest, PutFileStreamsLargeFiles) {
  std::string big;
  big.reserve(3 * 1024 * 1024 + 17);
  for (size_t i = 0; i < 3 * 1024 * 1024 + 17; ++i) {
    big.push_back(static_cast<char>((i * 2654435761u) >> 13));
  }
  fs::path source = dir_.Write("big.bin", big);
  std::string digest = store_.PutFile(source);
  EXPECT_EQ(digest, Sha256FileHex(source));
  EXPECT_EQ(store_.Size(digest), big.size());
  EXPECT_EQ(store_.Get(digest), big);

  std::unique_ptr<ArtifactReader> reader = store_.Open(digest);
  EXPECT_EQ(reader->size(), big.size());
  std::string streamed;
  char buffer[4096];
  while (size_t n = reader->Read(buffer, sizeof buffer)) streamed.append(buffer, n);
  EXPECT_EQ(streamed, big);
  EXPECT_EQ(reader->Read(buffer, sizeof buffer), 0u) << "stays at the end";

  fs::path copy = dir_.path() / "copy.bin";
  store_.CopyTo(digest, copy);
  EXPECT_EQ(ReadFile(copy), big);
}

TEST_F(LocalArtifactStoreTest, PutFileOfMissingOrDirectoryNamesThePath) {
  ExpectError(ErrorCode::kNotFound, {"nope.csv"},
              [&] { store_.PutFile(dir_.path() / "nope.csv"); });
  ExpectError(ErrorCode::kInvalidArgument, {dir_.path().string()},
              [&] { store_.PutFile(dir_.path()); });
}

TEST_F(LocalArtifactStoreTest, TamperedArtifactIsDataLossOnEveryRead) {
  std::string digest = store_.Put("the original bytes");
  fs::path file = store_.PathOf(digest);
  Damage(file, "the 0riginal bytes");  // Same size, one byte changed.

  ExpectError(ErrorCode::kDataLoss, {digest, file.string(), Sha256Hex("the 0riginal bytes")},
              [&] { store_.Get(digest); });

  std::unique_ptr<ArtifactReader> reader = store_.Open(digest);
  char buffer[64];
  ExpectError(ErrorCode::kDataLoss, {digest}, [&] {
    while (reader->Read(buffer, sizeof buffer) > 0) {
    }
  });

  // CopyTo leaves the destination as it was and no temporary file beside it.
  fs::path out_dir = dir_.path() / "out";
  fs::create_directories(out_dir);
  fs::path model = out_dir / "model.bin";
  WriteBytes(model, "previous");
  ExpectError(ErrorCode::kDataLoss, {digest}, [&] { store_.CopyTo(digest, model); });
  EXPECT_EQ(ReadFile(model), "previous");
  EXPECT_EQ(EntriesOf(out_dir).size(), 1u);

  EXPECT_TRUE(store_.Exists(digest)) << "Exists does not verify";
}

TEST_F(LocalArtifactStoreTest, TruncatedArtifactIsDataLossAndPutRepairsIt) {
  const std::string bytes = "a model bundle of some length";
  std::string digest = store_.Put(bytes);
  fs::path file = store_.PathOf(digest);
  fs::permissions(file, fs::perms::owner_write, fs::perm_options::add);
  fs::resize_file(file, 7);

  ExpectError(ErrorCode::kDataLoss, {digest, "7 bytes"}, [&] { store_.Get(digest); });

  EXPECT_EQ(store_.Put(bytes), digest);
  EXPECT_EQ(store_.Get(digest), bytes);
}

TEST_F(LocalArtifactStoreTest, MissingArtifactIsNotFound) {
  EXPECT_FALSE(store_.Exists(kHelloDigest));
  for (auto read : std::vector<std::function<void()>>{
           [&] { store_.Get(kHelloDigest); },
           [&] { store_.Size(kHelloDigest); },
           [&] { store_.Open(kHelloDigest); },
           [&] { store_.CopyTo(kHelloDigest, dir_.path() / "x"); },
       }) {
    ExpectError(ErrorCode::kNotFound, {kHelloDigest}, read);
  }
  EXPECT_FALSE(fs::exists(dir_.path() / "x"));
}

TEST_F(LocalArtifactStoreTest, BadDigestIsInvalidArgument) {
  for (const std::string& bad :
       std::vector<std::string>{"", "abc", std::string(64, 'g'),
                                "5891B5B522D5DF086D0FF0B110FBD9D21BB4FC7163AF34D08286A2E846F6BE03",
                                std::string(kHelloDigest) + "0", "../../../../etc/passwd"}) {
    SCOPED_TRACE(bad);
    ExpectError(ErrorCode::kInvalidArgument, {"not a SHA-256 digest"}, [&] { store_.Get(bad); });
    ExpectError(ErrorCode::kInvalidArgument, {}, [&] { store_.Exists(bad); });
    ExpectError(ErrorCode::kInvalidArgument, {}, [&] { store_.Size(bad); });
    ExpectError(ErrorCode::kInvalidArgument, {}, [&] { store_.Open(bad); });
  }
}

TEST_F(LocalArtifactStoreTest, CopyToIntoMissingFolderIsInvalidArgument) {
  std::string digest = store_.Put("x");
  fs::path destination = dir_.path() / "no" / "such" / "file";
  ExpectError(ErrorCode::kInvalidArgument, {destination.string()},
              [&] { store_.CopyTo(digest, destination); });
}

TEST_F(LocalArtifactStoreTest, ListIsSortedAndSkipsStrayFiles) {
  std::vector<std::string> digests = {store_.Put("1"), store_.Put("2"), store_.Put("3")};
  std::sort(digests.begin(), digests.end());
  WriteBytes(Root() / "sha256" / "README", "not an artifact");
  fs::create_directories(Root() / "sha256" / "zz");
  WriteBytes(Root() / "sha256" / "zz" / "junk", "x");
  EXPECT_EQ(store_.List(), digests);
}

TEST_F(LocalArtifactStoreTest, ConcurrentPutsOfTheSameBytesAllSucceed) {
  const std::string bytes(200000, 'q');
  std::vector<std::string> results(8);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      LocalArtifactStore own(Root());
      results[t] = own.Put(bytes);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& digest : results) EXPECT_EQ(digest, Sha256Hex(bytes));
  EXPECT_EQ(store_.Get(results[0]), bytes);
  EXPECT_EQ(EntriesOf(Root() / "tmp").size(), 0u);
}

TEST(LocalArtifactStoreRootTest, RootBlockedByAFileIsInvalidArgument) {
  TempDir dir;
  fs::path root = dir.Write("artifacts", "a file, not a folder");
  ExpectError(ErrorCode::kInvalidArgument, {root.string()},
              [&] { LocalArtifactStore store(root); });
}

}  // namespace
}  // namespace mloop::store
