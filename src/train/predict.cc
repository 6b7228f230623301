#include "train/predict.h"

#include <algorithm>
#include <cmath>
#include <span>

#include "core/error.h"
#include "core/thread_pool.h"
#include "core/time.h"
#include "data/catalog.h"
#include "data/dataset_files.h"
#include "features/pipeline.h"
#include "model/tree_ensemble.h"
#include "table/column.h"
#include "table/csv_reader.h"
#include "table/csv_writer.h"
#include "table/jsonl_reader.h"
#include "table/jsonl_writer.h"
#include "tracking/tracking_store.h"
#include "train/xgboost_booster.h"

namespace mloop::train {
namespace {

namespace fs = std::filesystem;

table::Table ReadInput(store::Workspace& ws, const std::string& input) {
  if (!fs::exists(input) && input.find('@') != std::string::npos) {
    data::DatasetCatalog catalog(ws.metadata());
    return data::LoadVersionTable(ws, catalog.Resolve(data::ParseDatasetRef(input)));
  }
  if (!fs::exists(input)) ThrowNotFound(input + ": no such file (nor a dataset NAME@VERSION)");
  std::string ext = fs::path(input).extension().string();
  if (ext == ".jsonl" || ext == ".ndjson") return table::ReadJsonl(input).table;
  return table::ReadCsv(input).table;
}

table::Column DoubleColumn(std::string name, const std::vector<double>& values) {
  table::Bitmap valid;
  for (double v : values) valid.Append(!std::isnan(v));
  return table::Column::FromDoubles(std::move(name), values, std::move(valid));
}

}  // namespace

Json PredictOutcome::ToJson() const {
  return {{"run_id", run_id}, {"rows", rows}, {"output", output}, {"seconds", seconds}};
}

PredictOutcome PredictToFile(store::Workspace& ws, const PredictRequest& request) {
  const int64_t started = NowMicros();
  if (request.engine != "xgboost" && request.engine != "mloop") {
    ThrowInvalidArgument("--engine " + request.engine + ": expected mloop or xgboost");
  }
  std::string ext = request.output.extension().string();
  if (ext != ".csv" && ext != ".tsv" && ext != ".jsonl" && ext != ".ndjson") {
    ThrowInvalidArgument(request.output.string() +
                         ": the output's extension must be .csv, .tsv, .jsonl or .ndjson");
  }
  tracking::TrackingStore tracker(ws.metadata(), ws.artifacts());
  tracking::Run run = tracker.GetRun(request.model);
  std::string bundle_digest;
  for (const auto& a : run.artifacts) {
    if (a.path == "model/bundle.json") bundle_digest = a.digest;
  }
  if (bundle_digest.empty()) {
    ThrowNotFound("run " + run.run_id + " has no model bundle (model/bundle.json)");
  }
  Json bundle = ParseJson(ws.artifacts().Get(bundle_digest), "run " + run.run_id + " bundle");
  if (bundle.value("format", "") != "mloop-model-bundle" ||
      bundle.value("format_version", 0) != 1) {
    ThrowInvalidArgument("run " + run.run_id + ": the bundle is not a model bundle of format 1");
  }
  features::FittedPipeline pipeline =
      features::FittedPipeline::FromJson(bundle["pipeline"], "run " + run.run_id + " pipeline");
  const std::string model_bytes =
      ws.artifacts().Get(bundle["estimator"]["artifact"].get<std::string>());

  table::Table input = ReadInput(ws, request.input);
  features::FeatureMatrix x = pipeline.Transform(input);
  std::vector<float> p;
  if (request.engine == "mloop") {
    // The compiled evaluator: the same values as XGBoost's own (tested bit for bit), faster.
    model::TreeEnsemble ensemble = model::TreeEnsemble::FromXgboostUbjson(model_bytes);
    if (ensemble.num_features() != x.num_features) {
      ThrowInvalidArgument("run " + run.run_id + ": the model reads " +
                           std::to_string(ensemble.num_features()) +
                           " features, the pipeline gives " + std::to_string(x.num_features));
    }
    p.resize(x.num_rows * ensemble.num_outputs());
    const size_t block = 4096;  // Rows per task: many tasks, each long enough to be worth it.
    const size_t blocks = (x.num_rows + block - 1) / block;
    ThreadPool::Default().ParallelFor(blocks, [&](size_t b) {
      size_t begin = b * block, end = std::min(x.num_rows, begin + block);
      ensemble.Predict(std::span<const float>(x.values).subspan(begin * x.num_features,
                                                                (end - begin) * x.num_features),
                       end - begin,
                       std::span<float>(p).subspan(begin * ensemble.num_outputs(),
                                                   (end - begin) * ensemble.num_outputs()));
    });
  } else {
    XgbBooster booster = XgbBooster::Load(model_bytes);
    XgbMatrix m(x.values, x.num_rows, x.num_features);
    p = booster.Predict(m);
  }

  const std::string task = bundle["task"].get<std::string>();
  std::vector<std::string> classes = bundle["label"]["classes"].get<std::vector<std::string>>();
  table::Table out;
  std::vector<int64_t> lines = input.line_numbers();
  table::Bitmap all;
  all.AppendMany(true, lines.size());
  out.AddColumn(table::Column::FromInts("line", table::DataType::kInt64, lines, all));
  if (request.include_features) {
    for (size_t f = 0; f < x.num_features; ++f) {
      std::vector<double> values(x.num_rows);
      for (size_t r = 0; r < x.num_rows; ++r) values[r] = x.values[r * x.num_features + f];
      out.AddColumn(DoubleColumn("feature." + x.feature_names[f], values));
    }
  }
  if (task == "regression") {
    out.AddColumn(DoubleColumn("prediction", std::vector<double>(p.begin(), p.end())));
  } else if (task == "binary") {
    std::vector<double> prob(p.begin(), p.end());
    std::vector<std::string> label;
    for (double v : prob) label.push_back(classes[v >= 0.5 ? 1 : 0]);
    out.AddColumn(DoubleColumn("probability", prob));
    out.AddColumn(table::Column::FromStringValues("label", label));
  } else {
    const size_t k = classes.size();
    std::vector<std::string> label(x.num_rows);
    for (size_t c = 0; c < k; ++c) {
      std::vector<double> prob(x.num_rows);
      for (size_t r = 0; r < x.num_rows; ++r) prob[r] = p[r * k + c];
      out.AddColumn(DoubleColumn("probability." + classes[c], prob));
    }
    for (size_t r = 0; r < x.num_rows; ++r) {
      size_t best = 0;
      for (size_t c = 1; c < k; ++c) {
        if (p[r * k + c] > p[r * k + best]) best = c;
      }
      label[r] = classes[best];
    }
    out.AddColumn(table::Column::FromStringValues("label", label));
  }
  if (ext == ".jsonl" || ext == ".ndjson") {
    table::WriteJsonl(out, request.output);
  } else {
    table::CsvWriteOptions o;
    o.delimiter = ext == ".tsv" ? '\t' : ',';
    table::WriteCsv(out, request.output, o);
  }
  PredictOutcome outcome;
  outcome.run_id = run.run_id;
  outcome.rows = static_cast<int64_t>(x.num_rows);
  outcome.output = request.output.string();
  outcome.seconds = static_cast<double>(NowMicros() - started) / 1e6;
  return outcome;
}

}  // namespace mloop::train
