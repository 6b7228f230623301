#include "core/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>

#include "core/error.h"
#include "core/testing.h"

namespace mloop {
namespace {

namespace fs = std::filesystem;
using test::CatchError;
using test::Contains;
using test::ExpectError;
using test::TempDir;

// ---------------------------------------------------------------------------
// ParseJson

TEST(ParseJsonTest, ParsesDocumentsAndKeepsKeyOrder) {
  Json doc = ParseJson(R"({"zeta": 1, "alpha": [true, null, 2.5, "x"],
                           "mid": {"b": 1, "a": 2}})",
                       "doc.json");
  ASSERT_TRUE(doc.is_object());
  std::vector<std::string> keys;
  for (const auto& [k, v] : doc.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"zeta", "alpha", "mid"}));
  EXPECT_EQ(doc["zeta"], 1);
  EXPECT_TRUE(doc["alpha"][0].is_boolean());
  EXPECT_TRUE(doc["alpha"][1].is_null());
  EXPECT_DOUBLE_EQ(doc["alpha"][2].get<double>(), 2.5);
  EXPECT_EQ(doc["alpha"][3], "x");
  EXPECT_EQ(doc["mid"].begin().key(), "b");
  EXPECT_EQ(doc["mid"].dump(), R"({"b":1,"a":2})");
}

TEST(ParseJsonTest, ScalarsAtTheTop) {
  EXPECT_EQ(ParseJson("42", "s"), 42);
  EXPECT_EQ(ParseJson("\"text\"", "s"), "text");
  EXPECT_TRUE(ParseJson("null", "s").is_null());
}

