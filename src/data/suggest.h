// Contract suggestion, in the manner of Deequ's constraint suggestion: from a batch of data the
// user trusts, write a contract that the batch passes, for the user to edit from there.
//
// What is suggested, per column: the type as read (inferred or fixed); `nullable: false` where
// the batch has no null; `min` and `max` as observed for int64 and float64 columns; an
// `allowed` set for string and category columns with at most `max_allowed` distinct values;
// `unique: true` for columns of at least two rows whose non-null values are all distinct. The
// `format` section records the dialect the reader used, so the contract reads the next batch
// the same way. Pure function; thread-safe.
#ifndef MLOOP_DATA_SUGGEST_H_
#define MLOOP_DATA_SUGGEST_H_

#include <cstddef>
#include <string>

#include "core/json.h"
#include "table/csv_reader.h"
#include "table/table.h"

namespace mloop::data {

struct SuggestOptions {
  // Text columns with at most this many distinct values get an `allowed` set.
  size_t max_allowed = 50;
  // The contract's `name`.
  std::string name;
  // Named in the description, so a reader knows where the contract came from.
  std::string source;
};

// The suggested contract as a document (write it with ToYaml). `dialect` is the reader's, or
// nullptr for a source that has none (JSON Lines); then `format` is left out. The document
// always loads with ParseContract.
Json SuggestContract(const table::Table& table, const table::CsvDialect* dialect,
                     const SuggestOptions& options);

}  // namespace mloop::data

#endif  // MLOOP_DATA_SUGGEST_H_
