// The key manager's request handling: authenticates peers (HELLO), answers
// KEY_REQUEST from the live keys for entitled peers, makes and accepts keys
// (KEY_GENERATE, KEY_PUSH) for the gateways that feed a channel, records
// usage and accounting, and on a master makes each channel's next key by
// itself when the channel's keys originate here (tick()).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <tuple>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/keymgr_config.h"
#include "kmproto/frame_builder.h"
#include "kmproto/key_record.h"
#include "live_keys.h"
#include "peer_log.h"
#include "secmem/allocator.h"
#include "rate_limiter.h"
#include "server/request_handler.h"
#include "service_counters.h"
#include "store/key_store.h"

namespace keymgr {

using Clock = std::function<std::uint64_t()>;  // Unix ms

class KeyService : public RequestHandler {
 public:
  KeyService(const KeymgrConfig& config, store::KeyStore& store, Clock clock);

  // Loads the live keys (and a promotion: first_id_after_promotion) from the
  // store; false (and why in *why) if it cannot.
  bool load(std::string* why);
  // Makes due keys (master, origin keymgr), expires old ones and flushes
  // batched accounting. Returns the Unix ms by which it wants to run again.
  std::uint64_t tick();

  After handle(Peer& peer, const kmproto::Frame& frame, secmem::Bytes& out) override;
  After unfinished(Peer& peer, kmproto::MessageType type, std::uint32_t length, secmem::Bytes& out) override;
  void malformed(Peer& peer, kmproto::Status why, secmem::Bytes& out) override;

  // The longest HELLO taken (parameter bytes): role, a 64-byte peer_id and a
  // 256-byte token take 333, the rest is room for unknown parameters. Before
  // HELLO a connection so never needs more than its small read buffer.
  static constexpr std::uint32_t kMaxHelloLength = 1024;
  void closed(Peer& peer) override;
  bool hold_answers(std::function<void()> release) override;
  void answered(std::chrono::steady_clock::duration waited) override;

  // How the service runs a task after the current burst of I/O (asio::post).
  // Without one, accounting is committed at once and answers never wait.
  void set_poster(std::function<void(std::function<void()>)> post) { post_ = std::move(post); }

  // Where the store's commits go to the disk when the store defers that
  // (KeyStore::defer_sync, WalSync): request(ticket, checkpoint_due) after
  // each write that an answer or a replica depends on. Without one, every
  // write is on the disk when the store returns.
  void set_syncer(std::function<void(std::uint64_t ticket, bool checkpoint)> request) {
    request_sync_ = std::move(request);
  }
  // From the syncer, on the service's thread: every write up to ticket is on
  // the disk, and what waited for one of them goes out (answers, key
  // deliveries, shared memory). A failed sync (error: errno) may have lost
  // what was written since the last good one: none of that is ever told to
  // anyone, and on_sync_failure is called, once.
  void synced(std::uint64_t ticket, int error, double seconds);
  void set_on_sync_failure(std::function<void()> f) { on_sync_failure_ = std::move(f); }
  // Connections whose answers wait for an accounting commit or a sync.
  bool answers_waiting() const noexcept { return !held_.empty() || !waiting_sync_.empty(); }
  // SQLite's own automatic checkpoint point, asked of the syncer instead.
  static constexpr int kCheckpointFrames = 1000;

  // Writes batched accounting (request counts, key fetches) in one
  // transaction. Called after each burst of frames and by tick().
  void flush_accounting();

  const ServiceCounters& counters() const noexcept { return counters_; }
  // (peer, channel, key) fetches remembered so that each is recorded once;
  // each key's are forgotten when it expires.
  std::size_t fetches_remembered() const noexcept { return fetches_recorded_.size(); }

  // On a replica: applies one KEY_DELIVERY from the master (a key_record
  // without material is the master's word that the key expired). False, with
  // why, if the store refused it; the link then reconnects and resumes.
  bool apply_delivery(std::uint64_t version, const kmproto::KeyRecord& r, std::string* why);
  // A channel's current, next and previous-within-grace keys at now, as
  // records (state set; material included). For the shared-memory publisher.
  std::vector<kmproto::KeyRecord> channel_keys(std::uint32_t channel_id);

  // Replication position: the version of the last change applied or made.
  std::uint64_t store_version();

 private:
  After hello(Peer& peer, const kmproto::Frame& f, secmem::Bytes& out);
  After key_request(Peer& peer, const kmproto::Frame& f, secmem::Bytes& out);
  After key_generate(Peer& peer, const kmproto::Frame& f, secmem::Bytes& out);
  After key_push(Peer& peer, const kmproto::Frame& f, secmem::Bytes& out);
  After usage_report(Peer& peer, const kmproto::Frame& f, secmem::Bytes& out);
  After subscribe(Peer& peer, const kmproto::Frame& f, secmem::Bytes& out);
  // A key expired (here, or on the master): drops what is kept in memory for it.
  void forget(std::uint32_t channel_id, std::uint32_t key_id);
  // server.retention_days: a batch of KeyStore::prune every 10 minutes, or
  // at every tick while a run has more to delete.
  void apply_retention(std::uint64_t now);
  // Channels that rotate after N bytes or datagrams: the scrambling gateway's
  // usage reports drive when the next key is made (X of the budget left).
  void rotate_by_usage(const ChannelConfig& ch, std::uint32_t key_id, std::uint64_t packets, std::uint64_t bytes);

