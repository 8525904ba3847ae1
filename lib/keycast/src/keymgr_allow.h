// The KEYMGR_ADDR allow-list: a TLV address is honoured only when it is one
// of the configured endpoints, compared as IP literal and port. Endpoints
// given by name never match (a datagram must not make us resolve or dial).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "kmclient/config.h"
#include "pktparse/keycast_header.h"

namespace keycast::detail {

class KeymgrAllowList {
 public:
  explicit KeymgrAllowList(const std::vector<kmclient::Endpoint>& endpoints);
  // Index of the configured endpoint, if the address is one.
  std::optional<std::size_t> find(const pktparse::KeymgrAddr& addr, bool v6) const noexcept;

 private:
  struct Entry {
    bool valid = false;
    bool v6 = false;
    std::uint8_t addr[16] = {};
    std::uint16_t port = 0;
  };
  std::vector<Entry> entries_;
};

}  // namespace keycast::detail
