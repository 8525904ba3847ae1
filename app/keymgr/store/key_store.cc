// KeyStore: opening the store and the key operations.
#include "store/key_store.h"

#include <sys/stat.h>

#include <limits>
#include <optional>
#include <utility>

#include <sqlite3.h>

#include "store/key_wrap.h"
#include "store/private_path.h"
#include "store/schema.h"
#include "store/transaction.h"

namespace keymgr::store {
namespace {

std::int64_t i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }

std::string key_name(std::uint32_t channel_id, std::uint32_t key_id) {
  return "channel " + std::to_string(channel_id) + " key " + std::to_string(key_id);
}

Result<void> validate(const StoredKey& k, bool expired) {
  if (k.channel_id == 0 || k.key_id == 0) {
    return fail(StoreError::invalid, "channel_id and key_id must be non-zero");
  }
  if (k.key_length == 0 || k.key_length > kMaxKeyLength) {
    return fail(StoreError::invalid, key_name(k.channel_id, k.key_id) + ": key_length " +
                                         std::to_string(k.key_length) + " outside 1..1024");
  }
  if (!expired && k.material.len != k.key_length) {
    return fail(StoreError::invalid,
                key_name(k.channel_id, k.key_id) + ": material length differs from key_length");
  }
  if (k.not_before_ms > kMaxInt64 || k.created_ms > kMaxInt64) {
    return fail(StoreError::invalid, key_name(k.channel_id, k.key_id) + ": time out of range");
  }
  return {};
}

// Equal as far as a retried put is concerned (see put_key).
bool same_key(const StoredKey& a, const StoredKey& b) {
  return a.suite == b.suite && a.key_length == b.key_length && a.lifetime_ms == b.lifetime_ms &&
         a.material == b.material;
}

// Makes the db file and its -wal/-shm owner-only even if they were created
// by an older build or by hand; SQLite gives -wal/-shm the db file's mode.
void make_private(const std::string& db_path) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string p = db_path + suffix;
    struct stat st {};
    if (stat(p.c_str(), &st) == 0 && (st.st_mode & 077) != 0) chmod(p.c_str(), 0600);
  }
}

constexpr const char* kInsertKey =
    "INSERT INTO keys(channel_id, key_id, suite, key_length, lifetime_ms, not_before_ms, "
    "created_ms, wrapped, version, expired) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

Result<void> insert_key(Db& db, const StoredKey& k, std::span<const std::uint8_t> wrapped,
                        std::uint64_t version, bool expired) {
  auto q = db.query(kInsertKey);
  if (!q) return q.failure();
  q->bind(1, k.channel_id)
      .bind(2, k.key_id)
      .bind(3, k.suite)
      .bind(4, k.key_length)
      .bind(5, k.lifetime_ms)
      .bind(6, i64(k.not_before_ms))
      .bind(7, i64(k.created_ms))
      .bind_blob(8, wrapped)
      .bind(9, i64(version))
      .bind(10, expired ? 1 : 0);
  return q->run("insert " + key_name(k.channel_id, k.key_id));
}

// Wipes the material of a stored key and gives the row a new version.
Result<void> mark_expired(Db& db, std::uint32_t channel_id, std::uint32_t key_id,
                          std::uint64_t version) {
  auto q = db.query(
      "UPDATE keys SET wrapped = x'', expired = 1, version = ?3 "
      "WHERE channel_id = ?1 AND key_id = ?2");
  if (!q) return q.failure();
  q->bind(1, channel_id).bind(2, key_id).bind(3, i64(version));
  return q->run("expire " + key_name(channel_id, key_id));
}

Result<void> set_version(Db& db, std::uint64_t version) {
  auto q = db.query("UPDATE meta SET value = ?1 WHERE name = 'version'");
  if (!q) return q.failure();
  q->bind(1, i64(version));
  return q->run("set version");
}

}  // namespace

