// KeyWatch: KEY_REQUEST polling and the bookkeeping of when keys became current.
#include "key_watch.h"

namespace keymem::test {

KeyWatch::KeyWatch(std::uint16_t keymgr_port, std::vector<std::uint32_t> channels) : channels_(std::move(channels)) {
  kmclient::ClientConfig c;
  c.endpoints.push_back({"127.0.0.1", keymgr_port});
  c.role = kmproto::Role::gateway;
  c.peer_id = "gw1";
  c.auth_token = "gw1-lab-token";
  client_ = std::make_unique<kmclient::KeymgrClient>(c);
}

void KeyWatch::poll() {
  const auto now = Clock::now();
  for (const std::uint32_t ch : channels_) {
    auto records = client_->request_keys(ch);
    if (!records) continue;  // a gateway-origin channel before the gateway made its key
    for (const kmproto::KeyRecord& r : *records) {
      SeenKey& k = keys_[{ch, r.key_id}];
      if (k.material.empty()) {
        k.channel = ch;
        k.key_id = r.key_id;
        k.suite = r.suite;
        k.material.assign(r.material().begin(), r.material().end());
      }
      if (r.state == kmproto::KeyState::current && !k.current_since) k.current_since = now;
    }
  }
}

const SeenKey* KeyWatch::current(std::uint32_t channel) const {
  const SeenKey* newest = nullptr;
  for (const auto& [id, k] : keys_)
    if (k.channel == channel && k.current_since && (!newest || k.key_id > newest->key_id)) newest = &k;
  return newest;
}

std::optional<Clock::time_point> KeyWatch::replaced_at(const SeenKey& k) const {
  const auto it = keys_.find({k.channel, k.key_id + 1});
  return it == keys_.end() ? std::nullopt : it->second.current_since;
}

int KeyWatch::changes(std::uint32_t channel) const {
  int seen_current = 0;
  for (const auto& [id, k] : keys_) seen_current += k.channel == channel && k.current_since;
  return seen_current > 0 ? seen_current - 1 : 0;
}

}  // namespace keymem::test
