// The accounts listing (AccountFilter -> AccountRow), shared by KeyStore and
// the read-only AccountsReader.
#pragma once

#include <string>
#include <vector>

#include "store/accounting.h"
#include "store/result.h"
#include "store/sqlite_db.h"

namespace keymgr::store {

// The listing over the tables of every database in `schemas` ("main" and
// attached ones) together: a master's and its replicas' records (each keeps
// its own, replication copies none), so that a fetch served by one and the
// usage reported to another still meet.
std::string accounts_sql(const std::vector<std::string>& schemas);

// The listing of "main".
Result<std::vector<AccountRow>> query_accounts(Db& db, const AccountFilter& filter);
// With sql from accounts_sql(); it must outlive db (statements are cached by
// its address).
Result<std::vector<AccountRow>> query_accounts(Db& db, const AccountFilter& filter, const std::string& sql);

}  // namespace keymgr::store