Result<KeyStore> KeyStore::open(const std::string& state_dir, const Kek& kek) {
  if (auto r = check_private_dir(state_dir); !r) return r.failure();
  const std::string path = state_dir + "/keys.db";
  auto db = Db::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  if (!db) return db.failure();
  make_private(path);
  auto found = prepare_database(*db, kek);
  if (!found) return found.failure();
  make_private(path);
  KeyStore store(std::move(*db), kek.clone());
  store.opened_schema_ = *found;
  return store;
}

Result<void> KeyStore::defer_sync() {
  if (wal_frames_) return {};
  if (auto r = db_.exec("PRAGMA synchronous=NORMAL", "defer sync"); !r) return r;
  wal_frames_ = std::make_unique<int>(0);
  // A WAL hook of our own replaces SQLite's automatic checkpoint.
  sqlite3_wal_hook(
      db_.handle(),
      [](void* frames, sqlite3*, const char*, int n) {
        *static_cast<int*>(frames) = n;
        return SQLITE_OK;
      },
      wal_frames_.get());
  return {};
}

Result<std::uint64_t> KeyStore::next_version() {
  auto q = db_.query("UPDATE meta SET value = value + 1 WHERE name = 'version' RETURNING value");
  if (!q) return q.failure();
  auto row = q->step("bump version");
  if (!row) return row.failure();
  if (!*row) return fail(StoreError::corrupt, db_.path() + ": meta has no version");
  return static_cast<std::uint64_t>(q->column_int64(0));
}

Result<std::uint64_t> KeyStore::current_version() {
  auto q = db_.query("SELECT value FROM meta WHERE name = 'version'");
  if (!q) return q.failure();
  auto row = q->step("read version");
  if (!row) return row.failure();
  if (!*row) return fail(StoreError::corrupt, db_.path() + ": meta has no version");
  return static_cast<std::uint64_t>(q->column_int64(0));
}

// Columns: channel_id, key_id, suite, key_length, lifetime_ms, not_before_ms,
// created_ms, wrapped, version, expired.
Result<std::vector<KeyRow>> KeyStore::read_rows(Query& q, std::string_view what) {
  std::vector<KeyRow> rows;
  for (;;) {
    auto more = q.step(what);
    if (!more) return more.failure();
    if (!*more) break;
    KeyRow& row = rows.emplace_back();
    StoredKey& k = row.key;
    k.channel_id = static_cast<std::uint32_t>(q.column_int64(0));
    k.key_id = static_cast<std::uint32_t>(q.column_int64(1));
    k.suite = static_cast<std::uint8_t>(q.column_int64(2));
    k.key_length = static_cast<std::uint16_t>(q.column_int64(3));
    k.lifetime_ms = static_cast<std::uint32_t>(q.column_int64(4));
    k.not_before_ms = static_cast<std::uint64_t>(q.column_int64(5));
    k.created_ms = static_cast<std::uint64_t>(q.column_int64(6));
    row.version = static_cast<std::uint64_t>(q.column_int64(8));
    row.expired = q.column_int64(9) != 0;
    if (row.expired) continue;
    auto material = unwrap_key(kek_, KeyLabel{k.channel_id, k.key_id, k.suite}, q.column_blob(7));
    if (!material) return material.failure();
    if (material->len != k.key_length) {
      return fail(StoreError::corrupt, key_name(k.channel_id, k.key_id) + ": material length differs");
    }
    k.material = *material;
  }
  return rows;
}

Result<KeyRow> KeyStore::get_key(std::uint32_t channel_id, std::uint32_t key_id) {
  auto q = db_.query(
      "SELECT channel_id, key_id, suite, key_length, lifetime_ms, not_before_ms, created_ms, "
      "wrapped, version, expired FROM keys WHERE channel_id = ?1 AND key_id = ?2");
  if (!q) return q.failure();
  q->bind(1, channel_id).bind(2, key_id);
  auto rows = read_rows(*q, "get " + key_name(channel_id, key_id));
  if (!rows) return rows.failure();
  if (rows->empty()) return fail(StoreError::not_found, key_name(channel_id, key_id) + " not stored");
  return std::move(rows->front());
}

