// Db and Query: connection, statement cache, error classification.
#include "store/sqlite_db.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace keymgr::store {
namespace {

// SQLITE_TRANSIENT without the old-style cast of the macro.
sqlite3_destructor_type transient() {
  return reinterpret_cast<sqlite3_destructor_type>(static_cast<std::intptr_t>(-1));
}

}  // namespace

StoreError classify_sqlite(int rc) noexcept {
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return StoreError::ok;
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
    case SQLITE_PERM:
    case SQLITE_NOLFS:
      return StoreError::unavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return StoreError::corrupt;
    default:
      return StoreError::internal;
  }
}

void Db::Close::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void Db::Finalize::operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }

Db::~Db() {
  cache_.clear();
}

Result<Db> Db::open(const std::string& path, int flags) {
  Db db;
  db.path_ = path;
  sqlite3* raw = nullptr;
  const mode_t old_mask = umask(077);
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  umask(old_mask);
  db.db_.reset(raw);
  if (rc != SQLITE_OK) {
    std::string msg = "open " + path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    return fail(classify_sqlite(rc) == StoreError::unavailable ? StoreError::unavailable
                                                               : StoreError::refused,
                std::move(msg));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 1000);
  return db;
}

int Db::os_error(int rc) const {
  const int primary = rc & 0xff;
  if (primary != SQLITE_IOERR && primary != SQLITE_CANTOPEN && primary != SQLITE_READONLY) return 0;
  if (const int e = db_ ? sqlite3_system_errno(db_.get()) : 0; e != 0) return e;
  // SQLite does not always keep errno (a failed WAL write reports 0): ask the
  // file system by making (and removing) an empty file beside the database.
  // That names a file system the kernel turned read-only (EROFS), which no
  // statvfs flag shows for ext4's emergency read-only state.
  const std::string probe = path_ + "-write-probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return errno == EEXIST ? 0 : errno;
  ::close(fd);
  ::unlink(probe.c_str());
  return 0;
}

std::int64_t Db::changes() const noexcept { return sqlite3_changes64(db_.get()); }

Failure Db::failure(int rc, std::string_view what) const {
  std::string msg(what);
  msg += ": ";
  msg += db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc);
  if (const int os = os_error(rc); os != 0) {
    msg += ": ";
    msg += std::strerror(os);
  }
  msg += " (";
  msg += path_;
  msg += ")";
  const StoreError code = classify_sqlite(rc);
  return Failure{code == StoreError::ok ? StoreError::internal : code, std::move(msg), rc};
}

Result<Query> Db::query(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return failure(rc, "prepare");
    it = cache_.emplace(sql, std::unique_ptr<sqlite3_stmt, Finalize>(stmt)).first;
  }
  return Query(*this, it->second.get());
}

Result<void> Db::exec(const char* sql, const char* what) {
  const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return failure(rc, what);
  return {};
}

Result<std::string> Db::query_text(const char* sql, const char* what) {
  auto q = query(sql);
  if (!q) return q.failure();
  auto row = q->step(what);
  if (!row) return row.failure();
  return *row ? q->column_text(0) : std::string();
}

Query::Query(Query&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), bind_rc_(other.bind_rc_) {}

Query::~Query() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Query& Query::bind(int index, std::int64_t v) {
  const int rc = sqlite3_bind_int64(stmt_, index, v);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Query& Query::bind(int index, std::string_view text) {
  const int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), transient(), SQLITE_UTF8);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Query& Query::bind_blob(int index, std::span<const std::uint8_t> blob) {
  // A zero-length blob must still be a BLOB, not NULL: pass a non-null pointer.
  static const std::uint8_t empty = 0;
  const void* p = blob.empty() ? &empty : blob.data();
  const int rc = sqlite3_bind_blob64(stmt_, index, p, blob.size(), transient());
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Query& Query::bind_null(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Result<bool> Query::step(std::string_view what) {
  if (bind_rc_ != SQLITE_OK) return db_->failure(bind_rc_, what);
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->failure(rc, what);
}

Result<void> Query::run(std::string_view what) {
  auto r = step(what);
  if (!r) return r.failure();
  return {};
}

std::int64_t Query::column_int64(int i) const { return sqlite3_column_int64(stmt_, i); }

bool Query::column_is_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }

std::string Query::column_text(int i) const {
  const unsigned char* p = sqlite3_column_text(stmt_, i);
  const int n = sqlite3_column_bytes(stmt_, i);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

std::span<const std::uint8_t> Query::column_blob(int i) const {
  const void* p = sqlite3_column_blob(stmt_, i);
  const int n = sqlite3_column_bytes(stmt_, i);
  if (p == nullptr || n <= 0) return {};
  return {static_cast<const std::uint8_t*>(p), static_cast<std::size_t>(n)};
}

}  // namespace keymgr::store
