#include "core/json_reader.h"

#include <gtest/gtest.h>

#include "core/testing.h"

namespace mloop {
namespace {

using test::ExpectError;

TEST(JsonReaderTest, ErrorsNameTheSourceThePathAndWhatWasWrong) {
  JsonReader r("train.yaml");
  Json doc = ParseYaml("a: {b: x, n: -2, list: [p, p]}\n", "train.yaml");
  const Json& a = doc["a"];
  ExpectError(ErrorCode::kInvalidArgument, {"train.yaml: a.b: expected an integer, got string"},
              [&] { r.Integer("a.b", a["b"]); });
  ExpectError(ErrorCode::kInvalidArgument, {"a.c", "unknown key (expected one of: b, n)"}, [&] {
    r.CheckKeys("a", ParseYaml("{b: 1, c: 2}", "t"), {"b", "n"});
  });
  ExpectError(ErrorCode::kInvalidArgument, {"a.n", ">= 1"}, [&] { r.Positive("a.n", a["n"]); });
  ExpectError(ErrorCode::kInvalidArgument, {"a.list[1]", "listed twice"},
              [&] { r.Names("a.list", a["list"]); });
  ExpectError(ErrorCode::kInvalidArgument, {"a.zz", "required"}, [&] { r.Required("a", a, "zz"); });
  ExpectError(ErrorCode::kInvalidArgument, {"a.b", "one of binary, regression", "\"x\""}, [&] {
    r.Choice("a.b", a["b"], {"binary", "regression"});
  });
  EXPECT_EQ(r.Choice("t", Json("binary"), {"binary"}), "binary");
  EXPECT_EQ(r.NonNegative("n", Json(0)), 0);
  EXPECT_EQ(JsonReader::Join("", "k"), "k");
  EXPECT_EQ(JsonReader::Index("a.b", 2), "a.b[2]");
}

}  // namespace
}  // namespace mloop
