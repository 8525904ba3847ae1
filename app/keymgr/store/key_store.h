// KeyStore: the key manager's durable state in <state_dir>/keys.db (SQLite,
// WAL, synchronous=FULL; NORMAL after defer_sync(), with WalSync putting the
// commits on the disk). Keys are stored wrapped under the KEK; accounting
// is kept per hour. Every write is one transaction, committed before the call
// returns; on any SQLite failure it is rolled back and the call returns
// StoreError::unavailable (disk full, read-only, I/O error) so the server can
// answer `unavailable`; reads keep working and the next write may succeed.
//
// Replication position. Each key row carries `version`, the value of a global
// counter (meta.version) taken when the row last changed: +1 on insert, +1
// again when the key expires. changes_since(v) returns the rows whose version
// is above v in version order, so a replica at v learns of every key inserted
// or expired after v; a key inserted and expired since v arrives once, in its
// final (expired) state, which is all a replica needs. Versions are strictly
// increasing but have gaps (an expiry re-stamps the row and frees its old
// number); a replica must not expect v+1 to follow v. No separate change log.
//
// Not thread-safe: one thread (or a mutex) per KeyStore.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "store/accounting.h"
#include "store/kek.h"
#include "store/key_material.h"
#include "store/result.h"
#include "store/sqlite_db.h"

namespace keymgr::store {

struct StoredKey {
  std::uint32_t channel_id = 0;
  std::uint32_t key_id = 0;
  std::uint8_t suite = 0;
  std::uint16_t key_length = 0;  // == material.len unless expired
  std::uint32_t lifetime_ms = 0;
  std::uint64_t not_before_ms = 0;
  std::uint64_t created_ms = 0;
  KeyMaterial material;
};

// What one KeyStore::prune call deleted; `more` when it stopped at its limit.
struct Pruned {
  std::size_t keys = 0, usage = 0, requests = 0, fetch_runs = 0;
  bool more = false;
  std::size_t rows() const noexcept { return keys + usage + requests + fetch_runs; }
};

// The role a store was served in: a replica's store copies its master's
// keys, a master's may hold keys no other has.
enum class ServedAs : std::uint8_t { master, replica };

// A replica's store first served as a master: when, and the replication
// version it had then (every key row at or below it came from the old master).
struct Promotion {
  std::uint64_t at_ms = 0;
  std::uint64_t version = 0;
};

struct KeyRow {
  StoredKey key;
  std::uint64_t version = 0;
  bool expired = false;  // material wiped (len 0)
};

class KeyStore {
 public:
  // Refused if state_dir is not a directory or has mode & 077, if the
  // database's schema is unknown, or if kek is not the KEK it was created with.
  static Result<KeyStore> open(const std::string& state_dir, const Kek& kek);

  KeyStore(KeyStore&&) noexcept = default;
  KeyStore& operator=(KeyStore&&) noexcept = default;

  // Stores a new key; returns its version. The same (channel, key_id) again
  // with the same suite, key_length, lifetime_ms and material returns the
  // existing version (not_before_ms and created_ms of the first put are
  // kept); different content, a key already expired, or one below the keys
  // prune() deleted, is `conflict`.
  Result<std::uint64_t> put_key(const StoredKey& key);
  // not_found if absent. An expired key is returned with expired = true and
  // no material.
  Result<KeyRow> get_key(std::uint32_t channel_id, std::uint32_t key_id);
  // Keys not expired, by key_id.
  Result<std::vector<KeyRow>> keys_of_channel(std::uint32_t channel_id);
  // Highest key_id ever stored for the channel, expired or not; 0 if none.
  Result<std::uint32_t> max_key_id(std::uint32_t channel_id);
  // Wipes the material and bumps the version; returns the new version. An
  // already expired key returns its version unchanged; not_found if absent.
  Result<std::uint64_t> expire_key(std::uint32_t channel_id, std::uint32_t key_id);
  // Rows with version > since, by version, at most limit of them.
  Result<std::vector<KeyRow>> changes_since(std::uint64_t since, std::size_t limit);
  // The highest version handed out (0 for an empty store).
  Result<std::uint64_t> current_version();
  // On a replica: applies a row from the master's changes_since/KEY_DELIVERY
  // with the master's version, so current_version() is the replica's
  // position. A version at or below current_version() is ignored (already
  // applied); so is a key that prune() deleted here (absent, below a deleted
  // id: only the version is taken).
  Result<void> apply_replicated(const KeyRow& row);

