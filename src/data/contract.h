// Contract: what a batch of data must look like to be trusted, read from a YAML (or JSON)
// document that docs/contracts.md describes key by key. A Contract holds the reader options
// (`format`), per-column types, roles and row-level checks (`columns`), cross-column row rules
// (`rows`) and batch-level expectations (`table`). This increment parses and validates the
// document only; checking data against it comes with the validate and ingest commands.
//
// Loading is strict: an unknown key anywhere, a value of the wrong type, or a value out of its
// range throws Error invalid_argument naming the source and the key path, as in
//   adult.yaml: columns.age.min: expected a number, got string
// A Contract is a value type; once loaded it is read-only and safe to share between threads.
#ifndef MLOOP_DATA_CONTRACT_H_
#define MLOOP_DATA_CONTRACT_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "data/expression.h"
#include "table/csv_reader.h"
#include "table/schema.h"

namespace mloop::data {

// What a failing check does. Written as `severity: error|warn` in a contract.
enum class Severity {
  kError,  // "error" (the default): failing rows go to quarantine; a failing batch-level
           // expectation rejects the batch.
  kWarn,   // "warn": the failure is recorded in the report; rows and batch are kept.
};
std::string_view SeverityName(Severity severity);

// Options every check accepts.
struct CheckOptions {
  // The share of non-null rows that must pass, in [0, 1] (Great Expectations' `mostly`). The
  // check passes when at least that share passes; an `error` check that does not pass rejects
  // the batch. Rows that fail are reported either way and, with severity error, quarantined.
  // Left out (mostly_given false): a `warn` check passes only when every row passes (mostly 1),
  // while an `error` check passes whatever fails (mostly 0): its failing rows are quarantined
  // and the batch goes on, limited by the table's quarantine_share if the contract sets one.
  double mostly = 1.0;
  bool mostly_given = false;
  Severity severity = Severity::kError;
};

struct BoundCheck {  // min, max, exclusive_min, exclusive_max
  double value = 0;
  CheckOptions options;
};

struct AllowedCheck {
  // Exactly one of the two is used: text values for string/category columns, numbers for
  // numeric ones. A contract's list may not mix them.
  std::vector<std::string> strings;
  std::vector<double> numbers;
  CheckOptions options;
};

struct PatternCheck {
  std::string text;  // As written.
  std::regex regex;  // ECMAScript, compiled at load; a value passes when the regex matches
                     // the whole value (std::regex_search with the pattern as written, so
                     // anchor with ^ and $ to match it all).
  CheckOptions options;
};

struct LengthCheck {  // In bytes of UTF-8 text.
  std::optional<int64_t> min;
  std::optional<int64_t> max;
  CheckOptions options;
};

struct UniqueCheck {
  CheckOptions options;
};

struct ColumnContract {
  std::string name;
  std::optional<table::DataType> type;  // Unset: inferred by the reader.
  table::ColumnRole role = table::ColumnRole::kFeature;
  bool nullable = true;                     // false: a null is a failure (severity error).
  std::optional<BoundCheck> min;            // value >= min
  std::optional<BoundCheck> max;            // value <= max
  std::optional<BoundCheck> exclusive_min;  // value > exclusive_min
  std::optional<BoundCheck> exclusive_max;  // value < exclusive_max
  std::optional<AllowedCheck> allowed;
  std::optional<PatternCheck> pattern;
  std::optional<LengthCheck> length;
  std::optional<UniqueCheck> unique;
};

// A cross-column rule; a row fails it only when `expression` is false (SQL CHECK: null passes).
// Its `mostly` is the share of all rows that must pass, a null result counting as a pass.
struct RowRule {
  std::string name;
  Expression expression;  // Parsed at load; bound to the batch's schema when checked.
  CheckOptions options;
};

// An inclusive range for a batch-level metric; at least one bound is set.
struct RangeExpectation {
  std::optional<double> min;
  std::optional<double> max;
  Severity severity = Severity::kError;
};

struct QuantileExpectation {
  double q = 0.5;  // In [0, 1].
  RangeExpectation range;
};

// Batch-level expectations on one column's statistics.
struct ColumnStatsExpectation {
  std::string column;
  std::optional<RangeExpectation> null_share;  // Share of nulls, in [0, 1].
  std::optional<RangeExpectation> mean;
  std::optional<RangeExpectation> std;  // Sample standard deviation.
  std::optional<RangeExpectation> min;
  std::optional<RangeExpectation> max;
  std::optional<RangeExpectation> distinct;  // Number of distinct non-null values.
  std::vector<QuantileExpectation> quantiles;
};

struct UniqueTogether {
  std::vector<std::string> columns;
  Severity severity = Severity::kError;
};

struct DistributionExpectation {
  std::string reference_name;        // "adult" of "adult@3".
  std::string reference_version;     // "3" or an alias such as "latest".
  std::vector<std::string> columns;  // Empty: every column in both.
  double psi_max = 0.2;              // Population stability index, per column.
  Severity severity = Severity::kError;
};

struct TableExpectations {
  std::optional<RangeExpectation> row_count;
  // The batch's columns must be exactly these (in this order), or include these.
  std::optional<std::vector<std::string>> columns_exact;
  std::optional<std::vector<std::string>> columns_include;
  std::vector<UniqueTogether> unique_together;
  std::vector<ColumnStatsExpectation> columns;       // In the order written.
  std::optional<RangeExpectation> quarantine_share;  // Share of rows quarantined, in [0, 1].
  std::optional<DistributionExpectation> distribution;
};

struct Contract {
  std::string source;       // Where it was read from, for messages.
  std::string name;         // Optional `name`.
  std::string description;  // Optional `description`.
  // `format`: the reader's options. Fields left unset are sniffed. column_types is filled
  // from the typed entries of `columns` by ReadOptions, not here.
  table::CsvOptions format;
  std::vector<ColumnContract> columns;  // In the order written.
  std::vector<RowRule> rows;
  TableExpectations table;
  // SHA-256 (lowercase hex) of the parsed document dumped as compact JSON, keys in the order
  // written. Whitespace, comments, quoting and YAML-vs-JSON spelling do not change it; a
  // changed value, key or key order does.
  std::string digest;

  // The column named `name`, or nullptr.
  const ColumnContract* FindColumn(std::string_view name) const;
  // `format` with column_types set from every column whose `type` is given.
  table::CsvOptions ReadOptions() const;
};

// Reads and validates the YAML or JSON file at `path` (JSON is YAML). Errors: not_found for a
// missing file; invalid_argument for bad YAML (with line and column) or a bad contract (with
// the key path).
Contract LoadContract(const std::filesystem::path& path);

// Validates `doc`; `source` names it in error messages.
Contract ParseContract(const Json& doc, std::string_view source);

}  // namespace mloop::data

#endif  // MLOOP_DATA_CONTRACT_H_
