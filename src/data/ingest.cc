#include "data/ingest.h"

#include <glob.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <future>
#include <set>
#include <utility>

#include "core/digest.h"
#include "core/error.h"
#include "core/file.h"
#include "core/id.h"
#include "core/log.h"
#include "core/thread_pool.h"
#include "core/time.h"
#include "core/version.h"
#include "data/contract.h"
#include "data/dataset_files.h"
#include "data/html_report.h"
#include "stats/anomaly.h"
#include "stats/profile.h"
#include "table/columnar_file.h"
#include "table/csv_reader.h"
#include "table/jsonl_reader.h"
#include "table/table_ops.h"

namespace mloop::data {
namespace {

namespace fs = std::filesystem;

// The process's peak resident memory so far, as Linux reports it ("123456 kB").
std::string PeakMemory() {
  std::ifstream in("/proc/self/status");  // A /proc file has no size: read it line by line.
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      size_t begin = line.find_first_not_of(" \t", 6);
      return begin == std::string::npos ? line : line.substr(begin);
    }
  }
  return "unknown";
}

// The processor time of all the process's threads so far, in microseconds.
int64_t ProcessCpuMicros() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

// Debug-level timings of the phases (MLOOP_LOG=debug): wall clock, processor time of all
// threads (twice the wall clock means two cores kept busy), and the peak memory after each.
class PhaseTimer {
 public:
  void Done(const char* phase) {
    int64_t now = NowMicros();
    int64_t cpu = ProcessCpuMicros();
    if (CurrentLogLevel() == LogLevel::kDebug) {
      LogDebug(std::string("ingest: ") + phase + " " + std::to_string((now - last_) / 1000) +
               " ms (cpu " + std::to_string((cpu - last_cpu_) / 1000) + " ms), peak memory " +
               PeakMemory());
    }
    last_ = now;
    last_cpu_ = cpu;
  }

 private:
  int64_t last_ = NowMicros();
  int64_t last_cpu_ = ProcessCpuMicros();
};

// A source's SHA-256, read through a mapping of the file a few megabytes at a time, each
// dropped from memory once hashed: reading it through a buffer instead copied every byte
// once more (about 15 ms of processor time for the 83 MB bench file). Gives up, returning
// "", once `stop` is set.
std::string Sha256SourceHex(const fs::path& path, const std::atomic<bool>& stop) {
  MappedFile file(path, /*populate=*/false);
  const std::string_view data = file.view();
  constexpr size_t kStep = size_t{4} << 20;
  Sha256 hash;
  for (size_t at = 0; at < data.size(); at += kStep) {
    if (stop.load(std::memory_order_relaxed)) return "";
    const size_t n = std::min(kStep, data.size() - at);
    hash.Update(data.data() + at, n);
    file.Release(at, n);
  }
  return hash.FinishHex();
}

// The sources' SHA-256 digests, computed on a thread of their own from construction on.
// Destroyed before Get (an ingest that fails), it stops the thread within a few megabytes
// and waits for it, so that a bad contract or source is reported at once, not after the
// hash of a large file.
class SourceHashing {
 public:
  explicit SourceHashing(std::vector<fs::path> paths)
      : digests_(std::async(std::launch::async, [this, paths = std::move(paths)] {
          std::vector<std::string> out;
          for (const fs::path& p : paths) out.push_back(Sha256SourceHex(p, stop_));
          return out;
        })) {}
  ~SourceHashing() {
    stop_ = true;
    if (digests_.valid()) digests_.wait();
  }
  SourceHashing(const SourceHashing&) = delete;
  SourceHashing& operator=(const SourceHashing&) = delete;

  // Waits for the digests, in the order of the paths; rethrows the thread's error.
  std::vector<std::string> Get() { return digests_.get(); }

 private:
  std::atomic<bool> stop_{false};
  std::future<std::vector<std::string>> digests_;
};

bool IsGlob(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

bool IsJsonl(const fs::path& path) {
  std::string ext = path.extension().string();
  return ext == ".jsonl" || ext == ".ndjson";
}

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string UserName() {
  if (const char* u = std::getenv("USER"); u != nullptr && *u != '\0') return u;
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr) return pw->pw_name;
  return std::to_string(::getuid());
}

