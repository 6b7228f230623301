// Whole-table operations that build a new Table from existing ones: picking rows
// (TakeRows, for splits, samples and shuffles) and stacking tables (ConcatTables, for
// ingesting several files as one dataset). Both work column by column on the typed
// buffers, never cell by cell through a per-value dispatch, so they run at memory speed
// on large datasets; the one exception is ConcatTables turning a non-text column into
// text for a mixed-type column, which formats each value.
//
// The functions are thread-safe: they share no state, and TakeRows only reads its input.
//
// Errors (mloop::Error): invalid_argument for a row index past the end of the table
// (TakeRows) and for tables whose columns differ in count, names or order
// (ConcatTables); the message names the row, or the column and the table's index.
#ifndef MLOOP_TABLE_TABLE_OPS_H_
#define MLOOP_TABLE_TABLE_OPS_H_

#include <cstddef>
#include <span>
#include <vector>

#include "table/table.h"

namespace mloop::table {

// A new table with rows `rows` of `table`, in that order; an index may repeat. Every
// column keeps its name, type and validity, and the rows keep their line numbers.
// A category column keeps its whole dictionary as it is, even entries no picked row
// uses: the codes then mean the same in the result as in `table` (so the two sides of
// a split share one encoding), and picking costs no hashing of text.
// Throws invalid_argument, naming the index, when an index is >= table.num_rows().
Table TakeRows(const Table& table, std::span<const size_t> rows);

// The rows of `tables` one after another. The tables must have the same column names
// in the same order; each column's type is the join of its types across the tables:
//   all equal                     that type
//   int64 and float64             float64
//   date and timestamp            timestamp (a date is its midnight, UTC)
//   category only                 category, one dictionary: the first table's entries
//                                 in order, then each new entry in order of appearance;
//                                 codes are remapped
//   any other mix                 string; non-text values become the text
//                                 Column::ValueToString gives (so category and string
//                                 give string, int64 and string give string)
// Nulls stay nulls. Line numbers are concatenated unchanged: they are lines of each
// table's own source, so the caller keeps track of which rows came from which source.
// One table is returned as it is (its buffers are moved, not copied); no tables give
// an empty Table. The tables' buffers are released as they are copied, so the peak
// memory is the inputs plus about one column.
// Throws invalid_argument, naming the column and the table's index (0-based), when a
// table's columns differ from the first table's in count, names or order.
Table ConcatTables(std::vector<Table> tables);

}  // namespace mloop::table

#endif  // MLOOP_TABLE_TABLE_OPS_H_
