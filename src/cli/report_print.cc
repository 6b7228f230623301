// The human summary of a validation report, shared by `mloop validate`, `mloop ingest` and
// `mloop datasets show`. It reads the report's JSON form (ValidationReport::ToJson, or the
// stored report of an ingestion, which lacks the quarantine records).
#include <cstdio>
#include <string>
#include <vector>

#include "cli/command.h"

namespace mloop::cli {
namespace {

std::string Percent(double percent) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", percent);
  return buf;
}

std::string Text(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

}  // namespace

void PrintReportSummary(const Json& report, size_t show) {
  std::printf("%s: %s\n", Text(report, "source").c_str(), Text(report, "status").c_str());
  std::printf("  rows in %lld, clean %lld, quarantined %lld\n",
              static_cast<long long>(report.value("rows_in", int64_t{0})),
              static_cast<long long>(report.value("rows_clean", int64_t{0})),
              static_cast<long long>(report.value("rows_quarantined", int64_t{0})));
  size_t passed = 0, not_evaluated = 0;
  std::vector<const Json*> failing;
  const Json empty = Json::array();
  const Json& checks = report.contains("checks") ? report["checks"] : empty;
  for (const Json& c : checks) {
    const Json& p = c["passed"];
    if (p.is_null()) {
      ++not_evaluated;
    } else if (p.get<bool>() && c.value("unexpected_count", int64_t{0}) == 0) {
      ++passed;
    } else {
      failing.push_back(&c);
    }
  }
  std::printf("  checks: %zu passed clean, %zu with failures, %zu not evaluated\n", passed,
              failing.size(), not_evaluated);
  for (const Json* c : failing) {
    std::string check = Text(*c, "check");
    if (check == "malformed") {
      std::printf("  %lld malformed rows (quarantined)\n",
                  static_cast<long long>(c->value("unexpected_count", int64_t{0})));
      continue;
    }
    std::string what = check;
    if (!Text(*c, "column").empty()) what += " " + Text(*c, "column");
    if (!Text(*c, "rule").empty()) what += " " + Text(*c, "rule");
    // A passing check with failures: an error check set its rows aside; a warn check (or an
    // error check with mostly) passed within its tolerance.
    std::string verdict = !(*c)["passed"].get<bool>()       ? "FAILED"
                          : Text(*c, "severity") == "error" ? "rows quarantined"
                                                            : "passed (mostly)";
    std::printf("  %-5s %s: %s, expected %s", Text(*c, "severity").c_str(), what.c_str(),
                verdict.c_str(), Text(*c, "expectation").c_str());
    if (Text(*c, "level") == "table") {
      std::printf(", observed %s\n", (*c)["observed_value"].dump().c_str());
    } else {
      std::printf("; %lld unexpected (%s)\n",
                  static_cast<long long>(c->value("unexpected_count", int64_t{0})),
                  Percent(c->value("unexpected_percent", 0.0)).c_str());
      const Json& sample = (*c)["sample"];
      if (sample.is_array() && !sample.empty()) {
        std::string text;
        for (size_t i = 0; i < sample.size() && i < 5; ++i) {
          text += (i ? ", " : "") + sample[i].get<std::string>();
        }
        std::printf("        e.g. %s\n", text.c_str());
      }
    }
  }
  const Json& quarantine = report.contains("quarantine") ? report["quarantine"] : empty;
  if (!quarantine.empty()) {
    std::printf("  quarantined rows:\n");
    for (size_t i = 0; i < quarantine.size() && i < show; ++i) {
      const Json& q = quarantine[i];
      std::string why;
      for (const Json& r : q["reasons"]) {
        why += (why.empty() ? "" : "; ") + Text(r, "check") +
               (Text(r, "column").empty() ? "" : " " + Text(r, "column")) + ": " +
               Text(r, "detail");
      }
      std::printf("    line %lld: %s\n", static_cast<long long>(q.value("line", int64_t{0})),
                  why.c_str());
    }
    if (quarantine.size() > show) {
      std::printf("    ... and %zu more (--json lists them all)\n", quarantine.size() - show);
    }
  }
}

}  // namespace mloop::cli
