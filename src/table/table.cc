#include "table/table.h"

#include "core/error.h"

namespace mloop::table {

const Column* Table::FindColumn(std::string_view name) const {
  int i = ColumnIndex(name);
  return i < 0 ? nullptr : &columns_[static_cast<size_t>(i)];
}

int Table::ColumnIndex(std::string_view name) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name() == name) return static_cast<int>(i);
  }
  return -1;
}

void Table::AddColumn(Column column) {
  if (ColumnIndex(column.name()) >= 0) {
    ThrowInvalidArgument("duplicate column name '" + column.name() + "'");
  }
  if (columns_.empty() && line_numbers_.empty()) {
    line_numbers_.assign(column.size(), 0);
  } else if (column.size() != num_rows()) {
    ThrowInvalidArgument("column '" + column.name() + "' has " + std::to_string(column.size()) +
                         " rows, the table " + std::to_string(num_rows()));
  }
  columns_.push_back(std::move(column));
}

Schema Table::schema() const {
  Schema s;
  for (const auto& c : columns_) s.Add(Field{c.name(), c.type()});
  return s;
}

}  // namespace mloop::table
