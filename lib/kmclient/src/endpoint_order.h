// Which endpoint to dial next: in_order starts every reconnect at the first
// endpoint; round_robin starts after the endpoint dialled last. Endpoints
// already tried during the current call are skipped.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "kmclient/config.h"

namespace kmclient::detail {

class EndpointOrder {
 public:
  EndpointOrder(std::size_t count, ClientConfig::Failover mode) : count_(count), mode_(mode) {}

  // The endpoint to dial, or nullopt when every one is in tried; remembers it
  // for round_robin.
  std::optional<std::size_t> next(const std::vector<bool>& tried) {
    const std::size_t start = mode_ == ClientConfig::Failover::round_robin ? cursor_ : 0;
    for (std::size_t k = 0; k < count_; ++k) {
      const std::size_t i = (start + k) % count_;
      if (!tried[i]) {
        cursor_ = (i + 1) % count_;
        return i;
      }
    }
    return std::nullopt;
  }

 private:
  std::size_t count_;
  ClientConfig::Failover mode_;
  std::size_t cursor_ = 0;
};

}  // namespace kmclient::detail
