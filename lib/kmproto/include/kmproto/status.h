// Every outcome of decoding and building key manager protocol frames, declared
// once. A peer answers any decode error with ERROR bad_message and closes.
#pragma once

#include <cstdint>

namespace kmproto {

#define KMPROTO_STATUS_LIST(X)                                                       \
  X(ok, "ok")                                                                        \
  X(need_more, "frame incomplete, more bytes needed")                                \
  /* frame (keymgr-protocol.md section 1) */                                         \
  X(bad_version, "frame version is not 1")                                           \
  X(length_over_limit, "message_length over 65536")                                  \
  X(param_overruns_frame, "parameter value overruns the frame")                      \
  X(param_header_truncated, "parameter header cut off by the end of the frame")      \
  /* typed parameter access */                                                       \
  X(param_missing, "required parameter absent")                                      \
  X(param_bad_length, "integer parameter has the wrong length")                      \
  /* key_record value (section 2) */                                                 \
  X(key_record_too_short, "key_record shorter than its 28 fixed bytes")              \
  X(key_record_length_mismatch, "key_record key_length differs from material bytes") \
  X(key_record_material_too_long, "key material longer than 1024 bytes")             \
  X(key_record_bad_state, "key_record state is not 1, 2 or 3")                       \
  /* building */                                                                     \
  X(frame_too_long, "parameters longer than 65536 bytes")                            \
  X(frame_not_begun, "parameter added or frame finished without begin()")

enum class Status : std::uint8_t {
#define KMPROTO_STATUS_ENUM(name, text) name,
  KMPROTO_STATUS_LIST(KMPROTO_STATUS_ENUM)
#undef KMPROTO_STATUS_ENUM
};

inline constexpr std::uint8_t kStatusCount = 0
#define KMPROTO_STATUS_COUNT(name, text) +1
    KMPROTO_STATUS_LIST(KMPROTO_STATUS_COUNT)
#undef KMPROTO_STATUS_COUNT
    ;

// Identifier-style name ("bad_version"), for counters and logs.
const char* status_name(Status s) noexcept;
// One line for people ("frame version is not 1").
const char* status_text(Status s) noexcept;

}  // namespace kmproto
