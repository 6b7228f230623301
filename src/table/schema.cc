#include "table/schema.h"

namespace mloop::table {

std::string_view DataTypeName(DataType type) {
  switch (type) {
    case DataType::kInt64:
      return "int64";
    case DataType::kFloat64:
      return "float64";
    case DataType::kBool:
      return "bool";
    case DataType::kString:
      return "string";
    case DataType::kCategory:
      return "category";
    case DataType::kDate:
      return "date";
    case DataType::kTimestamp:
      return "timestamp";
  }
  return "string";
}

std::optional<DataType> DataTypeFromName(std::string_view n) {
  if (n == "int64" || n == "int" || n == "integer") return DataType::kInt64;
  if (n == "float64" || n == "float" || n == "double") return DataType::kFloat64;
  if (n == "bool" || n == "boolean") return DataType::kBool;
  if (n == "string" || n == "str" || n == "text") return DataType::kString;
  if (n == "category") return DataType::kCategory;
  if (n == "date") return DataType::kDate;
  if (n == "timestamp" || n == "datetime") return DataType::kTimestamp;
  return std::nullopt;
}

bool IsNumeric(DataType t) { return t == DataType::kInt64 || t == DataType::kFloat64; }
bool IsTextual(DataType t) { return t == DataType::kString || t == DataType::kCategory; }
bool IsTemporal(DataType t) { return t == DataType::kDate || t == DataType::kTimestamp; }

std::string_view ColumnRoleName(ColumnRole role) {
  switch (role) {
    case ColumnRole::kFeature:
      return "feature";
    case ColumnRole::kLabel:
      return "label";
    case ColumnRole::kId:
      return "id";
    case ColumnRole::kEntity:
      return "entity";
    case ColumnRole::kEventTime:
      return "event_time";
    case ColumnRole::kSensitive:
      return "sensitive";
    case ColumnRole::kIgnore:
      return "ignore";
  }
  return "feature";
}

std::optional<ColumnRole> ColumnRoleFromName(std::string_view n) {
  for (ColumnRole r :
       {ColumnRole::kFeature, ColumnRole::kLabel, ColumnRole::kId, ColumnRole::kEntity,
        ColumnRole::kEventTime, ColumnRole::kSensitive, ColumnRole::kIgnore}) {
    if (ColumnRoleName(r) == n) return r;
  }
  return std::nullopt;
}

int Schema::IndexOf(std::string_view name) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace mloop::table
