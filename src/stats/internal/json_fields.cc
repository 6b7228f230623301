#include "stats/internal/json_fields.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace mloop::stats::internal {

std::string KeyPath(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string out(path);
  out += '.';
  out += key;
  return out;
}

void ThrowBadKey(std::string_view path, std::string_view what) {
  ThrowInvalidArgument("invalid profile: key '" + std::string(path) + "' " + std::string(what));
}

void RequireObject(const Json& j, std::string_view path) {
  if (!j.is_object()) ThrowBadKey(path, "must be an object");
}

const Json& Field(const Json& obj, std::string_view path, std::string_view key) {
  RequireObject(obj, path);
  auto it = obj.find(key);
  if (it == obj.end()) ThrowBadKey(KeyPath(path, key), "is missing");
  return *it;
}

uint64_t ElementUint(const Json& v, std::string_view path) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    return static_cast<uint64_t>(v.get<int64_t>());
  }
  ThrowBadKey(path, "must be a non-negative integer");
}

double ElementDouble(const Json& v, std::string_view path) {
  if (!v.is_number()) ThrowBadKey(path, "must be a number");
  double d = v.get<double>();
  if (!std::isfinite(d)) ThrowBadKey(path, "must be a finite number");
  return d;
}

uint64_t GetUint(const Json& obj, std::string_view path, std::string_view key) {
  return ElementUint(Field(obj, path, key), KeyPath(path, key));
}

int64_t GetInt(const Json& obj, std::string_view path, std::string_view key) {
  const Json& v = Field(obj, path, key);
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      ThrowBadKey(KeyPath(path, key), "is out of the range of int64");
    }
    return static_cast<int64_t>(v.get<uint64_t>());
  }
  if (!v.is_number_integer()) ThrowBadKey(KeyPath(path, key), "must be an integer");
  return v.get<int64_t>();
}

double GetDouble(const Json& obj, std::string_view path, std::string_view key) {
  return ElementDouble(Field(obj, path, key), KeyPath(path, key));
}

double GetDoubleOrNull(const Json& obj, std::string_view path, std::string_view key) {
  const Json& v = Field(obj, path, key);
  if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
  return ElementDouble(v, KeyPath(path, key));
}

std::string GetString(const Json& obj, std::string_view path, std::string_view key) {
  const Json& v = Field(obj, path, key);
  if (!v.is_string()) ThrowBadKey(KeyPath(path, key), "must be a string");
  return v.get<std::string>();
}

const Json& GetArray(const Json& obj, std::string_view path, std::string_view key) {
  const Json& v = Field(obj, path, key);
  if (!v.is_array()) ThrowBadKey(KeyPath(path, key), "must be an array");
  return v;
}

const Json& GetObject(const Json& obj, std::string_view path, std::string_view key) {
  const Json& v = Field(obj, path, key);
  if (!v.is_object()) ThrowBadKey(KeyPath(path, key), "must be an object");
  return v;
}

}  // namespace mloop::stats::internal
