// SearchFilter and OrderBy: MLflow's run search grammar, so `mloop runs list --filter` and
// `--order-by` take what MLflow's search_runs takes (https://mlflow.org/docs/latest/ml/search/
// search-runs): comparisons on `metrics.`, `params.`, `tags.`, `attributes.` and `datasets.`
// joined by AND, and order keys such as `metrics.auc DESC`. The comment on ParseSearchFilter
// gives the grammar.
//
// Filtering and ordering are evaluated in memory over RunFields, an interface a store adapts its
// run records to: the store loads an experiment's runs and keeps those that Match, so there is no
// SQL translation and both stores (SQLite, PostgreSQL) behave alike.
//
// SearchFilter and OrderBy are values: parsing builds them, Matches and CompareRuns only read
// them, so one parsed filter may be evaluated from several threads at once.
#ifndef MLOOP_TRACKING_SEARCH_FILTER_H_
#define MLOOP_TRACKING_SEARCH_FILTER_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mloop::tracking {

// What a key names. The prefix aliases MLflow accepts map to one kind each.
enum class FieldKind {
  kMetric,     // `metrics.` or `metric.`: the latest value of a metric, a number.
  kParam,      // `params.`, `param.`, `parameters.`, `parameter.`: text, as MLflow stores params.
  kTag,        // `tags.` or `tag.`: text.
  kAttribute,  // `attributes.`, `attribute.`, `attr.`, `run.`, or no prefix: a run attribute.
  kDataset,    // `datasets.` or `dataset.`: name, digest or context of an input dataset.
};

enum class Comparator {
  kEqual,         // =
  kNotEqual,      // !=
  kLess,          // <
  kLessEqual,     // <=
  kGreater,       // >
  kGreaterEqual,  // >=
  kLike,          // LIKE: % is any run of characters, _ one character; case-sensitive.
  kILike,         // ILIKE: as LIKE, ignoring ASCII case.
  kIn,            // IN ('a', 'b'): attributes.run_id and datasets.* only.
  kNotIn,         // NOT IN ('a', 'b'): as IN.
  kIsNull,        // IS NULL: the run has no such metric, param, tag or attribute (mloop only).
  kIsNotNull,     // IS NOT NULL: the run has it (mloop only).
};

// A metric, param, tag, attribute or dataset field. For attributes, `key` is the canonical name
// (aliases resolved: `created` is start_time, `Run name` is run_name).
struct FieldRef {
  FieldKind kind = FieldKind::kAttribute;
  std::string key;

  // Whether comparisons and ordering on this field use numbers: metrics, and the attributes
  // start_time and end_time (milliseconds since the Unix epoch).
  bool is_numeric() const;

  friend bool operator==(const FieldRef&, const FieldRef&) = default;
};

// One `field comparator value` clause.
struct Comparison {
  FieldRef field;
  Comparator comparator = Comparator::kEqual;
  double number = 0;               // The value when field.is_numeric().
  std::string text;                // The value of a text comparison (=, !=, LIKE, ILIKE).
  std::vector<std::string> texts;  // The values of IN and NOT IN.
};

// A parsed filter: its clauses, all of which must hold. No clauses match every run.
struct SearchFilter {
  std::vector<Comparison> clauses;
};

// One order key. Ascending is the default, as in MLflow.
struct OrderBy {
  FieldRef field;
  bool ascending = true;
};

// One input dataset of a run, for `datasets.name`, `datasets.digest` and `datasets.context`.
struct DatasetInputFields {
  std::string name;     // The dataset's name, e.g. "adult".
  std::string digest;   // The version's content digest.
  std::string context;  // How the run used it: "train", "validation", "test"; may be empty.
};

// A run's fields as the filter sees them. A store implements it over its own run record (see
// RunValues for a plain one). nullopt means the run does not have the field: a comparison on a
// missing field does not hold, and ordering puts missing values last. The string_views returned
// point into the RunFields and stay valid while it does.
class RunFields {
 public:
  virtual ~RunFields() = default;

  // The metric's latest value: the one with the highest step, then the latest timestamp, then
  // the largest value, as MLflow's latest_metrics. NaN is a value, not a missing metric.
  virtual std::optional<double> Metric(std::string_view key) const = 0;
  virtual std::optional<std::string_view> Param(std::string_view key) const = 0;
  virtual std::optional<std::string_view> Tag(std::string_view key) const = 0;
  // The text attributes: run_id, run_name, status, user_id, artifact_uri.
  virtual std::optional<std::string_view> TextAttribute(std::string_view key) const = 0;
  // The numeric attributes, milliseconds since the Unix epoch: start_time, end_time (missing
  // while the run is running).
  virtual std::optional<double> NumberAttribute(std::string_view key) const = 0;
  // The run's input datasets; none by default.
  virtual std::vector<DatasetInputFields> Datasets() const { return {}; }
};

