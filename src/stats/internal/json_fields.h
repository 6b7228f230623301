// Reading the fields of a stored profile or sketch (profile.h, the sketches' FromJson)
// with errors that name the key at fault by its full path, such as
// "columns[2].sketches.quantiles.k". Every function throws Error invalid_argument;
// they are pure and thread-safe.
#ifndef MLOOP_STATS_INTERNAL_JSON_FIELDS_H_
#define MLOOP_STATS_INTERNAL_JSON_FIELDS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.h"

namespace mloop::stats::internal {

// "path.key", or "key" when path is empty.
std::string KeyPath(std::string_view path, std::string_view key);

// Throws Error invalid_argument: "invalid profile: key 'PATH' WHAT".
[[noreturn]] void ThrowBadKey(std::string_view path, std::string_view what);

// `j` must be an object; `path` names it.
void RequireObject(const Json& j, std::string_view path);

// The member `key` of the object `obj`; throws when it is missing.
const Json& Field(const Json& obj, std::string_view path, std::string_view key);

uint64_t GetUint(const Json& obj, std::string_view path, std::string_view key);
int64_t GetInt(const Json& obj, std::string_view path, std::string_view key);
double GetDouble(const Json& obj, std::string_view path, std::string_view key);
// A number, or null read as NaN (how ToJson writes an undefined statistic).
double GetDoubleOrNull(const Json& obj, std::string_view path, std::string_view key);
std::string GetString(const Json& obj, std::string_view path, std::string_view key);
const Json& GetArray(const Json& obj, std::string_view path, std::string_view key);
const Json& GetObject(const Json& obj, std::string_view path, std::string_view key);

// Element checks for arrays read with GetArray; `path` names the element.
uint64_t ElementUint(const Json& element, std::string_view path);
double ElementDouble(const Json& element, std::string_view path);

}  // namespace mloop::stats::internal

#endif  // MLOOP_STATS_INTERNAL_JSON_FIELDS_H_
