// Connections and frames for the attacks.
#include "target.h"

#include <cstdio>

#include "kmproto/protocol.h"
#include "pktparse/bytes.h"

namespace hostile {

using kmproto::MessageType;
using kmproto::ParamType;
namespace kt = keymgr::test;

std::unique_ptr<TestClient> connect_raw(const Target& t, const TlsIdentity* tls) {
  if (t.lab) return std::make_unique<TestClient>(t.port);
  TlsIdentity id = tls ? *tls : TlsIdentity{};
  id.ca = t.ca;
  return std::make_unique<TestClient>(t.port, &id);
}

std::unique_ptr<TestClient> connect_raw(const Target& t, const PeerIdentity& as) { return connect_raw(t, &as.tls); }

std::unique_ptr<TestClient> connect_peer(const Target& t, const PeerIdentity& as, std::string* why) {
  auto c = connect_raw(t, as);
  if (!c->ok()) {
    if (why) *why = "cannot connect as " + as.id;
    return nullptr;
  }
  if (!c->send(hello_frame(as))) {
    if (why) *why = "cannot send HELLO as " + as.id;
    return nullptr;
  }
  const auto a = c->read();
  if (!is_answer(a, kHello)) {
    if (why) *why = "HELLO as " + as.id + ": " + describe(a);
    return nullptr;
  }
  return c;
}

std::vector<std::uint8_t> hello_frame(const PeerIdentity& as) {
  std::vector<std::pair<ParamType, std::vector<std::uint8_t>>> p = {{ParamType::role, kt::u8(as.role)},
                                                                     {ParamType::peer_id, kt::str(as.id)}};
  if (!as.token.empty()) p.push_back({ParamType::auth_token, kt::str(as.token)});
  return kt::frame(MessageType::hello, p);
}

std::vector<std::uint8_t> key_request_frame(std::uint32_t channel) {
  return kt::frame(MessageType::key_request, {{ParamType::channel_id, kt::u32(channel)}});
}

std::vector<std::uint8_t> heartbeat_frame() { return kt::frame(MessageType::heartbeat, {}); }

std::vector<std::uint8_t> frame_header(std::uint16_t type, std::uint32_t length) {
  std::vector<std::uint8_t> h(kmproto::kHeaderLen);
  h[0] = kmproto::kVersion;
  pktparse::store_be16(h.data() + 1, type);
  pktparse::store_be32(h.data() + 3, length);
  return h;
}

bool is_answer(const std::optional<OwnedFrame>& f, std::uint16_t request_type) {
  return f && static_cast<std::uint16_t>(f->type) == (request_type | kmproto::kAnswerBit);
}

bool is_error(const std::optional<OwnedFrame>& f, std::uint16_t code) {
  return f && f->type == MessageType::error && f->error_code() == code;
}

std::string describe(const std::optional<OwnedFrame>& f) {
  if (!f) return "no answer";
  char type[16];
  std::snprintf(type, sizeof type, "0x%04x", static_cast<unsigned>(f->type));
  if (f->type != MessageType::error) return std::string("answer ") + type;
  return "ERROR " + std::to_string(f->error_code()) + " (" + f->error_text() + ")";
}

}  // namespace hostile
