#include "stats/drift.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/error.h"
#include "table/schema.h"

namespace mloop::stats {
namespace {

using table::DataType;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

void CheckEpsilon(double epsilon) {
  if (!(epsilon > 0 && epsilon < 1)) {
    ThrowInvalidArgument("PSI: epsilon must be in (0, 1), not " + std::to_string(epsilon));
  }
}

// One bin's term of the PSI; the shares are checked by the caller.
double PsiTerm(double ref, double cur, double epsilon) {
  ref = std::max(ref, epsilon);
  cur = std::max(cur, epsilon);
  return (cur - ref) * std::log(cur / ref);
}

// The column's family for compatibility: equal families can be compared.
enum class Family { kNumber, kDate, kTimestamp, kText, kBool };

Family FamilyOf(DataType type) {
  switch (type) {
    case DataType::kInt64:
    case DataType::kFloat64:
      return Family::kNumber;
    case DataType::kDate:
      return Family::kDate;
    case DataType::kTimestamp:
      return Family::kTimestamp;
    case DataType::kString:
    case DataType::kCategory:
      return Family::kText;
    case DataType::kBool:
      return Family::kBool;
  }
  ThrowInternal("PSI: unknown data type");
}

std::string ColumnNames(const ColumnProfile& reference, const ColumnProfile& current) {
  if (reference.name() == current.name()) return "column '" + reference.name() + "'";
  return "columns '" + reference.name() + "' and '" + current.name() + "'";
}

// The shortest decimal that reads back as `x`; "-inf" and "+inf" for the infinities.
std::string FormatEdge(double x) {
  if (std::isinf(x)) return x < 0 ? "-inf" : "+inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), x);
  if (ec != std::errc()) ThrowInternal("PSI: cannot format a bin edge");
  return std::string(buf, end);
}

double Share(uint64_t part, uint64_t rows) {
  return static_cast<double>(part) / static_cast<double>(rows);
}

PsiBin SpecialBin(PsiBinKind kind, std::string label, double reference, double current) {
  return PsiBin{kind, std::move(label), kNaN, kNaN, reference, current, 0};
}

// The shares of a profile's rows in (-inf, e0], (e0, e1], ..., (e_last, +inf), from its
// sketch of the finite values.
std::vector<double> RangeShares(const ColumnProfile& profile, const std::vector<double>& edges) {
  const QuantileSketch& sketch = profile.numeric()->quantiles;
  std::vector<double> shares(edges.size() + 1, 0.0);
  if (sketch.empty()) return shares;
  std::vector<double> cdf = sketch.Cdf(edges);
  const double finite_share = Share(sketch.n(), profile.count());
  double below = 0;
  for (size_t i = 0; i < shares.size(); ++i) {
    double upto = i < cdf.size() ? cdf[i] : 1.0;
    shares[i] = std::max(0.0, upto - below) * finite_share;
    below = upto;
  }
  return shares;
}

void AddNumericBins(const ColumnProfile& reference, const ColumnProfile& current,
                    const PsiOptions& options, std::vector<PsiBin>& bins) {
  const NumericStats& ref = *reference.numeric();
  const NumericStats& cur = *current.numeric();
  std::vector<double> edges;
  if (!ref.quantiles.empty()) {
    std::vector<double> qs;
    for (size_t i = 1; i < options.bins; ++i) {
      qs.push_back(static_cast<double>(i) / static_cast<double>(options.bins));
    }
    edges = ref.quantiles.Quantiles(qs);
    edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  }
  std::vector<double> ref_shares = RangeShares(reference, edges);
  std::vector<double> cur_shares = RangeShares(current, edges);
  for (size_t i = 0; i <= edges.size(); ++i) {
    double lower = i == 0 ? -kInf : edges[i - 1];
    double upper = i == edges.size() ? kInf : edges[i];
    std::string label =
        "(" + FormatEdge(lower) + ", " + FormatEdge(upper) + (upper == kInf ? ")" : "]");
    bins.push_back(PsiBin{PsiBinKind::kRange, std::move(label), lower, upper, ref_shares[i],
                          cur_shares[i], 0});
  }
  uint64_t ref_non_finite = ref.nan_count + ref.inf_count;
  uint64_t cur_non_finite = cur.nan_count + cur.inf_count;
  if (ref_non_finite > 0 || cur_non_finite > 0) {
    bins.push_back(SpecialBin(PsiBinKind::kNonFinite, "<nan/inf>",
                              Share(ref_non_finite, reference.count()),
                              Share(cur_non_finite, current.count())));
  }
}

void AddTextBins(const ColumnProfile& reference, const ColumnProfile& current,
                 std::vector<PsiBin>& bins) {
  std::vector<TopK::Item> ref_items = reference.text()->top_k.Items();
  std::vector<TopK::Item> cur_items = current.text()->top_k.Items();
  std::unordered_map<std::string_view, uint64_t> cur_counts;
  for (const TopK::Item& item : cur_items) cur_counts.emplace(item.value, item.count);
  std::unordered_set<std::string_view> in_reference;
  uint64_t ref_listed = 0;
  uint64_t cur_listed = 0;
  auto add = [&](const std::string& value, uint64_t ref_count, uint64_t cur_count) {
    ref_listed += ref_count;
    cur_listed += cur_count;
    bins.push_back(SpecialBin(PsiBinKind::kValue, value, Share(ref_count, reference.count()),
                              Share(cur_count, current.count())));
  };
  for (const TopK::Item& item : ref_items) {
    in_reference.insert(item.value);
    auto it = cur_counts.find(item.value);
    add(item.value, item.count, it == cur_counts.end() ? 0 : it->second);
  }
  for (const TopK::Item& item : cur_items) {
    if (!in_reference.contains(item.value)) add(item.value, 0, item.count);
  }
  // Top-k counts are lower bounds of counts within the non-null values, so the rest is
  // never negative for a consistent profile; saturate for one that is not.
  auto rest = [](uint64_t valid, uint64_t listed) { return valid > listed ? valid - listed : 0; };
  bins.push_back(SpecialBin(PsiBinKind::kOther, "<other>",
                            Share(rest(reference.valid(), ref_listed), reference.count()),
                            Share(rest(current.valid(), cur_listed), current.count())));
}

void AddBoolBins(const ColumnProfile& reference, const ColumnProfile& current,
                 std::vector<PsiBin>& bins) {
  bins.push_back(SpecialBin(PsiBinKind::kValue, "false",
                            Share(reference.valid() - reference.true_count(), reference.count()),
                            Share(current.valid() - current.true_count(), current.count())));
  bins.push_back(SpecialBin(PsiBinKind::kValue, "true",
                            Share(reference.true_count(), reference.count()),
                            Share(current.true_count(), current.count())));
}

}  // namespace

double PsiFromProportions(std::span<const double> ref, std::span<const double> cur,
                          double epsilon) {
  CheckEpsilon(epsilon);
  if (ref.size() != cur.size()) {
    ThrowInvalidArgument("PSI: " + std::to_string(ref.size()) + " reference shares but " +
                         std::to_string(cur.size()) + " current shares");
  }
  double psi = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!(std::isfinite(ref[i]) && ref[i] >= 0 && std::isfinite(cur[i]) && cur[i] >= 0)) {
      ThrowInvalidArgument("PSI: share " + std::to_string(i) +
                           " is negative or not finite (reference " + std::to_string(ref[i]) +
                           ", current " + std::to_string(cur[i]) + ")");
    }
    psi += PsiTerm(ref[i], cur[i], epsilon);
  }
  return psi;
}

