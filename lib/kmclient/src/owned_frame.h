// A frame read off the wire that owns its parameter bytes (which may hold key
// material: they are wiped when the frame goes away).
#pragma once

#include <cstdint>
#include <vector>

#include "kmproto/frame.h"

namespace kmclient::detail {

struct OwnedFrame {
  kmproto::MessageType type{};
  std::vector<std::uint8_t> params;

  OwnedFrame() = default;
  OwnedFrame(kmproto::MessageType t, std::vector<std::uint8_t> p) : type(t), params(std::move(p)) {}
  OwnedFrame(OwnedFrame&&) noexcept = default;
  OwnedFrame& operator=(OwnedFrame&&) noexcept;
  OwnedFrame(const OwnedFrame&) = delete;
  OwnedFrame& operator=(const OwnedFrame&) = delete;
  ~OwnedFrame();

  kmproto::Frame view() const noexcept { return {type, params}; }
};

// Overwrites bytes so that key material does not linger in freed memory.
void wipe(std::vector<std::uint8_t>& bytes) noexcept;

}  // namespace kmclient::detail
