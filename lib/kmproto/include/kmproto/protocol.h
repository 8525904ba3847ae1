// The numbers of keymgr-protocol.md version 1: frame limits, message types,
// parameter types and error codes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kmproto {

inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::uint32_t kMaxMessageLength = 65536;
inline constexpr std::size_t kHeaderLen = 7;       // version, message_type, message_length
inline constexpr std::size_t kParamHeaderLen = 4;  // type, length

enum class MessageType : std::uint16_t {
  hello = 0x0001,
  key_request = 0x0002,
  key_generate = 0x0003,
  key_push = 0x0004,
  subscribe = 0x0005,
  key_delivery = 0x0006,
  usage_report = 0x0007,
  heartbeat = 0x0008,
  error = 0x7FFF,
};

// A request's answer has the request's type with this bit set.
inline constexpr std::uint16_t kAnswerBit = 0x8000;

constexpr bool is_answer(MessageType t) noexcept { return (static_cast<std::uint16_t>(t) & kAnswerBit) != 0; }

constexpr MessageType answer_of(MessageType request) noexcept {
  return static_cast<MessageType>(static_cast<std::uint16_t>(request) | kAnswerBit);
}

constexpr MessageType request_of(MessageType answer) noexcept {
  return static_cast<MessageType>(static_cast<std::uint16_t>(answer) & ~kAnswerBit);
}

enum class ParamType : std::uint16_t {
  role = 0x0001,            // u8, see Role
  peer_id = 0x0002,         // UTF-8, 1..64 bytes
  auth_token = 0x0003,      // bytes, 1..256
  channel_id = 0x0004,      // u32, non-zero
  key_id = 0x0005,          // u32, non-zero
  suite = 0x0006,           // u8, as in wire-format.md
  key_length = 0x0007,      // u16
  lifetime_ms = 0x0008,     // u32
  which = 0x0009,           // u8, see Which
  key_record = 0x000A,      // see key_record.h
  error_code = 0x000B,      // u16, see ErrorCode
  error_text = 0x000C,      // UTF-8
  server_time_ms = 0x000D,  // u64, Unix ms
  packets = 0x000E,         // u64
  bytes = 0x000F,           // u64
  since_version = 0x0010,   // u64
  version = 0x0011,         // u64
};

enum class Role : std::uint8_t { gateway = 1, receiver = 2, replica = 3, admin = 4 };

enum class Which : std::uint8_t { current = 1, next = 2 };

#define KMPROTO_ERROR_CODE_LIST(X) \
  X(bad_message, 1)                \
  X(unauthenticated, 2)            \
  X(not_entitled, 3)               \
  X(unknown_channel, 4)            \
  X(unknown_key, 5)                \
  X(rate_limited, 6)               \
  X(not_master, 7)                 \
  X(unavailable, 8)                \
  X(internal, 9)

enum class ErrorCode : std::uint16_t {
#define KMPROTO_ERROR_CODE_ENUM(name, code) name = code,
  KMPROTO_ERROR_CODE_LIST(KMPROTO_ERROR_CODE_ENUM)
#undef KMPROTO_ERROR_CODE_ENUM
};

// The spec's name ("bad_message"), or "unknown" for a code it does not define.
const char* error_code_name(ErrorCode c) noexcept;

}  // namespace kmproto
