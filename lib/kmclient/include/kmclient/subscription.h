// A SUBSCRIBE stream: KEY_DELIVERY frames as keys change and a HEARTBEAT
// every second, on a connection of its own. Made by KeymgrClient::subscribe;
// after an error the stream is finished and the caller subscribes again from
// last_version().
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "kmclient/config.h"
#include "kmclient/result.h"
#include "kmproto/key_record.h"

namespace kmclient {

namespace detail {
class Connection;
}

struct Delivery {
  std::uint64_t version = 0;  // replication position of the change
  // A record without material (key_length 0) is a key that expired.
  std::vector<kmproto::KeyRecord> records;
};

struct SubscriptionEvent {
  enum class Kind {
    delivery,   // `delivery` is set
    heartbeat,  // `server_time_ms` is set when the server sent it
    idle,       // nothing arrived within the timeout
  };
  Kind kind = Kind::idle;
  Delivery delivery;
  std::uint64_t server_time_ms = 0;
};

class Subscription {
 public:
  Subscription(Subscription&&) noexcept;
  Subscription& operator=(Subscription&&) noexcept;
  ~Subscription();

  // The next frame of the stream within timeout. An error (transport,
  // bad_frame, an ERROR answer) ends the stream: later calls repeat it.
  Result<SubscriptionEvent> poll_delivery(std::chrono::milliseconds timeout);

  // The version of the last delivery, or the since_version subscribed with.
  std::uint64_t last_version() const noexcept { return last_version_; }
  const Endpoint& endpoint() const noexcept { return endpoint_; }
  // When the last frame (delivery or heartbeat) arrived; a caller that has
  // heard nothing for a few seconds should subscribe again.
  std::chrono::steady_clock::time_point last_heard() const noexcept { return last_heard_; }

 private:
  friend class KeymgrClient;
  Subscription(std::unique_ptr<detail::Connection> conn, Endpoint endpoint, std::uint64_t since_version);

  std::unique_ptr<detail::Connection> conn_;
  Endpoint endpoint_;
  std::uint64_t last_version_ = 0;
  std::chrono::steady_clock::time_point last_heard_;
  std::optional<Error> failed_;
};

}  // namespace kmclient
