// `mloop evaluate --model REF --data REF... [--against REF] [--gates FILE]`: metrics, slices,
// fairness, comparison with the champion, latency and the gates' decision (eval/evaluate.h).
// Exit 0 when the gates say PROMOTE (or there are none), 3 when they say REJECT.
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "cli/command.h"
#include "core/error.h"
#include "core/progress.h"
#include "eval/evaluate.h"
#include "store/workspace.h"

namespace mloop::cli {
namespace {

struct EvaluateArgs {
  eval::EvaluateRequest request;
  std::string against, gates, html, threshold_metric;
  std::vector<std::string> privileged;
};

std::string Num(const Json& v) {
  if (!v.is_number()) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v.get<double>());
  return buf;
}

void PrintDataset(const Json& d) {
  std::printf("\n%s: %s rows", d["data"].get<std::string>().c_str(), Num(d["rows"]).c_str());
  if (d.contains("threshold")) std::printf(", threshold %s", Num(d["threshold"]).c_str());
  std::printf("\n");
  const bool champ = d.contains("champion_metrics");
  std::printf("  %-28s %12s", "metric", "candidate");
  if (champ) std::printf(" %12s %12s  %s", "champion", "delta", "interval");
  std::printf("\n");
  for (const auto& [k, v] : d["metrics"].items()) {
    std::printf("  %-28s %12s", k.c_str(), Num(v).c_str());
    if (champ) {
      std::printf(" %12s", Num(d["champion_metrics"].value(k, Json())).c_str());
      const Json& deltas = d["comparison"]["deltas"];
      if (deltas.contains(k)) {
        std::printf(" %12s  [%s, %s]", Num(deltas[k]["delta"]).c_str(),
                    Num(deltas[k]["low"]).c_str(), Num(deltas[k]["high"]).c_str());
      }
    }
    std::printf("\n");
  }
  if (champ) {
    for (const auto& [k, t] : d["comparison"]["tests"].items()) {
      std::printf("  test on %-20s %s: statistic %s, p = %s\n", k.c_str(),
                  t.value("method", "").c_str(), Num(t["statistic"]).c_str(),
                  Num(t["p_value"]).c_str());
    }
  }
  if (d.contains("fairness")) {
    for (const auto& [col, f] : d["fairness"].items()) {
      std::printf(
          "  fairness by %s: demographic parity ratio %s, equalized odds difference %s, "
          "disparate impact (min) %s\n",
          col.c_str(), Num(f["demographic_parity_ratio"]).c_str(),
          Num(f["equalized_odds_difference"]).c_str(), Num(f["disparate_impact"]["min"]).c_str());
    }
  }
}

int RunEvaluate(const GlobalOptions& global, EvaluateArgs& a) {
  eval::EvaluateRequest& r = a.request;
  if (!a.against.empty()) r.against = a.against;
  if (!a.gates.empty()) r.gates = a.gates;
  if (!a.threshold_metric.empty()) r.threshold_metric = a.threshold_metric;
  for (const std::string& p : a.privileged) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      ThrowInvalidArgument("--privileged " + p + ": expected COLUMN=VALUE");
    }
    r.privileged[p.substr(0, eq)] = p.substr(eq + 1);
  }
  store::Workspace ws = store::Workspace::Open(global.WorkspaceDir());
  auto progress = [&global](const std::string& stage) {
    if (!global.json && ProgressBar::Enabled())
      std::fprintf(stderr, "\r\033[2Kevaluate: %s", stage.c_str());
  };
  eval::EvaluateOutcome out = eval::Evaluate(ws, r, progress);
  if (!global.json && ProgressBar::Enabled()) std::fprintf(stderr, "\r\033[2K");
  if (!a.html.empty()) {
    std::ofstream f(a.html, std::ios::binary);
    f << out.card_html;
    if (!f) ThrowInvalidArgument("--html " + a.html + ": cannot write the file");
  }
  const int code = out.decision && *out.decision == "REJECT" ? kExitChecksFailed : kExitOk;
  if (global.json) {
    PrintJson(out.report);
    return code;
  }
  const Json& rep = out.report;
  std::printf("evaluated %s (run %s, %s)", rep["model"]["ref"].get<std::string>().c_str(),
              rep["model"]["run_id"].get<std::string>().substr(0, 8).c_str(),
              rep["model"]["estimator"].get<std::string>().c_str());
  if (rep["champion"].is_object()) {
    std::printf(" against %s (run %s)", rep["champion"]["ref"].get<std::string>().c_str(),
                rep["champion"]["run_id"].get<std::string>().substr(0, 8).c_str());
  } else if (rep.contains("champion_note")) {
    std::printf(" (no champion: %s)", rep["champion_note"].get<std::string>().c_str());
  }
  std::printf("\n");
  for (const Json& d : rep["datasets"]) PrintDataset(d);
  if (rep.contains("latency")) {
    const Json& l = rep["latency"];
    std::printf(
        "\nlatency (one row): p50 %s ms, p95 %s ms, p99 %s ms; batch %s rows/s; %s CPU s "
        "per 1,000",
        Num(l["p50_ms"]).c_str(), Num(l["p95_ms"]).c_str(), Num(l["p99_ms"]).c_str(),
        Num(l["rows_per_second"]).c_str(), Num(l["cpu_seconds_per_1000"]).c_str());
    if (l["cost_per_1000"].is_number())
      std::printf(", cost %s per 1,000", Num(l["cost_per_1000"]).c_str());
    std::printf("\n");
  }
  if (rep.contains("importance")) {
    std::printf("top features (mean |SHAP|):");
    size_t n = 0;
    for (const Json& f : rep["importance"]["features"]) {
      if (n++ == 5) break;
      std::printf(" %s %s;", f["feature"].get<std::string>().c_str(),
                  Num(f["mean_abs_shap"]).c_str());
    }
    std::printf("\n");
  }
  if (rep.contains("gates")) {
    std::printf("\ngates:\n");
    for (const Json& c : rep["gates"]["conditions"]) {
      const char* mark = !c.value("evaluated", true) ? "skip"
                         : c.value("passed", false)  ? "pass"
                                                     : "FAIL";
      std::printf("  %-4s %s: %s\n", mark, c["condition"].get<std::string>().c_str(),
                  c["message"].get<std::string>().c_str());
    }
    std::printf("decision: %s\n", out.decision->c_str());
  }
  std::printf("report sha256 %s, model card sha256 %s (evaluation run %s)\n",
              out.report_digest.c_str(), out.card_digest.c_str(), out.run_id.substr(0, 8).c_str());
  return code;
}

}  // namespace

void AddEvaluateCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run) {
  CLI::App* cmd = app.add_subcommand(
      "evaluate", "Evaluate a model: metrics, slices, fairness, champion comparison, gates");
  auto a = std::make_shared<EvaluateArgs>();
  eval::EvaluateRequest& r = a->request;
  cmd->add_option("--model", r.model, "A run id, NAME@VERSION or NAME@ALIAS")->required();
  cmd->add_option("--data", r.data, "Evaluation sets: NAME@VERSION or CSV/JSONL files")->required();
  cmd->add_option("--against", a->against,
                  "The champion to compare with (default: NAME@champion), or none");
  cmd->add_option("--gates", a->gates, "Promotion gates (YAML); exit 3 when they reject");
  cmd->add_option("--html", a->html, "Write the HTML model card to this file");
  cmd->add_option("--slice", r.slices, "Slice by COLUMN or COLUMN:BUCKETS (repeatable)");
  cmd->add_option("--sensitive", r.sensitive,
                  "Fairness columns (default: those with role sensitive)");
  cmd->add_option("--privileged", a->privileged,
                  "COLUMN=VALUE: the privileged group for disparate impact (repeatable)");
  cmd->add_option("--threshold", r.threshold, "Binary: predicted 1 when p >= this (0.5)");
  cmd->add_option("--threshold-metric", a->threshold_metric,
                  "Binary: choose the threshold that maximizes f1, accuracy, ...");
  cmd->add_option("--bootstrap", r.bootstrap, "Paired bootstrap resamples (1000; 0: none)");
  cmd->add_option("--confidence", r.confidence, "Interval confidence (0.95)");
  cmd->add_option("--seed", r.seed, "Bootstrap seed (0)");
  cmd->add_option("--latency-rows", r.latency_rows, "Rows timed one at a time (500; 0: none)");
  cmd->add_option("--price-per-cpu-hour", r.price_per_cpu_hour,
                  "For the cost per 1,000 predictions");
  cmd->add_option("--explain-rows", r.explain_rows, "Rows explained for mean |SHAP| (2000)");
  cmd->add_option("--intended-use", r.intended_use, "The model card's intended use");
  cmd->add_option("--limitation", r.limitations, "A limitation for the model card (repeatable)");
  cmd->callback([&global, run, a] { *run = [&global, a] { return RunEvaluate(global, *a); }; });
}

}  // namespace mloop::cli
