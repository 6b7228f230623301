// Ingestion: the first step of the loop. Reads one batch (one or more CSV or JSON Lines files),
// checks it against a contract, and keeps what it finds: the clean rows become a new immutable
// version of a dataset (a columnar file with its profile and schema), the bad rows go to that
// ingestion's quarantine with their source, line, reasons and raw text, and the report, the
// HTML report, the metrics and the lineage (each source's SHA-256, the contract's digest, the
// mloop version, host, user and times) are recorded in the workspace.
//
// A rejected batch (an error-severity check or table expectation failed) makes no version, but
// its report and quarantine are recorded all the same. Ingesting byte-identical sources with the
// same contract into the same dataset again makes no new version: the result names the existing
// one (`reused`).
//
// Nothing half-written is ever visible: artifacts are written first (content-addressed and
// atomic), then one metadata transaction records the ingestion and the version. A process killed
// before that transaction leaves at most unreferenced artifacts. Several processes may ingest
// into one workspace at once (catalog.h).
//
// Errors (mloop::Error): not_found for a source that does not exist or a glob that matches
// nothing (naming it); invalid_argument for a bad dataset name, a bad contract (contract.h), a
// source that cannot be read as its format (an empty file, no header), or a contract row rule
// that does not fit the data; and what the stores throw. Bad records are data, not errors.
#ifndef MLOOP_DATA_INGEST_H_
#define MLOOP_DATA_INGEST_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "data/catalog.h"
#include "data/validate.h"
#include "store/workspace.h"

namespace mloop::data {

struct IngestRequest {
  // Files or glob patterns (`data/*.csv`); each pattern's matches are taken in name order.
  // Files ending in .jsonl or .ndjson are read as JSON Lines, the others as delimited text.
  std::vector<std::string> sources;
  std::string dataset;
  std::optional<std::filesystem::path> contract;  // nullopt: no checks but well-formedness.
  // History checks compare the new batch's row count and quarantine rate with the dataset's
  // earlier accepted ingestions (mean ± sigmas · sd); they warn, never reject.
  double history_sigmas = 3.0;
  int64_t history_min_points = 3;  // Fewer earlier ingestions: not evaluated.
  // Sources hash on a thread of their own while they are read. A batch of at most this many
  // bytes waits for its digests after the read, and a byte-identical earlier batch is found
  // before any check runs; a larger one is validated and profiled while its hash finishes,
  // and is matched with an earlier batch after that (the hash of a large file outlasts the
  // parse it shares the cores with).
  uint64_t dedupe_before_checks_bytes = uint64_t{16} << 20;
};

struct IngestResult {
  std::string dataset;
  IngestionRecord ingestion;              // What was recorded (or found, when reused).
  std::optional<DatasetVersion> version;  // nullopt when rejected.
  bool reused = false;                    // Byte-identical batch: the existing version.
  // The report as stored (without the quarantine records), with "dataset", "version",
  // "ingestion" and "reused" added at the top.
  Json report;
};

IngestResult Ingest(store::Workspace& workspace, const IngestRequest& request);

// Expands the glob patterns of `sources` (sorted matches) and checks every file exists and is a
// regular file; returns absolute paths, without repeats, in the order given.
std::vector<std::filesystem::path> ResolveSources(const std::vector<std::string>& sources);

}  // namespace mloop::data

#endif  // MLOOP_DATA_INGEST_H_
