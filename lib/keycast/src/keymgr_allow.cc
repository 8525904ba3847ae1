// KeymgrAllowList (see keymgr_allow.h).
#include "keymgr_allow.h"

#include <arpa/inet.h>

#include <cstring>

namespace keycast::detail {

KeymgrAllowList::KeymgrAllowList(const std::vector<kmclient::Endpoint>& endpoints) {
  for (const auto& ep : endpoints) {
    Entry e;
    e.port = ep.port;
    std::string host = ep.host;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (::inet_pton(AF_INET, host.c_str(), e.addr) == 1) {
      e.valid = true;
    } else if (::inet_pton(AF_INET6, host.c_str(), e.addr) == 1) {
      e.valid = true;
      e.v6 = true;
    }
    entries_.push_back(e);
  }
}

std::optional<std::size_t> KeymgrAllowList::find(const pktparse::KeymgrAddr& addr, bool v6) const noexcept {
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    if (!e.valid || e.v6 != v6 || e.port != addr.port) continue;
    if (std::memcmp(e.addr, addr.addr, v6 ? 16 : 4) == 0) return i;
  }
  return std::nullopt;
}

}  // namespace keycast::detail
