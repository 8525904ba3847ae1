// KeyStore::prune: the retention's deletes, a bounded batch at a time.
#include <algorithm>
#include <map>

#include "store/key_store.h"
#include "store/transaction.h"

namespace keymgr::store {
namespace {

// Deletes the rows `sql` selects (bound: ?1 before_ms, ?2 limit); returns how many.
Result<std::size_t> delete_rows(Db& db, const char* sql, std::int64_t before_ms, std::size_t limit,
                                std::string_view what) {
  auto q = db.query(sql);
  if (!q) return q.failure();
  q->bind(1, before_ms).bind(2, static_cast<std::int64_t>(limit));
  if (auto r = q->run(what); !r) return r.failure();
  return static_cast<std::size_t>(db.changes());
}

// Keys that ended before ?1, each channel's newest excepted, oldest first.
constexpr const char* kEndedKeys =
    "SELECT channel_id, key_id FROM keys AS k WHERE not_before_ms + lifetime_ms < ?1 "
    "AND key_id < (SELECT max(key_id) FROM keys AS m WHERE m.channel_id = k.channel_id) "
    "ORDER BY not_before_ms + lifetime_ms LIMIT ?2";

// Hours that ended by ?1.
constexpr const char* kOldUsage =
    "DELETE FROM usage WHERE (hour_ms, gateway_id, channel_id, key_id) IN "
    "(SELECT hour_ms, gateway_id, channel_id, key_id FROM usage WHERE hour_ms <= ?1 - 3600000 LIMIT ?2)";
constexpr const char* kOldRequests =
    "DELETE FROM request_counts WHERE (hour_ms, peer_id, channel_id) IN "
    "(SELECT hour_ms, peer_id, channel_id FROM request_counts WHERE hour_ms <= ?1 - 3600000 LIMIT ?2)";
// Runs whose every key is below the channel's lowest key kept (only ?2 is
// used: binding ?1 is still in range).
constexpr const char* kOldRuns =
    "DELETE FROM fetch_ranges WHERE (peer_id, channel_id, first_key) IN "
    "(SELECT peer_id, channel_id, first_key FROM fetch_ranges AS f "
    " WHERE last_key < (SELECT min(key_id) FROM keys AS k WHERE k.channel_id = f.channel_id) "
    " LIMIT ?2)";

}  // namespace

Result<Pruned> KeyStore::prune(std::uint64_t before_ms, std::size_t limit) {
  if (before_ms > kMaxInt64 || limit == 0) return fail(StoreError::invalid, "prune: bad horizon or limit");
  const auto before = static_cast<std::int64_t>(before_ms);
  auto txn = Transaction::begin(db_);
  if (!txn) return txn.failure();
  Pruned p;

  // Key ids rise with time within a channel: the oldest `limit` keys are,
  // per channel, every ended key up to the highest id among them.
  std::map<std::uint32_t, std::uint32_t> highest_deleted;  // by channel
  std::size_t found = 0;
  {
    auto q = db_.query(kEndedKeys);
    if (!q) return q.failure();
    q->bind(1, before).bind(2, static_cast<std::int64_t>(limit));
    for (;;) {
      auto more = q->step("find ended keys");
      if (!more) return more.failure();
      if (!*more) break;
      auto& high = highest_deleted[static_cast<std::uint32_t>(q->column_int64(0))];
      high = std::max(high, static_cast<std::uint32_t>(q->column_int64(1)));
      ++found;
    }
  }
  for (const auto& [channel, high] : highest_deleted) {
    auto del = db_.query("DELETE FROM keys WHERE channel_id = ?1 AND key_id <= ?2 AND not_before_ms + lifetime_ms < ?3");
    if (!del) return del.failure();
    del->bind(1, channel).bind(2, high).bind(3, before);
    if (auto r = del->run("delete ended keys"); !r) return r.failure();
    p.keys += static_cast<std::size_t>(db_.changes());
    auto mark = db_.query(
        "INSERT INTO pruned(channel_id, below_key_id) VALUES (?1, ?2) "
        "ON CONFLICT(channel_id) DO UPDATE SET below_key_id = max(below_key_id, excluded.below_key_id)");
    if (!mark) return mark.failure();
    mark->bind(1, channel).bind(2, std::int64_t{high} + 1);
    if (auto r = mark->run("note deleted keys"); !r) return r.failure();
  }

  auto usage = delete_rows(db_, kOldUsage, before, limit, "delete old usage");
  if (!usage) return usage.failure();
  auto requests = delete_rows(db_, kOldRequests, before, limit, "delete old request counts");
  if (!requests) return requests.failure();
  auto runs = delete_rows(db_, kOldRuns, before, limit, "delete old fetch runs");
  if (!runs) return runs.failure();
  p.usage = *usage;
  p.requests = *requests;
  p.fetch_runs = *runs;
  p.more = found == limit || p.usage == limit || p.requests == limit || p.fetch_runs == limit;
  if (auto r = txn->commit(); !r) return r.failure();
  return p;
}

}  // namespace keymgr::store
