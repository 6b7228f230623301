#include "eval/gates.h"

#include <cmath>

#include "core/digest.h"
#include "core/error.h"
#include "core/file.h"
#include "core/json_reader.h"

namespace mloop::eval {
namespace {

bool Has(const Json& obj, const char* key) { return obj.contains(key) && !obj[key].is_null(); }

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string Range(const Gate& g) {
  if (g.min && g.max) return " in [" + Num(*g.min) + ", " + Num(*g.max) + "]";
  if (g.min) return " >= " + Num(*g.min);
  return " <= " + Num(*g.max);
}

void ReadRange(const JsonReader& r, const std::string& path, const Json& v, Gate* g) {
  if (Has(v, "min")) g->min = r.Number(JsonReader::Join(path, "min"), v["min"]);
  if (Has(v, "max")) g->max = r.Number(JsonReader::Join(path, "max"), v["max"]);
  if (!g->min && !g->max) r.Fail(path, "give min, max or both");
  if (g->min && g->max && *g->min > *g->max) r.Fail(path, "expected min <= max");
}

// A value under `obj[key]`, or nullopt when it is missing or not a number.
std::optional<double> NumberAt(const Json& obj, const std::string& key) {
  if (!obj.is_object() || !obj.contains(key) || !obj[key].is_number()) return std::nullopt;
  return obj[key].get<double>();
}

struct Check {
  bool evaluated = true;
  bool passed = true;
  Json observed;
  std::string expected;
  std::string message;
};

const Json* FindDataset(const Json& report, const std::optional<std::string>& data) {
  if (!report.contains("datasets") || report["datasets"].empty()) return nullptr;
  if (!data) return &report["datasets"][0];
  for (const Json& d : report["datasets"]) {
    if (d.value("data", "") == *data || d.value("name", "") == *data) return &d;
  }
  return nullptr;
}

Check MetricGate(const Gate& g, const Json& d) {
  Check c;
  const bool higher = g.greater_is_better.value_or(GreaterIsBetter(g.metric));
  std::optional<double> value = NumberAt(d["metrics"], g.metric);
  if (!value) {
    c.passed = false;
    c.message = "the evaluation has no metric '" + g.metric + "'";
    return c;
  }
  c.observed = Json{{"candidate", *value}};
  std::vector<std::string> failures, expected;
  if (g.threshold) {
    expected.push_back(g.metric + (higher ? " >= " : " <= ") + Num(*g.threshold));
    if (higher ? *value < *g.threshold : *value > *g.threshold) {
      failures.push_back(g.metric + " " + Num(*value) + (higher ? " < " : " > ") +
                         Num(*g.threshold));
    }
  }
  if (g.min_absolute_change || g.min_relative_change) {
    std::optional<double> champion;
    if (d.contains("champion_metrics")) champion = NumberAt(d["champion_metrics"], g.metric);
    if (!champion) {
      if (!g.threshold) c.evaluated = false;
      expected.push_back("change against the champion (none to compare with: not evaluated)");
    } else {
      c.observed["champion"] = *champion;
      const double gain = higher ? *value - *champion : *champion - *value;
      c.observed["change"] = gain;
      if (g.min_absolute_change) {
        expected.push_back("absolute improvement >= " + Num(*g.min_absolute_change));
        if (gain < *g.min_absolute_change) {
          failures.push_back("improves on the champion's " + Num(*champion) + " by " + Num(gain) +
                             " < " + Num(*g.min_absolute_change));
        }
      }
      if (g.min_relative_change) {
        const double rel = *champion != 0 ? gain / std::fabs(*champion) : INFINITY;
        c.observed["relative_change"] = std::isfinite(rel) ? Json(rel) : Json();
        expected.push_back("relative improvement >= " + Num(*g.min_relative_change));
        if (rel < *g.min_relative_change) {
          failures.push_back("improves on the champion's " + Num(*champion) + " by " +
                             Num(rel * 100) + "% < " + Num(*g.min_relative_change * 100) + "%");
        }
      }
    }
  }
  for (const auto& e : expected) c.expected += (c.expected.empty() ? "" : "; ") + e;
  c.passed = failures.empty();
  for (const auto& f : failures) c.message += (c.message.empty() ? "" : "; ") + f;
  if (c.passed) c.message = g.metric + " " + Num(*value);
  return c;
}

Check BetterThanChampion(const Gate& g, const Json& d) {
  Check c;
  c.expected = g.metric + " better than the champion's at p < " + Num(g.alpha);
  if (!d.contains("comparison") || d["comparison"].is_null()) {
    c.evaluated = false;
    c.message = "no champion to compare with: not evaluated";
    return c;
  }
  const Json& tests = d["comparison"]["tests"];
  if (!tests.contains(g.metric)) {
    c.passed = false;
    c.message = "no paired test on '" + g.metric + "' (tested: " + [&] {
      std::string s;
      for (const auto& [k, v] : tests.items()) s += (s.empty() ? "" : ", ") + k;
      return s;
    }() + ")";
    return c;
  }
  const Json& t = tests[g.metric];
  std::optional<double> p = NumberAt(t, "p_value");
  std::optional<double> cand = NumberAt(d["metrics"], g.metric);
  std::optional<double> champ = NumberAt(d["champion_metrics"], g.metric);
  c.observed = {{"p_value", p ? Json(*p) : Json()},
                {"method", t.value("method", "")},
                {"candidate", cand ? Json(*cand) : Json()},
                {"champion", champ ? Json(*champ) : Json()}};
  const bool higher = GreaterIsBetter(g.metric);
  const bool better = cand && champ && (higher ? *cand > *champ : *cand < *champ);
  c.passed = better && p && *p < g.alpha;
  c.message = g.metric + " " + (cand ? Num(*cand) : "?") + " vs the champion's " +
              (champ ? Num(*champ) : "?") + ", " + t.value("method", "") +
              " p = " + (p ? Num(*p) : "?");
  if (!better) c.message += " (not better)";
  return c;
}

Check Bounded(const Gate& g, std::optional<double> value, const std::string& what) {
  Check c;
  c.expected = what + Range(g);
  if (!value) {
    c.passed = false;
    c.message = "the evaluation has no " + what;
    return c;
  }
  c.observed = *value;
  c.passed = (!g.min || *value >= *g.min) && (!g.max || *value <= *g.max);
  c.message = what + " = " + Num(*value);
  return c;
}

}  // namespace

bool GreaterIsBetter(std::string_view name) {
  for (std::string_view lower :
       {"log_loss", "brier", "rmse", "mse", "mae", "mape", "median_absolute_error", "max_error",
        "expected_calibration_error", "ece"}) {
    if (name == lower) return false;
  }
  auto ends = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  return !(ends("_loss") || ends("_error") || ends("_ms") || ends("_difference"));
}

GatesConfig ParseGates(const Json& doc, std::string_view source) {
  JsonReader r(source);
  GatesConfig c;
  c.source = std::string(source);
  r.CheckKeys("", doc, {"data", "gates", "description"});
  if (Has(doc, "data")) c.data = r.Name("data", doc["data"]);
  const Json& list = r.Required("", doc, "gates");
  if (!list.is_array()) r.WrongType("gates", "a list", list);
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string path = JsonReader::Index("gates", i);
    const Json& e = list[i];
    r.ExpectObject(path, e);
    Gate g;
    if (Has(e, "metric")) {
      g.kind = Gate::Kind::kMetric;
      r.CheckKeys(path, e,
                  {"metric", "threshold", "min_absolute_change", "min_relative_change",
                   "greater_is_better"});
      g.metric = r.Name(JsonReader::Join(path, "metric"), e["metric"]);
      if (Has(e, "threshold")) {
        g.threshold = r.Number(JsonReader::Join(path, "threshold"), e["threshold"]);
      }
      if (Has(e, "min_absolute_change")) {
        g.min_absolute_change =
            r.Number(JsonReader::Join(path, "min_absolute_change"), e["min_absolute_change"]);
      }
      if (Has(e, "min_relative_change")) {
        g.min_relative_change =
            r.Number(JsonReader::Join(path, "min_relative_change"), e["min_relative_change"]);
      }
      if (Has(e, "greater_is_better")) {
        g.greater_is_better =
            r.Bool(JsonReader::Join(path, "greater_is_better"), e["greater_is_better"]);
      }
      if (!g.threshold && !g.min_absolute_change && !g.min_relative_change) {
        r.Fail(path, "give threshold, min_absolute_change or min_relative_change");
      }
      const bool higher = g.greater_is_better.value_or(GreaterIsBetter(g.metric));
      g.text = g.metric;
      if (g.threshold) g.text += (higher ? " >= " : " <= ") + Num(*g.threshold);
      if (g.min_absolute_change) g.text += ", +" + Num(*g.min_absolute_change) + " vs champion";
      if (g.min_relative_change) {
        g.text += ", +" + Num(*g.min_relative_change * 100) + "% vs champion";
      }
    } else {
      r.CheckKeys(path, e, {"better_than_champion", "fairness", "latency", "slice"});
      if (e.size() != 1) {
        r.Fail(path,
               "one condition per entry: metric, better_than_champion, fairness, "
               "latency or slice");
      }
      const std::string kind = e.begin().key();
      const std::string sub = JsonReader::Join(path, kind);
      const Json& v = e.begin().value();
      r.ExpectObject(sub, v);
      if (kind == "better_than_champion") {
        g.kind = Gate::Kind::kBetterThanChampion;
        r.CheckKeys(sub, v, {"metric", "alpha"});
        g.metric = r.Name(JsonReader::Join(sub, "metric"), r.Required(sub, v, "metric"));
        if (Has(v, "alpha")) {
          g.alpha = r.Share(JsonReader::Join(sub, "alpha"), v["alpha"]);
          if (g.alpha <= 0) r.Fail(JsonReader::Join(sub, "alpha"), "expected alpha > 0");
        }
        g.text = g.metric + " better than the champion's (p < " + Num(g.alpha) + ")";
      } else if (kind == "fairness" || kind == "slice") {
        g.kind = kind == "fairness" ? Gate::Kind::kFairness : Gate::Kind::kSlice;
        r.CheckKeys(sub, v, {"column", "metric", "min", "max"});
        g.column = r.Name(JsonReader::Join(sub, "column"), r.Required(sub, v, "column"));
        g.metric = r.Name(JsonReader::Join(sub, "metric"), r.Required(sub, v, "metric"));
        ReadRange(r, sub, v, &g);
        g.text = (kind == "fairness" ? g.metric + " of " + g.column
                                     : g.metric + " on every group of " + g.column) +
                 Range(g);
      } else {
        g.kind = Gate::Kind::kLatency;
        r.CheckKeys(sub, v, {"p50_ms", "p95_ms", "p99_ms"});
        if (Has(v, "p50_ms")) g.p50_ms = r.Number(JsonReader::Join(sub, "p50_ms"), v["p50_ms"]);
        if (Has(v, "p95_ms")) g.p95_ms = r.Number(JsonReader::Join(sub, "p95_ms"), v["p95_ms"]);
        if (Has(v, "p99_ms")) g.p99_ms = r.Number(JsonReader::Join(sub, "p99_ms"), v["p99_ms"]);
        if (!g.p50_ms && !g.p95_ms && !g.p99_ms) r.Fail(sub, "give p50_ms, p95_ms or p99_ms");
        g.text = "latency";
        if (g.p50_ms) g.text += " p50 <= " + Num(*g.p50_ms) + " ms";
        if (g.p95_ms) g.text += " p95 <= " + Num(*g.p95_ms) + " ms";
        if (g.p99_ms) g.text += " p99 <= " + Num(*g.p99_ms) + " ms";
      }
    }
    c.gates.push_back(std::move(g));
  }
  c.digest = Sha256Hex(doc.dump());
  return c;
}

