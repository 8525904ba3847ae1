// KeymgrClient: a blocking client of the key manager protocol for a
// gateway's control thread or a receiver's own thread. One connection at a
// time, opened (with HELLO) on the first call and kept; on a transport error,
// a timeout, a malformed answer or an `unavailable` (`not_master` for
// generate and push) answer it closes and retries the request on the next
// endpoint, each endpoint at most once per call. Other ERROR answers
// (not_entitled, unknown_key, ...) are returned as they are.
//
// A call takes at most endpoints x (connect_timeout + request_timeout); the
// wait for each answer is request_timeout. An endpoint that timed out is left
// alone for a while (ClientConfig::hold_off): a call whose every endpoint is
// held off fails at once with a timeout error naming them. Not thread-safe:
// one thread per client object.
//
// A request retried after its connection broke may have reached the first
// endpoint already: KEY_GENERATE (which=current) and USAGE_REPORT are then
// applied twice.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kmclient/config.h"
#include "kmclient/result.h"
#include "kmclient/subscription.h"
#include "kmproto/key_record.h"
#include "kmproto/protocol.h"

namespace kmclient {

namespace detail {
class Connection;
class EndpointOrder;
class Failures;
class HoldOff;
struct OwnedFrame;
struct Outgoing;
}  // namespace detail

// One KEY_REQUEST of a pipelined batch: key_id 0 asks for current and next.
struct KeyQuery {
  std::uint32_t channel_id = 0;
  std::uint32_t key_id = 0;
};

class KeymgrClient {
 public:
  explicit KeymgrClient(ClientConfig config);
  ~KeymgrClient();
  KeymgrClient(const KeymgrClient&) = delete;
  KeymgrClient& operator=(const KeymgrClient&) = delete;

  // The channel's current and next keys (and previous, within its grace).
  Result<std::vector<kmproto::KeyRecord>> request_keys(std::uint32_t channel_id);
  // One key by id (a receiver meeting an unknown key_id).
  Result<kmproto::KeyRecord> request_key(std::uint32_t channel_id, std::uint32_t key_id);
  // Sends every query, then reads every answer, in order. The outer error is
  // for a batch no endpoint could finish; each inner result is one query's
  // keys or its ERROR answer.
  Result<std::vector<Result<std::vector<kmproto::KeyRecord>>>> request_many(std::span<const KeyQuery> queries);

  // Gateway-origin channels: have the key manager make a key, or store keys
  // the gateway made.
  Result<kmproto::KeyRecord> generate(std::uint32_t channel_id, kmproto::Which which, std::uint8_t suite,
                                      std::uint16_t key_length, std::uint32_t lifetime_ms);
  Result<void> push(std::span<const kmproto::KeyRecord> records);
  Result<void> report_usage(std::uint32_t channel_id, std::uint32_t key_id, std::uint64_t packets,
                            std::uint64_t bytes);

  // SUBSCRIBE on a connection of its own (chosen by the same failover), the
  // 0x8005 answer read. Resubscribe with sub.last_version() after an error.
  Result<Subscription> subscribe(std::uint64_t since_version);

  // Opens the connection (HELLO answered) now, by the same failover as a
  // request, unless one is open: the first request is then one round trip.
  Result<void> connect();
  // Closes the connection; the next call dials again.
  void disconnect();
  bool connected() const noexcept { return conn_ != nullptr; }
  // The endpoint of the open connection, and its HELLO answer's clock.
  std::optional<Endpoint> current_endpoint() const;
  std::optional<std::uint64_t> server_time_ms() const;
  // The endpoints that were sent the last call's requests and then closed or
  // went silent before answering them all (none, as a rule). Where that call
  // still succeeded, elsewhere or on a new connection, each of these may
  // have acted on them too: a USAGE_REPORT counted twice. The protocol has
  // no request id that would let a key manager tell a resent request.
  const std::vector<std::string>& unanswered() const noexcept { return unanswered_; }

  const ClientConfig& config() const noexcept { return config_; }

 private:
  // The answers to reqs, in order: each is reqs[i]'s answer or an ERROR
  // that is not a reason to fail over.
  Result<std::vector<detail::OwnedFrame>> exchange(std::span<const detail::Outgoing> reqs);
  // Dials the next untried endpoint in failover order (conn_ set, or the
  // reason added to failures); false when none is left.
  bool dial(SSL_CTX* ctx, std::vector<bool>& tried, detail::Failures& failures);
  // TLS context, made on first use; config error if the files are bad.
  Result<SSL_CTX*> tls_context();
  // The endpoint that gave the last answer, for error texts.
  std::string answered_by() const;

  ClientConfig config_;
  std::unique_ptr<detail::EndpointOrder> order_;
  std::unique_ptr<detail::HoldOff> hold_off_;
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> tls_ctx_;
  std::unique_ptr<detail::Connection> conn_;
  std::size_t conn_endpoint_ = 0;
  std::vector<std::string> unanswered_;
  std::uint64_t server_time_ms_ = 0;
  std::size_t answered_by_ = 0;
};

}  // namespace kmclient
