// The control thread's side of the keys: gets every channel's keys from the
// key manager (KEY_REQUEST for keymgr-origin channels, KEY_GENERATE for
// gateway-origin ones), prepares them (all allocation happens here) and
// publishes them as KeySets; learns of the worker's switches from its events
// and sends the finished key's USAGE_REPORT (usage_ledger.h: kept and tried
// again while the key manager does not take it, and with a usage file kept
// on disk with the counts of the keys in use). Never touches a worker's
// live state: the worker switches by itself at the current key's end.
//
// Descramble mode: next keys are fetched at Y (fetch_at of the lifetime left,
// jittered by 10 %); a key the worker meets and does not hold is asked for by
// id (wanted_keys.h: up to four at once, a few tries each with backoff, then
// given up: the hold queue times out).
// When the worker reports the input's switch to next, the old current key
// stays as previous for kGraceMs, then the control thread retires it.
//
// Every key read goes through a KeyFetcher (key_source.h: the key manager
// over TCP, or keys.shm); KEY_GENERATE and USAGE_REPORT need keys.endpoints
// (without them, usage reports are not sent).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "channel_table.h"
#include "clock.h"
#include "config/gateway_config.h"
#include "counters.h"
#include "events.h"
#include "key_source.h"
#include "key_table.h"
#include "kmclient/client.h"
#include "kmproto/key_record.h"
#include "secmem/allocator.h"
#include "usage_ledger.h"
#include "wanted_keys.h"

namespace gateway {

kmclient::ClientConfig client_config(const KeySource& keys);

// A channel's key ids and their TscClock end times as the control thread
// holds them: what telemetry and Prometheus show. Ids only, never material;
// 0 where there is no such key.
struct ChannelKeyIds {
  std::uint32_t channel_id = 0;
  std::uint32_t previous = 0, current = 0, next = 0;
  std::uint64_t previous_until_ms = 0, current_end_ms = 0, next_end_ms = 0;
};

class KeyControl {
 public:
  // usage_file: where usage not yet taken by the key manager is kept (the
  // config's usage_file), or null.
  KeyControl(const GatewayConfig& config, const ChannelTable& channels, KeyTable& table, const TscClock& clock,
             std::unique_ptr<UsageFile> usage_file = nullptr);
  KeyControl(const KeyControl&) = delete;  // usage_ calls back into this object
  KeyControl& operator=(const KeyControl&) = delete;

  // Tries until every channel has its current key (and next, when it exists)
  // or keys.startup_timeout_ms passes; descrambling, then also asks for the
  // key before each current one that began within the grace period. Returns the ids of the channels still
  // without a key; empty when all are served.
  std::vector<std::uint32_t> load_initial_keys();

  // Fetches or generates next keys that are due, and sends usage reports
  // that are waiting. Blocks for at most the client's deadlines.
  void tick();
  void handle(const Event& e);
  // What went out so far under the key in use on each channel (scramble:
  // the workers' ChannelStats, by channel index), read for the usage file
  // once a second; a no-op otherwise.
  void observe_usage(const ChannelStats* stats);
  // After the workers' last events: one last try for the usage reports
  // still waiting (those not taken stay in the usage file, or without one
  // are logged and given up).
  void stop();
  UsageStats usage_stats() const { return usage_.stats(); }
  // One entry per channel, in channel order.
  std::vector<ChannelKeyIds> key_ids() const;

 private:
  struct ChannelKeys {
    const ChannelConfig* cfg = nullptr;
    const Channel* ch = nullptr;
    std::optional<kmproto::KeyRecord> previous;  // descramble only
    std::uint64_t previous_until_ms = 0;
    WantedKeys wanted;  // descramble: keys asked for by id
    std::optional<kmproto::KeyRecord> current;  // the key the worker uses (or will, at start)
    std::uint64_t current_end_ms = 0;
    std::optional<kmproto::KeyRecord> next;
    std::uint64_t next_end_ms = 0;
    std::uint64_t next_try_ms = 0;  // when to look for the next key again
    std::string problem;            // why the last attempt failed, for the log
  };

  // key_id is the channel's previous, current or next key.
  static bool holds(const ChannelKeys& k, std::uint32_t key_id) noexcept;
  // Takes records from a KEY_REQUEST/KEY_GENERATE answer; true if anything
  // new was learned (then the set is published).
  bool take(ChannelKeys& k, const std::vector<kmproto::KeyRecord>& records, std::uint64_t now_ms);
  void load_previous_keys();
  bool publish(ChannelKeys& k);
  void schedule_next_try(ChannelKeys& k, std::uint64_t now_ms);
  void fetch_next(ChannelKeys& k, std::uint64_t now_ms);
  void fetch_wanted(ChannelKeys& k, std::uint32_t key_id, std::uint64_t now_ms);
  void resync(ChannelKeys& k);
  // A key fetched by id: next, a newer current, or previous, by its id.
  void install(ChannelKeys& k, const kmproto::KeyRecord& r, std::uint64_t now_ms);
  std::uint16_t key_length(const ChannelConfig& c) const;
  UsageReports::Sent send_usage(const UsageReport& r, std::string* why, std::vector<std::string>* unanswered);

  const Mode mode_;
  const TscClock& clock_;
  std::minstd_rand jitter_;
  KeyTable& table_;
  std::unique_ptr<kmclient::KeymgrClient> client_;  // null without keys.endpoints
  KeyFetcher fetcher_;
  std::uint64_t startup_timeout_ms_;
  std::vector<ChannelKeys, secmem::Allocator<ChannelKeys>> keys_;  // key records: secret memory
  UsageLedger usage_;
};

}  // namespace gateway
