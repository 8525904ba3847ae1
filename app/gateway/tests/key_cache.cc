// KeyCache: KEY_REQUEST by id, once per key.
#include "key_cache.h"

namespace gateway::test {

KeyCache::KeyCache(std::uint16_t keymgr_port) {
  kmclient::ClientConfig c;
  c.endpoints.push_back({"127.0.0.1", keymgr_port});
  c.role = kmproto::Role::gateway;
  c.peer_id = "gw1";
  c.auth_token = "gw1-lab-token";
  client_ = std::make_unique<kmclient::KeymgrClient>(c);
}

pktparse::PreparedKey* KeyCache::get(std::uint32_t channel, std::uint32_t key_id, pktparse::Suite suite,
                                     std::string& why) {
  auto& slot = keys_[{channel, key_id}];
  if (slot) return slot.get();
  auto r = client_->request_key(channel, key_id);
  if (!r) {
    why = r.error().message;
    return nullptr;
  }
  keep(channel, *r, suite);
  if (!slot) why = "key does not prepare";
  return slot.get();
}

void KeyCache::take_current(std::uint32_t channel, pktparse::Suite suite) {
  auto records = client_->request_keys(channel);
  if (!records) return;
  for (const kmproto::KeyRecord& r : *records)
    if (!keys_.count({channel, r.key_id})) keep(channel, r, suite);
}

void KeyCache::keep(std::uint32_t channel, const kmproto::KeyRecord& r, pktparse::Suite suite) {
  auto key = std::make_unique<pktparse::PreparedKey>();
  if (key->prepare(suite, r.key_id, r.material()) == pktparse::Status::ok) keys_[{channel, r.key_id}] = std::move(key);
}

}  // namespace gateway::test