GatesConfig LoadGates(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) ThrowNotFound(path.string() + ": no such file");
  return ParseGates(ReadYamlFile(path), path.string());
}

Json ApplyGates(const GatesConfig& gates, const Json& report) {
  Json conditions = Json::array();
  Json failed = Json::array();
  const Json* d = FindDataset(report, gates.data);
  for (size_t i = 0; i < gates.gates.size(); ++i) {
    const Gate& g = gates.gates[i];
    Check c;
    if (g.kind == Gate::Kind::kLatency) {
      const Json& lat = report.contains("latency") ? report["latency"] : Json();
      c.passed = true;
      Json observed = Json::object();
      for (auto [name, bound] : {std::pair{"p50_ms", g.p50_ms}, std::pair{"p95_ms", g.p95_ms},
                                 std::pair{"p99_ms", g.p99_ms}}) {
        if (!bound) continue;
        std::optional<double> v = NumberAt(lat, name);
        observed[name] = v ? Json(*v) : Json();
        if (!v || *v > *bound) {
          c.passed = false;
          c.message += (c.message.empty() ? "" : "; ") + std::string(name) + " " +
                       (v ? Num(*v) : "not measured") + " > " + Num(*bound);
        }
      }
      c.observed = observed;
      c.expected = g.text;
      if (c.passed) c.message = "within budget";
    } else if (d == nullptr) {
      c.passed = false;
      c.message = "the evaluation has no data set '" + gates.data.value_or("(first)") + "'";
    } else if (g.kind == Gate::Kind::kMetric) {
      c = MetricGate(g, *d);
    } else if (g.kind == Gate::Kind::kBetterThanChampion) {
      c = BetterThanChampion(g, *d);
    } else if (g.kind == Gate::Kind::kFairness) {
      const Json& f = d->contains("fairness") ? (*d)["fairness"] : Json();
      std::optional<double> v;
      if (f.is_object() && f.contains(g.column)) v = NumberAt(f[g.column], g.metric);
      if (!f.is_object() || !f.contains(g.column)) {
        c.passed = false;
        c.expected = g.text;
        c.message = "no fairness results for column '" + g.column +
                    "' (fairness is measured on the columns with role sensitive)";
      } else {
        c = Bounded(g, v, g.metric + " of " + g.column);
      }
    } else {  // kSlice
      const Json& s = d->contains("slices") ? (*d)["slices"] : Json();
      c.expected = g.text;
      if (!s.is_object() || !s.contains(g.column)) {
        c.passed = false;
        c.message = "no slice by column '" + g.column + "' (add it to --slice)";
      } else {
        Json observed = Json::object();
        for (const Json& group : s[g.column]) {
          std::string name = group.value("slice", "");
          std::optional<double> v = NumberAt(group["metrics"], g.metric);
          observed[name] = v ? Json(*v) : Json();
          if (!v) continue;  // A group where the metric is undefined (one class only).
          if ((g.min && *v < *g.min) || (g.max && *v > *g.max)) {
            c.passed = false;
            c.message += (c.message.empty() ? "" : "; ") + g.column + "=" + name + ": " + g.metric +
                         " " + Num(*v);
          }
        }
        c.observed = observed;
        if (c.passed) c.message = "every group within bounds";
      }
    }
    if (c.expected.empty()) c.expected = g.text;
    Json entry = {{"gate", i},
                  {"condition", g.text},
                  {"passed", c.passed},
                  {"evaluated", c.evaluated},
                  {"observed", c.observed},
                  {"expected", c.expected},
                  {"message", c.message}};
    if (!c.passed) failed.push_back(entry);
    conditions.push_back(std::move(entry));
  }
  return {{"decision", failed.empty() ? "PROMOTE" : "REJECT"},
          {"gates_digest", gates.digest},
          {"gates_source", gates.source},
          {"conditions", conditions},
          {"failed", failed}};
}

}  // namespace mloop::eval
