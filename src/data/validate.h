// Validation: checks one batch (a Table as a reader produced it, plus the rows the reader could
// not parse) against a Contract and says whether the batch is accepted, which rows go to
// quarantine and why. Nothing is written anywhere; `mloop validate` prints the report and
// `mloop ingest` will store it.
//
// Row-level checks (nullable, min/max and their exclusive variants, allowed, pattern, length,
// unique, and each row rule) are evaluated over every parsed row. A row that fails an `error`
// check goes to quarantine once, with every reason it failed; a `warn` check only counts. Rows
// the reader could not parse are quarantined with the check `malformed`. So always
//   rows_in = rows_clean + rows_quarantined,  rows_in = table rows + malformed rows.
//
// `mostly` follows Great Expectations: unexpected_percent = 100 * unexpected / non-null rows
// (all rows for `nullable` and row rules), and a check passes when
// 1 - unexpected / non-null >= mostly. Failing rows of an `error` check are quarantined even
// when the check as a whole passes. The batch is rejected when an `error` check or an `error`
// table expectation does not pass. An `error` check without `mostly` passes whatever fails
// (its rows are set aside), so a batch is rejected by row-level problems only through an
// explicit `mostly` or the table's `quarantine_share` (contract.h, CheckOptions).
//
// Table expectations are measured on the rows that stay (parsed and not quarantined: the
// version to be), except quarantine_share (rows_quarantined / rows_in) and row_count
// (rows_in). The `distribution`
// expectation needs stored dataset versions: Validate reports it as not evaluated (passed:
// null), and EvaluateDistribution fills it in where a reference profile is at hand (ingest).
//
// Validate is a pure function of its inputs; it is thread-safe.
#ifndef MLOOP_DATA_VALIDATE_H_
#define MLOOP_DATA_VALIDATE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "data/contract.h"
#include "stats/profile.h"
#include "table/csv_reader.h"
#include "table/table.h"

namespace mloop::data {

// Whether a batch would be kept. Written as "accepted" / "rejected" in reports.
enum class BatchStatus {
  kAccepted,  // "accepted": no error-severity check or expectation failed (rows may still
              // have been quarantined).
  kRejected,  // "rejected": at least one error-severity check or expectation failed.
};
std::string_view BatchStatusName(BatchStatus status);

// The outcome of one check or expectation.
struct CheckResult {
  // Row-level: "nullable", "min", "max", "exclusive_min", "exclusive_max", "allowed",
  // "pattern", "length", "unique", "row_rule", "malformed", "column_exists".
  // Table-level: "row_count", "columns_exact", "columns_include", "unique_together",
  // "null_share", "mean", "std", "column_min", "column_max", "quantile", "distinct",
  // "quarantine_share", "distribution".
  std::string check;
  std::string column;  // Empty when the check is not about one column.
  std::string rule;    // row_rule: the rule's name; quantile: "q=0.5"; else empty.
  bool table_level = false;
  Severity severity = Severity::kError;
  double mostly = 1.0;  // Row-level checks only.
  // nullopt: not evaluated (only `distribution`, which needs stored versions).
  std::optional<bool> passed;
  int64_t element_count = 0;        // Rows the percentage is over (non-null rows, usually).
  int64_t unexpected_count = 0;     // Rows that failed.
  double unexpected_percent = 0;    // 100 * unexpected_count / element_count; 0 when no element.
  std::vector<std::string> sample;  // Up to kMaxSample distinct failing values, first seen first.
  Json observed_value;              // Table-level: the measured value (null for row-level).
  std::string expectation;          // What was expected, for people: "<= 90", "in [0, 0.01]".
};

struct QuarantineReason {
  std::string check;   // As CheckResult::check.
  std::string column;  // Empty for row rules and malformed rows.
  std::string detail;  // "150 > max 90", the rule's name and text, the reader's reason, ...
};

struct QuarantineRecord {
  std::string source;  // The source file (or name) the record came from.
  int64_t line = 0;    // 1-based line in the source where the record starts.
  // The record's row in the validated Table; -1 for a malformed row, which has none.
  int64_t row = -1;
  std::vector<QuarantineReason> reasons;
  // Malformed rows: the raw record as it was in the file. Parsed rows keep no raw text; their
  // values are in `values` instead (a JSON object, column name to value, nulls as null).
  std::optional<std::string> text;
  Json values;
};

struct ValidationReport {
  std::string source;           // The data's name, as given to Validate.
  std::string contract_source;  // Contract::source.
  std::string contract_digest;  // Contract::digest.
  BatchStatus status = BatchStatus::kAccepted;
  int64_t rows_in = 0;
  int64_t rows_clean = 0;
  int64_t rows_quarantined = 0;
  std::vector<CheckResult> checks;           // Row-level in contract order, then table-level.
  std::vector<QuarantineRecord> quarantine;  // In line order.

  // {source, contract: {source, digest}, status, rows_in, rows_clean, rows_quarantined,
  //  checks: [{check, column, rule?, level, severity, mostly?, passed, element_count,
  //            unexpected_count, unexpected_percent, sample, observed_value, expectation}],
  //  quarantine: [{source, line, reasons: [{check, column, detail}], text?, values?}]}: text
  //  when known (malformed rows; ingest adds it for parsed rows), values for parsed rows.
  // `column` is null when empty.
  Json ToJson() const;
};

inline constexpr size_t kMaxSample = 20;

// One input of a batch made of several sources (files): its name, and how many of the table's
// rows and of the malformed rows came from it. Sources are listed in the order their rows and
// malformed rows appear.
struct BatchSource {
  std::string name;
  size_t rows = 0;
  size_t malformed = 0;
};

// Checks `table` and the reader's `malformed` rows against `contract`; `source` names the data
// in the report. The table's columns are matched to the contract's by name; a contract column
// missing from the table fails `column_exists` (error). Throws Error invalid_argument when a
// row rule does not bind to the table's schema (an unknown column or a type mismatch).
ValidationReport Validate(const Contract& contract, const table::Table& table,
                          const std::vector<table::MalformedRow>& malformed,
                          std::string_view source);

// As above for a batch read from several sources: `sources` splits the table's rows and the
// malformed rows between them (their counts must add up: else invalid_argument), and each
// quarantine record names its source. The quarantine is ordered by source, then line.
ValidationReport Validate(const Contract& contract, const table::Table& table,
                          const std::vector<table::MalformedRow>& malformed,
                          std::string_view source, const std::vector<BatchSource>& sources);

// Evaluates the contract's `distribution` expectation, which Validate reports as not evaluated
// because it needs the stored profile of the reference version: the population stability index
// (stats/drift.h) of each listed column (every column both profiles have, when the list is
// empty) between `reference` and `current` (the batch's profile). The check passes when every
// PSI is at most psi_max; its observed value maps each column to its PSI. Replaces the check in
// `report` and updates the report's status. Does nothing when the contract has no distribution
// expectation. Throws invalid_argument naming a listed column that a profile lacks or whose
// types differ.
void EvaluateDistribution(const Contract& contract, const stats::TableProfile& reference,
                          const stats::TableProfile& current, ValidationReport* report);

}  // namespace mloop::data

#endif  // MLOOP_DATA_VALIDATE_H_
