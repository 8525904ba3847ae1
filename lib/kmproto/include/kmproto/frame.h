// Frames of the key manager protocol (keymgr-protocol.md section 1): cutting
// them off a byte stream, and reading their parameters by type. Decoding
// neither copies nor allocates: a Frame points into the caller's buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "kmproto/param.h"
#include "kmproto/protocol.h"
#include "kmproto/status.h"

namespace kmproto {

struct Frame {
  MessageType type{};
  std::span<const std::uint8_t> params;  // message_length bytes, after the header

  // The value of the first parameter of type t.
  std::optional<std::span<const std::uint8_t>> find(ParamType t) const noexcept;
  // Every parameter of type t, in order (key_record...).
  ParamIterator all(ParamType t) const noexcept { return {params, t}; }

  // The first parameter of type t as an integer: param_missing if absent,
  // param_bad_length if its value is not exactly the integer's size.
  Status read_u8(ParamType t, std::uint8_t& out) const noexcept;
  Status read_u16(ParamType t, std::uint16_t& out) const noexcept;
  Status read_u32(ParamType t, std::uint32_t& out) const noexcept;
  Status read_u64(ParamType t, std::uint64_t& out) const noexcept;
  // The first parameter of type t, any length; param_missing if absent.
  Status read_bytes(ParamType t, std::span<const std::uint8_t>& out) const noexcept;
  // As read_bytes; the bytes are not checked to be UTF-8.
  Status read_string(ParamType t, std::string_view& out) const noexcept;
};

// Cuts frames off the front of a byte stream, checking the header and that
// the parameters tile message_length exactly.
class FrameDecoder {
 public:
  // ok: out is the first frame in buf and consumed its size; out.params
  //   points into buf.
  // need_more: buf holds no whole frame yet; consumed is 0.
  // Anything else: the stream is malformed and its framing lost; consumed is
  //   0 and every later call returns the same status.
  Status decode(std::span<const std::uint8_t> buf, Frame& out, std::size_t& consumed) noexcept;

 private:
  Status failure_ = Status::ok;
};

}  // namespace kmproto
