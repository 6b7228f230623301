#include "table/jsonl_reader.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "core/file.h"
#include "core/json.h"
#include "table/internal/csv_tokenizer.h"
#include "table/internal/input.h"
#include "table/internal/value_parse.h"

namespace mloop::table {
namespace {

// What a column's values look like so far.
struct ColumnState {
  std::string name;
  bool seen = false;
  DataType type = DataType::kString;
  std::unordered_set<std::string> distinct;  // For strings, up to a limit.
  size_t strings = 0;
};

constexpr size_t kMaxCategoryDistinct = 4096;

DataType TypeOf(const Json& v) {
  switch (v.type()) {
    case Json::value_t::boolean:
      return DataType::kBool;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return DataType::kInt64;
    case Json::value_t::number_float:
      return DataType::kFloat64;
    case Json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      if (s.size() == 10 && ParseIsoDate(s)) return DataType::kDate;
      if (s.size() > 10 && ParseIsoTimestamp(s)) return DataType::kTimestamp;
      return DataType::kString;
    }
    default:
      return DataType::kString;  // Arrays and objects, as JSON text.
  }
}

std::string TextOf(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

// Appends `v` to `col`; false when it does not fit the column's type.
bool AppendValue(Column& col, const Json& v) {
  if (v.is_null()) {
    col.AppendNull();
    return true;
  }
  switch (col.type()) {
    case DataType::kInt64:
      if (v.is_number_integer()) {
        if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX}) return false;
        col.AppendInt(v.get<int64_t>());
        return true;
      }
      return false;
    case DataType::kFloat64:
      if (!v.is_number()) return false;
      col.AppendDouble(v.get<double>());
      return true;
    case DataType::kBool:
      if (!v.is_boolean()) return false;
      col.AppendBool(v.get<bool>());
      return true;
    case DataType::kDate: {
      if (!v.is_string()) return false;
      auto d = ParseIsoDate(v.get_ref<const std::string&>());
      if (!d) return false;
      col.AppendInt(*d);
      return true;
    }
    case DataType::kTimestamp: {
      int64_t t;
      if (!v.is_string() || !internal::ParseTimestampOrDate(v.get_ref<const std::string&>(), &t)) {
        return false;
      }
      col.AppendInt(t);
      return true;
    }
    case DataType::kString:
    case DataType::kCategory:
      col.AppendString(TextOf(v));
      return true;
  }
  return false;
}

}  // namespace

JsonlReadResult ReadJsonlBuffer(std::string_view data, std::string_view source,
                                const JsonlOptions& options) {
  const std::string src(source);
  JsonlReadResult result;
  result.bytes = data.size();
  data = internal::CheckedText(data, src);

  // Pass 1: parse every line, collect the keys and their types.
  std::vector<Json> objects;
  std::vector<int64_t> lines;
  std::vector<std::string_view> texts;
  std::vector<ColumnState> cols;
  std::unordered_map<std::string, size_t> index;
  size_t pos = 0;
  int64_t line = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    size_t stop = nl == std::string_view::npos ? data.size() : nl;
    std::string_view text = data.substr(pos, stop - pos);
    pos = stop + 1;
    ++line;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (!internal::IsValidUtf8(text.data(), text.data() + text.size())) {
      result.malformed.push_back({line, "invalid UTF-8", std::string(text)});
      continue;
    }
    Json obj = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (obj.is_discarded()) {
      result.malformed.push_back({line, "invalid JSON", std::string(text)});
      continue;
    }
    if (!obj.is_object()) {
      result.malformed.push_back({line,
                                  std::string("expected a JSON object, found ") + obj.type_name(),
                                  std::string(text)});
      continue;
    }
    for (const auto& [key, value] : obj.items()) {
      auto [it, added] = index.emplace(key, cols.size());
      if (added) cols.push_back(ColumnState{key, false, DataType::kString, {}, 0});
      ColumnState& c = cols[it->second];
      if (value.is_null()) continue;
      DataType t = TypeOf(value);
      c.type = c.seen ? internal::JoinTypes(c.type, t) : t;
      c.seen = true;
      if (value.is_string()) {
        ++c.strings;
        if (c.distinct.size() <= kMaxCategoryDistinct) c.distinct.insert(value.get<std::string>());
      }
    }
    objects.push_back(std::move(obj));
    lines.push_back(line);
    texts.push_back(text);
  }
  result.lines = static_cast<uint64_t>(line);
  if (objects.empty() && result.malformed.empty()) {
    ThrowInvalidArgument(src + ": empty file: no JSON objects");
  }

  // Pass 2: the columns.
  std::vector<Column> columns;
  std::vector<bool> fixed;
  for (const auto& c : cols) {
    DataType t = c.type;
    bool is_fixed = false;
    if (auto it = options.column_types.find(c.name); it != options.column_types.end()) {
      t = it->second;
      is_fixed = true;
    } else if (t == DataType::kString && options.infer_category && c.strings >= 2 &&
               c.distinct.size() <= kMaxCategoryDistinct && c.distinct.size() * 2 <= c.strings) {
      t = DataType::kCategory;
    }
    columns.emplace_back(c.name, t);
    columns.back().Reserve(objects.size());
    fixed.push_back(is_fixed);
  }
  for (const auto& [name, type] : options.column_types) {
    if (!index.count(name)) {
      ThrowInvalidArgument(src + ": a type is given for key '" + name + "', which no object has");
    }
  }
  std::vector<int64_t> kept_lines;
  kept_lines.reserve(objects.size());
  static const Json kNull;
  for (size_t r = 0; r < objects.size(); ++r) {
    const Json& obj = objects[r];
    size_t c = 0;
    for (; c < columns.size(); ++c) {
      auto it = obj.find(columns[c].name());
      const Json& v = it == obj.end() ? kNull : *it;
      if (!AppendValue(columns[c], v)) break;
    }
    if (c < columns.size()) {
      // Only a fixed type can refuse a value: inferred types were joined over all rows.
      for (size_t k = 0; k < c; ++k) {
        // Rebuild without the partial row: rare, so simplicity wins over speed.
        Column rebuilt(columns[k].name(), columns[k].type());
        for (size_t i = 0; i + 1 < columns[k].size(); ++i) rebuilt.AppendFrom(columns[k], i);
        columns[k] = std::move(rebuilt);
      }
      std::string text(texts[r]);
      result.malformed.push_back({lines[r],
                                  "key '" + columns[c].name() +
                                      "': " + TextOf(obj[columns[c].name()]) + " is not a valid " +
                                      std::string(DataTypeName(columns[c].type())),
                                  std::move(text)});
      continue;
    }
    kept_lines.push_back(lines[r]);
  }
  std::sort(result.malformed.begin(), result.malformed.end(),
            [](const MalformedRow& a, const MalformedRow& b) { return a.line < b.line; });
  result.table.set_line_numbers(std::move(kept_lines));
  for (auto& c : columns) result.table.AddColumn(std::move(c));
  return result;
}

JsonlReadResult ReadJsonl(const std::filesystem::path& path, const JsonlOptions& options) {
  MappedFile file(path);
  return ReadJsonlBuffer(file.view(), path.string(), options);
}

}  // namespace mloop::table