Result<std::vector<KeyRow>> KeyStore::keys_of_channel(std::uint32_t channel_id) {
  auto q = db_.query(
      "SELECT channel_id, key_id, suite, key_length, lifetime_ms, not_before_ms, created_ms, "
      "wrapped, version, expired FROM keys WHERE channel_id = ?1 AND expired = 0 ORDER BY key_id");
  if (!q) return q.failure();
  q->bind(1, channel_id);
  return read_rows(*q, "keys of channel " + std::to_string(channel_id));
}

Result<std::uint32_t> KeyStore::max_key_id(std::uint32_t channel_id) {
  auto q = db_.query("SELECT max(key_id) FROM keys WHERE channel_id = ?1");
  if (!q) return q.failure();
  q->bind(1, channel_id);
  auto row = q->step("max key_id");
  if (!row) return row.failure();
  if (!*row || q->column_is_null(0)) return std::uint32_t{0};
  return static_cast<std::uint32_t>(q->column_int64(0));
}

Result<std::uint32_t> KeyStore::lowest_allowed(std::uint32_t channel_id) {
  auto q = db_.query("SELECT below_key_id FROM pruned WHERE channel_id = ?1");
  if (!q) return q.failure();
  q->bind(1, channel_id);
  auto row = q->step("read pruned");
  if (!row) return row.failure();
  return *row ? static_cast<std::uint32_t>(q->column_int64(0)) : std::uint32_t{1};
}

Result<std::vector<KeyRow>> KeyStore::changes_since(std::uint64_t since, std::size_t limit) {
  if (since > kMaxInt64) return std::vector<KeyRow>{};
  auto q = db_.query(
      "SELECT channel_id, key_id, suite, key_length, lifetime_ms, not_before_ms, created_ms, "
      "wrapped, version, expired FROM keys WHERE version > ?1 ORDER BY version LIMIT ?2");
  if (!q) return q.failure();
  q->bind(1, i64(since)).bind(2, i64(std::min<std::uint64_t>(limit, kMaxInt64)));
  return read_rows(*q, "changes since " + std::to_string(since));
}

// The version of an identical stored key, nullopt if (channel, key_id) is
// free, or conflict.
Result<std::optional<std::uint64_t>> KeyStore::find_same(const StoredKey& key) {
  auto existing = get_key(key.channel_id, key.key_id);
  if (!existing) {
    if (existing.error() == StoreError::not_found) return std::optional<std::uint64_t>();
    return existing.failure();
  }
  if (existing->expired) {
    return fail(StoreError::conflict, key_name(key.channel_id, key.key_id) + " exists and has expired");
  }
  if (!same_key(existing->key, key)) {
    return fail(StoreError::conflict, key_name(key.channel_id, key.key_id) + " exists with different content");
  }
  return std::optional<std::uint64_t>(existing->version);
}

Result<std::uint64_t> KeyStore::put_key(const StoredKey& key) {
  if (auto r = validate(key, false); !r) return r.failure();
  // A retry of a stored key needs no write, so it is answered even when the
  // database cannot be written.
  auto before = find_same(key);
  if (!before) return before.failure();
  if (*before) return **before;

  auto wrapped = wrap_key(kek_, KeyLabel{key.channel_id, key.key_id, key.suite}, key.material.view());
  if (!wrapped) return wrapped.failure();
  auto txn = Transaction::begin(db_);
  if (!txn) return txn.failure();
  auto inside = find_same(key);  // another connection may have written it since
  if (!inside) return inside.failure();
  if (*inside) return **inside;
  auto lowest = lowest_allowed(key.channel_id);
  if (!lowest) return lowest.failure();
  if (key.key_id < *lowest) {
    return fail(StoreError::conflict, key_name(key.channel_id, key.key_id) + " is below " +
                                          std::to_string(*lowest) + ", where the retention deleted older keys");
  }

  auto version = next_version();
  if (!version) return version.failure();
  if (auto r = insert_key(db_, key, *wrapped, *version, false); !r) return r.failure();
  if (auto r = txn->commit(); !r) return r.failure();
  return *version;
}

