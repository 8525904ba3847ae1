// KeyStore::rewrap: the store's half of `rotate-kek` (kek_rotation.h).
#include <utility>

#include "store/key_store.h"
#include "store/key_wrap.h"
#include "store/schema.h"
#include "store/transaction.h"

namespace keymgr::store {
namespace {

// A live key's row as stored: its label and its blob under the current KEK.
struct WrappedRow {
  KeyLabel label;
  std::vector<std::uint8_t> blob;
};

Result<std::vector<WrappedRow>> live_rows(Db& db) {
  auto q = db.query("SELECT channel_id, key_id, suite, wrapped FROM keys WHERE expired = 0");
  if (!q) return q.failure();
  std::vector<WrappedRow> rows;
  for (;;) {
    auto more = q->step("read keys to re-wrap");
    if (!more) return more.failure();
    if (!*more) return rows;
    const auto blob = q->column_blob(3);
    rows.push_back({KeyLabel{static_cast<std::uint32_t>(q->column_int64(0)),
                             static_cast<std::uint32_t>(q->column_int64(1)),
                             static_cast<std::uint8_t>(q->column_int64(2))},
                    {blob.begin(), blob.end()}});
  }
}

Result<void> store_blob(Db& db, const KeyLabel& l, std::span<const std::uint8_t> blob) {
  auto q = db.query("UPDATE keys SET wrapped = ?3 WHERE channel_id = ?1 AND key_id = ?2");
  if (!q) return q.failure();
  q->bind(1, l.channel_id).bind(2, l.key_id).bind_blob(3, blob);
  return q->run("re-wrap channel " + std::to_string(l.channel_id) + " key " + std::to_string(l.key_id));
}

Result<void> store_kek_check(Db& db, const Kek& kek) {
  auto check = wrap_kek_check(kek);
  if (!check) return check.failure();
  auto q = db.query("UPDATE meta SET value = ?1 WHERE name = 'kek_check'");
  if (!q) return q.failure();
  q->bind_blob(1, *check);
  return q->run("re-wrap kek_check");
}

}  // namespace

Result<std::size_t> KeyStore::rewrap(const Kek& next) {
  auto txn = Transaction::begin(db_);
  if (!txn) return txn.failure();
  auto rows = live_rows(db_);
  if (!rows) return rows.failure();
  for (const WrappedRow& row : *rows) {
    Result<std::vector<std::uint8_t>> blob = [&]() -> Result<std::vector<std::uint8_t>> {
      const auto material = unwrap_key(kek_, row.label, row.blob);  // wiped when it goes
      if (!material) return material.failure();
      return wrap_key(next, row.label, material->view());
    }();
    if (!blob) return blob.failure();
    if (auto r = store_blob(db_, row.label, *blob); !r) return r.failure();
  }
  if (auto r = store_kek_check(db_, next); !r) return r.failure();
  if (auto r = txn->commit(); !r) return r.failure();
  kek_ = next.clone();
  // Best effort: moves the new pages into keys.db (secure_delete overwrites
  // the old blobs there) and empties the WAL, which still holds them.
  (void)db_.exec("PRAGMA wal_checkpoint(TRUNCATE)", "checkpoint");
  return rows->size();
}

}  // namespace keymgr::store
