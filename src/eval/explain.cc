#include "eval/explain.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/time.h"
#include "eval/resolve.h"
#include "model/shap.h"
#include "table/column.h"

namespace mloop::eval {
namespace {

table::Column DoubleColumn(std::string name, std::vector<double> values) {
  table::Bitmap valid;
  for (double v : values) valid.Append(!std::isnan(v));
  return table::Column::FromDoubles(std::move(name), std::move(values), std::move(valid));
}

}  // namespace

Json ExplainOutcome::ToJson() const {
  return {{"run_id", run_id},
          {"rows", rows},
          {"features", features},
          {"output", output},
          {"max_sum_error", max_sum_error},
          {"seconds", seconds}};
}

ExplainOutcome ExplainToFile(store::Workspace& ws, const ExplainRequest& request) {
  const int64_t started = NowMicros();
  train::CheckOutputExtension(request.output);
  ResolvedModel r = ResolveModel(ws, request.model, "--model");
  const model::LoadedModel& m = r.run.model;
  table::Table input = train::ReadModelInput(ws, request.input);
  features::FeatureMatrix x = m.Transform(input);
  const size_t rows = x.num_rows, f = m.num_features(), groups = m.num_groups();
  std::vector<double> e(rows * groups * (f + 1));
  if (m.trees()) {
    model::TreeShap::FromXgboostUbjson(r.estimator_bytes).Explain(x.values, rows, e);
  } else {
    std::vector<double> means = m.feature_means();
    for (size_t j = 0; j < means.size(); ++j) {
      if (!std::isfinite(means[j])) {
        ThrowInvalidArgument("run " + r.run.run_id + ": the bundle has no training mean for '" +
                             m.feature_names()[j] + "'; retrain to explain a linear model");
      }
    }
    model::ExplainLinear(*m.linear(), means, x.values, rows, e);
  }
  std::vector<float> margin(rows * groups);
  m.PredictMargin(x.values, rows, margin);

  table::Table out;
  std::vector<int64_t> lines = input.line_numbers().ToVector();
  table::Bitmap all;
  all.AppendMany(true, lines.size());
  out.AddColumn(table::Column::FromInts("line", table::DataType::kInt64, lines, all));
  double max_error = 0;
  for (size_t g = 0; g < groups; ++g) {
    const std::string prefix = groups > 1 ? m.classes()[g] + "." : "";
    for (size_t j = 0; j <= f; ++j) {
      std::vector<double> v(rows);
      for (size_t i = 0; i < rows; ++i) v[i] = e[(i * groups + g) * (f + 1) + j];
      out.AddColumn(DoubleColumn(j < f ? "shap." + prefix + m.feature_names()[j]
                                       : "bias" + (groups > 1 ? "." + m.classes()[g] : ""),
                                 std::move(v)));
    }
    std::vector<double> mv(rows);
    for (size_t i = 0; i < rows; ++i) {
      const double* row = e.data() + (i * groups + g) * (f + 1);
      double sum = 0;
      for (size_t j = 0; j <= f; ++j) sum += row[j];
      mv[i] = std::isnan(sum) ? std::nan("") : static_cast<double>(margin[i * groups + g]);
      if (!std::isnan(sum)) max_error = std::max(max_error, std::fabs(sum - mv[i]));
    }
    out.AddColumn(DoubleColumn("margin" + (groups > 1 ? "." + m.classes()[g] : ""), mv));
  }
  train::WriteByExtension(out, request.output);
  ExplainOutcome o;
  o.run_id = r.run.run_id;
  o.rows = static_cast<int64_t>(rows);
  o.features = static_cast<int64_t>(f);
  o.max_sum_error = max_error;
  o.output = request.output.string();
  o.seconds = static_cast<double>(NowMicros() - started) / 1e6;
  return o;
}

}  // namespace mloop::eval
