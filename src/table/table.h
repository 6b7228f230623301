// Table: named, typed columns of equal length, and for each row the line of the source
// file it came from (1-based; 0 when the row has no source line), so that errors and
// quarantine records point at the input. A Table is a value type; reading it from
// several threads is safe, changing it is not.
#ifndef MLOOP_TABLE_TABLE_H_
#define MLOOP_TABLE_TABLE_H_

#include <cstdint>
#include <iosfwd>
#include <span>
#include <string_view>
#include <vector>

#include "table/column.h"
#include "table/schema.h"

namespace mloop::table {

// The source line of each row of a Table. Rows that sit one per line, on consecutive lines
// (a CSV file without blank lines, multi-line records or malformed records between them: the
// common case), are stored as the first row's line alone; other rows as a value per row. The
// reader then writes no line number per row: for the bench file's 683,781 rows that is 5.5 MB
// less memory to take fresh from the kernel and fill.
class LineNumbers {
 public:
  LineNumbers() = default;
  // One line per row.
  explicit LineNumbers(std::vector<int64_t> lines)
      : size_(lines.size()), lines_(std::move(lines)) {}
  // Rows on lines first, first + 1, ..., first + count - 1.
  static LineNumbers Consecutive(int64_t first, size_t count);
  // Rows with no source line: 0 each.
  static LineNumbers None(size_t count);

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t operator[](size_t row) const {
    return ranged_ ? first_ + step_ * static_cast<int64_t>(row) : lines_[row];
  }
  std::vector<int64_t> ToVector() const;
  // The lines of `rows` (each < size()), in that order.
  LineNumbers Gather(std::span<const size_t> rows) const;
  // `parts` one after the other.
  static LineNumbers Concat(std::span<const LineNumbers* const> parts);
  // Whether stored as a first line and a step (0: no line; 1: consecutive lines)...
  bool ranged() const { return ranged_; }
  int64_t first() const { return first_; }
  int64_t step() const { return step_; }
  // ... or as a line per row.
  const std::vector<int64_t>& values() const { return lines_; }

  // Equal line by line, however stored.
  friend bool operator==(const LineNumbers& a, const LineNumbers& b);
  friend bool operator==(const LineNumbers& a, const std::vector<int64_t>& b);

 private:
  size_t size_ = 0;
  bool ranged_ = false;
  int64_t first_ = 0;
  int64_t step_ = 0;
  std::vector<int64_t> lines_;  // When !ranged_.
};

// For test failures: the lines as a list.
std::ostream& operator<<(std::ostream& out, const LineNumbers& lines);

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

  const LineNumbers& line_numbers() const { return line_numbers_; }
  void set_line_numbers(LineNumbers lines) { line_numbers_ = std::move(lines); }
  void set_line_numbers(std::vector<int64_t> lines) {
    line_numbers_ = LineNumbers(std::move(lines));
  }

  // Types and names of the columns, with the default role and nullable = true.
  Schema schema() const;

 private:
  std::vector<Column> columns_;
  LineNumbers line_numbers_;
};

}  // namespace mloop::table

#endif  // MLOOP_TABLE_TABLE_H_
