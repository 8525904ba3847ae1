// Creating and checking the keys.db schema.
#include "store/schema.h"

#include <array>

#include "store/key_wrap.h"
#include "store/transaction.h"

namespace keymgr::store {
namespace {

// STRICT tables: a value of the wrong type is an error, not a silent
// conversion. Integers that are u32/u64 on the wire are stored as INTEGER
// (int64); the store rejects values above INT64_MAX.
constexpr const char* kCreateSchema = R"sql(
CREATE TABLE meta(
  name  TEXT PRIMARY KEY,
  value ANY NOT NULL
) STRICT;

CREATE TABLE keys(
  channel_id    INTEGER NOT NULL CHECK (channel_id BETWEEN 1 AND 4294967295),
  key_id        INTEGER NOT NULL CHECK (key_id BETWEEN 1 AND 4294967295),
  suite         INTEGER NOT NULL CHECK (suite BETWEEN 0 AND 255),
  key_length    INTEGER NOT NULL CHECK (key_length BETWEEN 1 AND 1024),
  lifetime_ms   INTEGER NOT NULL CHECK (lifetime_ms >= 0),
  not_before_ms INTEGER NOT NULL CHECK (not_before_ms >= 0),
  created_ms    INTEGER NOT NULL CHECK (created_ms >= 0),
  wrapped       BLOB    NOT NULL,
  version       INTEGER NOT NULL UNIQUE CHECK (version >= 1),
  expired       INTEGER NOT NULL DEFAULT 0 CHECK (expired IN (0, 1)),
  PRIMARY KEY (channel_id, key_id)
) STRICT;

CREATE TABLE key_fetches(
  peer_id    TEXT    NOT NULL,
  channel_id INTEGER NOT NULL,
  key_id     INTEGER NOT NULL,
  first_ms   INTEGER NOT NULL,
  PRIMARY KEY (peer_id, channel_id, key_id),
  FOREIGN KEY (channel_id, key_id) REFERENCES keys(channel_id, key_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX key_fetches_by_key ON key_fetches(channel_id, key_id);

CREATE TABLE request_counts(
  hour_ms    INTEGER NOT NULL,
  peer_id    TEXT    NOT NULL,
  channel_id INTEGER NOT NULL,
  requests   INTEGER NOT NULL,
  PRIMARY KEY (hour_ms, peer_id, channel_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE usage(
  hour_ms    INTEGER NOT NULL,
  gateway_id TEXT    NOT NULL,
  channel_id INTEGER NOT NULL,
  key_id     INTEGER NOT NULL,
  packets    INTEGER NOT NULL,
  bytes      INTEGER NOT NULL,
  PRIMARY KEY (hour_ms, gateway_id, channel_id, key_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX usage_by_key ON usage(channel_id, key_id);
)sql";

// The KEK check: 32 zero bytes wrapped under the KEK with a label no real key
// has (channel 0). If it does not unwrap, the KEK file is not the one the
// database was created with.
constexpr KeyLabel kKekCheckLabel{0, 0, 0};

Result<bool> has_meta_table(Db& db) {
  auto q = db.query("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'");
  if (!q) return q.failure();
  auto row = q->step("read schema");
  if (!row) return row.failure();
  return *row && q->column_int64(0) > 0;
}

Result<void> create_schema(Db& db, const Kek& kek) {
  auto txn = Transaction::begin(db);
  if (!txn) return txn.failure();
  auto exists = has_meta_table(db);  // another process may have won the race
  if (!exists) return exists.failure();
  if (*exists) return txn->commit();

  if (auto r = db.exec(kCreateSchema, "create schema"); !r) return r;
  auto check = wrap_kek_check(kek);
  if (!check) return check.failure();
  auto q = db.query(
      "INSERT INTO meta(name, value) VALUES ('schema_version', ?1), ('version', 0), ('kek_check', ?2)");
  if (!q) return q.failure();
  q->bind(1, kSchemaVersion).bind_blob(2, *check);
  if (auto r = q->run("initialise meta"); !r) return r;
  return txn->commit();
}

Result<void> verify_kek(Db& db, const Kek& kek) {
  auto q = db.query("SELECT value FROM meta WHERE name = 'kek_check'");
  if (!q) return q.failure();
  auto row = q->step("read kek_check");
  if (!row) return row.failure();
  if (!*row) return fail(StoreError::corrupt, db.path() + ": meta has no kek_check");
  auto check = unwrap_key(kek, kKekCheckLabel, q->column_blob(0));
  if (!check) {
    return fail(StoreError::refused,
                db.path() + ": the KEK does not match the one this database was created with "
                            "(wrong KEK file?)");
  }
  return {};
}

}  // namespace

Result<std::vector<std::uint8_t>> wrap_kek_check(const Kek& kek) {
  const std::array<std::uint8_t, 32> zeros{};
  return wrap_key(kek, kKekCheckLabel, zeros);
}

Result<void> check_schema(Db& db) {
  auto exists = has_meta_table(db);
  if (!exists) return exists.failure();
  if (!*exists) return fail(StoreError::refused, db.path() + ": not a keymgr database (no meta table)");
  auto q = db.query("SELECT value FROM meta WHERE name = 'schema_version'");
  if (!q) return q.failure();
  auto row = q->step("read schema_version");
  if (!row) return row.failure();
  const std::int64_t v = *row ? q->column_int64(0) : 0;
  if (v != kSchemaVersion) {
    return fail(StoreError::refused, db.path() + ": schema_version " + std::to_string(v) +
                                         ", this keymgr knows " + std::to_string(kSchemaVersion));
  }
  return {};
}

Result<void> prepare_database(Db& db, const Kek& kek) {
  auto mode = db.query_text("PRAGMA journal_mode=WAL", "set journal_mode");
  if (!mode) return mode.failure();
  if (*mode != "wal") {
    return fail(StoreError::refused, db.path() + ": cannot use WAL mode (journal_mode is " + *mode + ")");
  }
  if (auto r = db.exec("PRAGMA synchronous=FULL; PRAGMA secure_delete=ON; PRAGMA foreign_keys=ON;",
                       "set pragmas");
      !r) {
    return r;
  }
  auto exists = has_meta_table(db);
  if (!exists) return exists.failure();
  if (!*exists) {
    if (auto r = create_schema(db, kek); !r) return r;
  }
  if (auto r = check_schema(db); !r) return r;
  return verify_kek(db, kek);
}

}  // namespace keymgr::store