// The version of an already expired key, nullopt if it is live, or not_found.
Result<std::optional<std::uint64_t>> KeyStore::expired_version(std::uint32_t channel_id,
                                                               std::uint32_t key_id) {
  auto q = db_.query("SELECT version, expired FROM keys WHERE channel_id = ?1 AND key_id = ?2");
  if (!q) return q.failure();
  q->bind(1, channel_id).bind(2, key_id);
  auto row = q->step("find " + key_name(channel_id, key_id));
  if (!row) return row.failure();
  if (!*row) return fail(StoreError::not_found, key_name(channel_id, key_id) + " not stored");
  if (q->column_int64(1) == 0) return std::optional<std::uint64_t>();
  return std::optional<std::uint64_t>(static_cast<std::uint64_t>(q->column_int64(0)));
}

Result<std::uint64_t> KeyStore::expire_key(std::uint32_t channel_id, std::uint32_t key_id) {
  auto before = expired_version(channel_id, key_id);
  if (!before) return before.failure();
  if (*before) return **before;

  auto txn = Transaction::begin(db_);
  if (!txn) return txn.failure();
  auto inside = expired_version(channel_id, key_id);
  if (!inside) return inside.failure();
  if (*inside) return **inside;

  auto version = next_version();
  if (!version) return version.failure();
  if (auto r = mark_expired(db_, channel_id, key_id, *version); !r) return r.failure();
  if (auto r = txn->commit(); !r) return r.failure();
  return *version;
}

Result<void> KeyStore::apply_replicated(const KeyRow& row) {
  if (auto r = validate(row.key, row.expired); !r) return r;
  if (row.version == 0 || row.version > kMaxInt64) {
    return fail(StoreError::invalid, "replicated version " + std::to_string(row.version) + " out of range");
  }
  const StoredKey& k = row.key;
  auto txn = Transaction::begin(db_);
  if (!txn) return txn.failure();
  auto current = current_version();
  if (!current) return current.failure();
  if (row.version <= *current) return {};  // applied before

  auto existing = get_key(k.channel_id, k.key_id);
  if (!existing && existing.error() != StoreError::not_found) return existing.failure();
  auto lowest = lowest_allowed(k.channel_id);
  if (!lowest) return lowest.failure();
  if (!existing && k.key_id < *lowest) {  // deleted here by the retention: only the position moves
    if (auto r = set_version(db_, row.version); !r) return r;
    return txn->commit();
  }
  if (row.expired) {
    auto r = existing ? mark_expired(db_, k.channel_id, k.key_id, row.version)
                      : insert_key(db_, k, {}, row.version, true);
    if (!r) return r;
  } else if (existing) {
    if (existing->expired || !same_key(existing->key, k)) {
      return fail(StoreError::conflict, key_name(k.channel_id, k.key_id) +
                                            ": replicated key differs from the stored one");
    }
    auto q = db_.query("UPDATE keys SET version = ?3 WHERE channel_id = ?1 AND key_id = ?2");
    if (!q) return q.failure();
    q->bind(1, k.channel_id).bind(2, k.key_id).bind(3, i64(row.version));
    if (auto r = q->run("restamp " + key_name(k.channel_id, k.key_id)); !r) return r;
  } else {
    auto wrapped = wrap_key(kek_, KeyLabel{k.channel_id, k.key_id, k.suite}, k.material.view());
    if (!wrapped) return wrapped.failure();
    if (auto r = insert_key(db_, k, *wrapped, row.version, false); !r) return r;
  }
  if (auto r = set_version(db_, row.version); !r) return r;
  return txn->commit();
}

}  // namespace keymgr::store
