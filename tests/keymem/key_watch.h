// Learns the keys a test's processes use: asks the key manager for the
// channels' current and next keys (as gateway gw1, over lib/kmclient) every
// 100 ms and notes when each key was first seen current, so a test can tell
// which keys the processes must have retired by now.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "key_forms.h"
#include "kmclient/client.h"

namespace keymem::test {

using Clock = std::chrono::steady_clock;

struct SeenKey {
  std::uint32_t channel = 0;
  std::uint32_t key_id = 0;
  std::uint8_t suite = 0;
  Bytes material;
  std::optional<Clock::time_point> current_since;  // first poll that saw it current
};

class KeyWatch {
 public:
  KeyWatch(std::uint16_t keymgr_port, std::vector<std::uint32_t> channels);

  void poll();
  // Polls every 100 ms until done() holds (true) or timeout passes (false).
  template <class Done>
  bool poll_until(Done done, std::chrono::milliseconds timeout) {
    const auto end = Clock::now() + timeout;
    for (;;) {
      poll();
      if (done()) return true;
      if (Clock::now() >= end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  const std::map<std::pair<std::uint32_t, std::uint32_t>, SeenKey>& keys() const { return keys_; }
  // The channel's newest key seen current, or null.
  const SeenKey* current(std::uint32_t channel) const;
  // When the key after k was first seen current; nullopt if not yet.
  std::optional<Clock::time_point> replaced_at(const SeenKey& k) const;
  // How many times the channel's current key changed while watched.
  int changes(std::uint32_t channel) const;

 private:
  std::unique_ptr<kmclient::KeymgrClient> client_;
  std::vector<std::uint32_t> channels_;
  std::map<std::pair<std::uint32_t, std::uint32_t>, SeenKey> keys_;
};

}  // namespace keymem::test
