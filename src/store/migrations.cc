#include "store/migrations.h"

namespace mloop::store {

std::span<const Migration> Migrations() {
  static const std::vector<Migration>* const kMigrations = new std::vector<Migration>{
      {
          1,
          "workspace",
          {
              // Facts about the workspace as a whole: created_at (ISO 8601
              // UTC), mloop_version (of the mloop that created it),
              // workspace_id (32 hex).
              "CREATE TABLE workspace ("
              "key TEXT PRIMARY KEY, "
              "value TEXT NOT NULL)",
          },
      },
  };
  return *kMigrations;
}

int64_t LatestSchemaVersion() { return static_cast<int64_t>(Migrations().size()); }

}  // namespace mloop::store