// One source as read: its table, malformed rows and facts for the lineage.
struct ReadSource {
  fs::path path;
  SourceRecord record;
  table::Table table;
  std::vector<table::MalformedRow> malformed;
  char quote = '"';  // For cutting raw records out of the file again; '\0': none.
};

// Reads one source. Large CSV files are read in pieces (CsvOptions::chunk_bytes).
ReadSource ReadOne(const SourceRecord& record, const std::optional<Contract>& contract) {
  ReadSource s;
  s.path = record.path;
  s.record = record;
  uint64_t bytes = 0;
  if (IsJsonl(s.path)) {
    table::JsonlOptions o;
    if (contract) o.column_types = contract->ReadOptions().column_types;
    auto r = table::ReadJsonl(s.path, o);
    s.table = std::move(r.table);
    s.malformed = std::move(r.malformed);
    s.quote = '\0';
    bytes = r.bytes;
  } else {
    table::CsvOptions o = contract ? contract->ReadOptions() : table::CsvOptions{};
    auto r = table::ReadCsv(s.path, o);
    s.table = std::move(r.table);
    s.malformed = std::move(r.malformed);
    s.quote = r.dialect.quote;
    bytes = r.bytes;
  }
  if (static_cast<int64_t>(bytes) != record.bytes) {
    ThrowInvalidArgument(record.path + ": the file changed while it was being ingested");
  }
  s.record.rows_in = static_cast<int64_t>(s.table.num_rows() + s.malformed.size());
  s.record.rows_malformed = static_cast<int64_t>(s.malformed.size());
  return s;
}

// The raw text of the records that start on `lines` (sorted, 1-based) of `data`: from the start
// of the line to the line end that is outside quotes, without the line end.
std::vector<std::pair<int64_t, std::string>> RecordTexts(std::string_view data,
                                                         const std::vector<int64_t>& lines,
                                                         char quote) {
  std::vector<std::pair<int64_t, std::string>> out;
  size_t pos = 0;
  int64_t line = 1;
  for (int64_t want : lines) {
    while (line < want && pos < data.size()) {
      size_t nl = data.find('\n', pos);
      pos = nl == std::string_view::npos ? data.size() : nl + 1;
      ++line;
    }
    if (line != want || pos >= data.size()) break;
    size_t end = pos;
    bool in_quotes = false;
    while (end < data.size() && (data[end] != '\n' || in_quotes)) {
      if (quote != '\0' && data[end] == quote) in_quotes = !in_quotes;
      ++end;
    }
    size_t stop = end;
    if (stop > pos && data[stop - 1] == '\r') --stop;
    out.emplace_back(want, std::string(data.substr(pos, stop - pos)));
  }
  return out;
}

// Fills in the raw text of quarantined records that were parsed (malformed ones have it).
void AddRecordTexts(const std::vector<ReadSource>& sources, ValidationReport* report) {
  for (const ReadSource& s : sources) {
    std::vector<QuarantineRecord*> records;
    for (QuarantineRecord& q : report->quarantine) {
      if (!q.text && q.source == s.record.path) records.push_back(&q);
    }
    if (records.empty()) continue;
    std::vector<int64_t> lines;
    for (const QuarantineRecord* q : records) lines.push_back(q->line);
    std::sort(lines.begin(), lines.end());
    lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
    MappedFile file(s.path);
    auto texts = RecordTexts(file.view(), lines, s.quote);
    for (QuarantineRecord* q : records) {
      auto it = std::lower_bound(
          texts.begin(), texts.end(), q->line,
          [](const std::pair<int64_t, std::string>& t, int64_t l) { return t.first < l; });
      if (it != texts.end() && it->first == q->line) q->text = it->second;
    }
  }
}

std::string QuarantineJsonl(const ValidationReport& report) {
  std::string out;
  Json doc = report.ToJson();
  for (const Json& q : doc["quarantine"]) {
    out += q.dump();
    out += '\n';
  }
  return out;
}

