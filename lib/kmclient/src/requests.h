// The frames the client sends, encoded with kmproto::FrameBuilder.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kmclient/config.h"
#include "kmproto/key_record.h"
#include "kmproto/protocol.h"

namespace kmclient::detail {

std::vector<std::uint8_t> hello_frame(const ClientConfig& c);
// key_id 0: the channel's current and next keys.
std::vector<std::uint8_t> key_request_frame(std::uint32_t channel_id, std::uint32_t key_id);
std::vector<std::uint8_t> key_generate_frame(std::uint32_t channel_id, kmproto::Which which, std::uint8_t suite,
                                             std::uint16_t key_length, std::uint32_t lifetime_ms);
// Empty if the records do not fit in one frame.
std::vector<std::uint8_t> key_push_frame(std::span<const kmproto::KeyRecord> records);
std::vector<std::uint8_t> usage_report_frame(std::uint32_t channel_id, std::uint32_t key_id, std::uint64_t packets,
                                             std::uint64_t bytes);
std::vector<std::uint8_t> subscribe_frame(std::uint64_t since_version);

}  // namespace kmclient::detail