// RunFields as plain members and key-value lists (linear lookup: a run has few keys), for tests
// and for stores that build runs in memory.
struct RunValues final : RunFields {
  std::string run_id;
  std::optional<std::string> run_name;
  std::string status;  // RUNNING, SCHEDULED, FINISHED, FAILED or KILLED.
  std::optional<std::string> user_id;
  std::optional<std::string> artifact_uri;
  std::optional<double> start_time;  // ms since the Unix epoch.
  std::optional<double> end_time;    // ms since the Unix epoch; nullopt while running.
  std::vector<std::pair<std::string, double>> metrics;  // key, latest value.
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::pair<std::string, std::string>> tags;
  std::vector<DatasetInputFields> datasets;

  std::optional<double> Metric(std::string_view key) const override;
  std::optional<std::string_view> Param(std::string_view key) const override;
  std::optional<std::string_view> Tag(std::string_view key) const override;
  std::optional<std::string_view> TextAttribute(std::string_view key) const override;
  std::optional<double> NumberAttribute(std::string_view key) const override;
  std::vector<DatasetInputFields> Datasets() const override { return datasets; }
};

// Parses a filter in MLflow's search grammar:
//
//   filter     := empty | clause (AND clause)*
//   clause     := field comparator value
//   field      := prefix '.' key | key                      (no prefix: an attribute)
//   key        := name ('.' name)* | `any text` | "any text" | 'any text'
//   comparator := = | != | < | <= | > | >= | LIKE | ILIKE | IN | NOT IN | IS NULL | IS NOT NULL
//   value      := number | 'text' | "text" | '(' text (',' text)* ')'
//
// Keywords (AND, LIKE, ILIKE, IN, NOT, IS, NULL) ignore case; prefixes and keys do not. A name
// is letters, digits and underscores; quote other keys (`error rate`, "mlflow.user"). Numbers
// are `-?(digits[.digits]|.digits)([eE][+-]?digits)`. Inside a quoted value or key, a doubled
// quote or a backslash before the quote stands for the quote, and `\\` for one backslash.
//
// What each field allows, as MLflow does:
//   metrics, start_time, end_time   = != < <= > >=, IS [NOT] NULL; a number
//   params, tags                    = != LIKE ILIKE, IS [NOT] NULL; a quoted text
//   run_id                          = != LIKE ILIKE IN NOT IN, IS [NOT] NULL; text or a list
//   run_name status user_id artifact_uri   as run_id without IN and NOT IN
//   datasets.name, .digest, .context       = != LIKE ILIKE IN NOT IN
// The attribute aliases `created`/`Created` (start_time) and `run name`/`Run name`/`Run Name`
// (run_name) are accepted. OR, NOT (other than NOT IN) and parentheses are not.
//
// Throws Error invalid_argument naming the filter, the 1-based column (in bytes) of the fault and
// what was expected there, e.g. `invalid filter "metrics.auc >> 1" at column 13: expected a
// comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL, IS NOT NULL)`.
SearchFilter ParseSearchFilter(std::string_view text);

// Parses order keys, each `field [ASC|DESC]` with field as in ParseSearchFilter. Metrics, params,
// tags and the attributes run_id, run_name, status, user_id, artifact_uri, start_time and end_time
// can be ordered by; datasets cannot. Throws Error invalid_argument naming the key, the column and
// what was expected, e.g. `invalid order-by "metrics.auc UP" at column 13: expected ASC, DESC or
// the end of the key`.
std::vector<OrderBy> ParseOrderBy(const std::vector<std::string>& keys);

// Whether `run` satisfies every clause of `filter`, with MLflow's semantics: a clause on a field
// the run lacks does not hold (except IS NULL), including != and NOT IN; metrics and numeric
// attributes compare as numbers (NaN equals nothing and differs from everything); params, tags
// and text attributes compare as text, byte by byte; a dataset clause holds when it holds for any
// of the run's input datasets.
bool Matches(const SearchFilter& filter, const RunFields& run);

// Orders two runs as MLflow's search does: by each key in turn, then by start_time descending,
// then by run_id ascending. Under each key, runs that lack the field come last and runs whose
// value is NaN just before them, in either direction; numbers compare as numbers, text byte by
// byte. Returns a negative number when `a` comes first, positive when `b` does, 0 when they tie
// on everything (the same run).
int CompareRuns(const std::vector<OrderBy>& order_by, const RunFields& a, const RunFields& b);

// The filter in canonical form, parseable by ParseSearchFilter into an equal filter: plural
// prefixes, keys backquoted when they are not names, texts in single quotes, clauses joined by
// " AND ". An empty filter gives "".
std::string FormatFilter(const SearchFilter& filter);

// "metrics", "params", "tags", "attributes", "datasets".
std::string_view FieldKindPrefix(FieldKind kind);
// "=", "!=", ..., "LIKE", "NOT IN", "IS NOT NULL".
std::string_view ComparatorText(Comparator comparator);

}  // namespace mloop::tracking

#endif  // MLOOP_TRACKING_SEARCH_FILTER_H_