// The schema recorded with a version: roles and nullability from the contract, nullable false
// only where the contract says so and the clean rows indeed hold no null.
table::Schema VersionSchema(const table::Table& clean, const std::optional<Contract>& contract) {
  table::Schema schema = clean.schema();
  for (size_t i = 0; i < schema.size(); ++i) {
    table::Field& f = schema.mutable_field(i);
    f.nullable = true;
    if (!contract) continue;
    const ColumnContract* cc = contract->FindColumn(f.name);
    if (cc == nullptr) continue;
    f.role = cc->role;
    if (!cc->nullable && clean.column(i).null_count() == 0) f.nullable = false;
  }
  return schema;
}

table::ColumnarWriteOptions VersionWriteOptions(table::Schema schema) {
  table::ColumnarWriteOptions wo;
  wo.schema = std::move(schema);
  // Level 1 compresses these columns about as well as the default 3, half again as fast.
  wo.compression_level = 1;
  return wo;
}

// Warn-level checks of this batch's row count and quarantine rate against the dataset's earlier
// accepted ingestions.
void AddHistoryChecks(const std::vector<IngestionRecord>& history, const IngestRequest& request,
                      ValidationReport* report) {
  std::vector<double> counts, rates;
  for (const IngestionRecord& i : history) {
    if (i.status != "accepted") continue;
    counts.push_back(static_cast<double>(i.rows_in));
    rates.push_back(i.quarantine_rate());
  }
  double rate =
      report->rows_in > 0 ? static_cast<double>(report->rows_quarantined) / report->rows_in : 0.0;
  auto add = [&](const char* name, const std::vector<double>& values, double current) {
    stats::AnomalyOptions o;
    o.k = request.history_sigmas;
    o.min_history = static_cast<size_t>(std::max<int64_t>(request.history_min_points, 2));
    stats::AnomalyCheck r = stats::CheckAnomaly(values, current, o);
    CheckResult c;
    c.check = name;
    c.table_level = true;
    c.severity = Severity::kWarn;
    c.observed_value = current;
    if (r.evaluated) {
      c.passed = !r.is_outlier;
      c.expectation = "within mean ± " + std::to_string(request.history_sigmas).substr(0, 4) +
                      " sd of " + std::to_string(r.history_size) + " earlier versions: [" +
                      std::to_string(r.lower) + ", " + std::to_string(r.upper) + "]";
    } else {
      c.expectation = "needs " + std::to_string(request.history_min_points) +
                      " earlier versions, has " + std::to_string(values.size());
    }
    report->checks.push_back(std::move(c));
  };
  add("history_row_count", counts, static_cast<double>(report->rows_in));
  add("history_quarantine_rate", rates, rate);
}

// The `distribution` expectation compares the batch's profile with a stored version's. The first
// ingest of a dataset that names itself as reference has nothing to compare with: the check
// stays not evaluated. Any other missing reference is an error.
void EvaluateDistributionAgainstStore(store::Workspace& workspace, const Contract& contract,
                                      const IngestRequest& request,
                                      const stats::TableProfile& current,
                                      ValidationReport* report) {
  if (!contract.table.distribution) return;
  const DistributionExpectation& d = *contract.table.distribution;
  DatasetRef ref = ParseDatasetRef(d.reference_name + "@" + d.reference_version);
  DatasetCatalog catalog(workspace.metadata());
  if (ref.name == request.dataset && !ref.version) {
    bool has_version = false;
    try {
      has_version = !catalog.Versions(ref.name).empty();
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kNotFound) throw;
    }
    if (!has_version) {
      for (CheckResult& c : report->checks) {
        if (c.check == "distribution") {
          c.observed_value = "not evaluated: " + ref.name + " has no version yet";
        }
      }
      return;
    }
  }
  DatasetVersion v;
  try {
    v = catalog.Resolve(ref);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kNotFound) throw;
    // A warning cannot be checked without its reference, but it is no reason to stop the
    // batch; an error-severity expectation is.
    if (d.severity == Severity::kWarn) {
      for (CheckResult& c : report->checks) {
        if (c.check == "distribution") c.observed_value = "not evaluated: " + std::string(e.what());
      }
      return;
    }
    ThrowNotFound(contract.source + ": table.distribution.reference: " + std::string(e.what()));
  }
  EvaluateDistribution(contract, LoadVersionProfile(workspace, v), current, report);
}

