// Outcome of a store operation: a value, or an error code the server maps to a
// protocol error plus a message for the log. Messages never hold key material.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace keymgr::store {

enum class StoreError : std::uint8_t {
  ok,
  not_found,    // no such key
  conflict,     // (channel, key_id) already stored with different content
  invalid,      // argument out of range; nothing was written
  unavailable,  // the database cannot be written now (disk full, read-only,
                // I/O error, locked): answer `unavailable`, retry later
  corrupt,      // database damaged, or a wrapped key fails authentication
  refused,      // open refused: permissions, missing file, wrong KEK, schema
  internal,     // unexpected SQLite or OpenSSL result
};

// Identifier-style name ("unavailable"), for logs and metrics.
const char* store_error_name(StoreError e) noexcept;

struct Failure {
  StoreError code = StoreError::internal;
  std::string message;
  int sqlite_rc = 0;  // SQLite's extended result code, when SQLite failed
};

inline Failure fail(StoreError code, std::string message) {
  return Failure{code, std::move(message), 0};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Failure f) : v_(std::in_place_index<1>, std::move(f)) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  StoreError error() const noexcept {
    return ok() ? StoreError::ok : std::get<1>(v_).code;
  }
  const Failure& failure() const { return std::get<1>(v_); }
  std::string message() const { return ok() ? std::string() : failure().message; }

 private:
  std::variant<T, Failure> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Failure f) : f_(std::move(f)) {}

  bool ok() const noexcept { return !f_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  StoreError error() const noexcept { return ok() ? StoreError::ok : f_->code; }
  const Failure& failure() const { return *f_; }
  std::string message() const { return ok() ? std::string() : f_->message; }

 private:
  std::optional<Failure> f_;
};

}  // namespace keymgr::store
