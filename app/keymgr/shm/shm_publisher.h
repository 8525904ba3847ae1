// Publishes the live keys of each local gateway's channels in shared memory
// (lib/keyshm): one object per gateway peer whose config names `shm`, kept
// up to date from the service's 50 ms ticker, so a key's state there may be
// up to one tick old; not_before_ms lets a reader decide for itself. TCP
// stays the path for remote peers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/keymgr_config.h"
#include "keyshm/keyshm.h"
#include "service/key_service.h"

namespace keymgr {

class ShmPublisher {
 public:
  // Creates the objects (logging one line each) and publishes once. If one
  // cannot be created, ok() is false and why was logged.
  ShmPublisher(const KeymgrConfig& config, KeyService& service);

  bool ok() const noexcept { return ok_; }
  // Brings every object up to date; writes only channels whose keys changed.
  void publish();

 private:
  struct Channel {
    std::uint32_t id = 0;
    std::vector<std::pair<std::uint32_t, kmproto::KeyState>> published;  // (key id, state)
    bool refused = false;                                                // logged once
  };
  struct Gateway {
    std::string peer_id;
    std::unique_ptr<keyshm::ShmWriter> writer;
    std::vector<Channel> channels;
  };
  void publish(Gateway& g, Channel& ch);

  KeyService& service_;
  std::vector<Gateway> gateways_;
  bool ok_ = true;
};

}  // namespace keymgr
