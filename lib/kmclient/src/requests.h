// The frames the client sends, encoded with kmproto::FrameBuilder into
// secret memory (a KEY_PUSH carries key material).
#pragma once

#include <cstdint>
#include <span>

#include "kmclient/config.h"
#include "kmproto/key_record.h"
#include "kmproto/protocol.h"
#include "secmem/allocator.h"

namespace kmclient::detail {

secmem::Bytes hello_frame(const ClientConfig& c);
// key_id 0: the channel's current and next keys.
secmem::Bytes key_request_frame(std::uint32_t channel_id, std::uint32_t key_id);
secmem::Bytes key_generate_frame(std::uint32_t channel_id, kmproto::Which which, std::uint8_t suite,
                                 std::uint16_t key_length, std::uint32_t lifetime_ms);
// Empty if the records do not fit in one frame.
secmem::Bytes key_push_frame(std::span<const kmproto::KeyRecord> records);
secmem::Bytes usage_report_frame(std::uint32_t channel_id, std::uint32_t key_id, std::uint64_t packets,
                                 std::uint64_t bytes);
secmem::Bytes subscribe_frame(std::uint64_t since_version);

}  // namespace kmclient::detail
