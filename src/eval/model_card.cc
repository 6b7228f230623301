#include "eval/model_card.h"

#include <cmath>
#include <cstdio>
#include <string_view>

namespace mloop::eval {
namespace {

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Num(const Json& v, int digits = 4) {
  if (!v.is_number())
    return v.is_null() ? "&ndash;" : Escape(v.is_string() ? v.get<std::string>() : v.dump());
  double d = v.get<double>();
  if (!std::isfinite(d)) return "&ndash;";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, d);
  return buf;
}

std::string Text(const Json& v) {
  if (v.is_string()) return Escape(v.get<std::string>());
  if (v.is_null()) return "&ndash;";
  return Num(v);
}

const Json& At(const Json& j, const char* key) {
  static const Json kNull;
  return j.is_object() && j.contains(key) ? j[key] : kNull;
}

void MetricsTable(std::string* h, const Json& d) {
  const Json& m = At(d, "metrics");
  const Json& c = At(d, "champion_metrics");
  const Json& deltas = At(At(d, "comparison"), "deltas");
  const bool champ = c.is_object();
  *h += "<table><tr><th>metric</th><th>candidate</th>";
  if (champ) *h += "<th>champion</th><th>delta</th><th>interval</th>";
  *h += "</tr>";
  for (const auto& [k, v] : m.items()) {
    *h += "<tr><td>" + Escape(k) + "</td><td class=n>" + Num(v) + "</td>";
    if (champ) {
      *h += "<td class=n>" + Num(At(c, k.c_str())) + "</td>";
      const Json& dl = At(deltas, k.c_str());
      if (dl.is_object()) {
        *h += "<td class=n>" + Num(dl["delta"]) + "</td><td class=n>[" + Num(dl["low"]) + ", " +
              Num(dl["high"]) + "]</td>";
      } else {
        *h += "<td></td><td></td>";
      }
    }
    *h += "</tr>";
  }
  *h += "</table>";
}

void TestsTable(std::string* h, const Json& d) {
  const Json& tests = At(At(d, "comparison"), "tests");
  if (!tests.is_object()) return;
  *h +=
      "<h3>Paired tests against the champion</h3><table><tr><th>on</th><th>test</th>"
      "<th>statistic</th><th>p-value</th></tr>";
  for (const auto& [k, t] : tests.items()) {
    *h += "<tr><td>" + Escape(k) + "</td><td>" + Text(At(t, "method")) + "</td><td class=n>" +
          Num(At(t, "statistic")) + "</td><td class=n>" + Num(At(t, "p_value")) + "</td></tr>";
  }
  *h += "</table>";
}

void FairnessTables(std::string* h, const Json& d) {
  const Json& f = At(d, "fairness");
  if (!f.is_object()) return;
  for (const auto& [col, r] : f.items()) {
    *h += "<h3>Fairness by " + Escape(col) +
          "</h3><table><tr><th>group</th><th>rows</th>"
          "<th>selection rate</th><th>TPR</th><th>FPR</th><th>accuracy</th></tr>";
    for (const Json& g : At(r, "groups")) {
      *h += "<tr><td>" + Text(At(g, "group")) + "</td><td class=n>" + Num(At(g, "count")) +
            "</td><td class=n>" + Num(At(g, "selection_rate")) + "</td><td class=n>" +
            Num(At(g, "true_positive_rate")) + "</td><td class=n>" +
            Num(At(g, "false_positive_rate")) + "</td><td class=n>" + Num(At(g, "accuracy")) +
            "</td></tr>";
    }
    *h += "</table><p>";
    for (const char* k : {"demographic_parity_difference", "demographic_parity_ratio",
                          "equal_opportunity_difference", "equal_opportunity_ratio",
                          "equalized_odds_difference", "equalized_odds_ratio"}) {
      *h += std::string(k) + " " + Num(At(r, k)) + "; ";
    }
    *h += "disparate impact (min) " + Num(At(At(r, "disparate_impact"), "min")) + "</p>";
  }
}

void SliceTables(std::string* h, const Json& d, const std::string& metric) {
  const Json& s = At(d, "slices");
  if (!s.is_object()) return;
  for (const auto& [col, groups] : s.items()) {
    *h += "<h3>Slices by " + Escape(col) + "</h3><table><tr><th>group</th><th>rows</th><th>" +
          Escape(metric) + "</th></tr>";
    for (const Json& g : groups) {
      *h += "<tr><td>" + Text(At(g, "slice")) + "</td><td class=n>" + Num(At(g, "rows")) +
            "</td><td class=n>" + Num(At(At(g, "metrics"), metric.c_str())) + "</td></tr>";
    }
    *h += "</table>";
  }
}

}  // namespace

