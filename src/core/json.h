// JSON and YAML. Json is nlohmann::json, the one in-memory document type of mloop:
// configs, contracts and reports are read from YAML or JSON into a Json and written
// back from one. Parsing functions throw Error invalid_argument naming the source and
// the line and column at fault.
#ifndef MLOOP_CORE_JSON_H_
#define MLOOP_CORE_JSON_H_

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace mloop {

using Json = nlohmann::ordered_json;

// `source` names the input in error messages ("contract.yaml", "<stdin>").
Json ParseJson(std::string_view text, std::string_view source);
Json ReadJsonFile(const std::filesystem::path& path);

// YAML 1.2 through yaml-cpp. Scalars become numbers, booleans and null where YAML's
// core schema says so (an unquoted 12 is a number; "12" is a string).
Json ParseYaml(std::string_view text, std::string_view source);
Json ReadYamlFile(const std::filesystem::path& path);
std::string ToYaml(const Json& doc);

}  // namespace mloop

#endif  // MLOOP_CORE_JSON_H_
