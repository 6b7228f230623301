#include "core/json.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/file.h"

namespace mloop {

Json ParseJson(std::string_view text, std::string_view source) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // nlohmann reports a byte offset; turn it into a line and column.
    size_t line = 1, col = 1;
    size_t end = std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    for (size_t i = 0; i < end; ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    ThrowInvalidArgument(std::string(source) + ":" + std::to_string(line) + ":" +
                         std::to_string(col) + ": invalid JSON: " + e.what());
  }
}

Json ReadJsonFile(const std::filesystem::path& path) {
  return ParseJson(ReadFile(path), path.string());
}

namespace {

Json ScalarToJson(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  // Quoted ("!") or tagged !!str: always a string.
  if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return s;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  int64_t i;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
  if (ec == std::errc() && p == s.data() + s.size()) return i;
  uint64_t u;  // Above int64's range, e.g. a 64-bit seed.
  auto [pu, ecu] = std::from_chars(s.data(), s.data() + s.size(), u);
  if (ecu == std::errc() && pu == s.data() + s.size()) return u;
  // from_chars also reads "nan", "inf" and "infinity", which YAML spells .nan and .inf:
  // only text that starts like a number is one.
  size_t digit = s[0] == '-' ? 1 : 0;
  if (digit < s.size() && ((s[digit] >= '0' && s[digit] <= '9') || s[digit] == '.')) {
    double d;
    auto [p2, ec2] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec2 == std::errc() && p2 == s.data() + s.size()) return d;
  }
  if (s == ".inf" || s == ".Inf") return std::numeric_limits<double>::infinity();
  if (s == "-.inf" || s == "-.Inf") return -std::numeric_limits<double>::infinity();
  if (s == ".nan" || s == ".NaN") return std::numeric_limits<double>::quiet_NaN();
  return s;
}

Json NodeToJson(const YAML::Node& node, std::string_view source) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return ScalarToJson(node);
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(NodeToJson(item, source));
      return out;
    }
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) {
          ThrowInvalidArgument(std::string(source) + ":" +
                               std::to_string(kv.first.Mark().line + 1) +
                               ": mapping keys must be plain scalars");
        }
        out[kv.first.Scalar()] = NodeToJson(kv.second, source);
      }
      return out;
    }
  }
  return nullptr;
}

void EmitJson(YAML::Emitter& out, const Json& doc) {
  switch (doc.type()) {
    case Json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [k, v] : doc.items()) {
        out << YAML::Key << k << YAML::Value;
        EmitJson(out, v);
      }
      out << YAML::EndMap;
      break;
    case Json::value_t::array: {
      // Lists of plain values read better on one line: `names: [age, workclass]`.
      bool scalars = !doc.empty() && std::all_of(doc.begin(), doc.end(), [](const Json& v) {
        return !v.is_object() && !v.is_array();
      });
      if (scalars) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& v : doc) EmitJson(out, v);
      out << YAML::EndSeq;
      break;
    }
    case Json::value_t::string: {
      const auto& s = doc.get_ref<const std::string&>();
      // Quote strings that YAML would otherwise read back as another type.
      Json back = ScalarToJson(YAML::Node(s));
      if (!back.is_string() || s.empty()) {
        out << YAML::DoubleQuoted << s;
      } else {
        out << s;
      }
      break;
    }
    case Json::value_t::boolean:
      out << doc.get<bool>();
      break;
    case Json::value_t::number_integer:
      out << doc.get<int64_t>();
      break;
    case Json::value_t::number_unsigned:
      out << doc.get<uint64_t>();
      break;
    case Json::value_t::number_float: {
      // dump() writes null for a NaN or an infinity; YAML has words for them.
      double d = doc.get<double>();
      if (std::isnan(d)) {
        out << ".nan";
      } else if (std::isinf(d)) {
        out << (d > 0 ? ".inf" : "-.inf");
      } else {
        out << doc.dump();
      }
      break;
    }
    default:
      out << YAML::Null;
  }
}

}  // namespace

Json ParseYaml(std::string_view text, std::string_view source) {
  try {
    YAML::Node node = YAML::Load(std::string(text));
    return NodeToJson(node, source);
  } catch (const YAML::Exception& e) {
    ThrowInvalidArgument(std::string(source) + ":" + std::to_string(e.mark.line + 1) + ":" +
                         std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
  }
}

Json ReadYamlFile(const std::filesystem::path& path) {
  return ParseYaml(ReadFile(path), path.string());
}

std::string ToYaml(const Json& doc) {
  YAML::Emitter out;
  EmitJson(out, doc);
  return std::string(out.c_str()) + "\n";
}

}  // namespace mloop
