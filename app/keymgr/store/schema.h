// The database schema of keys.db (see README.md) and its version check.
#pragma once

#include <cstdint>
#include <vector>

#include "store/kek.h"
#include "store/result.h"
#include "store/sqlite_db.h"

namespace keymgr::store {

// 2: fetch_ranges replaced key_fetches (schema 1, upgraded at open).
inline constexpr std::int64_t kSchemaVersion = 2;

// Sets the connection pragmas (WAL, synchronous=FULL, secure_delete,
// foreign_keys), creates the schema in an empty database, then checks
// schema_version and that kek is the KEK the database was created with, and
// upgrades a schema-1 database (one transaction). Returns the schema version
// the database had (kSchemaVersion for one created here).
Result<std::int64_t> prepare_database(Db& db, const Kek& kek);

// meta.kek_check for kek: 32 zero bytes wrapped under it, with a label no
// real key has. Written at creation and by a KEK rotation.
Result<std::vector<std::uint8_t>> wrap_kek_check(const Kek& kek);

// For a read-only connection: checks schema_version only (an older one is
// refused, saying that serving it upgrades it).
Result<void> check_schema(Db& db);

}  // namespace keymgr::store
