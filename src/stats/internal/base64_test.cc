#include "stats/internal/base64.h"

#include <gtest/gtest.h>

#include <string>

namespace mloop::stats::internal {
namespace {

std::string Encode(std::string_view s) {
  return Base64Encode(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

TEST(Base64Test, Rfc4648Vectors) {
  EXPECT_EQ(Encode(""), "");
  EXPECT_EQ(Encode("f"), "Zg==");
  EXPECT_EQ(Encode("fo"), "Zm8=");
  EXPECT_EQ(Encode("foo"), "Zm9v");
  EXPECT_EQ(Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Encode("foobar"), "Zm9vYmFy");
}

TEST(Base64Test, RoundTripsAllByteValues) {
  std::vector<uint8_t> bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<uint8_t>(i));
  for (size_t n = 0; n < 5; ++n) {
    std::vector<uint8_t> v(bytes.begin(), bytes.end() - static_cast<ptrdiff_t>(n));
    EXPECT_EQ(Base64Decode(Base64Encode(v.data(), v.size())), v);
  }
}

TEST(Base64Test, RejectsNonCanonicalInput) {
  for (const char* bad : {"Zg=", "Zg", "Z===", "Zh==", "Zm9v!A==", "=Zg=", "Zg==Zg=="}) {
    EXPECT_EQ(Base64Decode(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace mloop::stats::internal
