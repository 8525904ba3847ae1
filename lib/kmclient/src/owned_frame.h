// A frame read off the wire that owns its parameter bytes. They may hold key
// material: they live in secret memory (secmem::Bytes), wiped when freed.
#pragma once

#include <utility>

#include "kmproto/frame.h"
#include "secmem/allocator.h"

namespace kmclient::detail {

struct OwnedFrame {
  kmproto::MessageType type{};
  secmem::Bytes params;

  OwnedFrame() = default;
  OwnedFrame(kmproto::MessageType t, secmem::Bytes p) : type(t), params(std::move(p)) {}

  kmproto::Frame view() const noexcept { return {type, params}; }
};

}  // namespace kmclient::detail
