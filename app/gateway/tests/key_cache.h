// Keys of scrambled output, fetched from the key manager by (channel, key_id)
// as peer gw1 (lab token) and prepared once each: what a test descrambles
// the gateway's output with.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "kmclient/client.h"
#include "pktparse/key.h"

namespace gateway::test {

class KeyCache {
 public:
  explicit KeyCache(std::uint16_t keymgr_port);
  // Null with *why when the key manager does not give it or it does not prepare.
  pktparse::PreparedKey* get(std::uint32_t channel, std::uint32_t key_id, pktparse::Suite suite, std::string& why);
  // Takes the channel's current and next keys now: short-lived keys are gone
  // from the key manager (superseded) by the time a test descrambles.
  void take_current(std::uint32_t channel, pktparse::Suite suite);

 private:
  void keep(std::uint32_t channel, const kmproto::KeyRecord& r, pktparse::Suite suite);

  std::unique_ptr<kmclient::KeymgrClient> client_;
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::unique_ptr<pktparse::PreparedKey>> keys_;
};

}  // namespace gateway::test
