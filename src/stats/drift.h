// Drift between a reference and a current column profile: the Population Stability
// Index (PSI), computed from the two profiles alone, so monitoring never re-reads the
// training data.
//
// PSI = sum over bins of (p_cur - p_ref) * ln(p_cur / p_ref), where p are the shares of
// each profile's rows (nulls included) that fall in a bin, each floored at
// PsiOptions::epsilon (1e-4 by default, as Evidently does) so that an empty bin does not
// make the index infinite. The floor is not renormalized. Common reading: below 0.1 no
// significant change, 0.1 to 0.2 moderate, above 0.2 significant.
//
// Bins, by column type:
// - int64, float64, date, timestamp: the reference's quantiles at i / bins (deciles by
//   default) from its quantile sketch, equal edges merged (so a column of a few
//   distinct integers gets one bin per value), outer bins open: (-inf, e1], (e1, e2],
//   ..., (e_last, +inf). Each side's share of a bin comes from its own sketch's Cdf, so
//   it carries the sketch's rank error (quantile_sketch.h: about 1.65% per edge at the
//   default k = 200; exact for sketches of at most k values). Edges are in the column's
//   units (days for dates, microseconds since the epoch for timestamps). float64 columns
//   add a "<nan/inf>" bin when either side has NaN or infinite values.
// - string, category: one bin per value in the union of both profiles' top-k items,
//   with that profile's count (0 where its top-k does not list the value, although the
//   true count can be up to its TopK::error_bound()), then an "<other>" bin for the rest
//   of the non-null values.
// - bool: a "false" and a "true" bin.
// Every column type ends with a "<null>" bin holding each profile's null share; it is
// always present (it adds 0 when neither side has nulls).
//
// Compatible types: equal types, or int64 with float64, or string with category. Errors
// are mloop::Error invalid_argument, as each function states. Everything here is a pure
// function of its arguments and safe to call from several threads.
#ifndef MLOOP_STATS_DRIFT_H_
#define MLOOP_STATS_DRIFT_H_

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "stats/profile.h"

namespace mloop::stats {

struct PsiOptions {
  // Quantile bins of numeric columns before equal edges merge; at least 1.
  size_t bins = 10;
  // The floor of each share before the logarithm; in (0, 1).
  double epsilon = 1e-4;
};

// What a PsiBin stands for; reports can show it next to the label.
enum class PsiBinKind {
  kRange,      // Numeric values in (lower, upper]; lower may be -inf, upper +inf (open).
  kValue,      // One string, category or bool value: the label.
  kOther,      // Non-null text values that neither top-k lists.
  kNonFinite,  // float64 NaN and infinite values.
  kNull,       // Nulls.
};

struct PsiBin {
  PsiBinKind kind;
  // "(-inf, 1.5]", "(1.5, 3]", "(3, +inf)" for ranges (shortest round-trip decimals);
  // the value for kValue; "<other>", "<nan/inf>", "<null>" for the others.
  std::string label;
  // kRange only; NaN for the other kinds.
  double lower;
  double upper;
  // Shares of each profile's rows in this bin, before the epsilon floor.
  double reference;
  double current;
  // This bin's term of the sum, after the floor.
  double contribution;
};

struct PsiResult {
  double psi;
  // In the order described above: ranges ascending, or values (the reference's top-k,
  // most frequent first, then the current's values the reference does not list; false
  // then true for bool), then the special bins.
  std::vector<PsiBin> bins;
};

// The PSI of `current` against `reference`, binned as described above. Throws Error
// invalid_argument naming the column when the types are not compatible or either
// profile has no rows, and when options are out of range.
PsiResult PopulationStabilityIndex(const ColumnProfile& reference, const ColumnProfile& current,
                                   const PsiOptions& options = {});

// sum (cur[i] - ref[i]) * ln(cur[i] / ref[i]) with each share floored at epsilon. Throws
// Error invalid_argument when the spans differ in size, a share is negative or not
// finite, or epsilon is not in (0, 1).
double PsiFromProportions(std::span<const double> ref, std::span<const double> cur, double epsilon);

}  // namespace mloop::stats

#endif  // MLOOP_STATS_DRIFT_H_
