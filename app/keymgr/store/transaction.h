// A write transaction (BEGIN IMMEDIATE): rolled back unless committed, so a
// failed write leaves nothing behind. SQLite may already have rolled back on
// its own (disk full, I/O error); rollback() checks for that.
#pragma once

#include "store/result.h"
#include "store/sqlite_db.h"

namespace keymgr::store {

class Transaction {
 public:
  static Result<Transaction> begin(Db& db);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  Result<void> commit();

 private:
  explicit Transaction(Db& db) : db_(&db) {}
  void rollback() noexcept;

  Db* db_;
  bool open_ = true;
};

}  // namespace keymgr::store
