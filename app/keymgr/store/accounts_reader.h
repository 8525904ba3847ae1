// Read-only access to the accounts of a state directory, without the KEK:
// for `keycast-keymgr accounts`, which may run while the server writes.
#pragma once

#include <string>
#include <vector>

#include "store/accounting.h"
#include "store/result.h"
#include "store/sqlite_db.h"

namespace keymgr::store {

class AccountsReader {
 public:
  // Same directory checks as KeyStore::open; the database must exist.
  static Result<AccountsReader> open(const std::string& state_dir);
  // A master's and its replicas' state directories, listed together
  // (combine_account_sources).
  static Result<AccountsReader> open(const std::vector<std::string>& state_dirs);
  Result<std::vector<AccountRow>> accounts(const AccountFilter& filter);

 private:
  explicit AccountsReader(Db db) : db_(std::move(db)) {}
  Db db_;
};

}  // namespace keymgr::store
