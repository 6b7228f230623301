// JsonReader: reads a user's document (a YAML or JSON file parsed into Json) strictly, with the
// key path of every value, so that each mistake is one clear error:
//   train.yaml: estimator.params.max_depth: expected an integer, got string
//   adult.yaml: columns.age.mn: unknown key (expected one of: type, role, ...)
// Contracts, feature specs and training configs are read through it.
//
// Every check throws Error invalid_argument with "SOURCE: PATH: what was expected, what was
// found". A JsonReader holds only the source's name; it is safe to use from several threads.
#ifndef MLOOP_CORE_JSON_READER_H_
#define MLOOP_CORE_JSON_READER_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace mloop {

class JsonReader {
 public:
  explicit JsonReader(std::string_view source) : source_(source) {}

  const std::string& source() const { return source_; }

  [[noreturn]] void Fail(const std::string& path, const std::string& message) const;
  [[noreturn]] void WrongType(const std::string& path, const std::string& expected,
                              const Json& v) const;
  // "number", "boolean", "mapping", "list", "string", "null".
  static std::string TypeOf(const Json& v);
  // "a.b" from "a" and "b"; "b" from "" and "b".
  static std::string Join(const std::string& path, std::string_view key);
  // "a[3]".
  static std::string Index(const std::string& path, size_t i);

  void ExpectObject(const std::string& path, const Json& v) const;
  // `obj` must be a mapping whose every key is one of `keys`.
  void CheckKeys(const std::string& path, const Json& obj,
                 std::initializer_list<std::string_view> keys) const {
    CheckKeys(path, obj, std::vector<std::string_view>(keys));
  }
  void CheckKeys(const std::string& path, const Json& obj,
                 const std::vector<std::string_view>& keys) const;
  // `obj[key]` must be there (a key written with nothing after it counts as missing).
  const Json& Required(const std::string& path, const Json& obj, std::string_view key) const;

  double Number(const std::string& path, const Json& v) const;  // Finite or infinite; not NaN.
  double Share(const std::string& path, const Json& v) const;   // In [0, 1].
  int64_t Integer(const std::string& path, const Json& v) const;
  int64_t NonNegative(const std::string& path, const Json& v) const;
  int64_t Positive(const std::string& path, const Json& v) const;
  int64_t IntegerAtLeast(const std::string& path, const Json& v, int64_t min) const;
  bool Bool(const std::string& path, const Json& v) const;
  std::string String(const std::string& path, const Json& v) const;
  std::string Name(const std::string& path, const Json& v) const;  // Non-empty.
  // One character; "" means '\0' when `empty_ok`.
  char Char(const std::string& path, const Json& v, bool empty_ok) const;
  std::vector<std::string> Strings(const std::string& path, const Json& v) const;
  std::vector<double> Numbers(const std::string& path, const Json& v) const;
  // Distinct non-empty names; with `at_least_one`, an empty list fails too.
  std::vector<std::string> Names(const std::string& path, const Json& v,
                                 bool at_least_one = false) const;
  // One of `choices`.
  std::string Choice(const std::string& path, const Json& v,
                     std::initializer_list<std::string_view> choices) const;

 private:
  std::string source_;
};

}  // namespace mloop

#endif  // MLOOP_CORE_JSON_READER_H_
