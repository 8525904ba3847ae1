// KeyService in a unit test: frames fed in as a connection would, without a
// server.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kmproto/frame.h"
#include "service/key_service.h"
#include "test_client.h"

namespace keymgr::test {

// One encoded frame from peer; what the service answered.
inline secmem::Bytes handle_encoded(KeyService& service, Peer& peer, std::span<const std::uint8_t> bytes) {
  kmproto::FrameDecoder d;
  kmproto::Frame f;
  std::size_t used = 0;
  EXPECT_EQ(d.decode(bytes, f, used), kmproto::Status::ok);
  secmem::Bytes out;
  (void)service.handle(peer, f, out);
  return out;
}

// The lab HELLO of peer `name` (token "<name>-lab-token").
inline std::vector<std::uint8_t> lab_hello(const std::string& name, kmproto::Role role) {
  return frame(kmproto::MessageType::hello, {{kmproto::ParamType::role, u8(static_cast<std::uint8_t>(role))},
                                             {kmproto::ParamType::peer_id, str(name)},
                                             {kmproto::ParamType::auth_token, str(name + "-lab-token")}});
}

}  // namespace keymgr::test