PsiResult PopulationStabilityIndex(const ColumnProfile& reference, const ColumnProfile& current,
                                   const PsiOptions& options) {
  if (options.bins < 1) ThrowInvalidArgument("PSI: bins must be at least 1");
  CheckEpsilon(options.epsilon);
  Family family = FamilyOf(reference.type());
  if (family != FamilyOf(current.type())) {
    ThrowInvalidArgument("PSI of " + ColumnNames(reference, current) + ": cannot compare " +
                         std::string(table::DataTypeName(reference.type())) + " with " +
                         std::string(table::DataTypeName(current.type())));
  }
  if (reference.count() == 0 || current.count() == 0) {
    ThrowInvalidArgument("PSI of " + ColumnNames(reference, current) + ": the " +
                         (reference.count() == 0 ? "reference" : "current") +
                         " profile has no rows");
  }

  PsiResult result;
  switch (family) {
    case Family::kNumber:
    case Family::kDate:
    case Family::kTimestamp:
      AddNumericBins(reference, current, options, result.bins);
      break;
    case Family::kText:
      AddTextBins(reference, current, result.bins);
      break;
    case Family::kBool:
      AddBoolBins(reference, current, result.bins);
      break;
  }
  result.bins.push_back(SpecialBin(PsiBinKind::kNull, "<null>",
                                   Share(reference.nulls(), reference.count()),
                                   Share(current.nulls(), current.count())));

  std::vector<double> ref_shares;
  std::vector<double> cur_shares;
  for (PsiBin& bin : result.bins) {
    bin.contribution = PsiTerm(bin.reference, bin.current, options.epsilon);
    ref_shares.push_back(bin.reference);
    cur_shares.push_back(bin.current);
  }
  result.psi = PsiFromProportions(ref_shares, cur_shares, options.epsilon);
  return result;
}

}  // namespace mloop::stats
