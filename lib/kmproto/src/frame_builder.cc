// Building frames into a byte vector.
#include "kmproto/frame_builder.h"

#include <algorithm>

#include "pktparse/bytes.h"

namespace kmproto {

void FrameBuilder::begin(MessageType type) {
  drop_unfinished();
  start_ = size();
  open_ = true;
  error_ = Status::ok;
  resize(start_ + kHeaderLen);
  data()[start_] = kVersion;
  pktparse::store_be16(data() + start_ + 1, static_cast<std::uint16_t>(type));
}

std::uint8_t* FrameBuilder::add_param(ParamType t, std::size_t value_len) {
  if (!open_) error_ = Status::frame_not_begun;
  if (error_ != Status::ok) return nullptr;
  const std::size_t at = size();
  // Also keeps value_len within the 16 bits of the length field.
  if (at - start_ - kHeaderLen + kParamHeaderLen + value_len > kMaxMessageLength) {
    error_ = Status::frame_too_long;
    return nullptr;
  }
  resize(at + kParamHeaderLen + value_len);
  std::uint8_t* p = data() + at;
  pktparse::store_be16(p, static_cast<std::uint16_t>(t));
  pktparse::store_be16(p + 2, static_cast<std::uint16_t>(value_len));
  return p + kParamHeaderLen;
}

void FrameBuilder::add_u8(ParamType t, std::uint8_t v) {
  if (auto* p = add_param(t, sizeof v)) *p = v;
}

void FrameBuilder::add_u16(ParamType t, std::uint16_t v) {
  if (auto* p = add_param(t, sizeof v)) pktparse::store_be16(p, v);
}

void FrameBuilder::add_u32(ParamType t, std::uint32_t v) {
  if (auto* p = add_param(t, sizeof v)) pktparse::store_be32(p, v);
}

void FrameBuilder::add_u64(ParamType t, std::uint64_t v) {
  if (auto* p = add_param(t, sizeof v)) pktparse::store_be64(p, v);
}

void FrameBuilder::add_bytes(ParamType t, std::span<const std::uint8_t> value) {
  if (auto* p = add_param(t, value.size())) std::ranges::copy(value, p);
}

void FrameBuilder::add_string(ParamType t, std::string_view value) {
  if (auto* p = add_param(t, value.size())) std::ranges::copy(value, p);
}

void FrameBuilder::add_key_record(const KeyRecord& r) { add_key_record(r, r.material()); }

void FrameBuilder::add_key_record(const KeyRecordFields& f, std::span<const std::uint8_t> material) {
  if (auto* p = add_param(ParamType::key_record, kKeyRecordFixedLen + material.size()))
    encode_key_record(f, material, p);
}

Status FrameBuilder::finish() {
  if (!open_) return Status::frame_not_begun;
  if (error_ != Status::ok) {
    const Status s = error_;
    drop_unfinished();
    return s;
  }
  const auto message_length = static_cast<std::uint32_t>(size() - start_ - kHeaderLen);
  pktparse::store_be32(data() + start_ + 3, message_length);
  open_ = false;
  return Status::ok;
}

void FrameBuilder::drop_unfinished() {
  if (open_) resize(start_);
  open_ = false;
}

}  // namespace kmproto
