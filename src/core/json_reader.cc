#include "core/json_reader.h"

#include <climits>
#include <cmath>
#include <set>

#include "core/error.h"

namespace mloop {

void JsonReader::Fail(const std::string& path, const std::string& message) const {
  ThrowInvalidArgument(source_ + ": " + path + ": " + message);
}

std::string JsonReader::TypeOf(const Json& v) {
  if (v.is_number()) return "number";
  if (v.is_boolean()) return "boolean";
  if (v.is_object()) return "mapping";
  if (v.is_array()) return "list";
  return v.type_name();  // "string", "null"
}

void JsonReader::WrongType(const std::string& path, const std::string& expected,
                           const Json& v) const {
  Fail(path, "expected " + expected + ", got " + TypeOf(v));
}

std::string JsonReader::Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string JsonReader::Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

void JsonReader::ExpectObject(const std::string& path, const Json& v) const {
  if (!v.is_object()) WrongType(path, "a mapping", v);
}

void JsonReader::CheckKeys(const std::string& path, const Json& obj,
                           const std::vector<std::string_view>& keys) const {
  ExpectObject(path, obj);
  for (const auto& [key, value] : obj.items()) {
    bool known = false;
    for (std::string_view k : keys) known = known || k == key;
    if (known) continue;
    std::string list;
    for (std::string_view k : keys) list += (list.empty() ? "" : ", ") + std::string(k);
    Fail(Join(path, key), "unknown key (expected one of: " + list + ")");
  }
}

const Json& JsonReader::Required(const std::string& path, const Json& obj,
                                 std::string_view key) const {
  ExpectObject(path, obj);
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) Fail(Join(path, key), "required, but missing");
  return *it;
}

double JsonReader::Number(const std::string& path, const Json& v) const {
  if (!v.is_number()) WrongType(path, "a number", v);
  double d = v.get<double>();
  if (std::isnan(d)) Fail(path, "expected a number, got NaN");
  return d;
}

double JsonReader::Share(const std::string& path, const Json& v) const {
  double d = Number(path, v);
  if (d < 0 || d > 1) Fail(path, "expected a share between 0 and 1, got " + v.dump());
  return d;
}

int64_t JsonReader::Integer(const std::string& path, const Json& v) const {
  if (!v.is_number_integer()) WrongType(path, "an integer", v);
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX}) {
    Fail(path, "integer out of range");
  }
  return v.get<int64_t>();
}

int64_t JsonReader::NonNegative(const std::string& path, const Json& v) const {
  int64_t i = Integer(path, v);
  if (i < 0) Fail(path, "expected an integer >= 0, got " + std::to_string(i));
  return i;
}

int64_t JsonReader::Positive(const std::string& path, const Json& v) const {
  int64_t i = Integer(path, v);
  if (i < 1) Fail(path, "expected an integer >= 1, got " + std::to_string(i));
  return i;
}

int64_t JsonReader::IntegerAtLeast(const std::string& path, const Json& v, int64_t min) const {
  if (!v.is_number_integer()) WrongType(path, "an integer >= " + std::to_string(min), v);
  int64_t i = Integer(path, v);
  if (i < min) {
    Fail(path, "expected an integer >= " + std::to_string(min) + ", got " + std::to_string(i));
  }
  return i;
}

bool JsonReader::Bool(const std::string& path, const Json& v) const {
  if (!v.is_boolean()) WrongType(path, "true or false", v);
  return v.get<bool>();
}

std::string JsonReader::String(const std::string& path, const Json& v) const {
  if (!v.is_string()) WrongType(path, "a string", v);
  return v.get<std::string>();
}

std::string JsonReader::Name(const std::string& path, const Json& v) const {
  std::string s = String(path, v);
  if (s.empty()) Fail(path, "expected a non-empty name");
  return s;
}

char JsonReader::Char(const std::string& path, const Json& v, bool empty_ok) const {
  std::string s = String(path, v);
  if (s.empty() && empty_ok) return '\0';
  if (s.size() != 1) {
    Fail(path, std::string("expected one character") + (empty_ok ? " or \"\"" : "") + ", got \"" +
                   s + "\"");
  }
  return s[0];
}

std::vector<std::string> JsonReader::Strings(const std::string& path, const Json& v) const {
  if (!v.is_array()) WrongType(path, "a list of strings", v);
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); ++i) out.push_back(String(Index(path, i), v[i]));
  return out;
}

std::vector<double> JsonReader::Numbers(const std::string& path, const Json& v) const {
  if (!v.is_array()) WrongType(path, "a list of numbers", v);
  std::vector<double> out;
  for (size_t i = 0; i < v.size(); ++i) out.push_back(Number(Index(path, i), v[i]));
  return out;
}

std::vector<std::string> JsonReader::Names(const std::string& path, const Json& v,
                                           bool at_least_one) const {
  if (!v.is_array()) WrongType(path, "a list of column names", v);
  if (at_least_one && v.empty()) Fail(path, "expected at least one column");
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (size_t i = 0; i < v.size(); ++i) {
    out.push_back(Name(Index(path, i), v[i]));
    if (!seen.insert(out.back()).second) {
      Fail(Index(path, i), "column '" + out.back() + "' is listed twice");
    }
  }
  return out;
}

std::string JsonReader::Choice(const std::string& path, const Json& v,
                               std::initializer_list<std::string_view> choices) const {
  std::string s = String(path, v);
  std::string list;
  for (std::string_view c : choices) {
    if (c == s) return s;
    list += (list.empty() ? "" : ", ") + std::string(c);
  }
  Fail(path, "expected one of " + list + ", got \"" + s + "\"");
}

}  // namespace mloop
