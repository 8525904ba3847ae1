// Where the control thread reads keys from: the key manager over TCP/TLS
// (kmclient), or, with keys.shm, the shared memory a key manager on this host
// publishes (lib/keyshm). Either way the answers are kmproto::KeyRecords as
// KEY_REQUEST gives them, so KeyControl does not care which. Writes to the key
// manager (KEY_GENERATE, USAGE_REPORT) stay with KeyControl's TCP client.
//
// Shared memory: the object is opened on first use and reopened when its
// writer closed it, replaced it (restart) or removed it; each change is
// logged once. A record's remaining_ms and not_before_ms are computed from
// the Unix clock as the key manager computes them when it sends a record;
// a next key whose start has passed (the slot is up to one publisher tick
// old) is reported current, the old current previous, as KEY_REQUEST would.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "keyshm/keyshm.h"
#include "kmclient/client.h"
#include "kmproto/key_record.h"

namespace gateway {

class KeyFetcher {
 public:
  using Records = std::vector<kmproto::KeyRecord>;
  using UnixClock = std::function<std::uint64_t()>;  // Unix ms

  // client: the TCP client, used when keys.shm is empty (then it must not be
  // null); not owned.
  KeyFetcher(const KeySource& keys, kmclient::KeymgrClient* client, UnixClock unix_ms = system_unix_ms);

  bool shm() const noexcept { return !shm_name_.empty(); }

  // As kmclient::KeymgrClient's calls of the same names.
  kmclient::Result<Records> request_keys(std::uint32_t channel_id);
  kmclient::Result<kmproto::KeyRecord> request_key(std::uint32_t channel_id, std::uint32_t key_id);
  kmclient::Result<std::vector<kmclient::Result<Records>>> request_many(std::span<const kmclient::KeyQuery> queries);

  // The last shared-memory read found the writer mid-update on every
  // attempt: worth trying again on the next tick.
  bool busy() const noexcept { return busy_; }

  static std::uint64_t system_unix_ms();

 private:
  // The reader, (re)opened if need be; null with *why when there is none.
  const keyshm::ShmReader* reader(kmclient::Error* why);
  // The channel's keys at now as the key manager would state them, in the
  // order current, next, previous (those there are).
  kmclient::Result<Records> read(const keyshm::ShmReader& r, std::uint32_t channel_id);
  // KEY_REQUEST's answers without and with a key_id.
  kmclient::Result<Records> current_and_next(const keyshm::ShmReader& r, std::uint32_t channel_id);
  kmclient::Result<kmproto::KeyRecord> by_id(const keyshm::ShmReader& r, std::uint32_t channel_id,
                                             std::uint32_t key_id);
  void note(const std::string& line);  // logged when it differs from the last one

  kmclient::KeymgrClient* client_;
  std::string shm_name_;
  UnixClock unix_ms_;
  std::unique_ptr<keyshm::ShmReader> reader_;
  std::string last_note_;
  bool busy_ = false;
};

}  // namespace gateway
