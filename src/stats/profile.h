// Profiles: per-column statistics of a Table that are computed in one pass and are
// mergeable, so that partitions (chunks of a file, days of a prediction log) are
// profiled separately and combined, and a stored profile can be merged with a new one
// later without re-reading the data. docs/profiles.md describes every field, its
// error bound and the JSON form.
//
// What merges exactly, whatever the split: count, nulls, min, max, sum, zeros, NaN and
// infinity counts, true counts, string lengths, the histogram, the distinct-count
// registers, and the top-k while a column has at most 64 distinct values. Mean and
// variance agree to about 1e-15 relative; quantiles and distinct counts are estimates
// within their sketches' bounds (quantile_sketch.h, hyperloglog.h).
//
// The JSON form (ToJson) holds the user-facing statistics and, under "sketches", the
// full state needed to merge. Its layout is versioned by kProfileFormatVersion: adding
// a field keeps the version; renaming or removing one, changing a sketch's encoding or
// a hash function (hash.h) bumps it, and FromJson rejects versions it does not know.
//
// ColumnProfile and TableProfile are value types: concurrent const use is safe,
// mutation is not. ProfileTable, ProfileRows and TableProfile::AddRows spread the
// columns over ThreadPool::Default() (ParallelFor, which is safe to call from a pool task:
// the caller does the work itself when no worker is free). Errors are mloop::Error
// invalid_argument, as each function states.
#ifndef MLOOP_STATS_PROFILE_H_
#define MLOOP_STATS_PROFILE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "stats/histogram.h"
#include "stats/hyperloglog.h"
#include "stats/quantile_sketch.h"
#include "stats/top_k.h"
#include "stats/welford.h"
#include "table/column.h"
#include "table/schema.h"
#include "table/table.h"

namespace mloop::stats {

inline constexpr int kProfileFormatVersion = 1;

// The quantiles a numeric profile reports, named "p01" ... "p99" in JSON.
inline constexpr std::array<double, 7> kProfileQuantiles = {0.01, 0.05, 0.25, 0.5,
                                                            0.75, 0.95, 0.99};
inline constexpr std::array<std::string_view, 7> kProfileQuantileNames = {
    "p01", "p05", "p25", "p50", "p75", "p95", "p99"};

// Statistics of the non-null values of an int64, float64, date or timestamp column
// (dates in days and timestamps in microseconds since the epoch).
struct NumericStats {
  explicit NumericStats(table::DataType type);

  // The finite values: their count, mean, M2, min, max and exact sum.
  Welford moments;
  // Exact min and max of int64, date and timestamp columns (moments holds them as
  // doubles, which cannot hold every int64); 0 while there are no values.
  int64_t int_min = 0;
  int64_t int_max = 0;
  uint64_t zeros = 0;
  // float64 columns only; NaN and ±infinity are counted here and in no other
  // statistic except the distinct count.
  uint64_t nan_count = 0;
  uint64_t inf_count = 0;
  QuantileSketch quantiles;
  Histogram histogram;
};

// Statistics of the non-null values of a string or category column. Lengths are in
// Unicode code points (UTF-8 bytes that do not continue a sequence).
struct TextStats {
  uint64_t min_length = 0;  // 0 while there are no values.
  uint64_t max_length = 0;
  uint64_t total_length = 0;
  uint64_t empty_count = 0;
  TopK top_k;
};

class ColumnProfile {
 public:
  // An empty profile (no rows) of a column named `name` of type `type`.
  ColumnProfile(std::string name, table::DataType type);

  // Adds rows [begin, end) of `column`. Throws Error invalid_argument when the column's
  // name or type is not this profile's, or the range is not within the column.
  void AddRows(const table::Column& column, size_t begin, size_t end);

  // Adds the rows `other` profiled. Throws Error invalid_argument naming the column
  // when the names or types differ (or the sketches' parameters, for profiles read from
  // JSON); `this` is unchanged then.
  void Merge(const ColumnProfile& other);

