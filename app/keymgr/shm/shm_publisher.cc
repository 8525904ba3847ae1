// ShmPublisher: KeyService::channel_keys() into keyshm slots.
#include "shm/shm_publisher.h"

#include <iostream>

namespace keymgr {

namespace {

keyshm::Key to_shm(const kmproto::KeyRecord& r) {
  keyshm::Key k;
  k.key_id = r.key_id;
  k.suite = r.suite;
  k.state = static_cast<keyshm::KeyState>(r.state);
  k.lifetime_ms = r.lifetime_ms;
  k.not_before_ms = r.not_before_ms;
  (void)k.set_material(r.material());  // both cap material at 1024 bytes
  return k;
}

}  // namespace

ShmPublisher::ShmPublisher(const KeymgrConfig& config, KeyService& service) : service_(service) {
  for (const PeerConfig& p : config.peers) {
    if (p.role != PeerRole::gateway || p.shm.empty()) continue;
    Gateway g;
    g.peer_id = p.id;
    std::vector<std::uint32_t> ids;
    for (const std::uint32_t c : p.channels)
      if (config.find_channel(c)) ids.push_back(c);
    keyshm::Failure why;
    g.writer = keyshm::ShmWriter::create(p.shm, ids, &why);
    if (!g.writer) {
      std::cerr << "keycast-keymgr: cannot publish keys of " << p.id << " in shared memory: " << why.message << "\n";
      ok_ = false;
      continue;
    }
    std::cerr << "keycast-keymgr: publishing keys of " << p.id << " in shared memory " << g.writer->name() << " ("
              << ids.size() << " channels)\n";
    for (const std::uint32_t c : ids) g.channels.push_back(Channel{c, {}, false});
    gateways_.push_back(std::move(g));
  }
  publish();
}

void ShmPublisher::publish() {
  for (Gateway& g : gateways_)
    for (Channel& ch : g.channels) publish(g, ch);
}

void ShmPublisher::publish(Gateway& g, Channel& ch) {
  const std::vector<kmproto::KeyRecord> records = service_.channel_keys(ch.id);
  std::vector<std::pair<std::uint32_t, kmproto::KeyState>> now;
  for (const auto& r : records) now.emplace_back(r.key_id, r.state);
  if (now == ch.published) return;  // a key's material and times never change

  std::vector<keyshm::Key> keys;
  keys.reserve(records.size());
  for (const auto& r : records) keys.push_back(to_shm(r));
  if (g.writer->publish(ch.id, keys) == keyshm::PublishResult::invalid) {
    if (!ch.refused)
      std::cerr << "keycast-keymgr: shared memory " << g.writer->name() << " refused the keys of channel " << ch.id
                << "\n";
    ch.refused = true;
    return;
  }
  ch.refused = false;
  ch.published = std::move(now);
}

}  // namespace keymgr
