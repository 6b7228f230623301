// Slices: the rows of an evaluation set split into named groups by one column, and the
// metrics of eval/metrics.h computed on each group alone. The same grouping feeds fairness
// (eval/fairness.h), where a sensitive column's values are the groups.
//
// Groups are built from a table::Column: one group per distinct value (text, category, bool,
// integer columns), or one per bucket of a numeric column (given edges, or quantiles). Null
// cells form their own group, named "(null)", placed last. Pure functions, safe from any
// thread; errors are mloop::Error invalid_argument.
#ifndef MLOOP_EVAL_SLICES_H_
#define MLOOP_EVAL_SLICES_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/json.h"
#include "eval/metrics.h"
#include "table/column.h"

namespace mloop::eval {

// A partition of rows: of_row[i] indexes `names`, or is kNoGroup to leave row i out.
struct Groups {
  static constexpr uint32_t kNoGroup = UINT32_MAX;
  std::string column;  // The column the groups come from (for reports).
  std::vector<uint32_t> of_row;
  std::vector<std::string> names;
};

// The name of the group of null cells.
inline constexpr std::string_view kNullGroupName = "(null)";

// One group per distinct value, named by Column::ValueToString, in the order of first
// appearance (a category column: in dictionary order, unused codes left out).
Groups GroupsByValue(const table::Column& column);

// Buckets of a numeric column (int64, float64, bool, date, timestamp) between ascending
// `edges` e_1 < ... < e_m: bucket 0 is (-inf, e_1), bucket k is [e_k, e_k+1), the last is
// [e_m, inf); names are these intervals printed with %g. NaN cells join the nulls. Throws
// when the column is not numeric or the edges do not ascend strictly.
Groups GroupsByEdges(const table::Column& column, std::span<const double> edges);

// GroupsByEdges with the inner quantiles of the non-null values as edges: for `buckets` = b,
// the k/b quantiles, k = 1..b-1, with linear interpolation (np.quantile's default), equal
// edges merged so that fewer buckets may come back. Throws when buckets is 0.
Groups GroupsByQuantiles(const table::Column& column, size_t buckets);

// Rows of each group. Row indexes in groups.of_row must be within the names.
std::vector<size_t> GroupCounts(const Groups& groups);

// The metrics of each group, as a JSON array in group order:
//   [{"slice": NAME, "rows": N, ...the report of eval/metrics.h for those rows...}]
// `classes` selects the report as in stats::TaskMetrics: 0 regression (RegressionReport),
// 2 binary (BinaryReport with `options`), more multiclass (MulticlassReport). A group without
// rows has only "slice" and "rows"; a group whose metrics cannot be computed (say, all its
// rows weigh 0) has "error" with the message instead of the report. `predictions` hold
// `classes` values per row for multiclass, one otherwise.
Json SliceReports(const Groups& groups, size_t classes, std::span<const float> labels,
                  std::span<const float> predictions, std::span<const float> weights = {},
                  const BinaryReportOptions& options = {});

}  // namespace mloop::eval

#endif  // MLOOP_EVAL_SLICES_H_
