// Transaction: BEGIN IMMEDIATE / COMMIT / ROLLBACK on cached statements.
#include "store/transaction.h"

#include <sqlite3.h>

#include <utility>

namespace keymgr::store {

Result<Transaction> Transaction::begin(Db& db) {
  auto q = db.query("BEGIN IMMEDIATE");
  if (!q) return q.failure();
  auto r = q->run("begin transaction");
  if (!r) return r.failure();
  return Transaction(db);
}

Transaction::Transaction(Transaction&& other) noexcept
    : db_(other.db_), open_(std::exchange(other.open_, false)) {}

Transaction::~Transaction() { rollback(); }

Result<void> Transaction::commit() {
  Result<void> r;
  {
    auto q = db_->query("COMMIT");
    r = q ? q->run("commit") : Result<void>(q.failure());
  }  // the COMMIT statement is reset here, before any rollback
  if (!r) {
    rollback();
    return r;
  }
  open_ = false;
  return {};
}

void Transaction::rollback() noexcept {
  if (!open_) return;
  open_ = false;
  if (sqlite3_get_autocommit(db_->handle()) != 0) return;  // SQLite rolled back already
  sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

}  // namespace keymgr::store
