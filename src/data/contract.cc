#include "data/contract.h"

#include <cmath>
#include <initializer_list>
#include <set>

#include "core/digest.h"
#include "core/error.h"
#include "core/json_reader.h"

namespace mloop::data {

std::string_view SeverityName(Severity severity) {
  return severity == Severity::kWarn ? "warn" : "error";
}

const ColumnContract* Contract::FindColumn(std::string_view name) const {
  for (const auto& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

table::CsvOptions Contract::ReadOptions() const {
  table::CsvOptions options = format;
  for (const auto& c : columns) {
    if (c.type) options.column_types[c.name] = *c.type;
  }
  return options;
}

namespace {

// Walks the document with the key path of each value, and throws the one kind of error.
class Parser : public JsonReader {
 public:
  explicit Parser(std::string_view source) : JsonReader(source) {}

  Severity ParseSeverity(const std::string& path, const Json& v) const {
    std::string s = String(path, v);
    if (s == "error") return Severity::kError;
    if (s == "warn") return Severity::kWarn;
    Fail(path, "expected error or warn, got \"" + s + "\"");
  }
  // Reads `mostly` and `severity` from a check's mapping, when present.
  CheckOptions Options(const std::string& path, const Json& obj) const {
    CheckOptions o;
    if (obj.contains("mostly")) {
      o.mostly = Share(Join(path, "mostly"), obj["mostly"]);
      o.mostly_given = true;
    }
    if (obj.contains("severity"))
      o.severity = ParseSeverity(Join(path, "severity"), obj["severity"]);
    return o;
  }

  table::CsvOptions Format(const std::string& path, const Json& v) const {
    CheckKeys(path, v,
              {"delimiter", "quote", "header", "names", "null_values", "skip_lines", "comment",
               "skip_initial_space"});
    table::CsvOptions o;
    for (const auto& [key, value] : v.items()) {
      std::string p = Join(path, key);
      if (value.is_null()) continue;  // Written but empty: sniffed, as if left out.
      if (key == "delimiter") {
        o.delimiter = Char(p, value, false);
        if (*o.delimiter == '\n' || *o.delimiter == '\r' || *o.delimiter == '"') {
          Fail(p, "a line end or '\"' cannot be the delimiter");
        }
      } else if (key == "quote") {
        o.quote = Char(p, value, true);
      } else if (key == "header") {
        o.header = Bool(p, value);
      } else if (key == "names") {
        o.names = Names(p, value);
      } else if (key == "null_values") {
        o.null_values = Strings(p, value);
      } else if (key == "skip_lines") {
        o.skip_lines = static_cast<size_t>(NonNegative(p, value));
      } else if (key == "comment") {
        o.comment = Char(p, value, true);
      } else if (key == "skip_initial_space") {
        o.skip_initial_space = Bool(p, value);
      }
    }
    if (o.delimiter && o.quote && *o.quote != '\0' && *o.delimiter == *o.quote) {
      Fail(Join(path, "quote"), "the quote cannot be the delimiter");
    }
    return o;
  }

  // A bound: a number, or {value, mostly, severity}.
  BoundCheck Bound(const std::string& path, const Json& v) const {
    BoundCheck b;
    if (v.is_object()) {
      CheckKeys(path, v, {"value", "mostly", "severity"});
      if (!v.contains("value")) Fail(Join(path, "value"), "missing");
      b.value = Number(Join(path, "value"), v["value"]);
      b.options = Options(path, v);
    } else {
      if (!v.is_number()) WrongType(path, "a number or a mapping with value", v);
      b.value = Number(path, v);
    }
    return b;
  }

  AllowedCheck Allowed(const std::string& path, const Json& v,
                       const std::optional<table::DataType>& type) const {
    AllowedCheck a;
    const Json* list = &v;
    std::string list_path = path;
    if (v.is_object()) {
      CheckKeys(path, v, {"value", "mostly", "severity"});
      if (!v.contains("value")) Fail(Join(path, "value"), "missing");
      list = &v["value"];
      list_path = Join(path, "value");
      a.options = Options(path, v);
    }
    if (!list->is_array()) WrongType(list_path, "a list of values", *list);
    if (list->empty()) Fail(list_path, "expected at least one value");
    bool numbers = (*list)[0].is_number();
    for (size_t i = 0; i < list->size(); ++i) {
      const Json& item = (*list)[i];
      std::string p = Index(list_path, i);
      if (numbers) {
        if (!item.is_number()) {
          Fail(p, "expected a number like the first value, got " + TypeOf(item) +
                      " (quote numbers to make them strings)");
        }
        a.numbers.push_back(Number(p, item));
      } else {
        if (!item.is_string()) {
          Fail(p, "expected a string like the first value, got " + TypeOf(item));
        }
        a.strings.push_back(item.get<std::string>());
      }
    }
    if (type && numbers && !table::IsNumeric(*type)) {
      Fail(list_path, "numbers are not allowed values of a " +
                          std::string(table::DataTypeName(*type)) + " column");
    }
    if (type && !numbers && !table::IsTextual(*type)) {
      Fail(list_path, "strings are not allowed values of a " +
                          std::string(table::DataTypeName(*type)) + " column");
    }
    return a;
  }

  PatternCheck Pattern(const std::string& path, const Json& v) const {
    PatternCheck p;
    std::string text_path = path;
    if (v.is_object()) {
      CheckKeys(path, v, {"value", "mostly", "severity"});
      if (!v.contains("value")) Fail(Join(path, "value"), "missing");
      text_path = Join(path, "value");
      p.text = String(text_path, v["value"]);
      p.options = Options(path, v);
    } else {
      if (!v.is_string()) WrongType(path, "a regular expression string or a mapping", v);
      p.text = v.get<std::string>();
    }
    try {
      p.regex = std::regex(p.text, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      Fail(text_path, "invalid regular expression \"" + p.text + "\": " + e.what());
    }
    return p;
  }

  LengthCheck Length(const std::string& path, const Json& v) const {
    CheckKeys(path, v, {"min", "max", "mostly", "severity"});
    LengthCheck l;
    if (v.contains("min")) l.min = NonNegative(Join(path, "min"), v["min"]);
    if (v.contains("max")) l.max = NonNegative(Join(path, "max"), v["max"]);
    if (!l.min && !l.max) Fail(path, "expected min, max or both");
    if (l.min && l.max && *l.min > *l.max) Fail(path, "min is greater than max");
    l.options = Options(path, v);
    return l;
  }

  UniqueCheck Unique(const std::string& path, const Json& v, bool* on) const {
    UniqueCheck u;
    if (v.is_object()) {
      CheckKeys(path, v, {"value", "mostly", "severity"});
      *on = v.contains("value") ? Bool(Join(path, "value"), v["value"]) : true;
      u.options = Options(path, v);
    } else {
      *on = Bool(path, v);
    }
    return u;
  }

  ColumnContract Column(const std::string& path, const std::string& name, const Json& v) const {
    ColumnContract c;
    c.name = name;
    if (name.empty()) Fail(path, "a column name cannot be empty");
    if (v.is_null()) return c;  // `age:` with nothing under it: a column with no checks.
    CheckKeys(path, v,
              {"type", "role", "nullable", "min", "max", "exclusive_min", "exclusive_max",
               "allowed", "pattern", "length", "unique", "description"});
    // Type first: the checks below depend on it.
    if (v.contains("type") && !v["type"].is_null()) {
      std::string p = Join(path, "type");
      std::string t = String(p, v["type"]);
      c.type = table::DataTypeFromName(t);
      if (!c.type) {
        Fail(p, "unknown type \"" + t +
                    "\" (expected int64, float64, bool, string, category, date or timestamp)");
      }
    }
    auto need_numeric = [&](const std::string& p, std::string_view key) {
      if (c.type && !table::IsNumeric(*c.type) && !table::IsTemporal(*c.type)) {
        Fail(p, std::string(key) + " needs a numeric column, " + name + " is " +
                    std::string(table::DataTypeName(*c.type)));
      }
    };
    auto need_text = [&](const std::string& p, std::string_view key) {
      if (c.type && !table::IsTextual(*c.type)) {
        Fail(p, std::string(key) + " needs a string or category column, " + name + " is " +
                    std::string(table::DataTypeName(*c.type)));
      }
    };
    for (const auto& [key, value] : v.items()) {
      std::string p = Join(path, key);
      if (key == "type") continue;
      if (key == "description") {
        String(p, value);
      } else if (key == "role") {
        std::string r = String(p, value);
        auto role = table::ColumnRoleFromName(r);
        if (!role) {
          Fail(p, "unknown role \"" + r +
                      "\" (expected feature, label, id, entity, event_time, sensitive or ignore)");
        }
        c.role = *role;
      } else if (key == "nullable") {
        c.nullable = Bool(p, value);
      } else if (key == "min" || key == "max" || key == "exclusive_min" || key == "exclusive_max") {
        need_numeric(p, key);
        BoundCheck b = Bound(p, value);
        (key == "min"             ? c.min
         : key == "max"           ? c.max
         : key == "exclusive_min" ? c.exclusive_min
                                  : c.exclusive_max) = b;
      } else if (key == "allowed") {
        c.allowed = Allowed(p, value, c.type);
      } else if (key == "pattern") {
        need_text(p, key);
        c.pattern = Pattern(p, value);
      } else if (key == "length") {
        need_text(p, key);
        c.length = Length(p, value);
      } else if (key == "unique") {
        bool on = false;
        UniqueCheck u = Unique(p, value, &on);
        if (on) c.unique = u;
      }
    }
    auto lower = [](const ColumnContract& col) -> std::optional<double> {
      if (col.min && col.exclusive_min) return std::max(col.min->value, col.exclusive_min->value);
      if (col.min) return col.min->value;
      if (col.exclusive_min) return col.exclusive_min->value;
      return std::nullopt;
    };
    auto upper = [](const ColumnContract& col) -> std::optional<double> {
      if (col.max && col.exclusive_max) return std::min(col.max->value, col.exclusive_max->value);
      if (col.max) return col.max->value;
      if (col.exclusive_max) return col.exclusive_max->value;
      return std::nullopt;
    };
    if (lower(c) && upper(c) && *lower(c) > *upper(c)) {
      Fail(path, "the lower bound is greater than the upper bound: no value can pass");
    }
    return c;
  }

  RowRule Rule(const std::string& path, const Json& v, const Contract& contract) const {
    CheckKeys(path, v, {"name", "expression", "mostly", "severity", "description"});
    RowRule r;
    if (!v.contains("name")) Fail(Join(path, "name"), "missing");
    if (!v.contains("expression")) Fail(Join(path, "expression"), "missing");
    r.name = Name(Join(path, "name"), v["name"]);
    if (v.contains("description")) String(Join(path, "description"), v["description"]);
    std::string ep = Join(path, "expression");
    std::string text = String(ep, v["expression"]);
    try {
      r.expression = Expression::Parse(text);
    } catch (const Error& e) {
      Fail(ep, std::string(e.message()));
    }
    r.options = Options(path, v);
    // With declared columns, the rule may read only those; with all its columns typed, its
    // types are checked now rather than at the first batch.
    if (!contract.columns.empty()) {
      table::Schema schema;
      bool all_typed = true;
      for (const std::string& col : r.expression.ColumnNames()) {
        const ColumnContract* c = contract.FindColumn(col);
        if (!c) Fail(ep, "column '" + col + "' is not in columns");
        if (!c->type) {
          all_typed = false;
          continue;
        }
        schema.Add(table::Field{.name = col, .type = *c->type});
      }
      if (all_typed) {
        try {
          r.expression.BindRule(schema);
        } catch (const Error& e) {
          Fail(ep, std::string(e.message()));
        }
      }
    }
    return r;
  }

  RangeExpectation Range(const std::string& path, const Json& v, bool share) const {
    CheckKeys(path, v, {"min", "max", "severity"});
    RangeExpectation r;
    auto read = [&](std::string_view key) -> std::optional<double> {
      if (!v.contains(key)) return std::nullopt;
      std::string p = Join(path, key);
      return share ? Share(p, v[std::string(key)]) : Number(p, v[std::string(key)]);
    };
    r.min = read("min");
    r.max = read("max");
    if (!r.min && !r.max) Fail(path, "expected min, max or both");
    if (r.min && r.max && *r.min > *r.max) Fail(path, "min is greater than max");
    if (v.contains("severity")) r.severity = ParseSeverity(Join(path, "severity"), v["severity"]);
    return r;
  }

  void NeedColumn(const std::string& path, const std::string& name,
                  const Contract& contract) const {
    if (!contract.columns.empty() && !contract.FindColumn(name)) {
      Fail(path, "column '" + name + "' is not in columns");
    }
  }

  TableExpectations Table(const std::string& path, const Json& v, const Contract& contract) const {
    CheckKeys(path, v,
              {"row_count", "columns_exact", "columns_include", "unique_together", "columns",
               "quarantine_share", "distribution"});
    TableExpectations t;
    for (const auto& [key, value] : v.items()) {
      std::string p = Join(path, key);
      if (key == "row_count") {
        t.row_count = Range(p, value, false);
        if ((t.row_count->min && *t.row_count->min < 0)) Fail(Join(p, "min"), "must be >= 0");
      } else if (key == "columns_exact") {
        t.columns_exact = Names(p, value);
      } else if (key == "columns_include") {
        t.columns_include = Names(p, value);
      } else if (key == "unique_together") {
        if (!value.is_array()) WrongType(p, "a list", value);
        for (size_t i = 0; i < value.size(); ++i) {
          std::string ip = Index(p, i);
          UniqueTogether u;
          const Json* cols = &value[i];
          std::string cp = ip;
          if (value[i].is_object()) {
            CheckKeys(ip, value[i], {"columns", "severity"});
            if (!value[i].contains("columns")) Fail(Join(ip, "columns"), "missing");
            cols = &value[i]["columns"];
            cp = Join(ip, "columns");
            if (value[i].contains("severity")) {
              u.severity = ParseSeverity(Join(ip, "severity"), value[i]["severity"]);
            }
          }
          u.columns = Names(cp, *cols);
          if (u.columns.empty()) Fail(cp, "expected at least one column");
          for (size_t k = 0; k < u.columns.size(); ++k) {
            NeedColumn(Index(cp, k), u.columns[k], contract);
          }
          t.unique_together.push_back(std::move(u));
        }
      } else if (key == "columns") {
        ExpectObject(p, value);
        for (const auto& [name, spec] : value.items()) {
          std::string cp = Join(p, name);
          NeedColumn(cp, name, contract);
          CheckKeys(cp, spec, {"null_share", "mean", "std", "min", "max", "distinct", "quantiles"});
          ColumnStatsExpectation s;
          s.column = name;
          for (const auto& [k2, v2] : spec.items()) {
            std::string sp = Join(cp, k2);
            if (k2 == "null_share") s.null_share = Range(sp, v2, true);
            if (k2 == "mean") s.mean = Range(sp, v2, false);
            if (k2 == "std") s.std = Range(sp, v2, false);
            if (k2 == "min") s.min = Range(sp, v2, false);
            if (k2 == "max") s.max = Range(sp, v2, false);
            if (k2 == "distinct") s.distinct = Range(sp, v2, false);
            if (k2 == "quantiles") {
              if (!v2.is_array()) WrongType(sp, "a list", v2);
              for (size_t i = 0; i < v2.size(); ++i) {
                std::string qp = Index(sp, i);
                CheckKeys(qp, v2[i], {"q", "min", "max", "severity"});
                if (!v2[i].contains("q")) Fail(Join(qp, "q"), "missing");
                QuantileExpectation q;
                q.q = Share(Join(qp, "q"), v2[i]["q"]);
                Json range = v2[i];
                range.erase("q");
                q.range = Range(qp, range, false);
                s.quantiles.push_back(q);
              }
            }
          }
          t.columns.push_back(std::move(s));
        }
      } else if (key == "quarantine_share") {
        t.quarantine_share = Range(p, value, true);
      } else if (key == "distribution") {
        t.distribution = Distribution(p, value, contract);
      }
    }
    if (t.columns_exact && t.columns_include) {
      Fail(Join(path, "columns_include"), "give columns_exact or columns_include, not both");
    }
    return t;
  }

  DistributionExpectation Distribution(const std::string& path, const Json& v,
                                       const Contract& contract) const {
    CheckKeys(path, v, {"reference", "column", "columns", "psi_max", "severity"});
    DistributionExpectation d;
    std::string rp = Join(path, "reference");
    if (!v.contains("reference")) Fail(rp, "missing");
    std::string ref = String(rp, v["reference"]);
    size_t at = ref.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == ref.size() ||
        ref.find('@', at + 1) != std::string::npos) {
      Fail(rp, "expected NAME@VERSION (such as adult@3 or adult@latest), got \"" + ref + "\"");
    }
    d.reference_name = ref.substr(0, at);
    d.reference_version = ref.substr(at + 1);
    if (v.contains("column") && v.contains("columns")) {
      Fail(Join(path, "columns"), "give column or columns, not both");
    }
    if (v.contains("column")) d.columns = {Name(Join(path, "column"), v["column"])};
    if (v.contains("columns")) d.columns = Names(Join(path, "columns"), v["columns"]);
    std::string cp = Join(path, v.contains("column") ? "column" : "columns");
    for (size_t i = 0; i < d.columns.size(); ++i) {
      NeedColumn(v.contains("column") ? cp : Index(cp, i), d.columns[i], contract);
    }
    if (v.contains("psi_max")) {
      d.psi_max = Number(Join(path, "psi_max"), v["psi_max"]);
      if (d.psi_max < 0) Fail(Join(path, "psi_max"), "must be >= 0");
    }
    if (v.contains("severity")) d.severity = ParseSeverity(Join(path, "severity"), v["severity"]);
    return d;
  }

  Contract Document(const Json& doc) const {
    CheckKeys("", doc, {"name", "description", "format", "columns", "rows", "table"});
    Contract c;
    c.source = source();
    if (doc.contains("name")) c.name = Name("name", doc["name"]);
    if (doc.contains("description")) c.description = String("description", doc["description"]);
    if (doc.contains("format") && !doc["format"].is_null()) {
      c.format = Format("format", doc["format"]);
    }
    if (doc.contains("columns") && !doc["columns"].is_null()) {
      const Json& cols = doc["columns"];
      if (!cols.is_object()) WrongType("columns", "a mapping of column names", cols);
      for (const auto& [name, spec] : cols.items()) {
        c.columns.push_back(Column(Join("columns", name), name, spec));
      }
      // Given names and declared columns must agree, or one of them is a typo.
      if (!c.format.names.empty()) {
        for (const auto& col : c.columns) {
          bool found = false;
          for (const auto& n : c.format.names) found = found || n == col.name;
          if (!found) Fail(Join("columns", col.name), "not among format.names");
        }
      }
    }
    if (doc.contains("rows") && !doc["rows"].is_null()) {
      const Json& rows = doc["rows"];
      if (!rows.is_array()) WrongType("rows", "a list of rules", rows);
      std::set<std::string> names;
      for (size_t i = 0; i < rows.size(); ++i) {
        std::string p = Index("rows", i);
        c.rows.push_back(Rule(p, rows[i], c));
        if (!names.insert(c.rows.back().name).second) {
          Fail(Join(p, "name"), "rule name '" + c.rows.back().name + "' is used twice");
        }
      }
    }
    if (doc.contains("table") && !doc["table"].is_null()) {
      c.table = Table("table", doc["table"], c);
    }
    return c;
  }
};

}  // namespace

Contract ParseContract(const Json& doc, std::string_view source) {
  Parser parser(source);
  if (!doc.is_object()) parser.WrongType("(document)", "a mapping", doc);
  Contract contract = parser.Document(doc);
  contract.digest = Sha256Hex(doc.dump());
  return contract;
}

Contract LoadContract(const std::filesystem::path& path) {
  return ParseContract(ReadYamlFile(path), path.string());
}

}  // namespace mloop::data
