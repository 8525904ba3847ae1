// AccountsReader: a read-only connection to keys.db.
#include "store/accounts_reader.h"

#include <sqlite3.h>

#include "store/accounts_query.h"
#include "store/private_path.h"
#include "store/schema.h"

namespace keymgr::store {

Result<AccountsReader> AccountsReader::open(const std::string& state_dir) {
  if (auto r = check_private_dir(state_dir); !r) return r.failure();
  auto db = Db::open(state_dir + "/keys.db", SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
  if (!db) return db.failure();
  if (auto r = check_schema(*db); !r) return r.failure();
  return AccountsReader(std::move(*db));
}

Result<std::vector<AccountRow>> AccountsReader::accounts(const AccountFilter& filter) {
  return query_accounts(db_, filter);
}

}  // namespace keymgr::store
