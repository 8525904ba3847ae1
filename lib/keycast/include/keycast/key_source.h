// Where a Receiver's keys come from, behind a small interface: the key
// manager client on a thread of its own in production (make_kmclient_source),
// a fake in tests. A source takes requests without blocking and answers
// later, from any thread, through the KeySink it was started with.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kmclient/config.h"

namespace keycast {

// Key material: move-only, wiped when destroyed.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::span<const std::uint8_t> bytes) : bytes_(bytes.begin(), bytes.end()) {}
  SecretBytes(SecretBytes&& o) noexcept : bytes_(std::move(o.bytes_)) { o.bytes_.clear(); }
  SecretBytes& operator=(SecretBytes&& o) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes() { wipe(); }

  std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }
  void wipe() noexcept;

 private:
  std::vector<std::uint8_t> bytes_;
};

// How the key manager labelled a key when it sent it.
enum class KeyRole : std::uint8_t { current = 1, next = 2, previous = 3 };

struct FetchedKey {
  std::uint32_t channel_id = 0;
  std::uint32_t key_id = 0;
  std::uint8_t suite = 0;  // wire-format.md section 3
  KeyRole role = KeyRole::current;
  std::uint32_t lifetime_ms = 0;
  std::uint32_t remaining_ms = 0;  // when sent; for a next key, its lifetime
  SecretBytes material;
};

enum class FetchError : std::uint8_t {
  unreachable,      // no endpoint answered (refused, reset, timeout, bad frames)
  unauthenticated,  // HELLO, token or certificate refused
  not_entitled,     // this peer may not have the channel's keys
  unknown_channel,
  unknown_key,
  other,
};
const char* fetch_error_name(FetchError e) noexcept;

// The answer to one request: keys, or an error.
struct FetchResult {
  std::uint32_t channel_id = 0;
  std::uint32_t key_id = 0;  // as requested; 0 = current and next
  std::vector<FetchedKey> keys;
  std::optional<FetchError> error;
  std::string message;  // says which endpoint(s) and why; never key material
  // Nothing was asked: every endpoint is held off after a timeout
  // (kmclient::ClientConfig::hold_off), which an earlier failure reported.
  bool held_off = false;
  std::chrono::microseconds latency{0};  // from request() to the answer, queueing included
};

class KeySink {
 public:
  virtual ~KeySink() = default;
  virtual void deliver(FetchResult&& result) noexcept = 0;
};

class KeySource {
 public:
  virtual ~KeySource() = default;
  // Once, before any request.
  virtual void start(KeySink& sink) = 0;
  // Queues a fetch without blocking; key_id 0 asks for current and next.
  virtual void request(std::uint32_t channel_id, std::uint32_t key_id) = 0;
  // Sets up what a fetch goes through (the key manager connection) ahead of
  // the first request, waiting at most `timeout`; true once it is up. A
  // source with nothing to set up is always ready.
  virtual bool connect(std::chrono::milliseconds timeout) {
    (void)timeout;
    return true;
  }
  // From now on try configured endpoint `index` first (a KEYMGR_ADDR TLV
  // the receiver has checked against its allow-list).
  virtual void prefer_endpoint(std::size_t index) = 0;
  // After return the sink is never called again.
  virtual void stop() noexcept = 0;
};

// The production source: one thread owning a kmclient::KeymgrClient, fed
// through a queue, pipelining what has queued up with request_many.
std::unique_ptr<KeySource> make_kmclient_source(kmclient::ClientConfig config);

}  // namespace keycast