  const std::string& name() const { return name_; }
  table::DataType type() const { return type_; }
  // Rows, nulls included.
  uint64_t count() const { return count_; }
  uint64_t nulls() const { return nulls_; }
  // Non-null rows (NaN is a value, not a null).
  uint64_t valid() const { return count_ - nulls_; }
  // nulls / count; 0 for no rows.
  double null_fraction() const;
  // The HyperLogLog estimate of distinct non-null values, rounded, at most valid().
  uint64_t distinct_approx() const;
  const HyperLogLog& distinct_sketch() const { return distinct_; }

  // Non-null for int64, float64, date and timestamp columns.
  const NumericStats* numeric() const { return numeric_ ? &*numeric_ : nullptr; }
  // Non-null for string and category columns.
  const TextStats* text() const { return text_ ? &*text_ : nullptr; }
  // Bool columns: non-null values that are true (false ones are valid() - true_count()).
  uint64_t true_count() const { return true_count_; }

  // The user-facing statistics and, under "sketches", the state to merge; see
  // docs/profiles.md.
  Json ToJson() const;
  // Reads what ToJson writes. Throws Error invalid_argument naming the key (prefixed
  // by `path`) when a key is missing, has the wrong type or is out of range, or the
  // counts do not agree with each other.
  static ColumnProfile FromJson(const Json& j, std::string_view path = "");

 private:
  friend class TableProfile;

  // Throws what Merge throws, without changing anything.
  void CheckMergeable(const ColumnProfile& other) const;
  // Which statistics AddNumericRows updates: the quantile sketch costs the most, and for a
  // column of many distinct values it is a task of its own (TableProfile::AddRows). Each
  // statistic sees the values in the same order whatever the split, so the result is the same.
  enum class NumericParts {
    kAll,
    kSketch,        // The quantile sketch only.
    kAllButSketch,  // Everything else, the counts included.
  };
  void AddNumericRows(const table::Column& column, size_t begin, size_t end,
                      NumericParts parts = NumericParts::kAll);
  void AddBoolRows(const table::Column& column, size_t begin, size_t end);
  void AddTextRows(const table::Column& column, size_t begin, size_t end);
  void AddCategoryRows(const table::Column& column, size_t begin, size_t end);

  std::string name_;
  table::DataType type_;
  uint64_t count_ = 0;
  uint64_t nulls_ = 0;
  HyperLogLog distinct_;
  std::optional<NumericStats> numeric_;
  std::optional<TextStats> text_;
  uint64_t true_count_ = 0;
};

class TableProfile {
 public:
  // No rows and no columns.
  TableProfile() = default;
  // No rows, and an empty profile for each field of `schema`.
  explicit TableProfile(const table::Schema& schema);

  // Adds rows [begin, end) of `table`, whose columns must have this profile's names
  // and types in order (a profile with no columns and no rows takes the table's).
  // Throws Error invalid_argument naming the first column that differs, or when the
  // range is not within the table.
  void AddRows(const table::Table& table, size_t begin, size_t end);

  // Adds the rows `other` profiled. Throws Error invalid_argument naming the first
  // column whose name or type differs (or that only one of them has); `this` is
  // unchanged then.
  void Merge(const TableProfile& other);

  uint64_t rows() const { return rows_; }
  const std::vector<ColumnProfile>& columns() const { return columns_; }
  // nullptr when there is no column of that name.
  const ColumnProfile* FindColumn(std::string_view name) const;

  // {"format_version": 1, "rows": N, "columns": [ColumnProfile::ToJson(), ...]}.
  Json ToJson() const;
  // Throws Error invalid_argument naming the key for an unknown format_version, a
  // malformed column ("columns[2].sketches.quantiles.k"), a column whose count is not
  // rows, or two columns with one name.
  static TableProfile FromJson(const Json& j);

 private:
  uint64_t rows_ = 0;
  std::vector<ColumnProfile> columns_;
};

// The profile of a whole column or table, or of rows [begin, end) of a table (throws
// Error invalid_argument when the range is not within it).
ColumnProfile ProfileColumn(const table::Column& column);
TableProfile ProfileTable(const table::Table& table);
TableProfile ProfileRows(const table::Table& table, size_t begin, size_t end);

}  // namespace mloop::stats

#endif  // MLOOP_STATS_PROFILE_H_
