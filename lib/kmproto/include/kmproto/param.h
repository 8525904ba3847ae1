// Parameters of a frame: `type (2) | length (2) | value`, walked in order
// without copying. Unknown types are returned like known ones; callers skip
// what they do not know.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "kmproto/protocol.h"
#include "kmproto/status.h"

namespace kmproto {

struct Param {
  ParamType type{};
  std::span<const std::uint8_t> value;  // points into the frame's bytes
};

class ParamIterator {
 public:
  explicit ParamIterator(std::span<const std::uint8_t> params) noexcept : rest_(params) {}
  // Yields only the parameters of type `only` (a repeated one, like key_record).
  ParamIterator(std::span<const std::uint8_t> params, ParamType only) noexcept : rest_(params), only_(only) {}

  // False at the end of the parameters or at the first malformed one;
  // status() then says which: ok, param_header_truncated or param_overruns_frame.
  bool next(Param& out) noexcept;
  Status status() const noexcept { return status_; }

 private:
  std::span<const std::uint8_t> rest_;
  std::optional<ParamType> only_;
  Status status_ = Status::ok;
};

}  // namespace kmproto
