// Read-only access to the accounts of a state directory, without the KEK:
// for `keycast-keymgr accounts`, which may run while the server writes.
#pragma once

#include <memory>
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
  // (accounts_sql).
  static Result<AccountsReader> open(const std::vector<std::string>& state_dirs);
  Result<std::vector<AccountRow>> accounts(const AccountFilter& filter);

 private:
  AccountsReader(Db db, std::string sql) : db_(std::move(db)), sql_(std::make_unique<std::string>(std::move(sql))) {}
  Db db_;
  std::unique_ptr<std::string> sql_;  // stable address: db_ caches its statement by it
};

}  // namespace keymgr::store
