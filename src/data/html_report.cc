#include "data/html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <set>
#include <string_view>

#include "core/time.h"

namespace mloop::data {
namespace {

using stats::ColumnProfile;
using table::DataType;

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD
// Longest pieces of data shown, in code points: a sample value, a quarantined record's raw
// text, a label next to a bar. Longer ones are cut and their full size is stated.
constexpr size_t kMaxValueChars = 200;
constexpr size_t kMaxRawChars = 2000;
constexpr size_t kMaxLabelChars = 20;
// Top values drawn per text column.
constexpr size_t kTopValuesShown = 10;
// Chart geometry, in CSS pixels.
constexpr double kChartWidth = 300;
constexpr double kHistogramHeight = 56;
constexpr double kBoxTop = kHistogramHeight + 4;
constexpr double kBoxHeight = 10;
constexpr double kBarRowHeight = 16;
constexpr double kBarLabelWidth = 140;
constexpr double kBarMaxWidth = 110;

// Light, compact, and readable on paper: nothing relies on a background color alone (badges
// carry text), and cards and table rows do not split across pages.
constexpr std::string_view kStyle = R"css(
:root{color-scheme:light}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
font-size:14px;line-height:1.4;color:#1f2328;background:#fff;margin:0 auto;padding:16px 24px;
max-width:1280px}
h1{font-size:20px;margin:0 0 6px}
h2{font-size:16px;margin:24px 0 8px;padding-bottom:4px;border-bottom:1px solid #d0d7de}
h3{font-size:14px;margin:0 0 6px;word-break:break-all}
p{margin:4px 0}
table{border-collapse:collapse;font-size:13px}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #d8dee4;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.wide{width:100%}
table.facts th{background:none;color:#57606a;font-weight:600}
table.facts td{word-break:break-all}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.status{display:inline-block;padding:1px 10px;border-radius:12px;font-size:13px;font-weight:600;
color:#fff;vertical-align:middle;margin-left:8px}
.accepted{background:#1a7f37}
.rejected{background:#cf222e}
.pass{color:#1a7f37;font-weight:600}
.fail{color:#cf222e;font-weight:600}
.warn{color:#9a6700;font-weight:600}
.muted,.na{color:#57606a}
tr.failed td{background:#ffebe9}
tr.warned td{background:#fff8c5}
.chip{display:inline-block;background:#f6f8fa;border:1px solid #d0d7de;border-radius:4px;
padding:0 4px;margin:1px 3px 1px 0;white-space:pre-wrap;word-break:break-all}
.chip.bad{background:#ffebe9;border-color:#ff8182}
.raw{white-space:pre-wrap;word-break:break-all}
.reason{display:block}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:12px}
.card{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px}
.type{font-weight:400;color:#57606a;font-size:12px;margin-left:6px}
dl.kv{display:grid;grid-template-columns:auto 1fr auto 1fr;gap:0 10px;margin:0;font-size:13px}
dl.kv dt{color:#57606a}
dl.kv dd{margin:0;font-variant-numeric:tabular-nums;word-break:break-all}
table.q{margin-top:4px;font-size:12px}
table.q th,table.q td{padding:1px 5px;text-align:right}
svg{display:block;margin-top:6px;overflow:visible}
svg text{font-size:11px;fill:#1f2328}
.bar{fill:#54aeff}
.clean{fill:#1a7f37}
.quarantined{fill:#cf222e}
.box{fill:#ddf4ff;stroke:#0969da}
.whisker{stroke:#0969da}
.axis{display:flex;justify-content:space-between;width:300px;color:#57606a;font-size:11px}
@media print{
body{padding:0;max-width:none;font-size:11px}
.status,.bar,.clean,.quarantined,.box,tr.failed td,tr.warned td,.chip{
print-color-adjust:exact;-webkit-print-color-adjust:exact}
h2,h3{break-after:avoid}
tr,.card{break-inside:avoid}
}
)css";

// Length of the valid UTF-8 sequence `s` starts with (Unicode table 3-7: no overlong forms,
// no surrogates, nothing above U+10FFFF), or 0 when it does not start with one.
size_t Utf8SequenceLength(std::string_view s) {
  const auto c = static_cast<unsigned char>(s[0]);
  if (c < 0x80) return 1;
  size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  const auto c1 = static_cast<unsigned char>(s[1]);
  if (c1 < lo || c1 > hi) return 0;
  for (size_t i = 2; i < n; ++i) {
    const auto ci = static_cast<unsigned char>(s[i]);
    if (ci < 0x80 || ci > 0xBF) return 0;
  }
  return n;
}

// 32561 -> "32,561".
std::string Count(int64_t n) {
  const std::string digits = fmt::format("{}", n);
  const size_t sign = n < 0 ? 1 : 0;
  std::string out = digits.substr(0, sign);
  for (size_t i = sign; i < digits.size(); ++i) {
    if (i > sign && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string Count(uint64_t n) { return Count(static_cast<int64_t>(n)); }

// Appends `text` escaped for HTML text and attribute values: & < > " ' as references, invalid
// UTF-8 and control characters (other than tab and line ends) as U+FFFD. Past `max_chars` code
// points the rest is cut and its size stated.
void AppendEscaped(std::string* out, std::string_view text, size_t max_chars = kMaxValueChars) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++chars) {
    if (chars == max_chars) {
      *out += "\xE2\x80\xA6 [";  // U+2026, the ellipsis.
      *out += Count(static_cast<int64_t>(text.size()));
      *out += " bytes in all]";
      return;
    }
    const size_t n = Utf8SequenceLength(text.substr(i));
    if (n == 0) {
      *out += kReplacementCharacter;
      ++i;
      continue;
    }
    if (n > 1) {
      out->append(text.substr(i, n));
      i += n;
      continue;
    }
    const char c = text[i++];
    switch (c) {
      case '&':
        *out += "&amp;";
        break;
      case '<':
        *out += "&lt;";
        break;
      case '>':
        *out += "&gt;";
        break;
      case '"':
        *out += "&quot;";
        break;
      case '\'':
        *out += "&#39;";
        break;
      case '\t':
      case '\n':
      case '\r':
        *out += c;
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          *out += kReplacementCharacter;
        } else {
          *out += c;
        }
    }
  }
}

// A number for people: integral values without a fraction, others to 6 significant digits.
// fmt does not use the locale unless asked, so the text is the same everywhere.
std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::floor(v) == v && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{:.6g}", v);
}

std::string Percent(double p) {
  if (p == 0) return "0%";
  if (p < 0.001) return "<0.001%";
  return fmt::format("{:.3g}%", p);
}

std::string ShareOf(uint64_t part, uint64_t whole) {
  return whole == 0 ? "" : Percent(100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

// SVG coordinates: one decimal is finer than a pixel.
std::string Coord(double v) { return fmt::format("{:.1f}", v); }

bool IsIntegerLike(DataType type) {
  return type == DataType::kInt64 || type == DataType::kDate || type == DataType::kTimestamp;
}

// A value of a numeric or temporal column as text: dates and timestamps in ISO 8601.
std::string ColumnValue(DataType type, double v) {
  if (!std::isfinite(v)) return Number(v);
  if (type == DataType::kDate) return FormatIsoDate(std::llround(v));
  if (type == DataType::kTimestamp) return FormatIsoTimestamp(std::llround(v));
  return Number(v);
}

std::string IntColumnValue(DataType type, int64_t v) {
  if (type == DataType::kDate) return FormatIsoDate(v);
  if (type == DataType::kTimestamp) return FormatIsoTimestamp(v);
  return fmt::format("{}", v);
}

// A JSON value as plain text (not yet escaped): strings without quotes, numbers as Number.
std::string JsonText(const Json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_number_float()) return Number(j.get<double>());
  // Strings inside come from data and may be invalid UTF-8; dump would throw on them.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void AppendFactRow(std::string* out, std::string_view label, std::string_view value) {
  *out += "<tr><th>";
  AppendEscaped(out, label);
  *out += "</th><td>";
  AppendEscaped(out, value, kMaxRawChars);
  *out += "</td></tr>\n";
}

// A bar split into clean (green) and quarantined (red) rows.
void AppendRowsBar(std::string* out, const ValidationReport& report) {
  if (report.rows_in <= 0) return;
  const double share_quarantined =
      static_cast<double>(std::clamp<int64_t>(report.rows_quarantined, 0, report.rows_in)) /
      static_cast<double>(report.rows_in);
  // At least a pixel, so that a few quarantined rows among many still show.
  const double quarantined_width =
      report.rows_quarantined > 0 ? std::max(1.0, kChartWidth * share_quarantined) : 0.0;
  const double clean_width = kChartWidth - quarantined_width;
  fmt::format_to(std::back_inserter(*out),
                 "<svg width=\"{0}\" height=\"10\" viewBox=\"0 0 {0} 10\" role=\"img\" "
                 "aria-label=\"clean and quarantined rows\">",
                 kChartWidth);
  fmt::format_to(std::back_inserter(*out),
                 "<rect class=\"clean\" x=\"0\" y=\"0\" width=\"{}\" height=\"10\">"
                 "<title>clean: {}</title></rect>",
                 Coord(clean_width), Count(report.rows_clean));
  if (quarantined_width > 0) {
    fmt::format_to(std::back_inserter(*out),
                   "<rect class=\"quarantined\" x=\"{}\" y=\"0\" width=\"{}\" height=\"10\">"
                   "<title>quarantined: {}</title></rect>",
                   Coord(clean_width), Coord(quarantined_width), Count(report.rows_quarantined));
  }
  *out += "</svg>\n";
}

// "max age", "row_rule loss_within_gain": a check named in a sentence.
void AppendCheckName(std::string* out, const CheckResult& c) {
  *out += "<code>";
  AppendEscaped(out, c.check);
  *out += "</code>";
  if (!c.column.empty()) {
    *out += " ";
    AppendEscaped(out, c.column);
  }
  if (!c.rule.empty()) {
    *out += " ";
    AppendEscaped(out, c.rule);
  }
}

// Failed error checks first (they decide the status), then failed warnings, then the checks
// not evaluated, then the passed ones; in report order within each.
int CheckRank(const CheckResult& c) {
  if (!c.passed) return 2;
  if (*c.passed) return 3;
  return c.severity == Severity::kError ? 0 : 1;
}

void AppendHeader(std::string* out, const ValidationReport& report, std::string_view title,
                  const HtmlReportContext& context) {
  const std::string_view status = BatchStatusName(report.status);
  *out += "<header>\n<h1>";
  AppendEscaped(out, title);
  fmt::format_to(std::back_inserter(*out), "<span class=\"status {0}\">{0}</span></h1>\n", status);
  const bool adds_up = report.rows_in == report.rows_clean + report.rows_quarantined;
  fmt::format_to(std::back_inserter(*out),
                 "<p>Rows in <b>{}</b> {} clean <b>{}</b> + quarantined <b>{}</b>",
                 Count(report.rows_in), adds_up ? "=" : "<span class=\"fail\">&ne;</span>",
                 Count(report.rows_clean), Count(report.rows_quarantined));
  if (report.rows_in > 0) {
    fmt::format_to(std::back_inserter(*out), " ({} quarantined)",
                   ShareOf(static_cast<uint64_t>(std::max<int64_t>(report.rows_quarantined, 0)),
                           static_cast<uint64_t>(report.rows_in)));
  }
  if (!adds_up) *out += " <span class=\"fail\">the counts do not add up</span>";
  *out += "</p>\n";
  constexpr size_t kMaxNamed = 10;
  std::vector<const CheckResult*> failed;
  for (const CheckResult& c : report.checks) {
    if (CheckRank(c) == 0) failed.push_back(&c);
  }
  if (!failed.empty()) {
    *out += "<p><span class=\"fail\">Rejected by:</span> ";
    for (size_t i = 0; i < failed.size() && i < kMaxNamed; ++i) {
      if (i > 0) *out += ", ";
      AppendCheckName(out, *failed[i]);
    }
    if (failed.size() > kMaxNamed) {
      fmt::format_to(std::back_inserter(*out), " and {} more", failed.size() - kMaxNamed);
    }
    *out += "</p>\n";
  }
  AppendRowsBar(out, report);

  *out += "<table class=\"facts\">\n";
  if (!report.source.empty()) AppendFactRow(out, "Data", report.source);
  if (!report.contract_source.empty()) AppendFactRow(out, "Contract", report.contract_source);
  if (!report.contract_digest.empty()) {
    AppendFactRow(out, "Contract digest", report.contract_digest);
  }
  for (const auto& [label, value] : context.facts) AppendFactRow(out, label, value);
  *out += "</table>\n</header>\n";
}

void AppendChecks(std::string* out, const ValidationReport& report) {
  size_t passed = 0;
  size_t failed_error = 0;
  size_t failed_warn = 0;
  size_t not_evaluated = 0;
  for (const CheckResult& c : report.checks) {
    if (!c.passed) {
      ++not_evaluated;
    } else if (*c.passed) {
      ++passed;
    } else if (c.severity == Severity::kError) {
      ++failed_error;
    } else {
      ++failed_warn;
    }
  }
  *out += "<section>\n<h2>Checks</h2>\n";
  fmt::format_to(std::back_inserter(*out),
                 "<p>{} checks: <span class=\"pass\">{} passed</span>, "
                 "<span class=\"{}\">{} failed</span>, <span class=\"{}\">{} warned</span>, "
                 "{} not evaluated. Failed checks first.</p>\n",
                 report.checks.size(), passed, failed_error > 0 ? "fail" : "muted", failed_error,
                 failed_warn > 0 ? "warn" : "muted", failed_warn, not_evaluated);
  if (report.checks.empty()) {
    *out += "</section>\n";
    return;
  }
  *out +=
      "<table class=\"wide\">\n<thead><tr><th>Check</th><th>Column / rule</th><th>Level</th>"
      "<th>Severity</th><th>Result</th><th class=\"n\">Unexpected</th><th class=\"n\">%</th>"
      "<th>Expected</th><th>Observed</th><th>Sample</th></tr></thead>\n<tbody>\n";
  std::vector<const CheckResult*> ordered;
  for (const CheckResult& c : report.checks) ordered.push_back(&c);
  std::stable_sort(ordered.begin(), ordered.end(), [](const CheckResult* a, const CheckResult* b) {
    return CheckRank(*a) < CheckRank(*b);
  });
  for (const CheckResult* check : ordered) {
    const CheckResult& c = *check;
    const bool failed = c.passed.has_value() && !*c.passed;
    const bool is_error = c.severity == Severity::kError;
    *out += failed ? (is_error ? "<tr class=\"failed\">" : "<tr class=\"warned\">") : "<tr>";

    *out += "<td class=\"check\"><code>";
    AppendEscaped(out, c.check);
    *out += "</code></td><td>";
    AppendEscaped(out, c.column);
    if (!c.rule.empty()) {
      if (!c.column.empty()) *out += " &middot; ";
      AppendEscaped(out, c.rule);
    }
    fmt::format_to(std::back_inserter(*out), "</td><td>{}</td><td>{}</td>",
                   c.table_level ? "table" : "row", SeverityName(c.severity));

    if (!c.passed) {
      *out += "<td class=\"na\">not evaluated</td>";
    } else if (*c.passed) {
      *out += "<td class=\"pass\">pass</td>";
    } else {
      *out += is_error ? "<td class=\"fail\">fail</td>" : "<td class=\"warn\">fail</td>";
    }

    // Table-level checks count rows only when they are about rows (unique_together).
    if (c.table_level && c.element_count == 0 && c.unexpected_count == 0) {
      *out += "<td class=\"n\"></td><td class=\"n\"></td>";
    } else {
      fmt::format_to(std::back_inserter(*out),
                     "<td class=\"n\" title=\"of {}\">{}</td><td class=\"n\">{}</td>",
                     Count(c.element_count), Count(c.unexpected_count),
                     Percent(c.unexpected_percent));
    }

    *out += "<td>";
    AppendEscaped(out, c.expectation);
    // mostly 0 (malformed rows) never fails; saying so would only puzzle.
    if (!c.table_level && c.mostly < 1.0 && c.mostly > 0.0) {
      fmt::format_to(std::back_inserter(*out), " <span class=\"muted\">(mostly {})</span>",
                     Number(c.mostly));
    }
    *out += "</td><td>";
    if (c.table_level && !c.observed_value.is_null()) {
      *out += "<code>";
      AppendEscaped(out, JsonText(c.observed_value), kMaxRawChars);
      *out += "</code>";
    }
    *out += "</td><td>";
    for (const std::string& value : c.sample) {
      *out += "<span class=\"chip mono\">";
      AppendEscaped(out, value);
      *out += "</span>";
    }
    *out += "</td></tr>\n";
  }
  *out += "</tbody>\n</table>\n</section>\n";
}

void AppendRecordValues(std::string* out, const QuarantineRecord& q) {
  std::set<std::string_view> bad_columns;
  for (const QuarantineReason& r : q.reasons) bad_columns.insert(r.column);
  if (!q.values.is_object()) {
    AppendEscaped(out, JsonText(q.values), kMaxRawChars);
    return;
  }
  for (const auto& [name, value] : q.values.items()) {
    *out += bad_columns.contains(name) ? "<span class=\"chip mono bad\">"
                                       : "<span class=\"chip mono\">";
    AppendEscaped(out, name);
    *out += "=";
    if (value.is_null()) {
      *out += "<i class=\"muted\">null</i>";
    } else {
      AppendEscaped(out, JsonText(value));
    }
    *out += "</span>";
  }
}

void AppendQuarantine(std::string* out, const ValidationReport& report) {
  *out += "<section>\n<h2>Quarantine</h2>\n";
  const size_t total = report.quarantine.size();
  if (total == 0) {
    *out += "<p class=\"muted\">No record was quarantined.</p>\n</section>\n";
    return;
  }
  const size_t shown = std::min(total, kHtmlReportMaxQuarantine);
  if (shown < total) {
    fmt::format_to(std::back_inserter(*out), "<p>The first {} of {} quarantined records.</p>\n",
                   Count(static_cast<int64_t>(shown)), Count(static_cast<int64_t>(total)));
  } else {
    fmt::format_to(std::back_inserter(*out), "<p>{} quarantined record{}.</p>\n",
                   Count(static_cast<int64_t>(total)), total == 1 ? "" : "s");
  }
  const bool has_source = std::any_of(report.quarantine.begin(), report.quarantine.begin() + shown,
                                      [](const QuarantineRecord& q) { return !q.source.empty(); });
  *out += "<table class=\"wide\">\n<thead><tr><th class=\"n\">Line</th>";
  if (has_source) *out += "<th>Source</th>";
  *out += "<th>Reasons</th><th>Record</th></tr></thead>\n<tbody>\n";
  for (size_t i = 0; i < shown; ++i) {
    const QuarantineRecord& q = report.quarantine[i];
    fmt::format_to(std::back_inserter(*out), "<tr><td class=\"n\">{}</td>", q.line);
    if (has_source) {
      *out += "<td>";
      AppendEscaped(out, q.source);
      *out += "</td>";
    }
    *out += "<td>";
    for (const QuarantineReason& r : q.reasons) {
      *out += "<span class=\"reason\"><code>";
      AppendEscaped(out, r.check);
      *out += "</code> ";
      if (!r.column.empty()) {
        *out += "<b>";
        AppendEscaped(out, r.column);
        *out += "</b>: ";
      }
      AppendEscaped(out, r.detail);
      *out += "</span>";
    }
    *out += "</td><td>";
    if (q.text) {
      *out += "<code class=\"raw\">";
      AppendEscaped(out, *q.text, kMaxRawChars);
      *out += "</code>";
    } else {
      AppendRecordValues(out, q);
    }
    *out += "</td></tr>\n";
  }
  *out += "</tbody>\n</table>\n</section>\n";
}

struct Bar {
  std::string label;
  uint64_t count = 0;
};

// Horizontal bars, one per label, longest for the largest count; `total` gives the percents.
void AppendBarsSvg(std::string* out, const std::vector<Bar>& bars, uint64_t total,
                   std::string_view what) {
  if (bars.empty()) return;
  uint64_t max_count = 1;
  for (const Bar& b : bars) max_count = std::max(max_count, b.count);
  const double height = kBarRowHeight * static_cast<double>(bars.size());
  fmt::format_to(std::back_inserter(*out),
                 "<svg width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" role=\"img\" "
                 "aria-label=\"{2}\">",
                 kChartWidth, Coord(height), what);
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const double y = kBarRowHeight * static_cast<double>(i);
    const double width =
        std::max(1.0, kBarMaxWidth * static_cast<double>(b.count) / static_cast<double>(max_count));
    *out += "<g><title>";
    AppendEscaped(out, b.label);
    fmt::format_to(std::back_inserter(*out), ": {} ({})</title>", Count(b.count),
                   ShareOf(b.count, total));
    fmt::format_to(std::back_inserter(*out), "<text x=\"0\" y=\"{}\">", Coord(y + 12));
    if (b.label.empty()) {
      *out += "(empty)";
    } else {
      AppendEscaped(out, b.label, kMaxLabelChars);
    }
    fmt::format_to(std::back_inserter(*out),
                   "</text><rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>"
                   "<text x=\"{}\" y=\"{}\">{}</text></g>",
                   kBarLabelWidth, Coord(y + 3), Coord(width), Coord(kBarRowHeight - 5),
                   Coord(kBarLabelWidth + width + 4), Coord(y + 12), Count(b.count));
  }
  *out += "</svg>\n";
}

// The histogram's bins as bars, and under them a box plot of the quantiles on the same scale:
// whiskers from p05 to p95, the box from p25 to p75, a line at the median.
void AppendHistogramSvg(std::string* out, const ColumnProfile& column) {
  const stats::NumericStats& s = *column.numeric();
  const std::vector<stats::Histogram::Bin> bins = s.histogram.Bins();
  if (bins.empty()) return;
  const DataType type = column.type();
  const double lo = bins.front().lower;
  const double hi = bins.back().upper;
  uint64_t max_count = 1;
  for (const auto& b : bins) max_count = std::max(max_count, b.count);
  const double bin_width = kChartWidth / static_cast<double>(bins.size());
  const double gap = bin_width > 3 ? 1 : 0;
  const bool has_box = !s.quantiles.empty() && hi > lo;
  const double height = has_box ? kBoxTop + kBoxHeight : kHistogramHeight;
  fmt::format_to(std::back_inserter(*out),
                 "<svg width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" role=\"img\" "
                 "aria-label=\"histogram\">",
                 kChartWidth, Coord(height));
  for (size_t i = 0; i < bins.size(); ++i) {
    const auto& b = bins[i];
    if (b.count == 0) continue;
    // At least a pixel, so that rare values next to a tall bin stay visible.
    const double h = std::max(
        1.0, kHistogramHeight * static_cast<double>(b.count) / static_cast<double>(max_count));
    // Integer bins of width 1 hold one value; name it rather than the range.
    std::string range =
        IsIntegerLike(type) && b.upper - b.lower == 1
            ? ColumnValue(type, b.lower)
            : "[" + ColumnValue(type, b.lower) + ", " + ColumnValue(type, b.upper) + ")";
    fmt::format_to(std::back_inserter(*out),
                   "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\">"
                   "<title>{}: {}</title></rect>",
                   Coord(bin_width * static_cast<double>(i)), Coord(kHistogramHeight - h),
                   Coord(std::max(bin_width - gap, 0.5)), Coord(h), range, Count(b.count));
  }
  if (has_box) {
    const std::vector<double> q = s.quantiles.Quantiles(stats::kProfileQuantiles);
    auto x = [&](double v) { return std::clamp((v - lo) / (hi - lo), 0.0, 1.0) * kChartWidth; };
    const double mid = kBoxTop + kBoxHeight / 2;
    // kProfileQuantiles: 0 p01, 1 p05, 2 p25, 3 p50, 4 p75, 5 p95, 6 p99.
    fmt::format_to(std::back_inserter(*out),
                   "<g><title>p05 {} &middot; p25 {} &middot; p50 {} &middot; p75 {} &middot; "
                   "p95 {}</title>",
                   ColumnValue(type, q[1]), ColumnValue(type, q[2]), ColumnValue(type, q[3]),
                   ColumnValue(type, q[4]), ColumnValue(type, q[5]));
    fmt::format_to(std::back_inserter(*out),
                   "<line class=\"whisker\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
                   Coord(x(q[1])), Coord(mid), Coord(x(q[5])), Coord(mid));
    fmt::format_to(std::back_inserter(*out),
                   "<rect class=\"box\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
                   Coord(x(q[2])), Coord(kBoxTop), Coord(std::max(0.5, x(q[4]) - x(q[2]))),
                   Coord(kBoxHeight));
    fmt::format_to(std::back_inserter(*out),
                   "<line class=\"whisker\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/></g>",
                   Coord(x(q[3])), Coord(kBoxTop), Coord(kBoxTop + kBoxHeight));
  }
  *out += "</svg>\n<div class=\"axis\"><span>";
  AppendEscaped(out, ColumnValue(type, lo));
  *out += "</span><span>";
  AppendEscaped(out, ColumnValue(type, hi));
  *out += "</span></div>\n";
}

void AppendStat(std::string* out, std::string_view name, std::string_view value) {
  *out += "<dt>";
  *out += name;
  *out += "</dt><dd>";
  AppendEscaped(out, value);
  *out += "</dd>";
}

void AppendNumericStats(std::string* out, const ColumnProfile& column) {
  const stats::NumericStats& s = *column.numeric();
  const DataType type = column.type();
  if (s.moments.empty()) {
    *out += "</dl>\n<p class=\"muted\">No finite value.</p>\n";
    return;
  }
  if (IsIntegerLike(type)) {
    AppendStat(out, "Min", IntColumnValue(type, s.int_min));
    AppendStat(out, "Max", IntColumnValue(type, s.int_max));
  } else {
    AppendStat(out, "Min", ColumnValue(type, s.moments.min()));
    AppendStat(out, "Max", ColumnValue(type, s.moments.max()));
  }
  AppendStat(out, "Mean", ColumnValue(type, s.moments.mean()));
  const double std_dev = s.moments.sample_std();
  std::string std_text;
  if (std::isnan(std_dev)) {
    // Fewer than two values: no sample standard deviation.
  } else if (type == DataType::kDate) {
    std_text = Number(std_dev) + " days";
  } else if (type == DataType::kTimestamp) {
    std_text = Number(std_dev / static_cast<double>(kMicrosPerSecond)) + " s";
  } else {
    std_text = Number(std_dev);
  }
  AppendStat(out, "Std", std_text);
  if (!IsTemporal(type)) AppendStat(out, "Zeros", Count(s.zeros));
  if (type == DataType::kFloat64 && (s.nan_count > 0 || s.inf_count > 0)) {
    AppendStat(out, "NaN", Count(s.nan_count));
    AppendStat(out, "\xC2\xB1inf", Count(s.inf_count));
  }
  if (s.quantiles.empty()) {
    *out += "</dl>\n";
    return;
  }
  const std::vector<double> q = s.quantiles.Quantiles(stats::kProfileQuantiles);
  if (IsTemporal(type)) {
    // ISO timestamps are too wide for a row of seven.
    for (size_t i = 0; i < q.size(); ++i) {
      AppendStat(out, stats::kProfileQuantileNames[i], ColumnValue(type, q[i]));
    }
    *out += "</dl>\n";
    return;
  }
  *out += "</dl>\n<table class=\"q\"><tr>";
  for (std::string_view name : stats::kProfileQuantileNames) {
    fmt::format_to(std::back_inserter(*out), "<th>{}</th>", name);
  }
  *out += "</tr><tr>";
  for (double v : q) {
    *out += "<td>";
    AppendEscaped(out, ColumnValue(type, v));
    *out += "</td>";
  }
  *out += "</tr></table>\n";
}

void AppendTextStats(std::string* out, const ColumnProfile& column) {
  const stats::TextStats& s = *column.text();
  const uint64_t valid = column.valid();
  AppendStat(out, "Length",
             valid == 0 ? "" : fmt::format("{}\xE2\x80\x93{}", s.min_length, s.max_length));
  AppendStat(
      out, "Mean length",
      valid == 0 ? "" : Number(static_cast<double>(s.total_length) / static_cast<double>(valid)));
  AppendStat(out, "Empty", Count(s.empty_count));
  *out += "</dl>\n";
  const std::vector<stats::TopK::Item> items = s.top_k.Items();
  if (items.empty()) return;
  std::vector<Bar> bars;
  for (size_t i = 0; i < items.size() && i < kTopValuesShown; ++i) {
    bars.push_back({items[i].value, items[i].count});
  }
  fmt::format_to(std::back_inserter(*out), "<p class=\"muted\">Top {} of ~{} values{}</p>\n",
                 bars.size(), Count(column.distinct_approx()),
                 s.top_k.exact() ? ""
                                 : fmt::format(" (counts are lower bounds, at most {} under)",
                                               Count(s.top_k.error_bound())));
  AppendBarsSvg(out, bars, valid, "top values");
}

void AppendColumnCard(std::string* out, const ColumnProfile& column,
                      const ValidationReport& report) {
  *out += "<section class=\"card\">\n<h3>";
  AppendEscaped(out, column.name());
  fmt::format_to(std::back_inserter(*out), "<span class=\"type\">{}</span></h3>\n",
                 table::DataTypeName(column.type()));

  size_t passed = 0;
  size_t failed = 0;
  for (const CheckResult& c : report.checks) {
    if (c.column != column.name() || !c.passed) continue;
    ++(*c.passed ? passed : failed);
  }
  if (passed + failed > 0) {
    fmt::format_to(std::back_inserter(*out), "<p>Checks: <span class=\"pass\">{} passed</span>",
                   passed);
    if (failed > 0)
      fmt::format_to(std::back_inserter(*out), ", <span class=\"fail\">{} failed</span>", failed);
    *out += "</p>\n";
  }

  *out += "<dl class=\"kv\">";
  AppendStat(out, "Count", Count(column.count()));
  AppendStat(out, "Nulls",
             column.nulls() == 0
                 ? "0"
                 : Count(column.nulls()) + " (" + Percent(100.0 * column.null_fraction()) + ")");
  AppendStat(out, "Distinct", "~" + Count(column.distinct_approx()));
  if (column.numeric() != nullptr) {
    AppendNumericStats(out, column);
    AppendHistogramSvg(out, column);
  } else if (column.text() != nullptr) {
    AppendTextStats(out, column);
  } else if (column.type() == DataType::kBool) {
    const uint64_t t = column.true_count();
    const uint64_t f = column.valid() - t;
    AppendStat(out, "True", Count(t));
    AppendStat(out, "False", Count(f));
    *out += "</dl>\n";
    AppendBarsSvg(out, {{"true", t}, {"false", f}}, column.valid(), "true and false");
  } else {
    *out += "</dl>\n";
  }
  *out += "</section>\n";
}

void AppendColumns(std::string* out, const stats::TableProfile& profile,
                   const ValidationReport& report) {
  *out += "<section>\n<h2>Columns</h2>\n";
  fmt::format_to(std::back_inserter(*out), "<p class=\"muted\">{} rows, {} columns profiled.</p>\n",
                 Count(profile.rows()), profile.columns().size());
  *out += "<div class=\"cards\">\n";
  for (const ColumnProfile& column : profile.columns()) AppendColumnCard(out, column, report);
  *out += "</div>\n</section>\n";
}

}  // namespace

std::string RenderHtmlReport(const ValidationReport& report, const stats::TableProfile* profile,
                             const HtmlReportContext& context) {
  std::string title = context.title;
  if (title.empty()) title = report.source.empty() ? "Validation report" : report.source;
  std::string out;
  out.reserve(64 * 1024);
  out +=
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
  AppendEscaped(&out, title);
  out += " &mdash; ";
  out += BatchStatusName(report.status);
  out += "</title>\n<style>";
  out += kStyle;
  out += "</style>\n</head>\n<body>\n";
  AppendHeader(&out, report, title, context);
  AppendChecks(&out, report);
  AppendQuarantine(&out, report);
  if (profile != nullptr) AppendColumns(&out, *profile, report);
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace mloop::data
