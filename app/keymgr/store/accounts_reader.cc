// AccountsReader: a read-only connection to keys.db.
#include "store/accounts_reader.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/accounts_query.h"
#include "store/private_path.h"
#include "store/schema.h"

namespace keymgr::store {

Result<AccountsReader> AccountsReader::open(const std::string& state_dir) {
  return open(std::vector<std::string>{state_dir});
}

Result<AccountsReader> AccountsReader::open(const std::vector<std::string>& state_dirs) {
  if (state_dirs.empty()) return fail(StoreError::invalid, "no state directory given");
  for (const std::string& dir : state_dirs)
    if (auto r = check_private_dir(dir); !r) return r.failure();
  auto db = Db::open(state_dirs[0] + "/keys.db", SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
  if (!db) return db.failure();
  if (auto r = check_schema(*db); !r) return r.failure();
  std::vector<std::string> schemas = {"main"};
  for (std::size_t i = 1; i < state_dirs.size(); ++i) {
    const std::string path = state_dirs[i] + "/keys.db";
    if (::access(path.c_str(), R_OK) != 0)
      return fail(StoreError::refused, path + ": cannot read: " + std::strerror(errno));
    std::string sql = "ATTACH DATABASE '";
    for (const char ch : path) sql.append(ch == '\'' ? 2 : 1, ch);  // '' inside a literal
    schemas.emplace_back(1, 's');
    schemas.back().append(std::to_string(i));
    sql.append("' AS ").append(schemas.back());
    if (auto r = db->exec(sql.c_str(), "attach a replica's accounts"); !r) return r.failure();
  }
  return AccountsReader(std::move(*db), accounts_sql(schemas));
}

Result<std::vector<AccountRow>> AccountsReader::accounts(const AccountFilter& filter) {
  return query_accounts(db_, filter, *sql_);
}

}  // namespace keymgr::store
