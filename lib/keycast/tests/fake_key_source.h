// A KeySource for tests: records requests and preferred endpoints; the test
// answers by calling give()/fail(), which deliver synchronously.
#pragma once

#include <numeric>
#include <utility>
#include <vector>

#include "keycast/key_source.h"

namespace keycast::test {

class FakeKeySource final : public KeySource {
 public:
  struct Log {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> requests;  // (channel, key_id)
    std::vector<std::size_t> preferred;
    KeySink* sink = nullptr;
  };
  explicit FakeKeySource(Log& log) : log_(log) {}

  void start(KeySink& sink) override { log_.sink = &sink; }
  void request(std::uint32_t channel_id, std::uint32_t key_id) override { log_.requests.emplace_back(channel_id, key_id); }
  void prefer_endpoint(std::size_t index) override { log_.preferred.push_back(index); }
  void stop() noexcept override { log_.sink = nullptr; }

 private:
  Log& log_;
};

// Test key material: 16 bytes derived from the key id.
inline std::vector<std::uint8_t> material_for(std::uint32_t key_id) {
  std::vector<std::uint8_t> m(16);
  std::iota(m.begin(), m.end(), static_cast<std::uint8_t>(key_id * 7));
  return m;
}

inline FetchedKey fetched(std::uint32_t channel, std::uint32_t key_id, KeyRole role, std::uint32_t lifetime_ms = 10000,
                          std::uint32_t remaining_ms = 10000, std::uint8_t suite = 0x03) {
  FetchedKey k;
  k.channel_id = channel;
  k.key_id = key_id;
  k.suite = suite;
  k.role = role;
  k.lifetime_ms = lifetime_ms;
  k.remaining_ms = remaining_ms;
  k.material = SecretBytes(material_for(key_id));
  return k;
}


}  // namespace keycast::test
