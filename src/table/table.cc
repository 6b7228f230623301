#include "table/table.h"

#include <algorithm>
#include <ostream>
#include <string>

#include "core/error.h"

namespace mloop::table {

namespace {

// Adds `line` as the line of row `row` (the next row) to `runs`: a new run unless it
// continues the last.
void AppendLine(std::vector<LineNumbers::Run>* runs, size_t row, int64_t line) {
  if (!runs->empty() && line == LineNumbers::LineIn(runs->back(), row)) return;
  runs->push_back({row, line});
}

// True when `runs` runs take more memory than a value for each of `rows` rows.
bool RunsOutgrowValues(size_t runs, size_t rows) {
  return runs * sizeof(LineNumbers::Run) > rows * sizeof(int64_t);
}

}  // namespace

// Collects the lines of `count` rows in order, as runs, and goes over to a value per row as
// soon as the runs would take more memory than that (rows gathered in shuffled order, say):
// at most 16 bytes a row while collecting, 8 once done.
class LineNumbers::Builder {
 public:
  explicit Builder(size_t count) : count_(count) {}

  // The next `rows` rows, on lines line, line + 1, ...
  void Add(int64_t line, size_t rows = 1) {
    if (rows == 0) return;
    if (!by_value_) {
      AppendLine(&runs_, row_, line);
      row_ += rows;
      if (RunsOutgrowValues(runs_.size(), count_)) GoByValue();
      return;
    }
    for (size_t i = 0; i < rows; ++i) values_.push_back(LineIn({0, line}, i));
    row_ += rows;
  }

  LineNumbers Finish() && {
    if (by_value_) return Values(std::move(values_));
    return Choose(std::move(runs_), row_);
  }

 private:
  void GoByValue() {
    values_.reserve(count_);
    for (size_t k = 0; k < runs_.size(); ++k) {
      const size_t end = k + 1 < runs_.size() ? runs_[k + 1].row : row_;
      for (size_t i = runs_[k].row; i < end; ++i) values_.push_back(LineIn(runs_[k], i));
    }
    std::vector<Run>().swap(runs_);
    by_value_ = true;
  }

  size_t count_;
  size_t row_ = 0;
  bool by_value_ = false;
  std::vector<Run> runs_;
  std::vector<int64_t> values_;
};

LineNumbers::LineNumbers(std::vector<int64_t> lines) {
  std::vector<Run> runs;
  for (size_t i = 0; i < lines.size(); ++i) {
    AppendLine(&runs, i, lines[i]);
    if (RunsOutgrowValues(runs.size(), lines.size())) {
      *this = Values(std::move(lines));
      return;
    }
  }
  *this = Choose(std::move(runs), lines.size());
}

LineNumbers LineNumbers::Consecutive(int64_t first, size_t count) {
  LineNumbers l;
  l.size_ = count;
  if (count > 0) l.runs_.push_back({0, first});
  return l;
}

LineNumbers LineNumbers::None(size_t count) {
  LineNumbers l;
  l.size_ = count;
  l.storage_ = Storage::kNone;
  return l;
}

LineNumbers LineNumbers::Values(std::vector<int64_t> lines) {
  LineNumbers l;
  l.size_ = lines.size();
  l.storage_ = Storage::kValues;
  l.lines_ = std::move(lines);
  return l;
}

LineNumbers LineNumbers::FromRuns(std::vector<Run> runs, size_t count) {
  if (count == 0 ? !runs.empty() : runs.empty() || runs[0].row != 0) {
    ThrowInternal("line runs: the first run must start at row 0 (and none be given for no rows)");
  }
  std::vector<Run> joined;
  joined.reserve(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].row >= count || (i > 0 && runs[i].row <= runs[i - 1].row)) {
      ThrowInternal("line runs: run " + std::to_string(i) + " starts at row " +
                    std::to_string(runs[i].row) + ", not after the run before and below " +
                    std::to_string(count));
    }
    AppendLine(&joined, runs[i].row, runs[i].line);
  }
  return Choose(std::move(joined), count);
}

LineNumbers LineNumbers::Choose(std::vector<Run> runs, size_t count) {
  LineNumbers l;
  l.size_ = count;
  if (RunsOutgrowValues(runs.size(), count)) {
    l.runs_ = std::move(runs);
    l.lines_ = l.ToVector();
    l.runs_ = {};
    l.storage_ = Storage::kValues;
    return l;
  }
  l.runs_ = std::move(runs);
  return l;
}

const LineNumbers::Run& LineNumbers::RunOf(size_t row) const {
  auto it = std::upper_bound(runs_.begin(), runs_.end(), row,
                             [](size_t r, const Run& run) { return r < run.row; });
  return *(it - 1);
}

std::vector<int64_t> LineNumbers::ToVector() const {
  if (storage_ == Storage::kValues) return lines_;
  std::vector<int64_t> out(size_);
  if (storage_ == Storage::kNone) return out;
  for (size_t k = 0; k < runs_.size(); ++k) {
    const size_t end = k + 1 < runs_.size() ? runs_[k + 1].row : size_;
    for (size_t i = runs_[k].row; i < end; ++i) {
      out[i] = LineIn(runs_[k], i);
    }
  }
  return out;
}

LineNumbers LineNumbers::Gather(std::span<const size_t> rows) const {
  if (storage_ == Storage::kNone) return None(rows.size());
  Builder out(rows.size());
  size_t k = 0;  // The run of the last row gathered: rows mostly ascend.
  for (const size_t row : rows) {
    if (storage_ == Storage::kValues) {
      out.Add(lines_[row]);
      continue;
    }
    auto holds = [&](size_t j) {
      return j < runs_.size() && runs_[j].row <= row &&
             (j + 1 == runs_.size() || row < runs_[j + 1].row);
    };
    if (!holds(k)) k = holds(k + 1) ? k + 1 : static_cast<size_t>(&RunOf(row) - runs_.data());
    out.Add(LineIn(runs_[k], row));
  }
  return std::move(out).Finish();
}

LineNumbers LineNumbers::Concat(std::span<const LineNumbers* const> parts) {
  size_t n = 0;
  bool none = true;
  for (const LineNumbers* p : parts) {
    n += p->size();
    none = none && (p->empty() || p->storage_ == Storage::kNone);
  }
  if (none) return None(n);
  if (parts.size() == 1) return *parts[0];
  Builder out(n);
  for (const LineNumbers* p : parts) {
    switch (p->storage_) {
      case Storage::kNone:
        for (size_t i = 0; i < p->size(); ++i) out.Add(0);
        break;
      case Storage::kValues:
        for (const int64_t line : p->lines_) out.Add(line);
        break;
      case Storage::kRuns:
        for (size_t k = 0; k < p->runs_.size(); ++k) {
          const size_t end = k + 1 < p->runs_.size() ? p->runs_[k + 1].row : p->size();
          out.Add(p->runs_[k].line, end - p->runs_[k].row);
        }
        break;
    }
  }
  return std::move(out).Finish();
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
