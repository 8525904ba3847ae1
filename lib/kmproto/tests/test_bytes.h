// Helpers shared by the kmproto tests: byte vectors from hex, and decoding a
// buffer that must hold exactly one frame.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kmproto/frame.h"
#include "kmproto/key_record.h"

namespace kmproto::testing {

using Bytes = std::vector<std::uint8_t>;

inline Bytes unhex(const std::string& s) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoul(s.substr(i, 2), nullptr, 16)));
  return out;
}

// The Frame points into b.
inline Frame decode_whole(const Bytes& b) {
  FrameDecoder dec;
  Frame f;
  std::size_t consumed = 0;
  EXPECT_EQ(dec.decode(b, f, consumed), Status::ok);
  EXPECT_EQ(consumed, b.size());
  return f;
}
Frame decode_whole(Bytes&&) = delete;

inline KeyRecord make_record(std::uint32_t key_id, KeyState state, std::size_t material_len) {
  KeyRecord r;
  r.channel_id = 7;
  r.key_id = key_id;
  r.suite = 3;
  r.state = state;
  r.lifetime_ms = 10000;
  r.remaining_ms = 4000;
  r.not_before_ms = state == KeyState::next ? 1'763'000'000'000ull : 0;
  Bytes m(material_len);
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = static_cast<std::uint8_t>(i * 7 + key_id);
  EXPECT_EQ(r.set_material(m), Status::ok);
  return r;
}

}  // namespace kmproto::testing
