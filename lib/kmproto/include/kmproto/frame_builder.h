// Appends frames to a byte vector: begin(type), add parameters in order,
// finish() fills in message_length. Allocates as the vector grows; the
// vector may have any allocator (secmem::Bytes for frames carrying keys).
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
  template <class Alloc>
  explicit FrameBuilder(std::vector<std::uint8_t, Alloc>& out) noexcept
      : out_(&out), ops_(&kOps<std::vector<std::uint8_t, Alloc>>) {}

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

  // out_ is a std::vector<std::uint8_t, Alloc>, reached through kOps of its
  // type, so FrameBuilder itself need not be a template.
  struct Ops {
    std::size_t (*size)(const void* out);
    void (*resize)(void* out, std::size_t n);
    std::uint8_t* (*data)(void* out);
  };
  template <class V>
  static constexpr Ops kOps = {[](const void* v) { return static_cast<const V*>(v)->size(); },
                               [](void* v, std::size_t n) { static_cast<V*>(v)->resize(n); },
                               [](void* v) { return static_cast<V*>(v)->data(); }};
  std::size_t size() const { return ops_->size(out_); }
  void resize(std::size_t n) { ops_->resize(out_, n); }
  std::uint8_t* data() { return ops_->data(out_); }

  void* out_;
  const Ops* ops_;
  std::size_t start_ = 0;
  bool open_ = false;
  Status error_ = Status::ok;
};

}  // namespace kmproto
