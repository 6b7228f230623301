// Reading stored dataset versions back, and writing versions and quarantines out as files a
// user can open: `mloop datasets export` and `mloop datasets quarantine`, and every later step
// that names a dataset as NAME@VERSION (features, training, evaluation).
//
// The functions are thread-safe as far as the workspace's stores are (store/workspace.h).
// Errors (mloop::Error): invalid_argument for an output whose extension names no format we
// write, or a folder that does not exist (naming the path); data_loss when a stored artifact
// does not match its digest; not_found when an artifact a record names is missing; and what the
// writers throw. An output file is written atomically: it is whole or untouched.
#ifndef MLOOP_DATA_DATASET_FILES_H_
#define MLOOP_DATA_DATASET_FILES_H_

#include <cstdint>
#include <filesystem>

#include "data/catalog.h"
#include "stats/profile.h"
#include "store/workspace.h"
#include "table/columnar_file.h"
#include "table/table.h"

namespace mloop::data {

// The rows of a version, read from its columnar artifact (verified).
table::Table LoadVersionTable(store::Workspace& workspace, const DatasetVersion& version,
                              const table::ColumnarReadOptions& options = {});

// The stored profile of a version's rows.
stats::TableProfile LoadVersionProfile(store::Workspace& workspace, const DatasetVersion& version);

// Writes a version's rows to `output`: CSV for .csv, TSV for .tsv, JSON Lines for .jsonl or
// .ndjson. Returns the number of rows written.
int64_t ExportVersion(store::Workspace& workspace, const DatasetVersion& version,
                      const std::filesystem::path& output);

// Writes an ingestion's quarantine to `output`: JSON Lines (.jsonl, .ndjson: the records as
// stored, {source, line, reasons: [{check, column, detail}], text, values?}) or CSV (.csv: one
// row per record with source, line, checks, columns, details and the raw text; several reasons
// are joined with "; "). Returns the number of records.
int64_t ExportQuarantine(store::Workspace& workspace, const IngestionRecord& ingestion,
                         const std::filesystem::path& output);

}  // namespace mloop::data

#endif  // MLOOP_DATA_DATASET_FILES_H_
