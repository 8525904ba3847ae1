// One SQL statement sums three sources per (hour, peer, channel): requests
// served, usage a gateway reported, and usage under keys a receiver fetched.
// A peer is not charged as a receiver for usage it reported itself.
#include "store/accounts_query.h"

#include <limits>
#include <string>

namespace keymgr::store {
namespace {

// {request_counts}, {usage} and {fetch_ranges} stand for the rows of every
// database's table, {usage} with `db` saying whose; {distinct} is DISTINCT
// when several databases are listed: their runs may overlap (a receiver
// fetched from both), and each usage row is charged to a peer once.
constexpr const char* kAccounts = R"sql(
WITH src(hour_ms, peer_id, channel_id, requests, packets, bytes) AS (
  SELECT hour_ms, peer_id, channel_id, requests, 0, 0 FROM {request_counts}
  UNION ALL
  SELECT hour_ms, gateway_id, channel_id, 0, packets, bytes FROM {usage}
  UNION ALL
  SELECT hour_ms, peer_id, channel_id, 0, packets, bytes FROM (
    SELECT {distinct} u.db, u.hour_ms, u.gateway_id, u.channel_id, u.key_id, u.packets, u.bytes, f.peer_id
      FROM {usage} AS u
      JOIN {fetch_ranges} AS f
        ON f.channel_id = u.channel_id AND u.key_id BETWEEN f.first_key AND f.last_key
     WHERE f.peer_id <> u.gateway_id)
)
SELECT hour_ms, peer_id, channel_id, sum(requests), sum(packets), sum(bytes)
  FROM src
 WHERE (?1 IS NULL OR peer_id = ?1)
   AND (?2 IS NULL OR channel_id = ?2)
   AND (?3 IS NULL OR hour_ms > ?3 - 3600000)
   AND (?4 IS NULL OR hour_ms < ?4)
 GROUP BY hour_ms, peer_id, channel_id
 ORDER BY hour_ms, peer_id, channel_id
)sql";

void replace_all(std::string& s, std::string_view mark, std::string_view by) {
  for (auto at = s.find(mark); at != std::string::npos; at = s.find(mark, at + by.size()))
    s.replace(at, mark.size(), by);
}

std::int64_t clamp_i64(std::uint64_t v) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  return v > static_cast<std::uint64_t>(kMax) ? kMax : static_cast<std::int64_t>(v);
}

}  // namespace

std::string accounts_sql(const std::vector<std::string>& schemas) {
  // The rows of `columns` of each database's `table`, together.
  const auto all = [&](std::string_view columns, std::string_view table) {
    std::string sql(1, '(');
    for (std::size_t i = 0; i < schemas.size(); ++i) {
      if (i) sql.append(" UNION ALL ");
      std::string cols(columns);
      replace_all(cols, "{db}", "'" + schemas[i] + "'");
      sql.append("SELECT ").append(cols).append(" FROM \"").append(schemas[i]).append("\".").append(table);
    }
    return sql.append(1, ')');
  };
  std::string sql = kAccounts;
  replace_all(sql, "{request_counts}", all("*", "request_counts"));
  replace_all(sql, "{usage}", all("{db} AS db, *", "usage"));
  replace_all(sql, "{fetch_ranges}", all("*", "fetch_ranges"));
  replace_all(sql, "{distinct}", schemas.size() > 1 ? "DISTINCT" : "");
  return sql;
}

Result<std::vector<AccountRow>> query_accounts(Db& db, const AccountFilter& filter) {
  static const std::string main_only = accounts_sql({"main"});
  return query_accounts(db, filter, main_only);
}

Result<std::vector<AccountRow>> query_accounts(Db& db, const AccountFilter& filter, const std::string& sql) {
  auto q = db.query(sql.c_str());
  if (!q) return q.failure();
  if (filter.peer_id) q->bind(1, std::string_view(*filter.peer_id)); else q->bind_null(1);
  if (filter.channel_id) q->bind(2, std::int64_t{*filter.channel_id}); else q->bind_null(2);
  if (filter.from_ms) q->bind(3, clamp_i64(*filter.from_ms)); else q->bind_null(3);
  if (filter.to_ms) q->bind(4, clamp_i64(*filter.to_ms)); else q->bind_null(4);

  std::vector<AccountRow> rows;
  for (;;) {
    auto more = q->step("list accounts");
    if (!more) return more.failure();
    if (!*more) break;
    AccountRow& r = rows.emplace_back();
    r.hour_ms = q->column_int64(0);
    r.peer_id = q->column_text(1);
    r.channel_id = static_cast<std::uint32_t>(q->column_int64(2));
    r.requests = static_cast<std::uint64_t>(q->column_int64(3));
    r.packets = static_cast<std::uint64_t>(q->column_int64(4));
    r.bytes = static_cast<std::uint64_t>(q->column_int64(5));
  }
  return rows;
}

}  // namespace keymgr::store
