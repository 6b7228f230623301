#include "eval/slices.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_map>

#include "core/error.h"

namespace mloop::eval {
namespace {

bool IsNumberColumn(table::DataType type) {
  switch (type) {
    case table::DataType::kInt64:
    case table::DataType::kFloat64:
    case table::DataType::kBool:
    case table::DataType::kDate:
    case table::DataType::kTimestamp:
      return true;
    case table::DataType::kString:
    case table::DataType::kCategory:
      return false;
  }
  return false;
}

std::string Format(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

// "LOWER, UPPER)", built by appending (GCC 12 warns falsely, -Wrestrict, on "x" + string).
std::string Interval(std::string lower, const std::string& upper) {
  lower += ", ";
  lower += upper;
  lower += ")";
  return lower;
}

// Adds the "(null)" group for rows still without one.
void AddNullGroup(Groups& groups, const std::vector<bool>& is_null) {
  uint32_t null_group = Groups::kNoGroup;
  for (size_t i = 0; i < is_null.size(); ++i) {
    if (!is_null[i]) continue;
    if (null_group == Groups::kNoGroup) {
      null_group = static_cast<uint32_t>(groups.names.size());
      groups.names.emplace_back(kNullGroupName);
    }
    groups.of_row[i] = null_group;
  }
}

// np.quantile(values, q) with linear interpolation over the sorted values.
double Quantile(const std::vector<double>& sorted, double q) {
  double position = q * static_cast<double>(sorted.size() - 1);
  size_t below = static_cast<size_t>(std::floor(position));
  size_t above = std::min(below + 1, sorted.size() - 1);
  double fraction = position - static_cast<double>(below);
  return sorted[below] + (sorted[above] - sorted[below]) * fraction;
}

}  // namespace

Groups GroupsByValue(const table::Column& column) {
  Groups groups;
  groups.column = column.name();
  groups.of_row.assign(column.size(), Groups::kNoGroup);
  std::vector<bool> is_null(column.size(), false);
  std::unordered_map<std::string, uint32_t> index;
  for (size_t i = 0; i < column.size(); ++i) {
    if (column.IsNull(i)) {
      is_null[i] = true;
      continue;
    }
    std::string value = column.ValueToString(i);
    auto [it, added] = index.try_emplace(value, static_cast<uint32_t>(groups.names.size()));
    if (added) groups.names.push_back(std::move(value));
    groups.of_row[i] = it->second;
  }
  if (column.type() == table::DataType::kCategory) {
    // Dictionary order: renumber the groups by code.
    std::vector<std::pair<int32_t, uint32_t>> by_code;
    for (uint32_t g = 0; g < groups.names.size(); ++g) {
      const auto& dict = column.dictionary();
      auto code = std::find(dict.begin(), dict.end(), groups.names[g]) - dict.begin();
      by_code.emplace_back(static_cast<int32_t>(code), g);
    }
    std::sort(by_code.begin(), by_code.end());
    std::vector<uint32_t> renumber(groups.names.size());
    std::vector<std::string> names;
    for (uint32_t k = 0; k < by_code.size(); ++k) {
      renumber[by_code[k].second] = k;
      names.push_back(groups.names[by_code[k].second]);
    }
    for (uint32_t& g : groups.of_row) {
      if (g != Groups::kNoGroup) g = renumber[g];
    }
    groups.names = std::move(names);
  }
  AddNullGroup(groups, is_null);
  return groups;
}

Groups GroupsByEdges(const table::Column& column, std::span<const double> edges) {
  if (!IsNumberColumn(column.type())) {
    ThrowInvalidArgument("slices: column " + column.name() + " is " +
                         std::string(table::DataTypeName(column.type())) +
                         ", not numeric; slice it by value");
  }
  for (size_t k = 0; k < edges.size(); ++k) {
    if (!std::isfinite(edges[k]) || (k > 0 && !(edges[k] > edges[k - 1]))) {
      ThrowInvalidArgument("slices: the bucket edges of column " + column.name() +
                           " must be finite and strictly ascending");
    }
  }
  Groups groups;
  groups.column = column.name();
  groups.of_row.assign(column.size(), Groups::kNoGroup);
  groups.names.push_back(Interval("(-inf", edges.empty() ? "inf" : Format(edges[0])));
  for (size_t k = 0; k < edges.size(); ++k) {
    std::string lower = "[";
    lower += Format(edges[k]);
    groups.names.push_back(Interval(lower, k + 1 < edges.size() ? Format(edges[k + 1]) : "inf"));
  }
  std::vector<bool> is_null(column.size(), false);
  for (size_t i = 0; i < column.size(); ++i) {
    double v = column.IsNull(i) ? std::nan("") : column.NumberAt(i);
    if (std::isnan(v)) {
      is_null[i] = true;
      continue;
    }
    groups.of_row[i] =
        static_cast<uint32_t>(std::upper_bound(edges.begin(), edges.end(), v) - edges.begin());
  }
  AddNullGroup(groups, is_null);
  return groups;
}

Groups GroupsByQuantiles(const table::Column& column, size_t buckets) {
  if (buckets == 0) ThrowInvalidArgument("slices: the number of quantile buckets must be >= 1");
  if (!IsNumberColumn(column.type())) return GroupsByEdges(column, {});  // Throws.
  std::vector<double> sorted;
  for (size_t i = 0; i < column.size(); ++i) {
    if (column.IsNull(i)) continue;
    double v = column.NumberAt(i);
    if (!std::isnan(v)) sorted.push_back(v);
  }
  std::sort(sorted.begin(), sorted.end());
  std::vector<double> edges;
  if (!sorted.empty()) {
    for (size_t k = 1; k < buckets; ++k) {
      double e = Quantile(sorted, static_cast<double>(k) / static_cast<double>(buckets));
      if (edges.empty() || e > edges.back()) edges.push_back(e);
    }
  }
  return GroupsByEdges(column, edges);
}

std::vector<size_t> GroupCounts(const Groups& groups) {
  std::vector<size_t> counts(groups.names.size(), 0);
  for (uint32_t g : groups.of_row) {
    if (g == Groups::kNoGroup) continue;
    if (g >= counts.size()) {
      ThrowInvalidArgument("groups: group index " + std::to_string(g) + " but only " +
                           std::to_string(counts.size()) + " names");
    }
    ++counts[g];
  }
  return counts;
}

Json SliceReports(const Groups& groups, size_t classes, std::span<const float> labels,
                  std::span<const float> predictions, std::span<const float> weights,
                  const BinaryReportOptions& options) {
  const size_t per_row = classes > 2 ? classes : 1;
  if (groups.of_row.size() != labels.size() || predictions.size() != labels.size() * per_row ||
      (!weights.empty() && weights.size() != labels.size())) {
    ThrowInvalidArgument("slices: " + std::to_string(groups.of_row.size()) + " grouped rows, " +
                         std::to_string(labels.size()) + " labels, " +
                         std::to_string(predictions.size()) + " predictions and " +
                         std::to_string(weights.size()) + " weights do not match");
  }
  std::vector<size_t> counts = GroupCounts(groups);
  Json out = Json::array();
  for (uint32_t g = 0; g < groups.names.size(); ++g) {
    std::vector<float> y, f, w;
    y.reserve(counts[g]);
    for (size_t i = 0; i < labels.size(); ++i) {
      if (groups.of_row[i] != g) continue;
      y.push_back(labels[i]);
      f.insert(f.end(), predictions.begin() + static_cast<ptrdiff_t>(i * per_row),
               predictions.begin() + static_cast<ptrdiff_t>((i + 1) * per_row));
      if (!weights.empty()) w.push_back(weights[i]);
    }
    Json slice = {{"slice", groups.names[g]}, {"rows", y.size()}};
    if (!y.empty()) {
      try {
        Json report = classes == 0   ? RegressionReport(y, f, w)
                      : classes == 2 ? BinaryReport(y, f, w, options)
                                     : MulticlassReport(y, f, classes, w);
        for (const auto& item : report.items()) {
          if (item.key() != "rows") slice[item.key()] = item.value();
        }
      } catch (const Error& e) {
        // A slice too degenerate for its metrics (all weights 0) is reported, not fatal.
        slice["error"] = std::string(e.message());
      }
    }
    out.push_back(std::move(slice));
  }
  return out;
}

}  // namespace mloop::eval
