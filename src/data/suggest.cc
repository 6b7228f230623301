#include "data/suggest.h"

#include <cmath>
#include <limits>
#include <set>
#include <string_view>
#include <unordered_set>

namespace mloop::data {
namespace {

using table::Column;
using table::DataType;

// The distinct non-null values of a text column, or an empty optional past `limit`.
std::optional<std::vector<std::string>> DistinctText(const Column& c, size_t limit) {
  std::set<std::string_view> seen;
  for (size_t i = 0; i < c.size(); ++i) {
    if (c.IsNull(i)) continue;
    seen.insert(c.StringAt(i));
    if (seen.size() > limit) return std::nullopt;
  }
  return std::vector<std::string>(seen.begin(), seen.end());
}

// True when the non-null values are all different (and there are at least two).
bool AllDistinct(const Column& c) {
  size_t valid = c.size() - c.null_count();
  if (valid < 2) return false;
  switch (c.type()) {
    case DataType::kInt64:
    case DataType::kDate:
    case DataType::kTimestamp: {
      std::unordered_set<int64_t> seen;
      seen.reserve(valid);
      for (size_t i = 0; i < c.size(); ++i) {
        if (c.IsValid(i) && !seen.insert(c.IntAt(i)).second) return false;
      }
      return true;
    }
    case DataType::kString: {
      std::unordered_set<std::string_view> seen;
      seen.reserve(valid);
      for (size_t i = 0; i < c.size(); ++i) {
        if (c.IsValid(i) && !seen.insert(c.StringAt(i)).second) return false;
      }
      return true;
    }
    case DataType::kCategory: {
      // Codes are distinct per value, so compare codes.
      std::unordered_set<int32_t> seen;
      for (size_t i = 0; i < c.size(); ++i) {
        if (c.IsValid(i) && !seen.insert(c.CodeAt(i)).second) return false;
      }
      return true;
    }
    default:
      // Floats and booleans are not identifiers; never suggest unique for them.
      return false;
  }
}

Json Number(double v) {
  double whole;
  if (std::modf(v, &whole) == 0.0 && std::fabs(v) < 9.0e15) return static_cast<int64_t>(v);
  return v;
}

}  // namespace

Json SuggestContract(const table::Table& table, const table::CsvDialect* dialect,
                     const SuggestOptions& options) {
  Json doc = Json::object();
  if (!options.name.empty()) doc["name"] = options.name;
  doc["description"] = "Suggested by `mloop contract suggest` from " + options.source + " (" +
                       std::to_string(table.num_rows()) + " rows). Review before use.";
  if (dialect != nullptr) {
    Json format = Json::object();
    format["delimiter"] = std::string(1, dialect->delimiter);
    if (dialect->quote != '"')
      format["quote"] = std::string(dialect->quote ? 1 : 0, dialect->quote);
    format["header"] = dialect->header;
    if (!dialect->header) format["names"] = dialect->names;
    format["null_values"] = dialect->null_values;
    if (dialect->skip_lines > 0) format["skip_lines"] = dialect->skip_lines;
    if (dialect->comment != '\0') format["comment"] = std::string(1, dialect->comment);
    format["skip_initial_space"] = dialect->skip_initial_space;
    doc["format"] = std::move(format);
  }
  Json columns = Json::object();
  for (const Column& c : table.columns()) {
    Json col = Json::object();
    col["type"] = table::DataTypeName(c.type());
    if (c.null_count() == 0) col["nullable"] = false;
    if (table::IsNumeric(c.type()) && c.null_count() < c.size()) {
      double lo = std::numeric_limits<double>::infinity();
      double hi = -lo;
      for (size_t i = 0; i < c.size(); ++i) {
        if (c.IsNull(i)) continue;
        double v = c.NumberAt(i);
        if (std::isnan(v)) continue;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      if (std::isfinite(lo)) col["min"] = Number(lo);
      if (std::isfinite(hi)) col["max"] = Number(hi);
    }
    if (table::IsTextual(c.type())) {
      if (auto values = DistinctText(c, options.max_allowed); values && !values->empty()) {
        col["allowed"] = *values;
      }
    }
    if (AllDistinct(c)) col["unique"] = true;
    columns[c.name()] = std::move(col);
  }
  doc["columns"] = std::move(columns);
  return doc;
}

}  // namespace mloop::data
