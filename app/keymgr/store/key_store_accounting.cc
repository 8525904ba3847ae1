// KeyStore: accounting updates (per-hour upserts) and the accounts listing.
#include "store/key_store.h"

#include <limits>
#include <optional>
#include <type_traits>

#include "store/accounts_query.h"
#include "store/transaction.h"

namespace keymgr::store {
namespace {

constexpr std::size_t kMaxPeerId = 64;  // keymgr-protocol.md, peer_id

std::int64_t hour_of(std::uint64_t now_ms) {
  return static_cast<std::int64_t>(now_ms) / kHourMs * kHourMs;
}

bool peer_ok(const std::string& p) { return !p.empty() && p.size() <= kMaxPeerId; }

const char* validate(const FetchOp& op) {
  if (!peer_ok(op.peer_id)) return "fetch: peer_id must be 1..64 bytes";
  if (op.channel_id == 0 || op.key_id == 0) return "fetch: channel_id and key_id must be non-zero";
  if (op.now_ms > kMaxInt64) return "fetch: time out of range";
  return nullptr;
}

const char* validate(const RequestsOp& op) {
  if (!peer_ok(op.peer_id)) return "requests: peer_id must be 1..64 bytes";
  if (op.channel_id == 0) return "requests: channel_id must be non-zero";
  if (op.now_ms > kMaxInt64 || op.n > kMaxInt64) return "requests: value out of range";
  return nullptr;
}

const char* validate(const UsageOp& op) {
  if (!peer_ok(op.gateway_id)) return "usage: gateway_id must be 1..64 bytes";
  if (op.channel_id == 0 || op.key_id == 0) return "usage: channel_id and key_id must be non-zero";
  if (op.now_ms > kMaxInt64 || op.packets > kMaxInt64 || op.bytes > kMaxInt64) {
    return "usage: value out of range";
  }
  return nullptr;
}

struct Run {
  std::int64_t first = 0, last = 0;
};

// The peer's run of fetched keys of the channel that starts at or before key.
Result<std::optional<Run>> run_from(Db& db, const FetchOp& op, std::int64_t key) {
  auto q = db.query(
      "SELECT first_key, last_key FROM fetch_ranges WHERE peer_id = ?1 AND channel_id = ?2 AND first_key <= ?3 "
      "ORDER BY first_key DESC LIMIT 1");
  if (!q) return q.failure();
  q->bind(1, std::string_view(op.peer_id)).bind(2, op.channel_id).bind(3, key);
  auto row = q->step("read fetch run");
  if (!row) return row.failure();
  if (!*row) return std::optional<Run>{};
  return std::optional<Run>{Run{q->column_int64(0), q->column_int64(1)}};
}

Result<bool> key_stored(Db& db, std::uint32_t channel_id, std::uint32_t key_id) {
  auto q = db.query("SELECT 1 FROM keys WHERE channel_id = ?1 AND key_id = ?2");
  if (!q) return q.failure();
  q->bind(1, channel_id).bind(2, key_id);
  return q->step("look up fetched key");
}

// Sets the run that starts at `first` to [new_first, last].
Result<void> set_run(Db& db, const FetchOp& op, std::int64_t first, std::int64_t new_first, std::int64_t last) {
  auto q = db.query(
      "UPDATE fetch_ranges SET first_key = ?4, last_key = ?5, first_ms = min(first_ms, ?6) "
      "WHERE peer_id = ?1 AND channel_id = ?2 AND first_key = ?3");
  if (!q) return q.failure();
  q->bind(1, std::string_view(op.peer_id))
      .bind(2, op.channel_id)
      .bind(3, first)
      .bind(4, new_first)
      .bind(5, last)
      .bind(6, static_cast<std::int64_t>(op.now_ms));
  return q->run("extend fetch run");
}

// Adds the key to the peer's runs of the channel: extends the run it ends or
// starts (joining the two when it fills the gap between them) or begins one.
Result<void> run(Db& db, const FetchOp& op) {
  auto stored = key_stored(db, op.channel_id, op.key_id);
  if (!stored) return stored.failure();
  if (!*stored) {
    return fail(StoreError::invalid, "record fetch: channel " + std::to_string(op.channel_id) + " key " +
                                         std::to_string(op.key_id) + " is not stored");
  }
  const std::int64_t key = op.key_id;
  auto before = run_from(db, op, key);
  if (!before) return before.failure();
  if (*before && (*before)->last >= key) return {};  // fetched before
  auto after = run_from(db, op, key + 1);
  if (!after) return after.failure();
  const bool follows = *before && (*before)->last == key - 1;
  const bool precedes = *after && (*after)->first == key + 1;
  if (follows && precedes) {
    auto q = db.query("DELETE FROM fetch_ranges WHERE peer_id = ?1 AND channel_id = ?2 AND first_key = ?3");
    if (!q) return q.failure();
    q->bind(1, std::string_view(op.peer_id)).bind(2, op.channel_id).bind(3, key + 1);
    if (auto r = q->run("join fetch runs"); !r) return r;
    return set_run(db, op, (*before)->first, (*before)->first, (*after)->last);
  }
  if (follows) return set_run(db, op, (*before)->first, (*before)->first, key);
  if (precedes) return set_run(db, op, key + 1, key, (*after)->last);
  auto q = db.query(
      "INSERT INTO fetch_ranges(peer_id, channel_id, first_key, last_key, first_ms) VALUES (?1, ?2, ?3, ?3, ?4)");
  if (!q) return q.failure();
  q->bind(1, std::string_view(op.peer_id))
      .bind(2, op.channel_id)
      .bind(3, key)
      .bind(4, static_cast<std::int64_t>(op.now_ms));
  return q->run("record fetch");
}

Result<void> run(Db& db, const RequestsOp& op) {
  auto q = db.query(
      "INSERT INTO request_counts(hour_ms, peer_id, channel_id, requests) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT(hour_ms, peer_id, channel_id) DO UPDATE SET requests = requests + excluded.requests");
  if (!q) return q.failure();
  q->bind(1, hour_of(op.now_ms))
      .bind(2, std::string_view(op.peer_id))
      .bind(3, op.channel_id)
      .bind(4, static_cast<std::int64_t>(op.n));
  return q->run("add requests");
}

Result<void> run(Db& db, const UsageOp& op) {
  auto q = db.query(
      "INSERT INTO usage(hour_ms, gateway_id, channel_id, key_id, packets, bytes) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
      "ON CONFLICT(hour_ms, gateway_id, channel_id, key_id) DO UPDATE SET "
      "packets = packets + excluded.packets, bytes = bytes + excluded.bytes");
  if (!q) return q.failure();
  q->bind(1, hour_of(op.now_ms))
      .bind(2, std::string_view(op.gateway_id))
      .bind(3, op.channel_id)
      .bind(4, op.key_id)
      .bind(5, static_cast<std::int64_t>(op.packets))
      .bind(6, static_cast<std::int64_t>(op.bytes));
  return q->run("add usage");
}

}  // namespace

Result<void> KeyStore::apply(std::span<const AccountingOp> ops) {
  for (const AccountingOp& op : ops) {
    const char* problem = std::visit([](const auto& o) { return validate(o); }, op);
    if (problem != nullptr) return fail(StoreError::invalid, problem);
  }
  if (ops.empty()) return {};
  auto txn = Transaction::begin(db_);
  if (!txn) return txn.failure();
  for (const AccountingOp& op : ops) {
    auto r = std::visit([this](const auto& o) { return run(db_, o); }, op);
    if (!r) return r;
  }
  return txn->commit();
}

Result<void> KeyStore::apply_os_durable(std::span<const AccountingOp> ops) {
  if (wal_frames_) return apply(ops);  // every commit is NORMAL already
  if (auto r = db_.exec("PRAGMA synchronous=NORMAL", "relax sync"); !r) return r;
  auto applied = apply(ops);
  if (auto r = db_.exec("PRAGMA synchronous=FULL", "restore sync"); !r && applied) return r;
  return applied;
}

Result<void> KeyStore::record_fetch(const std::string& peer_id, std::uint32_t channel_id,
                                    std::uint32_t key_id, std::uint64_t now_ms) {
  const AccountingOp op = FetchOp{peer_id, channel_id, key_id, now_ms};
  return apply(std::span(&op, 1));
}

Result<void> KeyStore::add_requests(const std::string& peer_id, std::uint32_t channel_id,
                                    std::uint64_t now_ms, std::uint64_t n) {
  const AccountingOp op = RequestsOp{peer_id, channel_id, n, now_ms};
  return apply(std::span(&op, 1));
}

Result<void> KeyStore::add_usage(const std::string& gateway_id, std::uint32_t channel_id,
                                 std::uint32_t key_id, std::uint64_t packets, std::uint64_t bytes,
                                 std::uint64_t now_ms) {
  const AccountingOp op = UsageOp{gateway_id, channel_id, key_id, packets, bytes, now_ms};
  return apply(std::span(&op, 1));
}

Result<std::vector<AccountRow>> KeyStore::accounts(const AccountFilter& filter) {
  return query_accounts(db_, filter);
}

}  // namespace keymgr::store
