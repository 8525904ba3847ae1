// KeyStore::served_as, record_served_as, promotion: the role a store was
// served in, kept in meta (served_as, promoted_ms, promoted_version).
#include "store/key_store.h"
#include "store/transaction.h"

namespace keymgr::store {
namespace {

constexpr std::string_view role_text(ServedAs r) { return r == ServedAs::master ? "master" : "replica"; }

template <class Value>
Result<void> set_meta(Db& db, std::string_view name, Value value, std::string_view what) {
  auto q = db.query("INSERT INTO meta(name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = ?2");
  if (!q) return q.failure();
  q->bind(1, name).bind(2, value);
  return q->run(what);
}

// The meta row `name`, stepped onto its value; nullopt if absent.
Result<std::optional<Query>> meta_row(Db& db, std::string_view name) {
  auto q = db.query("SELECT value FROM meta WHERE name = ?1");
  if (!q) return q.failure();
  q->bind(1, name);
  auto row = q->step("read meta");
  if (!row) return row.failure();
  if (!*row) return std::optional<Query>{};
  return std::optional<Query>{std::move(*q)};
}

Result<std::optional<std::uint64_t>> meta_u64(Db& db, std::string_view name) {
  auto row = meta_row(db, name);
  if (!row) return row.failure();
  if (!*row) return std::optional<std::uint64_t>{};
  return std::optional<std::uint64_t>{static_cast<std::uint64_t>((*row)->column_int64(0))};
}

}  // namespace

Result<std::optional<ServedAs>> KeyStore::served_as() {
  auto row = meta_row(db_, "served_as");
  if (!row) return row.failure();
  if (!*row) return std::optional<ServedAs>{};
  const std::string text = (*row)->column_text(0);
  if (text == role_text(ServedAs::master)) return std::optional<ServedAs>{ServedAs::master};
  if (text == role_text(ServedAs::replica)) return std::optional<ServedAs>{ServedAs::replica};
  return fail(StoreError::corrupt, db_.path() + ": meta served_as is \"" + text + "\"");
}

Result<void> KeyStore::record_served_as(ServedAs role, std::uint64_t now_ms) {
  const auto last = served_as();
  if (!last) return last.failure();
  auto txn = Transaction::begin(db_);
  if (!txn) return txn.failure();
  if (auto r = set_meta(db_, "served_as", role_text(role), "record served_as"); !r) return r;
  if (*last == ServedAs::replica && role == ServedAs::master) {
    const auto version = current_version();
    if (!version) return version.failure();
    if (auto r = set_meta(db_, "promoted_ms", static_cast<std::int64_t>(now_ms), "record the promotion"); !r) return r;
    if (auto r = set_meta(db_, "promoted_version", static_cast<std::int64_t>(*version), "record the promotion"); !r)
      return r;
  }
  return txn->commit();
}

Result<std::optional<Promotion>> KeyStore::promotion() {
  const auto at = meta_u64(db_, "promoted_ms");
  if (!at) return at.failure();
  const auto version = meta_u64(db_, "promoted_version");
  if (!version) return version.failure();
  if (!*at || !*version) return std::optional<Promotion>{};
  return std::optional<Promotion>{Promotion{**at, **version}};
}

}  // namespace keymgr::store