TEST(ParseJsonTest, ErrorNamesSourceLineAndColumn) {
  // The bad token '?' is on line 3, column 8.
  const std::string text = "{\n  \"a\": 1,\n  \"b\": ?\n}\n";
  Error e = CatchError([&] { ParseJson(text, "config.json"); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(e.message().starts_with("config.json:3:8: invalid JSON")) << e.message();
}

TEST(ParseJsonTest, ErrorOnTheFirstLine) {
  Error e = CatchError([] { ParseJson("[1, 2,, 3]", "<stdin>"); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(e.message().starts_with("<stdin>:1:7: invalid JSON")) << e.message();
}

TEST(ParseJsonTest, TruncatedInputNamesTheLastLine) {
  Error e = CatchError([] { ParseJson("{\n\"a\": [1,\n2", "trunc.json"); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(e.message().starts_with("trunc.json:3:")) << e.message();
  EXPECT_TRUE(Contains(e.message(), "invalid JSON")) << e.message();
}

TEST(ParseJsonTest, EmptyInputIsAnError) {
  Error e = CatchError([] { ParseJson("", "empty.json"); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(e.message().starts_with("empty.json:1:1: invalid JSON")) << e.message();
}

TEST(ParseJsonTest, TrailingGarbageIsAnError) {
  Error e = CatchError([] { ParseJson("{}\n{}", "two.json"); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(e.message().starts_with("two.json:2:")) << e.message();
}

TEST(ReadJsonFileTest, ReadsAndNamesThePathInErrors) {
  TempDir dir;
  Json doc = ReadJsonFile(dir.Write("good.json", R"({"name": "adult", "version": 3})"));
  EXPECT_EQ(doc["name"], "adult");
  EXPECT_EQ(doc["version"], 3);

  fs::path bad = dir.Write("bad.json", "{\n  \"name\": \"adult\"\n  \"version\": 3\n}\n");
  Error e = CatchError([&] { ReadJsonFile(bad); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(e.message().starts_with(bad.string() + ":3:")) << e.message();

  fs::path missing = dir.path() / "missing.json";
  ExpectError(ErrorCode::kNotFound, {missing.string()}, [&] { ReadJsonFile(missing); });
}

// ---------------------------------------------------------------------------
// ParseYaml

TEST(ParseYamlTest, ScalarTypes) {
  Json doc = ParseYaml(
      "int: 12\n"
      "negative: -7\n"
      "big: 9223372036854775807\n"
      "float: 1.5\n"
      "exponent: 1e3\n"
      "negative_float: -0.25\n"
      "yes_bool: true\n"
      "no_bool: False\n"
      "tilde: ~\n"
      "null_word: null\n"
      "empty:\n"
      "double_quoted: \"12\"\n"
      "single_quoted: '3.5'\n"
      "quoted_bool: \"true\"\n"
      "quoted_null: 'null'\n"
      "quoted_empty: \"\"\n"
      "plain: hello world\n"
      "yes_word: yes\n"
      "version_like: 1.2.3\n"
      "infinity: .inf\n"
      "minus_infinity: -.inf\n",
      "types.yaml");
  EXPECT_TRUE(doc["int"].is_number_integer());
  EXPECT_EQ(doc["int"].get<int64_t>(), 12);
  EXPECT_EQ(doc["negative"].get<int64_t>(), -7);
  EXPECT_EQ(doc["big"].get<int64_t>(), std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(doc["float"].is_number_float());
  EXPECT_DOUBLE_EQ(doc["float"].get<double>(), 1.5);
  EXPECT_TRUE(doc["exponent"].is_number_float());
  EXPECT_DOUBLE_EQ(doc["exponent"].get<double>(), 1000.0);
  EXPECT_DOUBLE_EQ(doc["negative_float"].get<double>(), -0.25);
  EXPECT_EQ(doc["yes_bool"], true);
  EXPECT_EQ(doc["no_bool"], false);
  EXPECT_TRUE(doc["tilde"].is_null());
  EXPECT_TRUE(doc["null_word"].is_null());
  EXPECT_TRUE(doc["empty"].is_null());
  EXPECT_EQ(doc["double_quoted"], "12");
  EXPECT_EQ(doc["single_quoted"], "3.5");
  EXPECT_EQ(doc["quoted_bool"], "true");
  EXPECT_EQ(doc["quoted_null"], "null");
  EXPECT_EQ(doc["quoted_empty"], "");
  EXPECT_EQ(doc["plain"], "hello world");
  EXPECT_EQ(doc["yes_word"], "yes");  // YAML 1.2: only true/false are booleans.
  EXPECT_EQ(doc["version_like"], "1.2.3");
  EXPECT_EQ(doc["infinity"].get<double>(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(doc["minus_infinity"].get<double>(), -std::numeric_limits<double>::infinity());
}

TEST(ParseYamlTest, WordsThatAreNotYamlNumbersStayStrings) {
  // The core schema spells infinity and not-a-number .inf and .nan; the bare
  // words are text (pandas-style null markers, category values).
  Json doc = ParseYaml("na_values: [NaN, nan, inf, Infinity, -inf]\n", "na.yaml");
  EXPECT_EQ(doc["na_values"], Json::parse(R"(["NaN", "nan", "inf", "Infinity", "-inf"])"));
}

TEST(ParseYamlTest, FloatSpellings) {
  Json doc = ParseYaml("a: .5\nb: -.5\nc: 5.\nd: .nan\ne: 2.5e-3\nf: -0\n", "floats.yaml");
  EXPECT_DOUBLE_EQ(doc["a"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(doc["b"].get<double>(), -0.5);
  EXPECT_DOUBLE_EQ(doc["c"].get<double>(), 5.0);
  EXPECT_TRUE(doc["c"].is_number_float());
  ASSERT_TRUE(doc["d"].is_number_float()) << doc.dump();
  EXPECT_TRUE(std::isnan(doc["d"].get<double>()));
  EXPECT_DOUBLE_EQ(doc["e"].get<double>(), 0.0025);
  EXPECT_TRUE(doc["f"].is_number_integer());
  EXPECT_EQ(ParseYaml("x: .\n", "dot.yaml")["x"], ".");
  EXPECT_EQ(ParseYaml("x: -a\n", "dash.yaml")["x"], "-a");
}

TEST(ParseYamlTest, LargeUnsignedIntegersStayExact) {
  Json doc = ParseYaml("seed: 18446744073709551615\n", "seed.yaml");
  ASSERT_TRUE(doc["seed"].is_number_unsigned()) << doc.dump();
  EXPECT_EQ(doc["seed"].get<uint64_t>(), std::numeric_limits<uint64_t>::max());
}

TEST(ParseYamlTest, ExplicitStringTagKeepsText) {
  Json doc = ParseYaml("zip: !!str 01234\nflag: !!str true\n", "tags.yaml");
  EXPECT_EQ(doc["zip"], "01234");
  EXPECT_EQ(doc["flag"], "true");
}

TEST(ParseYamlTest, NestedMapsAndListsKeepKeyOrder) {
  Json doc = ParseYaml(
      "name: income\n"
      "model:\n"
      "  type: xgboost\n"
      "  params:\n"
      "    max_depth: 6\n"
      "    eta: 0.3\n"
      "features:\n"
      "  - age\n"
      "  - name: workclass\n"
      "    type: category\n"
      "  - [1, 2, 3]\n"
      "flow: {z: 1, a: [x, y]}\n"
      "alpha: last\n",
      "train.yaml");
  std::vector<std::string> keys;
  for (const auto& [k, v] : doc.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"name", "model", "features", "flow", "alpha"}));
  EXPECT_EQ(doc["model"]["type"], "xgboost");
  EXPECT_EQ(doc["model"]["params"]["max_depth"], 6);
  EXPECT_DOUBLE_EQ(doc["model"]["params"]["eta"].get<double>(), 0.3);
  ASSERT_TRUE(doc["features"].is_array());
  ASSERT_EQ(doc["features"].size(), 3u);
  EXPECT_EQ(doc["features"][0], "age");
  EXPECT_EQ(doc["features"][1]["name"], "workclass");
  EXPECT_EQ(doc["features"][1]["type"], "category");
  EXPECT_EQ(doc["features"][2], Json::parse("[1, 2, 3]"));
  EXPECT_EQ(doc["flow"].dump(), R"({"z":1,"a":["x","y"]})");
}

TEST(ParseYamlTest, EmptyDocumentAndEmptyCollections) {
  EXPECT_TRUE(ParseYaml("", "empty.yaml").is_null());
  EXPECT_TRUE(ParseYaml("# only a comment\n", "c.yaml").is_null());
  Json doc = ParseYaml("m: {}\nl: []\n", "e.yaml");
  EXPECT_TRUE(doc["m"].is_object());
  EXPECT_TRUE(doc["m"].empty());
  EXPECT_TRUE(doc["l"].is_array());
  EXPECT_TRUE(doc["l"].empty());
}

TEST(ParseYamlTest, InvalidYamlNamesSourceAndLine) {
  // The unclosed flow sequence opened on line 2 is reported where it breaks.
  Error e = CatchError([] { ParseYaml("name: adult\nvalues: [1, 2\nnext: 3\n", "contract.yaml"); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(e.message().starts_with("contract.yaml:")) << e.message();
  EXPECT_TRUE(Contains(e.message(), "invalid YAML")) << e.message();

  Error indent = CatchError([] { ParseYaml("a: 1\nb: 2\n  c: 3\n", "indent.yaml"); });
  EXPECT_EQ(indent.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(indent.message().starts_with("indent.yaml:3:")) << indent.message();
  EXPECT_TRUE(Contains(indent.message(), "invalid YAML")) << indent.message();
}

TEST(ParseYamlTest, ListItemInsideAMapNamesSourceAndLine) {
  Error e = CatchError([] { ParseYaml("a: 1\nb: 2\n- c\n", "mixed.yaml"); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(e.message().starts_with("mixed.yaml:3:")) << e.message();
  EXPECT_TRUE(Contains(e.message(), "invalid YAML")) << e.message();
}

TEST(ParseYamlTest, NonScalarMappingKeyIsRejectedWithItsLine) {
  Error e = CatchError([] { ParseYaml("ok: 1\n? [a, b]\n: 2\n", "keys.yaml"); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(e.message().starts_with("keys.yaml:2")) << e.message();
  EXPECT_TRUE(Contains(e.message(), "mapping keys must be plain scalars")) << e.message();
}

TEST(ReadYamlFileTest, ReadsAndNamesThePathInErrors) {
  TempDir dir;
  Json doc = ReadYamlFile(dir.Write("mloop.yaml", "store:\n  metadata: sqlite\n  threads: 4\n"));
  EXPECT_EQ(doc["store"]["metadata"], "sqlite");
  EXPECT_EQ(doc["store"]["threads"], 4);

  fs::path bad = dir.Write("bad.yaml", "a: 1\nb: 2\n  c: 3\n");
  Error e = CatchError([&] { ReadYamlFile(bad); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(e.message().starts_with(bad.string() + ":3:")) << e.message();

  fs::path missing = dir.path() / "missing.yaml";
  ExpectError(ErrorCode::kNotFound, {missing.string()}, [&] { ReadYamlFile(missing); });
}

// ---------------------------------------------------------------------------
// ToYaml

TEST(ToYamlTest, RoundTripsANestedDocument) {
  Json doc = Json::parse(R"({
    "name": "income",
    "version": 3,
    "negative": -12,
    "ratio": 0.1,
    "whole_float": 3.0,
    "tiny": 1e-300,
    "huge": 1e300,
    "enabled": true,
    "disabled": false,
    "nothing": null,
    "looks_like_int": "12",
    "looks_like_negative": "-3",
    "looks_like_float": "1.5",
    "looks_like_exponent": "1e3",
    "looks_like_bool": "true",
    "looks_like_False": "False",
    "looks_like_null": "null",
    "looks_like_tilde": "~",
    "looks_like_inf": ".inf",
    "empty": "",
    "yes": "yes",
    "colon": "a: b",
    "hash": "# not a comment",
    "dash": "- not a list",
    "spaces": "  padded  ",
    "multiline": "line one\nline two\n",
    "quote": "say \"hi\" and 'bye'",
    "unicode": "h\u00e9llo \u4e16\u754c",
    "int_max": 9223372036854775807,
    "int_min": -9223372036854775808,
    "list": [1, "2", 3.5, null, true, "false", [], {}],
    "nested": {"z": {"deep": ["a", {"k": "v"}]}, "a": []},
    "empty_object": {},
    "12": "numeric key",
    "true": "bool key"
  })");
  std::string yaml = ToYaml(doc);
  Json back = ParseYaml(yaml, "roundtrip.yaml");
  EXPECT_EQ(back, doc) << yaml;
  // Equality above is order-sensitive for ordered_json; check types explicitly
  // too.
  EXPECT_TRUE(back["looks_like_int"].is_string()) << yaml;
  EXPECT_TRUE(back["looks_like_bool"].is_string()) << yaml;
  EXPECT_TRUE(back["empty"].is_string()) << yaml;
  EXPECT_TRUE(back["whole_float"].is_number_float()) << yaml;
  EXPECT_TRUE(back["version"].is_number_integer()) << yaml;
  EXPECT_TRUE(back["nothing"].is_null()) << yaml;
}

TEST(ToYamlTest, RoundTripsTopLevelScalarsAndCollections) {
  for (const char* json : {"null", "true", "0", "-1", "2.5", "\"12\"", "\"\"", "\"text\"", "[]",
                           "{}", "[[1], [2, [3]]]"}) {
    Json doc = Json::parse(json);
    std::string yaml = ToYaml(doc);
    EXPECT_EQ(ParseYaml(yaml, "top.yaml"), doc) << json << " -> " << yaml;
  }
}

TEST(ToYamlTest, RoundTripsInfinityNanAndLargeUnsigned) {
  Json doc = Json::object();
  doc["max"] = std::numeric_limits<double>::infinity();
  doc["min"] = -std::numeric_limits<double>::infinity();
  doc["seed"] = std::numeric_limits<uint64_t>::max();
  doc["nan"] = std::numeric_limits<double>::quiet_NaN();
  std::string yaml = ToYaml(doc);
  Json back = ParseYaml(yaml, "inf.yaml");
  EXPECT_EQ(back["max"].get<double>(), std::numeric_limits<double>::infinity()) << yaml;
  EXPECT_EQ(back["min"].get<double>(), -std::numeric_limits<double>::infinity()) << yaml;
  EXPECT_EQ(back["seed"].get<uint64_t>(), std::numeric_limits<uint64_t>::max()) << yaml;
  ASSERT_TRUE(back["nan"].is_number_float()) << yaml;
  EXPECT_TRUE(std::isnan(back["nan"].get<double>())) << yaml;
}

TEST(ToYamlTest, OutputIsBlockStyleAndEndsWithNewline) {
  Json doc = Json::parse(R"({"a": 1, "b": {"c": "x"}})");
  std::string yaml = ToYaml(doc);
  EXPECT_EQ(yaml, "a: 1\nb:\n  c: x\n");
}

}  // namespace
}  // namespace mloop
