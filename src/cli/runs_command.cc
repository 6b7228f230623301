// `mloop runs list|show|compare`: read the tracked runs (tracking/tracking_store.h). The filter
// and order follow MLflow's search grammar (tracking/search_filter.h), so MLflow users keep
// their habits.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli/command.h"
#include "core/error.h"
#include "core/time.h"
#include "store/workspace.h"
#include "tracking/tracking_store.h"

namespace mloop::cli {
namespace {

std::string Millis(int64_t ms) { return FormatIsoTimestamp(ms * 1000); }

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

struct ListArgs {
  std::vector<std::string> experiments;
  std::string filter;
  std::vector<std::string> order_by;
  size_t max = 0;
};

int RunList(const GlobalOptions& global, const ListArgs& a) {
  store::Workspace ws = store::Workspace::Open(global.WorkspaceDir());
  tracking::TrackingStore t(ws.metadata(), ws.artifacts());
  std::vector<int64_t> ids;
  for (const std::string& name : a.experiments) {
    ids.push_back(t.GetExperimentByName(name).experiment_id);
  }
  std::vector<tracking::Run> runs = t.SearchRuns(ids, a.filter, a.order_by, a.max);
  if (global.json) {
    Json out = Json::array();
    for (const auto& r : runs) out.push_back(r.ToJson());
    PrintJson(Json{{"runs", out}});
    return kExitOk;
  }
  if (runs.empty()) {
    std::printf("No runs%s.\n", a.filter.empty() ? "" : " match the filter");
    return kExitOk;
  }
  // The metrics the listed runs have, as columns (at most 6): final validation metrics first,
  // then cross-validation means, then final training metrics, then the rest by name. A
  // per-round metric is left out when its final value is there (the best round's, which the
  // model keeps).
  std::set<std::string> keys;
  for (const auto& r : runs) {
    for (const auto& [k, m] : r.metrics) keys.insert(k);
  }
  auto rank = [](const std::string& k) {
    if (k.rfind("final.valid-", 0) == 0) return 0;
    if (k.rfind("cv-", 0) == 0 && k.size() > 4 && k.substr(k.size() - 4) != "-std") return 1;
    if (k.rfind("final.train-", 0) == 0) return 2;
    return 3;
  };
  std::vector<std::string> shown;
  for (const auto& k : keys) {
    if (!keys.count("final." + k)) shown.push_back(k);
  }
  std::stable_sort(shown.begin(), shown.end(),
                   [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
  if (shown.size() > 6) shown.resize(6);
  std::printf("%-10s %-20s %-9s %-22s", "RUN", "NAME", "STATUS", "STARTED");
  for (const auto& k : shown) std::printf(" %16s", k.substr(0, 16).c_str());
  std::printf("\n");
  for (const auto& r : runs) {
    std::printf("%-10s %-20s %-9s %-22s", r.run_id.substr(0, 8).c_str(),
                r.run_name.substr(0, 20).c_str(),
                std::string(tracking::RunStatusName(r.status)).c_str(),
                Millis(r.start_time).substr(0, 19).c_str());
    for (const auto& k : shown) {
      auto it = r.metrics.find(k);
      std::printf(" %16s", it == r.metrics.end() ? "-" : Number(it->second.value).c_str());
    }
    std::printf("\n");
  }
  return kExitOk;
}

int RunShow(const GlobalOptions& global, const std::string& id) {
  store::Workspace ws = store::Workspace::Open(global.WorkspaceDir());
  tracking::TrackingStore t(ws.metadata(), ws.artifacts());
  tracking::Run r = t.GetRun(id);
  if (global.json) {
    Json out = r.ToJson();
    out["metric_history"] = Json::object();
    for (const auto& [k, m] : r.metrics) {
      Json h = Json::array();
      for (const auto& p : t.MetricHistory(r.run_id, k)) {
        h.push_back({{"step", p.step},
                     {"timestamp", p.timestamp},
                     {"value", std::isfinite(p.value) ? Json(p.value) : Json()}});
      }
      out["metric_history"][k] = h;
    }
    PrintJson(out);
    return kExitOk;
  }
  tracking::Experiment e = t.GetExperiment(r.experiment_id);
  std::printf("run %s (%s) in experiment '%s'\n", r.run_id.c_str(), r.run_name.c_str(),
              e.name.c_str());
  std::printf("  status %s, started %s", std::string(tracking::RunStatusName(r.status)).c_str(),
              Millis(r.start_time).c_str());
  if (r.end_time) std::printf(", ended %s", Millis(*r.end_time).c_str());
  std::printf(", by %s\n", r.user_id.c_str());
  if (r.parent_run_id) std::printf("  parent run %s\n", r.parent_run_id->c_str());
  auto section = [](const char* title, const std::map<std::string, std::string>& m) {
    if (m.empty()) return;
    std::printf("%s:\n", title);
    for (const auto& [k, v] : m) std::printf("  %-32s %s\n", k.c_str(), v.c_str());
  };
  section("params", r.params);
  if (!r.metrics.empty()) {
    std::printf("metrics (latest):\n");
    for (const auto& [k, m] : r.metrics) {
      std::printf("  %-32s %s (step %lld)\n", k.c_str(), Number(m.value).c_str(),
                  static_cast<long long>(m.step));
    }
  }
  section("tags", r.tags);
  if (!r.inputs.empty()) {
    std::printf("inputs:\n");
    for (const auto& i : r.inputs) {
      std::printf("  %s@%lld (%s)\n", i.dataset.c_str(), static_cast<long long>(i.version),
                  i.context.c_str());
    }
  }
  if (!r.artifacts.empty()) {
    std::printf("artifacts:\n");
    for (const auto& a : r.artifacts) {
      std::printf("  %-32s %lld bytes, sha256 %s\n", a.path.c_str(), static_cast<long long>(a.size),
                  a.digest.substr(0, 12).c_str());
    }
  }
  return kExitOk;
}

int RunCompare(const GlobalOptions& global, const std::vector<std::string>& ids) {
  if (ids.size() < 2) ThrowInvalidArgument("runs compare: give two or more run ids");
  store::Workspace ws = store::Workspace::Open(global.WorkspaceDir());
  tracking::TrackingStore t(ws.metadata(), ws.artifacts());
  std::vector<tracking::Run> runs;
  for (const auto& id : ids) runs.push_back(t.GetRun(id));
  std::set<std::string> params, metrics;
  for (const auto& r : runs) {
    for (const auto& [k, v] : r.params) params.insert(k);
    for (const auto& [k, v] : r.metrics) metrics.insert(k);
  }
  if (global.json) {
    Json out;
    out["runs"] = Json::array();
    for (const auto& r : runs) out["runs"].push_back(r.run_id);
    out["params"] = Json::object();
    for (const auto& k : params) {
      Json row = Json::array();
      for (const auto& r : runs) {
        auto it = r.params.find(k);
        row.push_back(it == r.params.end() ? Json() : Json(it->second));
      }
      out["params"][k] = row;
    }
    out["metrics"] = Json::object();
    for (const auto& k : metrics) {
      Json row = Json::array();
      for (const auto& r : runs) {
        auto it = r.metrics.find(k);
        row.push_back(it == r.metrics.end() || !std::isfinite(it->second.value)
                          ? Json()
                          : Json(it->second.value));
      }
      out["metrics"][k] = row;
    }
    PrintJson(out);
    return kExitOk;
  }
  std::printf("%-32s", "");
  for (const auto& r : runs) std::printf(" %16s", r.run_id.substr(0, 8).c_str());
  std::printf("\n");
  auto row = [&](const std::string& k, auto get) {
    std::printf("%-32s", k.substr(0, 32).c_str());
    bool differs = false;
    std::string first;
    for (size_t i = 0; i < runs.size(); ++i) {
      std::string v = get(runs[i]);
      if (i == 0) first = v;
      differs = differs || v != first;
      std::printf(" %16s", v.substr(0, 16).c_str());
    }
    std::printf("%s\n", differs ? "  *" : "");
  };
  for (const auto& k : params) {
    row("params." + k, [&](const tracking::Run& r) {
      auto it = r.params.find(k);
      return it == r.params.end() ? std::string("-") : it->second;
    });
  }
  for (const auto& k : metrics) {
    row("metrics." + k, [&](const tracking::Run& r) {
      auto it = r.metrics.find(k);
      return it == r.metrics.end() ? std::string("-") : Number(it->second.value);
    });
  }
  std::printf("(* where the runs differ)\n");
  return kExitOk;
}

}  // namespace

void AddRunsCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* run) {
  CLI::App* cmd = app.add_subcommand("runs", "List, show and compare tracked runs");
  cmd->require_subcommand(1);

  auto list_args = std::make_shared<ListArgs>();
  CLI::App* list = cmd->add_subcommand("list", "Runs, newest first, filtered as MLflow does");
  list->add_option("--experiment", list_args->experiments, "Only this experiment (repeatable)");
  list->add_option("--filter", list_args->filter,
                   "MLflow search filter: \"metrics.auc > 0.9 AND params.max_depth = '6'\"");
  list->add_option("--order-by", list_args->order_by,
                   "MLflow order: \"metrics.auc DESC\" (repeatable)");
  list->add_option("--max", list_args->max, "At most this many runs");
  list->callback([&global, run, list_args] {
    *run = [&global, list_args] { return RunList(global, *list_args); };
  });

  auto show_id = std::make_shared<std::string>();
  CLI::App* show = cmd->add_subcommand("show", "One run: params, metrics, tags, inputs, files");
  show->add_option("ID", *show_id, "The run id, or 6 or more of its first characters")->required();
  show->callback(
      [&global, run, show_id] { *run = [&global, show_id] { return RunShow(global, *show_id); }; });

  auto compare_ids = std::make_shared<std::vector<std::string>>();
  CLI::App* compare = cmd->add_subcommand("compare", "Params and metrics of runs side by side");
  compare->add_option("ID", *compare_ids, "Two or more run ids")->required();
  compare->callback([&global, run, compare_ids] {
    *run = [&global, compare_ids] { return RunCompare(global, *compare_ids); };
  });
}

}  // namespace mloop::cli
