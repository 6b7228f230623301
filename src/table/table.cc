#include "table/table.h"

#include <ostream>

#include "core/error.h"

namespace mloop::table {

LineNumbers LineNumbers::Consecutive(int64_t first, size_t count) {
  LineNumbers l;
  l.size_ = count;
  l.ranged_ = true;
  l.first_ = first;
  l.step_ = 1;
  return l;
}

LineNumbers LineNumbers::None(size_t count) {
  LineNumbers l;
  l.size_ = count;
  l.ranged_ = true;
  return l;
}

std::vector<int64_t> LineNumbers::ToVector() const {
  if (!ranged_) return lines_;
  std::vector<int64_t> out(size_);
  for (size_t i = 0; i < size_; ++i) out[i] = (*this)[i];
  return out;
}

LineNumbers LineNumbers::Gather(std::span<const size_t> rows) const {
  if (ranged_ && step_ == 0) return None(rows.size());
  std::vector<int64_t> out(rows.size());
  for (size_t k = 0; k < rows.size(); ++k) out[k] = (*this)[rows[k]];
  return LineNumbers(std::move(out));
}

LineNumbers LineNumbers::Concat(std::span<const LineNumbers* const> parts) {
  size_t n = 0;
  bool none = true;
  for (const LineNumbers* p : parts) {
    n += p->size();
    none = none && (p->empty() || (p->ranged_ && p->step_ == 0));
  }
  if (none) return None(n);
  if (parts.size() == 1) return *parts[0];
  std::vector<int64_t> out;
  out.reserve(n);
  for (const LineNumbers* p : parts) {
    if (!p->ranged_) {
      out.insert(out.end(), p->lines_.begin(), p->lines_.end());
    } else {
      for (size_t i = 0; i < p->size(); ++i) out.push_back((*p)[i]);
    }
  }
  return LineNumbers(std::move(out));
}

bool operator==(const LineNumbers& a, const LineNumbers& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

bool operator==(const LineNumbers& a, const std::vector<int64_t>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

std::ostream& operator<<(std::ostream& out, const LineNumbers& lines) {
  out << "{";
  for (size_t i = 0; i < lines.size(); ++i) out << (i == 0 ? "" : ", ") << lines[i];
  return out << "}";
}

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
    line_numbers_ = LineNumbers::None(column.size());
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
