// Table: named, typed columns of equal length, and for each row the line of the source
// file it came from (1-based; 0 when the row has no source line), so that errors and
// quarantine records point at the input. A Table is a value type; reading it from
// several threads is safe, changing it is not.
#ifndef MLOOP_TABLE_TABLE_H_
#define MLOOP_TABLE_TABLE_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "table/column.h"
#include "table/schema.h"

namespace mloop::table {

class Table {
 public:
  Table() = default;

  size_t num_rows() const { return line_numbers_.size(); }
  size_t num_columns() const { return columns_.size(); }
  const Column& column(size_t i) const { return columns_[i]; }
  Column& mutable_column(size_t i) { return columns_[i]; }
  const std::vector<Column>& columns() const { return columns_; }

  // nullptr / -1 when there is no column of that name.
  const Column* FindColumn(std::string_view name) const;
  int ColumnIndex(std::string_view name) const;

  // Adds a column; throws Error invalid_argument when its length differs from
  // num_rows() (the first column sets the row count when line numbers are empty) or its
  // name is taken.
  void AddColumn(Column column);

  const std::vector<int64_t>& line_numbers() const { return line_numbers_; }
  void set_line_numbers(std::vector<int64_t> lines) { line_numbers_ = std::move(lines); }

  // Types and names of the columns, with the default role and nullable = true.
  Schema schema() const;

 private:
  std::vector<Column> columns_;
  std::vector<int64_t> line_numbers_;
};

}  // namespace mloop::table

#endif  // MLOOP_TABLE_TABLE_H_
