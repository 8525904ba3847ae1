// The accounts listing (AccountFilter -> AccountRow), shared by KeyStore and
// the read-only AccountsReader.
#pragma once

#include <vector>

#include "store/accounting.h"
#include "store/result.h"
#include "store/sqlite_db.h"

namespace keymgr::store {

Result<std::vector<AccountRow>> query_accounts(Db& db, const AccountFilter& filter);

}  // namespace keymgr::store