  struct Subscriber {
    std::uint64_t connection_id;
    std::weak_ptr<FrameSink> sink;
    std::vector<std::uint32_t> channels;  // empty: every channel (replicas)
    std::uint64_t sent_version;
  };
  // Appends KEY_DELIVERY frames for the changes after s.sent_version.
  void deliveries(Subscriber& s, secmem::Bytes& out);
  // Pushes new changes and heartbeats to every subscriber.
  void publish(std::uint64_t now);

  // A channel the peer may feed (gateway, listed in feeds, origin gateway).
  const ChannelConfig* fed_channel(const Peer& peer, std::uint32_t channel_id, secmem::Bytes& out);
  // Stores a key and adds it to the live keys; false with an ERROR written.
  bool store_key(const ChannelConfig& ch, std::uint32_t key_id, std::uint64_t not_before_ms,
                 std::span<const std::uint8_t> material, secmem::Bytes& out);
  // The id of the channel's next key made here: after the newest stored,
  // or after a promotion past the ids the old master may have made.
  store::Result<std::uint32_t> id_to_make(const ChannelConfig& ch);
  // The channel's newest key in the store (expired or not), if it has one.
  store::Result<std::optional<store::KeyRow>> newest_stored(std::uint32_t channel_id);
  // Makes a fresh key (OpenSSL DRBG) for the channel starting at not_before_ms.
  bool make_key(const ChannelConfig& ch, std::uint64_t not_before_ms, secmem::Bytes* out);
  // Every store write's outcome: a failure is counted each time but logged
  // only when writes start failing (naming the database and the OS error),
  // and the first success after that is logged too; not once per request.
  void store_write_failed(const store::Failure& f);
  void store_written();
  void add_record(kmproto::FrameBuilder& b, std::uint32_t channel_id, const LiveKey& k, kmproto::KeyState state,
                  std::uint64_t now);
  // A write just committed: its ticket, its sync asked for. version: the
  // replication version it made, delivered to subscribers once it is synced.
  std::uint64_t wrote(std::optional<std::uint64_t> version);
  void settle(std::uint64_t ticket);  // every write up to ticket is on the disk
  // The answers of the burst being handled wait for this write.
  void needs(std::uint64_t ticket) { burst_needs_ = std::max(burst_needs_, ticket); }
  bool on_disk(const LiveKey& k) const { return k.ticket <= synced_; }
  struct Held {
    std::uint64_t needs;  // the ticket its answers wait for
    std::function<void()> release;
  };
  void release_or_wait(Held h);
  After error(secmem::Bytes& out, kmproto::ErrorCode code, const std::string& text,
              After after = After::keep_open);
  void log_peer(std::string line);  // through peer_log_

  const KeymgrConfig& config_;
  store::KeyStore& store_;
  Clock clock_;
  LiveKeys live_;
  std::optional<store::Promotion> promotion_;  // this store was a replica's until then
  // Channels whose newest key is the old master's: the first key made for
  // one starts at once, with first_id_after_promotion's id.
  std::set<std::uint32_t> promoted_over_;
  RateLimiter limiter_;
  // Accounting not yet in the store, merged in memory: request counts per
  // (hour, peer, channel), and each (peer, channel, key) fetch once.
  std::map<std::tuple<std::uint64_t, std::string, std::uint32_t>, std::uint64_t> pending_requests_;
  std::set<std::tuple<std::string, std::uint32_t, std::uint32_t>> fetches_recorded_;
  std::vector<store::FetchOp> pending_fetches_;
  // Group commit: connections whose answers wait for the next accounting commit.
  std::function<void(std::function<void()>)> post_;
  std::vector<Held> held_;
  bool commit_posted_ = false;
  // Deferred sync: writes are numbered (tickets) as they commit.
  std::function<void(std::uint64_t, bool)> request_sync_;
  std::function<void()> on_sync_failure_;
  std::uint64_t written_ = 0;  // the last ticket taken
  std::uint64_t synced_ = 0;   // every ticket up to this one is on the disk
  bool sync_failed_ = false;
  std::uint64_t burst_needs_ = 0;
  std::vector<Held> waiting_sync_;  // connections whose answers wait for a sync
  std::deque<std::pair<std::uint64_t, std::uint64_t>> unsynced_versions_;  // (ticket, version)
  std::uint64_t durable_version_ = 0;  // key deliveries go up to this version
  bool store_failing_ = false;  // the last store write failed
  struct Usage {
    std::uint64_t packets = 0, bytes = 0;
  };
  std::map<std::pair<std::uint32_t, std::uint32_t>, Usage> usage_;  // (channel, key) as reported
  ServiceCounters counters_;
  PeerLog peer_log_;
  std::vector<Subscriber> subscribers_;
  std::uint64_t last_heartbeat_ms_ = 0;
  std::uint64_t next_retention_ms_ = 0;
  store::Pruned retention_run_;  // what the batches of the run under way deleted
};

}  // namespace keymgr
