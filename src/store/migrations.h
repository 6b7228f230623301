// The schema of the metadata store, as the ordered list of migrations that
// builds it. MetadataStore::Migrate() applies the ones a database has not had
// yet.
//
// To change the schema, append a Migration with the next version number to the
// list in migrations.cc; never edit or remove one that has been released
// (metadata_store.h states the versioning rule). The list is constant; reading
// it is thread-safe.
#ifndef MLOOP_STORE_MIGRATIONS_H_
#define MLOOP_STORE_MIGRATIONS_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace mloop::store {

struct Migration {
  // 1, 2, 3, ...: the schema version a database has once this migration is
  // applied.
  int64_t version;
  // A short snake_case description, recorded in schema_migrations.
  std::string_view name;
  // The statements, run in order in one transaction, in the SQL subset that
  // metadata_store.h describes.
  std::vector<std::string_view> statements;
};

// Every migration, in version order.
std::span<const Migration> Migrations();

// The schema version of a database with every migration applied: the newest
// this binary knows.
int64_t LatestSchemaVersion();

}  // namespace mloop::store

#endif  // MLOOP_STORE_MIGRATIONS_H_
