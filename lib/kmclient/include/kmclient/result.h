// Outcome of a key manager client call: a value, or an Error saying what
// kind of failure it was and, in words, which endpoints failed and why.
// Error texts never contain key material.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "kmproto/protocol.h"

namespace kmclient {

enum class ErrorKind {
  transport,        // connect refused, reset, closed, TLS failure
  timeout,          // a deadline passed
  bad_frame,        // the server sent bytes that are not a valid answer
  answer,           // the server answered ERROR; Error::code says which
  unauthenticated,  // HELLO (or the TLS client certificate) refused
  config,           // nothing to try: no endpoints, unreadable TLS files
};

const char* error_kind_name(ErrorKind k) noexcept;

struct Error {
  ErrorKind kind = ErrorKind::transport;
  std::optional<kmproto::ErrorCode> code;  // set for answer and unauthenticated-by-ERROR
  std::string message;                     // names the endpoint(s)
  // Nothing was dialled: every endpoint is held off after a timeout
  // (ClientConfig::hold_off). Not news: the timeout that started it was.
  bool held_off = false;

  bool is(kmproto::ErrorCode c) const noexcept { return code && *code == c; }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}      // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : e_(std::move(e)) {}  // NOLINT

  bool ok() const noexcept { return !e_; }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const { return *e_; }

 private:
  std::optional<Error> e_;
};

}  // namespace kmclient
