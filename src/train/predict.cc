#include "train/predict.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <optional>
#include <span>

#include "core/error.h"
#include "core/thread_pool.h"
#include "core/time.h"
#include "data/catalog.h"
#include "data/dataset_files.h"
#include "features/pipeline.h"
#include "model/bundle.h"
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

table::Column DoubleColumn(std::string name, const std::vector<double>& values) {
  table::Bitmap valid;
  for (double v : values) valid.Append(!std::isnan(v));
  return table::Column::FromDoubles(std::move(name), values, std::move(valid));
}

// The predicted class of each row; none where the prediction is missing (a linear model's row
// with a missing input).
table::Column LabelColumn(const std::vector<std::optional<std::string>>& labels) {
  std::vector<uint64_t> offsets = {0};
  std::string chars;
  table::Bitmap valid;
  for (const auto& l : labels) {
    if (l) chars += *l;
    offsets.push_back(chars.size());
    valid.Append(l.has_value());
  }
  return table::Column::FromStrings("label", std::move(offsets), std::move(chars),
                                    std::move(valid));
}

}  // namespace

RunModel LoadRunModel(store::Workspace& ws, const std::string& run_ref) {
  tracking::TrackingStore tracker(ws.metadata(), ws.artifacts());
  tracking::Run run = tracker.GetRun(run_ref);
  std::string bundle_digest;
  for (const auto& a : run.artifacts) {
    if (a.path == "model/bundle.json") bundle_digest = a.digest;
  }
  if (bundle_digest.empty()) {
    ThrowNotFound("run " + run.run_id + " has no model bundle (model/bundle.json)");
  }
  const std::string source = "run " + run.run_id.substr(0, 8);
  Json bundle = ParseJson(ws.artifacts().Get(bundle_digest), source + " bundle");
  if (!bundle.contains("estimator") || !bundle["estimator"].contains("artifact") ||
      !bundle["estimator"]["artifact"].is_string()) {
    ThrowInvalidArgument(source + ": bundle: estimator.artifact: required, but missing");
  }
  std::string bytes = ws.artifacts().Get(bundle["estimator"]["artifact"].get<std::string>());
  return {run.run_id, bundle_digest, model::LoadedModel::Load(bundle, bytes, source)};
}

table::Table ReadModelInput(store::Workspace& ws, const std::string& input) {
  if (!fs::exists(input) && input.find('@') != std::string::npos) {
    data::DatasetCatalog catalog(ws.metadata());
    return data::LoadVersionTable(ws, catalog.Resolve(data::ParseDatasetRef(input)));
  }
  if (!fs::exists(input)) ThrowNotFound(input + ": no such file (nor a dataset NAME@VERSION)");
  std::string ext = fs::path(input).extension().string();
  if (ext == ".jsonl" || ext == ".ndjson") return table::ReadJsonl(input).table;
  return table::ReadCsv(input).table;
}

void CheckOutputExtension(const std::filesystem::path& output) {
  std::string ext = output.extension().string();
  if (ext != ".csv" && ext != ".tsv" && ext != ".jsonl" && ext != ".ndjson") {
    ThrowInvalidArgument(output.string() +
                         ": the output's extension must be .csv, .tsv, .jsonl or .ndjson");
  }
}

void WriteByExtension(const table::Table& table, const std::filesystem::path& output) {
  CheckOutputExtension(output);
  std::string ext = output.extension().string();
  if (ext == ".jsonl" || ext == ".ndjson") {
    table::WriteJsonl(table, output);
  } else {
    table::CsvWriteOptions o;
    o.delimiter = ext == ".tsv" ? '\t' : ',';
    table::WriteCsv(table, output, o);
  }
}

Json PredictOutcome::ToJson() const {
  return {{"run_id", run_id}, {"rows", rows}, {"output", output}, {"seconds", seconds}};
}

PredictOutcome PredictToFile(store::Workspace& ws, const PredictRequest& request) {
  const int64_t started = NowMicros();
  if (request.engine != "xgboost" && request.engine != "mloop") {
    ThrowInvalidArgument("--engine " + request.engine + ": expected mloop or xgboost");
  }
  CheckOutputExtension(request.output);
  RunModel loaded = LoadRunModel(ws, request.model);
  const model::LoadedModel& m = loaded.model;
  const std::string model_bytes =
      ws.artifacts().Get(m.bundle()["estimator"]["artifact"].get<std::string>());

  table::Table input = ReadModelInput(ws, request.input);
  features::FeatureMatrix x = m.Transform(input);
  std::vector<float> p;
  if (request.engine == "xgboost") {
    if (!m.trees()) {
      ThrowInvalidArgument("--engine xgboost: run " + loaded.run_id + "'s model is " +
                           m.estimator_type() + ", not an XGBoost model; use --engine mloop");
    }
    XgbBooster booster = XgbBooster::Load(model_bytes);
    XgbMatrix dm(x.values, x.num_rows, x.num_features);
    p = booster.Predict(dm);
  } else {
    // mloop's runtime: the compiled trees give XGBoost's own values (tested bit for bit),
    // faster; multi-threaded over blocks of rows.
    const size_t k = m.num_outputs();
    p.resize(x.num_rows * k);
    std::atomic<int64_t> done{0};
    const size_t block = 4096;  // Rows per task: many tasks, each long enough to be worth it.
    const size_t blocks = (x.num_rows + block - 1) / block;
    ThreadPool::Default().ParallelFor(blocks, [&](size_t b) {
      size_t begin = b * block, end = std::min(x.num_rows, begin + block);
      m.Predict(std::span<const float>(x.values).subspan(begin * x.num_features,
                                                         (end - begin) * x.num_features),
                end - begin, std::span<float>(p).subspan(begin * k, (end - begin) * k));
      int64_t now =
          done.fetch_add(static_cast<int64_t>(end - begin)) + static_cast<int64_t>(end - begin);
      if (request.on_progress) request.on_progress(now, static_cast<int64_t>(x.num_rows));
    });
  }

  const std::string& task = m.task();
  const std::vector<std::string>& classes = m.classes();
  table::Table out;
  std::vector<int64_t> lines = input.line_numbers().ToVector();
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
    std::vector<std::optional<std::string>> label;
    for (double v : prob) {
      label.push_back(std::isnan(v) ? std::nullopt : std::optional(classes[v >= 0.5 ? 1 : 0]));
    }
    out.AddColumn(DoubleColumn("probability", prob));
    out.AddColumn(LabelColumn(label));
  } else {
    const size_t k = classes.size();
    std::vector<std::optional<std::string>> label(x.num_rows);
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
      if (!std::isnan(p[r * k + best])) label[r] = classes[best];
    }
    out.AddColumn(LabelColumn(label));
  }
  WriteByExtension(out, request.output);
  PredictOutcome outcome;
  outcome.run_id = loaded.run_id;
  outcome.rows = static_cast<int64_t>(x.num_rows);
  outcome.output = request.output.string();
  outcome.seconds = static_cast<double>(NowMicros() - started) / 1e6;
  return outcome;
}

}  // namespace mloop::train
