// HTML report: one validation (or ingestion) as a single self-contained HTML page that a person
// reads in a browser instead of the JSON report. Self-contained means no external asset of any
// kind: the CSS is inline, the charts are inline SVG, there is no script and no web font, so the
// file works offline, attached to a ticket or printed.
//
// The page shows, in order: the title and the batch status (accepted in green, rejected in
// red); rows in = clean + quarantined; the facts the caller passes (sources and their digests,
// the contract's digest, times, metrics); a table of every check (check, column or rule,
// level, severity, pass / fail / not evaluated, unexpected count and percent, expectation,
// observed value of table-level checks, up to kMaxSample sample values); the first
// kHtmlReportMaxQuarantine quarantined records (line, reasons, raw text or values); and one
// card per profiled column (type, count, nulls, distinct estimate; min, max, mean, std and
// quantiles with a histogram for numeric and temporal columns; top values with bars for text
// ones; true / false for bool ones).
//
// Every piece of data text (column names, values, details, facts, the title) is HTML-escaped,
// invalid UTF-8 and control characters are replaced by U+FFFD, and very long values are cut
// with a note of their full length, since they come from untrusted files. The output depends
// only on the arguments (no clock, no locale), so the same inputs give the same bytes.
#ifndef MLOOP_DATA_HTML_REPORT_H_
#define MLOOP_DATA_HTML_REPORT_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "data/validate.h"
#include "stats/profile.h"

namespace mloop::data {

// Quarantined records listed on the page; the count of the others is stated.
inline constexpr size_t kHtmlReportMaxQuarantine = 100;

struct HtmlReportContext {
  // The page's heading and <title>, e.g. "adult@3" or "adult: rejected batch".
  std::string title;
  // Label / value rows shown at the top, in this order: sources with digests, the contract's
  // digest, times, metrics.
  std::vector<std::pair<std::string, std::string>> facts;
};

// The page as UTF-8 text, starting with "<!DOCTYPE html>". `profile` may be null; then the
// page has no column section. Pure function; thread-safe.
std::string RenderHtmlReport(const ValidationReport& report, const stats::TableProfile* profile,
                             const HtmlReportContext& context);

}  // namespace mloop::data

#endif  // MLOOP_DATA_HTML_REPORT_H_
