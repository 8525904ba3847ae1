// Helpers the writer and the reader share: names, clocks, key validation.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keyshm/keyshm.h"

namespace keyshm::detail {

inline constexpr auto relaxed = std::memory_order_relaxed;

// "keycast-gw1" → "/keycast-gw1"; false if the name is not 1..255 bytes of
// [A-Za-z0-9._-] (a leading '/' is accepted and dropped).
bool shm_path(std::string_view name, std::string* path, Failure* why);

std::uint64_t unix_ms() noexcept;
std::uint64_t unix_ns() noexcept;
// "what: strerror(errno)"
std::string sys_error(const std::string& what);

// A known suite, a state other than empty, and a length the suite allows.
bool key_valid(std::uint8_t suite, std::uint8_t state, std::uint16_t key_length) noexcept;

// Slot of a channel in a sorted (channel id, slot) index, or -1.
long find_slot(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& index, std::uint32_t channel_id) noexcept;

bool set_failure(Failure* why, OpenError e, std::string message);

}  // namespace keyshm::detail
