// Request frames of keymgr-protocol.md section 3.
#include "requests.h"

#include "kmproto/frame_builder.h"

namespace kmclient::detail {

using kmproto::MessageType;
using kmproto::ParamType;

secmem::Bytes hello_frame(const ClientConfig& c) {
  secmem::Bytes out;
  kmproto::FrameBuilder b(out);
  b.begin(MessageType::hello);
  b.add_u8(ParamType::role, static_cast<std::uint8_t>(c.role));
  b.add_string(ParamType::peer_id, c.peer_id);
  if (!c.auth_token.empty()) b.add_string(ParamType::auth_token, c.auth_token);
  (void)b.finish();
  return out;
}

secmem::Bytes key_request_frame(std::uint32_t channel_id, std::uint32_t key_id) {
  secmem::Bytes out;
  kmproto::FrameBuilder b(out);
  b.begin(MessageType::key_request);
  b.add_u32(ParamType::channel_id, channel_id);
  if (key_id != 0) b.add_u32(ParamType::key_id, key_id);
  (void)b.finish();
  return out;
}

secmem::Bytes key_generate_frame(std::uint32_t channel_id, kmproto::Which which, std::uint8_t suite,
                                 std::uint16_t key_length, std::uint32_t lifetime_ms) {
  secmem::Bytes out;
  kmproto::FrameBuilder b(out);
  b.begin(MessageType::key_generate);
  b.add_u32(ParamType::channel_id, channel_id);
  b.add_u8(ParamType::which, static_cast<std::uint8_t>(which));
  b.add_u8(ParamType::suite, suite);
  b.add_u16(ParamType::key_length, key_length);
  b.add_u32(ParamType::lifetime_ms, lifetime_ms);
  (void)b.finish();
  return out;
}

secmem::Bytes key_push_frame(std::span<const kmproto::KeyRecord> records) {
  secmem::Bytes out;
  kmproto::FrameBuilder b(out);
  b.begin(MessageType::key_push);
  for (const auto& r : records) b.add_key_record(r);
  if (b.finish() != kmproto::Status::ok) out.clear();
  return out;
}

secmem::Bytes usage_report_frame(std::uint32_t channel_id, std::uint32_t key_id, std::uint64_t packets,
                                 std::uint64_t bytes) {
  secmem::Bytes out;
  kmproto::FrameBuilder b(out);
  b.begin(MessageType::usage_report);
  b.add_u32(ParamType::channel_id, channel_id);
  b.add_u32(ParamType::key_id, key_id);
  b.add_u64(ParamType::packets, packets);
  b.add_u64(ParamType::bytes, bytes);
  (void)b.finish();
  return out;
}

secmem::Bytes subscribe_frame(std::uint64_t since_version) {
  secmem::Bytes out;
  kmproto::FrameBuilder b(out);
  b.begin(MessageType::subscribe);
  b.add_u64(ParamType::since_version, since_version);
  (void)b.finish();
  return out;
}

}  // namespace kmclient::detail
