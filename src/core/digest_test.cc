#include "core/digest.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/error.h"
#include "core/testing.h"

namespace mloop {
namespace {

namespace fs = std::filesystem;
using test::ExpectError;
using test::TempDir;

constexpr char kEmptyDigest[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kAbcDigest[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
// FIPS 180-2 appendix B.2: the two-block message.
constexpr char kTwoBlockMessage[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
constexpr char kTwoBlockDigest[] =
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
// FIPS 180-2 appendix B.3: one million 'a'.
constexpr char kMillionADigest[] =
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

TEST(Sha256Test, FipsVectors) {
  EXPECT_EQ(Sha256Hex(""), kEmptyDigest);
  EXPECT_EQ(Sha256Hex("abc"), kAbcDigest);
  EXPECT_EQ(Sha256Hex(kTwoBlockMessage), kTwoBlockDigest);
  EXPECT_EQ(Sha256Hex(std::string(1'000'000, 'a')), kMillionADigest);
}

TEST(Sha256Test, StreamingWithNoUpdatesIsTheEmptyDigest) {
  Sha256 h;
  EXPECT_EQ(h.FinishHex(), kEmptyDigest);
}

TEST(Sha256Test, StreamingInPiecesEqualsOneShot) {
  Sha256 h;
  h.Update("a");
  h.Update("");
  h.Update("bc");
  EXPECT_EQ(h.FinishHex(), kAbcDigest);

  // Every split point of a message longer than one 64-byte block.
  const std::string message = std::string(kTwoBlockMessage) + kTwoBlockMessage;
  const std::string expected = Sha256Hex(message);
  for (size_t split = 0; split <= message.size(); ++split) {
    Sha256 pieces;
    pieces.Update(message.data(), split);
    pieces.Update(message.data() + split, message.size() - split);
    EXPECT_EQ(pieces.FinishHex(), expected) << "split at " << split;
  }
}

TEST(Sha256Test, OddSizedPieces) {
  const std::string million(1'000'000, 'a');
  Sha256 h;
  for (size_t i = 0; i < million.size(); i += 997) {
    h.Update(million.data() + i, std::min<size_t>(997, million.size() - i));
  }
  EXPECT_EQ(h.FinishHex(), kMillionADigest);
}

TEST(Sha256Test, BinaryDataWithNulBytes) {
  const std::string with_nul("a\0b", 3);
  EXPECT_NE(Sha256Hex(with_nul), Sha256Hex("ab"));
  EXPECT_EQ(Sha256Hex(with_nul), Sha256Hex(std::string("a\0b", 3)));
  EXPECT_TRUE(IsSha256Hex(Sha256Hex(with_nul)));
}

TEST(Sha256FileHexTest, EqualsDigestOfContents) {
  TempDir dir;
  EXPECT_EQ(Sha256FileHex(dir.Write("data.bin", "abc")), kAbcDigest);
  EXPECT_EQ(Sha256FileHex(dir.Write("empty.bin", "")), kEmptyDigest);
}

TEST(Sha256FileHexTest, FileLargerThanTheReadBuffer) {
  // The file is streamed in 1 MiB pieces; 2.5 MiB crosses two piece boundaries.
  TempDir dir;
  std::string bytes;
  bytes.reserve(5 << 19);
  for (size_t i = 0; i < (5u << 19); ++i) {
    bytes.push_back(static_cast<char>(i * 31 % 251));
  }
  EXPECT_EQ(Sha256FileHex(dir.Write("big.bin", bytes)), Sha256Hex(bytes));
}

TEST(Sha256FileHexTest, MissingFileIsNotFoundNamingThePath) {
  TempDir dir;
  fs::path missing = dir.path() / "no_such_file.csv";
  ExpectError(ErrorCode::kNotFound, {missing.string()}, [&] { Sha256FileHex(missing); });
}

TEST(Sha256FileHexTest, DirectoryIsInvalidArgumentNamingThePath) {
  TempDir dir;
  ExpectError(ErrorCode::kInvalidArgument, {dir.path().string(), "is a directory"},
              [&] { Sha256FileHex(dir.path()); });
}

TEST(IsSha256HexTest, AcceptsDigests) {
  EXPECT_TRUE(IsSha256Hex(kEmptyDigest));
  EXPECT_TRUE(IsSha256Hex(kAbcDigest));
  EXPECT_TRUE(IsSha256Hex(std::string(64, '0')));
  EXPECT_TRUE(IsSha256Hex(std::string(64, 'f')));
}

TEST(IsSha256HexTest, RejectsOtherStrings) {
  EXPECT_FALSE(IsSha256Hex(""));
  EXPECT_FALSE(IsSha256Hex(std::string(63, 'a')));
  EXPECT_FALSE(IsSha256Hex(std::string(65, 'a')));
  // Uppercase is not the canonical form.
  std::string upper = kAbcDigest;
  upper[0] = 'B';
  EXPECT_FALSE(IsSha256Hex(upper));
  std::string non_hex = kAbcDigest;
  non_hex[63] = 'g';
  EXPECT_FALSE(IsSha256Hex(non_hex));
  std::string with_space = kAbcDigest;
  with_space[10] = ' ';
  EXPECT_FALSE(IsSha256Hex(with_space));
  EXPECT_FALSE(IsSha256Hex("sha256:" + std::string(kAbcDigest).substr(7)));
}

}  // namespace
}  // namespace mloop
