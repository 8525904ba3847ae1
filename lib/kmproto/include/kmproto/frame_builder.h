// Appends frames to a byte vector: begin(type), add parameters in order,
// finish() fills in message_length. Allocates as the vector grows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "kmproto/key_record.h"
#include "kmproto/protocol.h"
#include "kmproto/status.h"

namespace kmproto {

class FrameBuilder {
 public:
  explicit FrameBuilder(std::vector<std::uint8_t>& out) noexcept : out_(out) {}

  // Starts a frame at the end of out, dropping an unfinished one.
  void begin(MessageType type);

  void add_u8(ParamType t, std::uint8_t v);
  void add_u16(ParamType t, std::uint16_t v);
  void add_u32(ParamType t, std::uint32_t v);
  void add_u64(ParamType t, std::uint64_t v);
  void add_bytes(ParamType t, std::span<const std::uint8_t> value);
  void add_string(ParamType t, std::string_view value);
  void add_key_record(const KeyRecord& r);
  // Material of at most kMaxKeyMaterialLen bytes.
  void add_key_record(const KeyRecordFields& f, std::span<const std::uint8_t> material);

  // ok: the frame is complete in out. Otherwise the first error met since
  // begin() (frame_too_long, frame_not_begun), and the
  // unfinished frame is removed from out.
  Status finish();

 private:
  // Appends a parameter header and room for its value; nullptr after an error.
  std::uint8_t* add_param(ParamType t, std::size_t value_len);
  void drop_unfinished();

  std::vector<std::uint8_t>& out_;
  std::size_t start_ = 0;
  bool open_ = false;
  Status error_ = Status::ok;
};

}  // namespace kmproto