std::string IngestKey(const std::vector<SourceRecord>& sources,
                      const std::optional<Contract>& contract) {
  std::string key = "mloop-ingest-1\n";
  for (const SourceRecord& s : sources) key += "source " + s.sha256 + "\n";
  key += "contract " + (contract ? contract->digest : std::string("none")) + "\n";
  return Sha256Hex(key);
}

// Artifact writes started on threads of their own: each waits on the disk (a write and its
// fsyncs), not the processor, so they overlap the work that follows and one another.
class PendingPuts {
 public:
  explicit PendingPuts(store::ArtifactStore& artifacts) : artifacts_(artifacts) {}
  // Waits for the writes still running; their errors are dropped, as the ingestion failed.
  ~PendingPuts() {
    for (auto& [put, set] : puts_) {
      if (put.valid()) put.wait();
    }
  }

  // Stores `bytes`; Wait sets *digest to their artifact's.
  void Put(std::string bytes, std::string* digest) {
    Put([bytes = std::move(bytes)]() mutable { return std::move(bytes); },
        [digest](std::string d) { *digest = std::move(d); });
  }
  void Put(std::string bytes, std::optional<std::string>* digest) {
    Put([bytes = std::move(bytes)]() mutable { return std::move(bytes); },
        [digest](std::string d) { *digest = std::move(d); });
  }
  // Stores what `make` returns, made on the writing thread too (so what it reads must stay
  // unchanged until Wait).
  template <typename Digest>  // std::string or std::optional<std::string>
  void PutMade(std::function<std::string()> make, Digest* digest) {
    Put(std::move(make), [digest](std::string d) { *digest = std::move(d); });
  }

  // Waits for every write; rethrows the first error.
  void Wait() {
    for (auto& [put, set] : puts_) set(put.get());
    puts_.clear();
  }

 private:
  void Put(std::function<std::string()> make, std::function<void(std::string)> set) {
    puts_.emplace_back(
        std::async(std::launch::async,
                   [this, make = std::move(make)] { return artifacts_.Put(make()); }),
        std::move(set));
  }

  store::ArtifactStore& artifacts_;
  // Each write, and where its digest goes.
  std::vector<std::pair<std::future<std::string>, std::function<void(std::string)>>> puts_;
};

Json StoredReport(const ValidationReport& report, const IngestionRecord& ingestion) {
  Json doc = report.ToJson();
  doc.erase("quarantine");
  doc["metrics"] = ingestion.ToJson()["metrics"];
  doc["sources"] = ingestion.ToJson()["sources"];
  return doc;
}

Json ResultJson(const Json& stored, const IngestionRecord& ingestion,
                const std::optional<DatasetVersion>& version, bool reused) {
  Json out;
  out["status"] = stored.value("status", ingestion.status);
  out["dataset"] = ingestion.dataset;
  out["version"] = version ? Json(version->version) : Json();
  out["ref"] = version ? Json(version->Ref()) : Json();
  out["ingestion"] = ingestion.id;
  out["reused"] = reused;
  for (const auto& [k, v] : stored.items()) {
    if (!out.contains(k)) out[k] = v;
  }
  return out;
}

}  // namespace

std::vector<fs::path> ResolveSources(const std::vector<std::string>& sources) {
  if (sources.empty()) ThrowInvalidArgument("ingest: no source given");
  std::vector<fs::path> out;
  std::set<fs::path> seen;
  auto add = [&](const fs::path& p) {
    std::error_code ec;
    fs::path abs = fs::absolute(p, ec).lexically_normal();
    if (!fs::exists(abs, ec)) ThrowNotFound(p.string() + ": no such file");
    if (!fs::is_regular_file(abs, ec)) ThrowInvalidArgument(p.string() + ": not a regular file");
    if (seen.insert(abs).second) out.push_back(abs);
  };
  for (const std::string& s : sources) {
    if (!IsGlob(s) || fs::exists(s)) {
      add(s);
      continue;
    }
    glob_t g{};
    int rc = ::glob(s.c_str(), 0, nullptr, &g);
    std::vector<std::string> matches;
    if (rc == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) matches.emplace_back(g.gl_pathv[i]);
    }
    ::globfree(&g);
    if (matches.empty()) ThrowNotFound(s + ": no file matches this pattern");
    std::sort(matches.begin(), matches.end());
    for (const std::string& m : matches) add(m);
  }
  return out;
}

