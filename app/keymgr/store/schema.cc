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

// What schema 2 added. fetch_ranges: which keys of a channel a receiver
// fetched, as runs of consecutive key ids [first_key, last_key] (a receiver
// that stays on a channel fetches every key in turn: one row, not one per
// key); runs of one peer and channel never overlap or touch; first_ms: when
// the run's first fetch was recorded. keys_by_end: for the retention. pruned:
// the retention deleted the channel's keys below below_key_id, which are
// never taken again.
constexpr const char* kCreateSchema2 = R"sql(
CREATE TABLE fetch_ranges(
  peer_id    TEXT    NOT NULL,
  channel_id INTEGER NOT NULL,
  first_key  INTEGER NOT NULL,
  last_key   INTEGER NOT NULL,
  first_ms   INTEGER NOT NULL,
  CHECK (last_key >= first_key),
  PRIMARY KEY (peer_id, channel_id, first_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX keys_by_end ON keys(not_before_ms + lifetime_ms);
CREATE TABLE pruned(
  channel_id   INTEGER PRIMARY KEY,
  below_key_id INTEGER NOT NULL
) STRICT;
)sql";

// Schema 1 kept one key_fetches row per (peer, channel, key): its rows become
// runs (consecutive key ids of a peer and channel share key_id - row number).
constexpr const char* kUpgradeFrom1 = R"sql(
INSERT INTO fetch_ranges(peer_id, channel_id, first_key, last_key, first_ms)
  SELECT peer_id, channel_id, min(key_id), max(key_id), min(first_ms)
    FROM (SELECT peer_id, channel_id, key_id, first_ms,
                 key_id - row_number() OVER (PARTITION BY peer_id, channel_id ORDER BY key_id) AS run
            FROM key_fetches)
   GROUP BY peer_id, channel_id, run;
DROP TABLE key_fetches;
UPDATE meta SET value = 2 WHERE name = 'schema_version';
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
  if (auto r = db.exec(kCreateSchema2, "create schema 2 tables"); !r) return r;
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

Result<std::int64_t> schema_version(Db& db) {
  auto exists = has_meta_table(db);
  if (!exists) return exists.failure();
  if (!*exists) return fail(StoreError::refused, db.path() + ": not a keymgr database (no meta table)");
  auto q = db.query("SELECT value FROM meta WHERE name = 'schema_version'");
  if (!q) return q.failure();
  auto row = q->step("read schema_version");
  if (!row) return row.failure();
  return *row ? q->column_int64(0) : 0;
}

Result<void> refuse_version(Db& db, std::int64_t v) {
  std::string why = db.path() + ": schema_version " + std::to_string(v) + ", this keymgr knows " +
                    std::to_string(kSchemaVersion);
  if (v >= 1 && v < kSchemaVersion) why += " (made by an older keycast-keymgr: serving it once upgrades it)";
  return fail(StoreError::refused, why);
}

Result<void> upgrade(Db& db) {
  auto txn = Transaction::begin(db);
  if (!txn) return txn.failure();
  auto v = schema_version(db);  // another process may have upgraded it meanwhile
  if (!v) return v.failure();
  if (*v == kSchemaVersion) return txn->commit();
  if (auto r = db.exec(kCreateSchema2, "create schema 2 tables"); !r) return r;
  if (auto r = db.exec(kUpgradeFrom1, "upgrade schema 1 to 2"); !r) return r;
  return txn->commit();
}

}  // namespace

Result<std::vector<std::uint8_t>> wrap_kek_check(const Kek& kek) {
  const std::array<std::uint8_t, 32> zeros{};
  return wrap_key(kek, kKekCheckLabel, zeros);
}

Result<void> check_schema(Db& db) {
  auto v = schema_version(db);
  if (!v) return v.failure();
  if (*v != kSchemaVersion) return refuse_version(db, *v);
  return {};
}

Result<std::int64_t> prepare_database(Db& db, const Kek& kek) {
  auto mode = db.query_text("PRAGMA journal_mode=WAL", "set journal_mode");
  if (!mode) return mode.failure();
  if (*mode != "wal") {
    return fail(StoreError::refused, db.path() + ": cannot use WAL mode (journal_mode is " + *mode + ")");
  }
  if (auto r = db.exec("PRAGMA synchronous=FULL; PRAGMA secure_delete=ON; PRAGMA foreign_keys=ON;",
                       "set pragmas");
      !r) {
    return r.failure();
  }
  auto exists = has_meta_table(db);
  if (!exists) return exists.failure();
  if (!*exists) {
    if (auto r = create_schema(db, kek); !r) return r.failure();
  }
  auto v = schema_version(db);
  if (!v) return v.failure();
  if (*v != kSchemaVersion && *v != 1) return refuse_version(db, *v).failure();
  if (auto r = verify_kek(db, kek); !r) return r.failure();
  if (*v != kSchemaVersion) {
    if (auto r = upgrade(db); !r) return r.failure();
  }
  return *v;
}

}  // namespace keymgr::store
