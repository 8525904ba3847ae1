// A thin SQLite layer: one connection, a cache of prepared statements, and the
// mapping of SQLite result codes to StoreError (disk full, read-only, I/O
// error, busy -> unavailable). SQL text is always a string literal; values are
// bound, never spliced into SQL.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace keymgr::store {

// The largest unsigned value an SQLite INTEGER (int64) holds.
inline constexpr std::uint64_t kMaxInt64 = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

StoreError classify_sqlite(int rc) noexcept;

class Query;

class Db {
 public:
  // flags: SQLITE_OPEN_* bits. Files are created with umask 077.
  static Result<Db> open(const std::string& path, int flags);

  Db(Db&&) noexcept = default;
  Db& operator=(Db&&) noexcept = default;
  ~Db();

  // A cached statement, reset when the Query goes away. sql must be a literal.
  Result<Query> query(const char* sql);
  // Runs statements that return no rows we need (pragmas, DDL).
  Result<void> exec(const char* sql, const char* what);
  // First column of the first row as text ("" if none): for PRAGMA answers.
  Result<std::string> query_text(const char* sql, const char* what);

  // Rows the last INSERT, UPDATE or DELETE changed.
  std::int64_t changes() const noexcept;
  Failure failure(int rc, std::string_view what) const;
  // The OS error behind an I/O failure rc (EROFS, EIO, ...), 0 if none is known.
  int os_error(int rc) const;
  sqlite3* handle() const noexcept { return db_.get(); }
  const std::string& path() const noexcept { return path_; }

 private:
  struct Close {
    void operator()(sqlite3* db) const;
  };
  struct Finalize {
    void operator()(sqlite3_stmt* s) const;
  };
  Db() = default;

  std::string path_;
  // Statements are destroyed before the connection (members die in reverse).
  std::unique_ptr<sqlite3, Close> db_;
  std::unordered_map<std::string_view, std::unique_ptr<sqlite3_stmt, Finalize>> cache_;
};

// One use of a cached statement. Bind errors surface from step().
class Query {
 public:
  Query(const Db& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt) {}
  Query(Query&& other) noexcept;
  Query& operator=(Query&&) = delete;
  ~Query();

  Query& bind(int index, std::int64_t v);
  Query& bind(int index, std::string_view text);
  Query& bind_blob(int index, std::span<const std::uint8_t> blob);
  Query& bind_null(int index);

  // SQLITE_ROW or SQLITE_DONE; anything else is turned into a Failure.
  Result<bool> step(std::string_view what);  // true: a row is available
  Result<void> run(std::string_view what);   // expects no row (or ignores rows)

  std::int64_t column_int64(int i) const;
  bool column_is_null(int i) const;
  std::string column_text(int i) const;
  std::span<const std::uint8_t> column_blob(int i) const;  // valid until next step

 private:
  const Db* db_;
  sqlite3_stmt* stmt_;
  int bind_rc_ = 0;
};

}  // namespace keymgr::store
