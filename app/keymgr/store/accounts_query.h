// The accounts listing (AccountFilter -> AccountRow), shared by KeyStore and
// the read-only AccountsReader.
#pragma once

#include <vector>

#include "store/accounting.h"
#include "store/result.h"
#include "store/sqlite_db.h"

namespace keymgr::store {

// The rows of every database in `schemas` ("main", attached ones) together:
// a master's and its replicas' records (each keeps its own, replication
// copies none), so that a fetch served by one and the usage reported to the
// other still meet. Without this call, query_accounts lists "main" alone.
Result<void> combine_account_sources(Db& db, const std::vector<std::string>& schemas);

Result<std::vector<AccountRow>> query_accounts(Db& db, const AccountFilter& filter);

}  // namespace keymgr::store