IngestResult Ingest(store::Workspace& workspace, const IngestRequest& request) {
  const int64_t started = NowMicros();
  CheckDatasetName(request.dataset);
  std::vector<fs::path> paths = ResolveSources(request.sources);
  PhaseTimer timer;
  std::vector<SourceRecord> source_records(paths.size());
  for (size_t i = 0; i < paths.size(); ++i) {
    source_records[i].path = paths[i].string();
    source_records[i].bytes = static_cast<int64_t>(fs::file_size(paths[i]));
  }
  // The digests name the batch (and find a byte-identical earlier one). They are computed from
  // here on, on a thread of their own: while this one loads the contract and opens the
  // catalog, and then while it reads the sources, which is most of the work.
  SourceHashing hashing(paths);
  std::optional<Contract> contract;
  std::optional<std::string> contract_text;
  if (request.contract) {
    contract = LoadContract(*request.contract);
    contract_text = ReadFile(*request.contract);
  }
  DatasetCatalog catalog(workspace.metadata());
  store::ArtifactStore& artifacts = workspace.artifacts();
  timer.Done("contract and catalog");

  std::vector<ReadSource> read;
  read.reserve(paths.size());
  for (const SourceRecord& r : source_records) read.push_back(ReadOne(r, contract));
  timer.Done("read");

  // The digests name the batch (IngestKey) and go into its lineage. A byte-identical batch
  // with the same contract is answered with the version it made.
  std::string key;
  auto take_digests = [&] {
    const std::vector<std::string> digests = hashing.Get();
    for (size_t i = 0; i < read.size(); ++i) {
      read[i].record.sha256 = digests[i];
      source_records[i] = read[i].record;
    }
    key = IngestKey(source_records, contract);
  };
  auto answer_existing = [&]() -> std::optional<IngestResult> {
    auto existing = catalog.FindByIngestKey(request.dataset, key);
    if (!existing) return std::nullopt;
    IngestionRecord ingestion = catalog.Ingestion(*existing->ingestion_id);
    Json stored = ParseJson(artifacts.Get(ingestion.report_artifact), "stored report");
    IngestResult result;
    result.dataset = request.dataset;
    result.report = ResultJson(stored, ingestion, existing, true);
    result.ingestion = std::move(ingestion);
    result.version = std::move(existing);
    result.reused = true;
    return result;
  };
  // A large batch is validated and profiled while its hash finishes, and the digests are
  // waited for once that is done: on the bench file (83 MB) the hash, sharing the cores with
  // the parse, ended some 15 ms after it, with a core idle. A repeat of a large batch then
  // costs that work before it is answered with its version. The rule is by size, not by
  // whether the hash happens to be done, so that the same batch always takes the same path.
  uint64_t batch_bytes = 0;
  for (const SourceRecord& s : source_records) batch_bytes += static_cast<uint64_t>(s.bytes);
  const bool hashed_early = batch_bytes <= request.dedupe_before_checks_bytes;
  if (hashed_early) {
    take_digests();
    if (auto existing = answer_existing()) return std::move(*existing);
  }

  // One table for the batch; `sources` tells Validate which rows came from which file.
  std::vector<BatchSource> batch_sources;
  std::vector<table::MalformedRow> malformed;
  std::vector<table::Table> tables;
  for (ReadSource& s : read) {
    batch_sources.push_back({s.record.path, s.table.num_rows(), s.malformed.size()});
    for (auto& m : s.malformed) malformed.push_back(std::move(m));
    s.malformed.clear();
    tables.push_back(std::move(s.table));
  }
  table::Table batch = table::ConcatTables(std::move(tables));
  const Contract empty_contract;
  const std::string batch_name = request.dataset;
  // The profile is of the clean rows. When no record was malformed, they are likely the whole
  // batch: profiling it then runs alongside the validation, each filling the cores the other
  // leaves idle, and is kept if the validation quarantines nothing.
  std::future<stats::TableProfile> whole_batch_profile;
  // Likewise the version's bytes, encoded from the whole batch (whose rows are then the clean
  // ones, so VersionSchema gives the same schema): kept if the batch is accepted with nothing
  // quarantined.
  std::future<std::string> whole_batch_encoding;
  if (malformed.empty()) {
    whole_batch_profile =
        std::async(std::launch::async, [&batch] { return stats::ProfileTable(batch); });
    whole_batch_encoding = std::async(std::launch::async, [&] {
      return table::EncodeColumnarFile(batch, request.dataset,
                                       VersionWriteOptions(VersionSchema(batch, contract)));
    });
  }
  ValidationReport report =
      Validate(contract ? *contract : empty_contract, batch, malformed, batch_name, batch_sources);
  malformed.clear();
  malformed.shrink_to_fit();
  AddRecordTexts(read, &report);
  timer.Done("validate");

  // The quarantine is final here; it and the contract are stored while the work goes on.
  IngestionRecord ingestion;
  PendingPuts puts(artifacts);
  puts.Put(QuarantineJsonl(report), &ingestion.quarantine_artifact);
  if (contract) puts.Put(*contract_text, &ingestion.contract_artifact);

  // History checks need the earlier ingestions; a dataset that does not exist has none.
  std::vector<IngestionRecord> history;
  try {
    history = catalog.Ingestions(request.dataset);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kNotFound) throw;
  }
  AddHistoryChecks(history, request, &report);

  // Waited for even when not used, as it reads `batch`; an error it threw is then dropped, as
  // these bytes are not the version's.
  std::optional<std::string> encoded;
  if (whole_batch_encoding.valid()) {
    whole_batch_encoding.wait();
    if (report.quarantine.empty() && report.status == BatchStatus::kAccepted) {
      encoded = whole_batch_encoding.get();
    }
  }
  // The version's bytes are stored at once (a write and its fsyncs, while the profile is
  // finished) when the batch is accepted for good: only the `distribution` expectation, which
  // needs the profile, can still reject it, and only with severity error.
  std::optional<NewVersion> version;
  const bool status_final = !contract || !contract->table.distribution ||
                            contract->table.distribution->severity == Severity::kWarn;
  if (encoded && status_final) {
    NewVersion& v = version.emplace();
    v.schema = VersionSchema(batch, contract);
    v.rows = static_cast<int64_t>(batch.num_rows());
    v.data_bytes = static_cast<int64_t>(encoded->size());
    puts.Put(std::move(*encoded), &v.data_artifact);
    encoded.reset();
  }

  // The clean rows.
  std::optional<stats::TableProfile> profiled;
  if (whole_batch_profile.valid()) {
    // Waited for even when not used: it reads `batch`.
    stats::TableProfile p = whole_batch_profile.get();
    if (report.quarantine.empty()) profiled = std::move(p);
  }
  table::Table clean;
  if (report.quarantine.empty()) {
    clean = std::move(batch);
  } else {
    std::vector<bool> bad(batch.num_rows(), false);
    for (const QuarantineRecord& q : report.quarantine) {
      if (q.row >= 0) bad[static_cast<size_t>(q.row)] = true;
    }
    std::vector<size_t> keep;
    keep.reserve(batch.num_rows());
    for (size_t r = 0; r < batch.num_rows(); ++r) {
      if (!bad[r]) keep.push_back(r);
    }
    clean = table::TakeRows(batch, keep);
    batch = table::Table();
  }
  // Shared with the threads that serialise it and render the HTML report, which may outlive
  // this frame when an error unwinds it (PendingPuts then waits for them).
  const auto profile = std::make_shared<const stats::TableProfile>(
      profiled ? std::move(*profiled) : stats::ProfileTable(clean));
  if (contract) EvaluateDistributionAgainstStore(workspace, *contract, request, *profile, &report);
  timer.Done("profile");
  if (!hashed_early) {
    take_digests();
    timer.Done("hash");
    // The artifacts stored so far are then that version's (the quarantine's differ only when
    // the sources were renamed: unreferenced, it is never listed).
    if (auto existing = answer_existing()) return std::move(*existing);
  }
  const bool accepted = report.status == BatchStatus::kAccepted;

  const bool stored_early = version.has_value();
  if (!accepted) version.reset();  // Cannot happen (status_final), but a rejected batch has none.
  if (accepted) {
    if (!stored_early) version.emplace();
    // Serialised on the writing thread (about 1 ms), while this one goes on.
    puts.PutMade([profile] { return profile->ToJson().dump(); }, &version->profile_artifact);
  }
  ingestion.id = NewId();
  ingestion.dataset = request.dataset;
  ingestion.status = std::string(BatchStatusName(report.status));
  ingestion.ingest_key = key;
  if (contract) ingestion.contract_digest = contract->digest;
  ingestion.rows_in = report.rows_in;
  ingestion.rows_clean = report.rows_clean;
  ingestion.rows_quarantined = report.rows_quarantined;
  for (const SourceRecord& s : source_records) ingestion.bytes_in += s.bytes;
  ingestion.mloop_version = kVersion;
  ingestion.host = HostName();
  ingestion.user = UserName();
  ingestion.sources = source_records;
  ingestion.started_at = FormatIsoTimestamp(started);

  // The version's bytes: the clean rows and their profile. A rejected batch keeps none.
  if (accepted && !stored_early) {
    NewVersion& v = *version;
    v.schema = VersionSchema(clean, contract);
    v.rows = static_cast<int64_t>(clean.num_rows());
    std::string bytes =
        encoded ? std::move(*encoded)
                : table::EncodeColumnarFile(clean, request.dataset, VersionWriteOptions(v.schema));
    v.data_bytes = static_cast<int64_t>(bytes.size());
    timer.Done("encode version");
    puts.Put(std::move(bytes), &v.data_artifact);
  }
  // The table's memory (the bench file's: 23 MB) is returned to the system on a thread of its
  // own, as the reports are made and the ingestion committed.
  std::future<void> freed =
      std::async(std::launch::async, [t = std::move(clean)]() mutable { t = table::Table(); });

  const int64_t finished = NowMicros();
  ingestion.finished_at = FormatIsoTimestamp(finished);
  ingestion.seconds = static_cast<double>(finished - started) / 1e6;

  HtmlReportContext ctx;
  ctx.title = request.dataset + (accepted ? "" : ": rejected batch");
  for (const SourceRecord& s : source_records) {
    ctx.facts.emplace_back("source", s.path + " (sha256 " + s.sha256.substr(0, 12) + ", " +
                                         std::to_string(s.bytes) + " bytes)");
  }
  ctx.facts.emplace_back("contract", contract ? request.contract->string() + " (sha256 " +
                                                    contract->digest.substr(0, 12) + ")"
                                              : std::string("none"));
  ctx.facts.emplace_back("ingestion", ingestion.id);
  ctx.facts.emplace_back("started", ingestion.started_at);
  ctx.facts.emplace_back("seconds", std::to_string(ingestion.seconds));
  ctx.facts.emplace_back("mloop", ingestion.mloop_version);
  // Rendered on the writing thread, as the stored report is serialised on this one.
  puts.PutMade([&report, profile,
                ctx = std::move(ctx)] { return RenderHtmlReport(report, profile.get(), ctx); },
               &ingestion.report_html_artifact);
  Json stored = StoredReport(report, ingestion);
  puts.Put(stored.dump(2), &ingestion.report_artifact);
  puts.Wait();
  timer.Done("reports and stored artifacts");
  std::optional<DatasetVersion> committed = catalog.CommitIngestion(ingestion, version);
  timer.Done("commit");
  IngestResult result;
  result.dataset = request.dataset;
  if (committed && committed->ingestion_id != ingestion.id) {
    // A concurrent identical ingest committed first; this one recorded nothing.
    IngestionRecord theirs = catalog.Ingestion(*committed->ingestion_id);
    Json their_report = ParseJson(artifacts.Get(theirs.report_artifact), "stored report");
    result.report = ResultJson(their_report, theirs, committed, true);
    result.ingestion = std::move(theirs);
    result.version = std::move(committed);
    result.reused = true;
    return result;
  }
  if (committed) ingestion.version = committed->version;
  result.report = ResultJson(stored, ingestion, committed, false);
  result.ingestion = std::move(ingestion);
  result.version = std::move(committed);
  return result;
}

}  // namespace mloop::data