std::string RenderModelCard(const Json& report) {
  const Json& model = At(report, "model");
  const Json& gates = At(report, "gates");
  const std::string decision = gates.is_object() ? gates.value("decision", "") : "";
  const std::string task = model.value("task", "");
  const std::string key_metric = task == "regression" ? "rmse"
                                 : task == "binary"   ? "roc_auc"
                                                      : "accuracy";
  std::string h;
  h +=
      "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>Model card: " +
      Text(At(model, "ref")) +
      "</title><style>"
      "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222}"
      "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em}"
      "th{background:#f4f4f4;text-align:left}.n{text-align:right;font-variant-numeric:tabular-nums}"
      ".PROMOTE{background:#1a7f37;color:#fff}.REJECT{background:#cf222e;color:#fff}"
      ".badge{padding:.2em .6em;border-radius:.3em}.fail{color:#cf222e}.bar{background:#4c78a8;"
      "height:.8em;display:inline-block}</style></head><body>";
  h += "<h1>Model card: " + Text(At(model, "ref")) + "</h1><p>";
  if (!decision.empty()) h += "<span class='badge " + decision + "'>" + decision + "</span> ";
  h += "task " + Text(At(model, "task")) + ", estimator " + Text(At(model, "estimator")) +
       ", run " + Text(At(model, "run_id")) + ", bundle sha256 " + Text(At(model, "bundle")) +
       "</p>";
  const Json& card = At(report, "card");
  h += "<h2>Intended use</h2><p>";
  std::string use = card.value("intended_use", "");
  h += use.empty() ? "Not stated (mloop evaluate --intended-use TEXT)." : Escape(use);
  h += "</p><h2>Training data and lineage</h2><table>";
  const Json& lineage = At(model, "lineage");
  for (const char* k : {"train", "validation"}) {
    const Json& l = At(lineage, k);
    if (l.is_object()) {
      h += "<tr><th>" + std::string(k) + "</th><td>" + Text(At(l, "ref")) + " (data sha256 " +
           Text(At(l, "data")) + ")</td></tr>";
    }
  }
  h += "<tr><th>training run</th><td>" + Text(At(lineage, "run_id")) + "</td></tr>";
  h += "<tr><th>config sha256</th><td>" + Text(At(lineage, "config_digest")) + "</td></tr>";
  h += "<tr><th>mloop</th><td>" + Text(At(lineage, "mloop_version")) + "</td></tr></table>";
  const Json& champ = At(report, "champion");
  h += "<h2>Champion</h2><p>";
  h += champ.is_object() ? Text(At(champ, "ref")) + " (run " + Text(At(champ, "run_id")) + ")"
                         : "None: " + Text(At(report, "champion_note"));
  h += "</p>";
  for (const Json& d : At(report, "datasets")) {
    h += "<h2>Evaluation on " + Text(At(d, "data")) + "</h2><p>" + Num(At(d, "rows")) + " rows";
    if (At(d, "threshold").is_number()) h += ", threshold " + Num(At(d, "threshold"));
    h += "</p>";
    MetricsTable(&h, d);
    TestsTable(&h, d);
    FairnessTables(&h, d);
    SliceTables(&h, d, key_metric);
  }
  const Json& imp = At(report, "importance");
  if (imp.is_object()) {
    h += "<h2>Top features</h2><p>Mean |SHAP| (" + Text(At(imp, "method")) + ") over " +
         Num(At(imp, "rows")) + " rows.</p><table>";
    double top = 0;
    for (const Json& f : At(imp, "features")) {
      if (f["mean_abs_shap"].is_number()) top = std::max(top, f["mean_abs_shap"].get<double>());
    }
    size_t shown = 0;
    for (const Json& f : At(imp, "features")) {
      if (++shown > 15) break;
      double v = f["mean_abs_shap"].is_number() ? f["mean_abs_shap"].get<double>() : 0;
      int width = top > 0 ? static_cast<int>(v / top * 200) : 0;
      h += "<tr><td>" + Text(At(f, "feature")) + "</td><td class=n>" + Num(At(f, "mean_abs_shap")) +
           "</td><td><span class=bar style='width:" + std::to_string(width) +
           "px'></span></td></tr>";
    }
    h += "</table>";
  }
  const Json& lat = At(report, "latency");
  if (lat.is_object()) {
    h += "<h2>Latency and cost</h2><table>";
    for (const char* k : {"p50_ms", "p95_ms", "p99_ms", "rows_per_second", "cpu_seconds_per_1000",
                          "cost_per_1000"}) {
      h += "<tr><th>" + std::string(k) + "</th><td class=n>" + Num(At(lat, k)) + "</td></tr>";
    }
    h += "</table>";
  }
  if (gates.is_object()) {
    h += "<h2>Gates</h2><table><tr><th>condition</th><th>result</th><th>observed</th></tr>";
    for (const Json& c : At(gates, "conditions")) {
      const bool passed = c.value("passed", false), evaluated = c.value("evaluated", true);
      h += "<tr><td>" + Text(At(c, "condition")) + "</td><td" + (passed ? "" : " class=fail") +
           ">" +
           (!evaluated ? "not evaluated"
            : passed   ? "passed"
                       : "FAILED") +
           "</td><td>" + Text(At(c, "message")) + "</td></tr>";
    }
    h += "</table>";
  }
  h += "<h2>Limitations</h2><ul>";
  size_t items = 0;
  for (const char* k : {"limitations", "measured_limitations"}) {
    for (const Json& l : At(card, k)) {
      h += "<li>" + Text(l) + "</li>";
      ++items;
    }
  }
  if (items == 0) h += "<li>None stated or measured.</li>";
  h += "</ul></body></html>\n";
  return h;
}

}  // namespace mloop::eval
