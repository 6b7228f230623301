// Data types, column roles and the Schema: what each column of a Table is. These names
// appear in files users write (contracts, configs) and in `--json` output, so the
// strings returned by *Name functions are part of mloop's interface.
#ifndef MLOOP_TABLE_SCHEMA_H_
#define MLOOP_TABLE_SCHEMA_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mloop::table {

enum class DataType {
  kInt64,      // "int64": signed 64-bit integers.
  kFloat64,    // "float64": IEEE doubles; NaN is a value, missing is a null.
  kBool,       // "bool": true/false.
  kString,     // "string": UTF-8 text of any length.
  kCategory,   // "category": UTF-8 text stored as codes into a dictionary (column.h).
  kDate,       // "date": days since 1970-01-01.
  kTimestamp,  // "timestamp": microseconds since 1970-01-01T00:00:00Z.
};

std::string_view DataTypeName(DataType type);
// Accepts the names above and the aliases int, integer, float, double, boolean, str,
// text, datetime. nullopt for anything else.
std::optional<DataType> DataTypeFromName(std::string_view name);
bool IsNumeric(DataType type);   // int64, float64
bool IsTextual(DataType type);   // string, category
bool IsTemporal(DataType type);  // date, timestamp

// What a column is for; see ARCHITECTURE.md.
enum class ColumnRole {
  kFeature,    // "feature": an input to the model (the default).
  kLabel,      // "label": the target.
  kId,         // "id": identifies a row; never a feature.
  kEntity,     // "entity": the key features are joined on.
  kEventTime,  // "event_time": when the row happened; for point-in-time joins.
  kSensitive,  // "sensitive": a protected attribute, used for fairness reports.
  kIgnore,     // "ignore": read and kept, never used.
};

std::string_view ColumnRoleName(ColumnRole role);
std::optional<ColumnRole> ColumnRoleFromName(std::string_view name);

struct Field {
  std::string name;
  DataType type = DataType::kString;
  ColumnRole role = ColumnRole::kFeature;
  bool nullable = true;

  bool operator==(const Field&) const = default;
};

class Schema {
 public:
  Schema() = default;
  explicit Schema(std::vector<Field> fields) : fields_(std::move(fields)) {}

  const std::vector<Field>& fields() const { return fields_; }
  size_t size() const { return fields_.size(); }
  const Field& field(size_t i) const { return fields_[i]; }
  Field& mutable_field(size_t i) { return fields_[i]; }
  void Add(Field f) { fields_.push_back(std::move(f)); }

  // Index of the field named `name`, or -1.
  int IndexOf(std::string_view name) const;

  bool operator==(const Schema&) const = default;

 private:
  std::vector<Field> fields_;
};

}  // namespace mloop::table

#endif  // MLOOP_TABLE_SCHEMA_H_