  // meta.served_as: the role the store was last served in; nullopt for a
  // store never served since that was recorded (an older key manager's).
  Result<std::optional<ServedAs>> served_as();
  // Records the role it is served in now. From replica to master it also
  // records the promotion (now_ms and the current version), in one
  // transaction; a later promotion replaces an earlier one.
  Result<void> record_served_as(ServedAs role, std::uint64_t now_ms);
  // The store's last promotion, if it had one.
  Result<std::optional<Promotion>> promotion();

  Result<void> record_fetch(const std::string& peer_id, std::uint32_t channel_id,
                            std::uint32_t key_id, std::uint64_t now_ms);
  Result<void> add_requests(const std::string& peer_id, std::uint32_t channel_id,
                            std::uint64_t now_ms, std::uint64_t n = 1);
  Result<void> add_usage(const std::string& gateway_id, std::uint32_t channel_id,
                         std::uint32_t key_id, std::uint64_t packets, std::uint64_t bytes,
                         std::uint64_t now_ms);
  // All ops in one transaction: all applied or none. `invalid` (nothing
  // applied) if any op is out of range.
  Result<void> apply(std::span<const AccountingOp> ops);
  // The same, committed to the operating system without waiting for the disk
  // (synchronous=NORMAL for this transaction): survives the process being
  // killed at any moment, not a power cut. For the accounting of KEY_REQUESTs,
  // committed once per burst before their answers go out.
  Result<void> apply_os_durable(std::span<const AccountingOp> ops);
  Result<std::vector<AccountRow>> accounts(const AccountFilter& filter);

  // Retention, one transaction of at most `limit` rows per table: deletes the
  // keys that ended before before_ms (all but each channel's newest, so key
  // ids never start over; ids below a deleted one are refused from then on),
  // the hourly usage and request counts of hours that ended before it, and
  // the fetch runs wholly below every key still kept.
  Result<Pruned> prune(std::uint64_t before_ms, std::size_t limit);

  // Re-wraps every stored key and meta.kek_check under next in one
  // transaction; from then on the store uses next (the old KEK is wiped).
  // Versions are unchanged: replicas keep their own KEKs. Returns how many
  // keys were re-wrapped; on failure nothing changed and the old KEK stays.
  Result<std::size_t> rewrap(const Kek& next);

  // From now on a write returns once it is committed to the operating system
  // (synchronous=NORMAL), not to the disk: it survives the process being
  // killed, and a power cut only once the WAL is synced (WalSync). WAL
  // checkpoints are no longer made by this connection's commits either: the
  // caller has WalSync make them when wal_frames() says the WAL is long.
  Result<void> defer_sync();
  // Frames in the WAL after the last commit (0 before defer_sync()).
  int wal_frames() const noexcept { return wal_frames_ ? *wal_frames_ : 0; }
  const std::string& path() const noexcept { return db_.path(); }
  // The schema version the database had when opened: below the current one
  // if open() upgraded it.
  std::int64_t opened_schema() const noexcept { return opened_schema_; }

  // The SQLite connection, for tests and diagnostics only.
  sqlite3* native_handle() const noexcept { return db_.handle(); }

 private:
  KeyStore(Db db, Kek kek) : db_(std::move(db)), kek_(std::move(kek)) {}
  Result<std::uint64_t> next_version();
  Result<std::optional<std::uint64_t>> find_same(const StoredKey& key);
  Result<std::optional<std::uint64_t>> expired_version(std::uint32_t channel_id, std::uint32_t key_id);
  Result<std::vector<KeyRow>> read_rows(Query& q, std::string_view what);
  // The lowest key id of the channel still taken (1 unless prune() deleted some).
  Result<std::uint32_t> lowest_allowed(std::uint32_t channel_id);

  Db db_;
  Kek kek_;
  // Set by SQLite's WAL hook; on the heap so that a moved KeyStore keeps it.
  std::unique_ptr<int> wal_frames_;
  std::int64_t opened_schema_ = 0;
};

}  // namespace keymgr::store
