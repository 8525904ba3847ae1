// Shared bits of the kmclient unit tests: a config pointing at fake servers.
#pragma once

#include <chrono>
#include <vector>

#include "fake_server.h"
#include "kmclient/config.h"

namespace kmclient::test {

inline ClientConfig config_for(const std::vector<std::uint16_t>& ports,
                               ClientConfig::Failover mode = ClientConfig::Failover::in_order) {
  ClientConfig c;
  for (const auto p : ports) c.endpoints.push_back({"127.0.0.1", p});
  c.failover = mode;
  c.role = kmproto::Role::gateway;
  c.peer_id = "gw1";
  c.auth_token = "gw1-lab-token";
  c.connect_timeout = std::chrono::milliseconds(1000);
  c.request_timeout = std::chrono::milliseconds(1000);
  return c;
}

// A script that says HELLO, then answers every KEY_REQUEST for channel c
// with one current key whose id is 100 + c + 1000 * connection index.
// A key manager that takes the connection and then answers nothing.
inline void hang_after_hello(FakeConn& c) {
  if (c.accept_hello()) c.stall();
}

inline void answer_requests(FakeConn& c) {
  if (!c.accept_hello()) return;
  while (auto f = c.read()) {
    std::uint32_t ch = 0;
    (void)f->view().read_u32(kmproto::ParamType::channel_id, ch);
    const auto r = make_record(ch, 100 + ch + 1000 * static_cast<std::uint32_t>(c.index()), kmproto::KeyState::current);
    c.send(answer_frame(kmproto::MessageType::key_request, std::span(&r, 1)));
  }
}

}  // namespace kmclient::test
