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

// The source line of each row of a Table, stored as runs: a run is rows that sit one per
// line on consecutive lines, kept as its first row and that row's line. A CSV file's rows
// make a few runs (a run ends at a blank line, a comment, a multi-line record or a malformed
// one), so the reader writes no line number per row: the bench file's 683,781 rows, in 21
// runs (adult.data ends in a blank line), took 5.5 MB as a value per row, grown by doubling.
// When runs would take more memory than a value per row (most rows start a run of their
// own), the lines are stored as a value per row instead; rows with no source line (0 each)
// as nothing at all.
class LineNumbers {
 public:
  // Rows from `row` on (up to the next run's) lie on lines `line`, `line` + 1, ...
  struct Run {
    size_t row;
    int64_t line;
    friend bool operator==(const Run&, const Run&) = default;
  };
  enum class Storage { kNone, kRuns, kValues };

  LineNumbers() = default;
  // One line per row: stored as runs when that takes less memory.
  explicit LineNumbers(std::vector<int64_t> lines);
  // Rows on lines first, first + 1, ..., first + count - 1.
  static LineNumbers Consecutive(int64_t first, size_t count);
  // Rows with no source line: 0 each.
  static LineNumbers None(size_t count);
  // One line per row, stored as given, however few runs they make.
  static LineNumbers Values(std::vector<int64_t> lines);
  // `count` rows in `runs`, which are sorted by row, the first at row 0 (none when count
  // is 0), each starting at a row below count. Runs that continue the one before are
  // joined. Throws Error internal when the runs are not so.
  static LineNumbers FromRuns(std::vector<Run> runs, size_t count);

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t operator[](size_t row) const {
    switch (storage_) {
      case Storage::kNone:
        return 0;
      case Storage::kValues:
        return lines_[row];
      case Storage::kRuns:
        break;
    }
    return LineIn(runs_.size() == 1 ? runs_[0] : RunOf(row), row);
  }
  // The line of `row` in run `r` (row at or after r.row), modulo 2^64 past the largest int64:
  // lines come from files, which may hold anything.
  static int64_t LineIn(const Run& r, size_t row) {
    return static_cast<int64_t>(static_cast<uint64_t>(r.line) + (row - r.row));
  }
  std::vector<int64_t> ToVector() const;
  // The lines of `rows` (each < size()), in that order.
  LineNumbers Gather(std::span<const size_t> rows) const;
  // `parts` one after the other.
  static LineNumbers Concat(std::span<const LineNumbers* const> parts);

  Storage storage() const { return storage_; }
  // kRuns: the runs (none when empty).
  const std::vector<Run>& runs() const { return runs_; }
  // kValues: a line per row.
  const std::vector<int64_t>& values() const { return lines_; }

  // Equal line by line, however stored.
  friend bool operator==(const LineNumbers& a, const LineNumbers& b);
  friend bool operator==(const LineNumbers& a, const std::vector<int64_t>& b);

 private:
  // The run that holds `row` (kRuns, row < size()).
  const Run& RunOf(size_t row) const;
  class Builder;
  // Stores `runs` as they are, or as a value per row when that takes less memory.
  static LineNumbers Choose(std::vector<Run> runs, size_t count);

  size_t size_ = 0;
  Storage storage_ = Storage::kRuns;
  std::vector<Run> runs_;       // kRuns.
  std::vector<int64_t> lines_;  // kValues.
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
