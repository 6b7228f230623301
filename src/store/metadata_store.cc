#include "store/metadata_store.h"

#include <string>

#include "core/error.h"
#include "core/time.h"
#include "core/version.h"
#include "store/migrations.h"

namespace mloop::store {

namespace {

[[noreturn]] void ThrowWrongType(std::string_view expected, const Value& value) {
  ThrowInternal("metadata store: expected a cell of type " + std::string(expected) + ", got " +
                std::string(ValueTypeName(value)));
}

}  // namespace

std::string_view ValueTypeName(const Value& value) {
  switch (value.index()) {
    case 0:
      return "null";
    case 1:
      return "integer";
    case 2:
      return "double";
    case 3:
      return "text";
    case 4:
      return "blob";
  }
  return "unknown";
}

bool IsNull(const Value& value) { return std::holds_alternative<Null>(value); }

int64_t AsInt64(const Value& value) {
  if (const auto* v = std::get_if<int64_t>(&value)) return *v;
  ThrowWrongType("integer", value);
}

double AsDouble(const Value& value) {
  if (const auto* v = std::get_if<double>(&value)) return *v;
  if (const auto* v = std::get_if<int64_t>(&value)) return static_cast<double>(*v);
  ThrowWrongType("double", value);
}

const std::string& AsText(const Value& value) {
  if (const auto* v = std::get_if<std::string>(&value)) return *v;
  ThrowWrongType("text", value);
}

const std::string& AsBlob(const Value& value) {
  if (const auto* v = std::get_if<Blob>(&value)) return v->bytes;
  ThrowWrongType("blob", value);
}

int64_t MetadataStore::Exec(std::string_view sql, const Params& params) {
  return DoExec(sql, params);
}

std::vector<Row> MetadataStore::Query(std::string_view sql, const Params& params) {
  return DoQuery(sql, params);
}

std::optional<Row> MetadataStore::QueryRow(std::string_view sql, const Params& params) {
  std::vector<Row> rows = DoQuery(sql, params);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

int64_t MetadataStore::InsertReturningId(std::string_view sql, const Params& params) {
  std::vector<Row> rows = DoQuery(sql, params);
  if (rows.size() != 1 || rows[0].empty() || !std::holds_alternative<int64_t>(rows[0][0])) {
    ThrowInternal(url() + ": InsertReturningId expects one row with an integer " + "id, got " +
                  std::to_string(rows.size()) + " rows from: " + std::string(sql));
  }
  return std::get<int64_t>(rows[0][0]);
}

void MetadataStore::InTransaction(const std::function<void()>& body) { DoInTransaction(body); }

bool MetadataStore::TableExists(std::string_view table) { return DoTableExists(table); }

int64_t MetadataStore::SchemaVersion() {
  if (!DoTableExists("schema_migrations")) return 0;
  std::vector<Row> rows = DoQuery("SELECT MAX(version) FROM schema_migrations", {});
  if (rows.empty() || IsNull(rows[0][0])) return 0;
  return AsInt64(rows[0][0]);
}

int64_t MetadataStore::Migrate() { return Migrate(Migrations()); }

int64_t MetadataStore::Migrate(std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int64_t>(i) + 1) {
      ThrowInternal("migration list: migration '" + std::string(migrations[i].name) +
                    "' has version " + std::to_string(migrations[i].version) + ", expected " +
                    std::to_string(i + 1));
    }
  }
  const int64_t latest = static_cast<int64_t>(migrations.size());

  // Checked in every transaction below, before it changes anything, since
  // another process may have migrated the database further in the meantime.
  auto check_not_newer = [&](int64_t current) {
    if (current > latest) {
      throw Error(ErrorCode::kFailedPrecondition,
                  url() + " has schema version " + std::to_string(current) +
                      ", newer than version " + std::to_string(latest) +
                      ", the newest this mloop (" + kVersion +
                      ") knows; upgrade mloop to use this workspace");
    }
  };

  InTransaction([&] {
    Exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version BIGINT PRIMARY KEY, "
        "name TEXT NOT NULL, "
        "applied_at TEXT NOT NULL)");
    check_not_newer(SchemaVersion());
  });

  int64_t applied = 0;
  for (const Migration& migration : migrations) {
    InTransaction([&] {
      int64_t current = SchemaVersion();
      check_not_newer(current);
      if (migration.version <= current) return;  // Already applied.
      for (std::string_view statement : migration.statements) {
        Exec(statement);
      }
      Exec(
          "INSERT INTO schema_migrations (version, name, applied_at) "
          "VALUES (?, ?, ?)",
          {migration.version, std::string(migration.name), FormatIsoTimestamp(NowMicros())});
      ++applied;
    });
  }
  return applied;
}

}  // namespace mloop::store
