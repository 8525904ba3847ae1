// The worker loop in the shape of DPDK's l2fwd: RX burst, per datagram
// parse → channel → scramble or descramble in place → rewrite → TX buffer,
// with a drain timer. One loop, the mode a template parameter (VPP style): the
// loop's shape is the same, the per-datagram work is chosen at compile time.
//
// Scramble: once per iteration, before the burst, each channel's key
// (switching to the next key at the current one's end, on this worker's own
// clock; to one that came after that end, once its notices announced it) and
// its KEY_NOTICEs.
// Descramble: the key is chosen by the datagram's key_id among the KeySet's
// previous/current/next; a datagram with another key_id waits in the
// channel's hold queue (preallocated) while the control thread fetches that
// key; once per iteration, before the burst, each queue releases what its
// keys now open and drops what is older than hold_ms. While a queue is not
// empty every datagram of its channel queues behind, so order is kept.
// After the burst, the QSBR quiescent report, after which no KeySet pointer
// is kept.
//
// Several workers (worker.h): each iteration also takes the datagrams other
// workers handed over (this worker owns their channels) before its own RX
// queues; only owned channels have their keys, holds and stats updated.
//
// A datagram that cannot be (de)scrambled is freed and counted, never
// forwarded.
#include "worker.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>

#include "dpdk.h"
#include "events.h"
#include "keycast/replay_window.h"
#include "keycast/request_limits.h"
#include "pktparse/key.h"
#include "pktparse/keycast_header.h"
#include "pktparse/net.h"
#include "pktparse/scramble.h"
#include "rewrite.h"

namespace gateway {
namespace {

constexpr std::uint16_t kMaxBurst = 512;  // the configuration's limit
constexpr std::uint16_t kPrefetchAhead = 4;
constexpr std::size_t kTemplateMax = 128;
// A need-key event for the same key is not repeated within this time.
constexpr std::uint64_t kNeedRepeatMs = 1000;
// Descramble, against forged datagrams (as keycast-recv): key ids further
// than this beyond the newest key held are not fetched, and datagrams may
// prompt this many fetches at once, then so many a second, per channel.
constexpr std::int32_t kKeyWindow = 16;
constexpr double kFetchBurst = 16, kFetchPerSecond = 20;
// Scramble: a next key that comes after the current one ended (degraded) is
// announced by this many notices before the switch, as one that came in time
// is, so that receivers fetch it before its first datagram (fewer where the
// late key has less than twice that time left).
constexpr std::uint64_t kNoticesBeforeLateSwitch = 3;

struct Held {
  rte_mbuf* m;
  std::uint64_t tsc;  // when it was held
};

// GCM seqs delivered under one key of a channel (descramble).
struct GcmReplay {
  std::uint32_t key_id = 0;
  keycast::ReplayWindow window;
};

// Single-writer state of one channel.
struct ChannelState {
  std::uint64_t seq = 0;
  std::uint32_t active_key_id = 0;  // the key this worker scrambles with; 0 before the first
  bool degraded = false;            // active key past its end, no next key yet
  std::uint64_t late_switch_ms = 0; // degraded: the switch to the next key that came, once announced
  pktparse::PreparedKey* key = nullptr;  // valid for this iteration only (QSBR)
  std::uint32_t remaining_ms = 0;
  std::uint64_t packets = 0, bytes = 0;  // under active_key_id
  std::uint64_t datagrams = 0;           // (de)scrambled since start
  std::uint64_t next_notice_ms = 0;      // 0: announce as soon as a next key appears
  // L2-L4 headers of a recent DATA frame (after rewrite), which KEY_NOTICEs
  // reuse so they leave from the same source (and VLAN) as the data.
  bool want_template = true;
  std::uint16_t template_len = 0;
  pktparse::PacketView template_view;
  std::uint8_t template_hdrs[kTemplateMax] = {};

  // Descramble.
  KeySet* keys = nullptr;             // valid for this iteration only (QSBR)
  Held* held = nullptr;               // ring of hold_cap entries
  std::uint32_t hold_cap = 0, hold_head = 0, hold_count = 0;
  std::uint64_t hold_ticks = 0;       // hold_ms in TSC ticks
  std::uint32_t pending_key_id = 0;   // asked of the control thread
  std::uint64_t pending_until_ms = 0; // 0: nothing asked yet
  std::uint32_t switched_to = 0;      // last next key id reported as switched to
  std::uint32_t newest_previous = 0;  // highest key id seen as previous: older ones are not fetched again
  keycast::TokenBucket fetch_budget{kFetchBurst, kFetchPerSecond};  // need-key events datagrams prompt
  std::array<GcmReplay, 3> replay{};  // one per key of the KeySet
};

// A datagram parsed up to its keycast header (descramble).
struct Datagram {
  std::uint8_t* frame = nullptr;
  pktparse::PacketView v;
  const Channel* c = nullptr;
  pktparse::KcHeader h;
};

void on_unsent(rte_mbuf** unsent, std::uint16_t count, void* userdata) {
  static_cast<WorkerCounters*>(userdata)->add(Counter::tx_dropped, count);
  rte_pktmbuf_free_bulk(unsent, count);
}

template <Mode M>
class Worker {
 public:
  // hold: the channels' hold queues end to end (descramble), hold_datagrams
  // entries per channel in channel order.
  Worker(WorkerContext& ctx, rte_eth_dev_tx_buffer* txb, std::uint64_t first_seq, Held* hold) : ctx_(ctx), txb_(txb) {
    for (auto& st : state_) st.seq = first_seq;
    if constexpr (M == Mode::descramble) {
      for (const Channel& c : ctx_.channels->channels()) {
        ChannelState& st = state_[c.index];
        st.held = hold;
        st.hold_cap = c.hold_datagrams;
        st.hold_ticks = c.hold_ms * ctx_.clock->ticks_per_ms();
        hold += c.hold_datagrams;
      }
    }
  }

  void run() {
    const std::uint64_t drain_tsc = ctx_.clock->ticks_per_us() * ctx_.tx_drain_us;
    rte_rcu_qsbr* qsbr = ctx_.keys->qsbr();
    const unsigned self = ctx_.lcore;
    rte_ring* inbox = ctx_.inboxes[ctx_.index];
    rte_rcu_qsbr_thread_register(qsbr, self);
    rte_rcu_qsbr_thread_online(qsbr, self);
    std::uint64_t prev_tsc = 0;
    rte_mbuf* pkts[kMaxBurst];

    while (!ctx_.quit->load(std::memory_order_relaxed)) {
      now_tsc_ = rte_rdtsc();
      now_ms_ = ctx_.clock->ms_at(now_tsc_);

      if (unlikely(now_tsc_ - prev_tsc > drain_tsc)) {
        flush();
        publish_stats();
        prev_tsc = now_tsc_;
      }

      if constexpr (M == Mode::scramble) {
        seq_limit_ = ctx_.seq_limit->load(std::memory_order_acquire);
        update_keys();
      } else {
        update_holds();
      }

      // Handed over by other workers: they arrived before this iteration.
      std::uint32_t work =
          rte_ring_sc_dequeue_burst(inbox, reinterpret_cast<void**>(pkts), ctx_.burst, nullptr);
      if (work) timed_process(pkts, static_cast<std::uint16_t>(work));
      for (std::uint16_t q = 0; q < ctx_.rx_count; ++q) {
        const std::uint16_t nb_rx = rte_eth_rx_burst(ctx_.rx[q].port, ctx_.rx[q].queue, pkts, ctx_.burst);
        if (!nb_rx) continue;
        ctx_.counters->add(Counter::rx, nb_rx);
        ctx_.last_rx_ms.store(now_ms_, std::memory_order_relaxed);
        timed_process(pkts, nb_rx);
        work += nb_rx;
      }
      commit_counts();

      rte_rcu_qsbr_quiescent(qsbr, self);
      if (ctx_.idle_sleep_us && !work) {
        flush();
        rte_delay_us_sleep(ctx_.idle_sleep_us);
      }
    }

    flush();
    publish_stats();
    for (const Channel& c : ctx_.channels->channels()) {
      if (!owned(c)) continue;
      ChannelState& st = state_[c.index];
      if (st.active_key_id)
        post({Event::Kind::final_usage, c.id, st.active_key_id, 0, st.packets, st.bytes});
      for (; st.hold_count; --st.hold_count, st.hold_head = (st.hold_head + 1) % st.hold_cap)
        drop(st.held[st.hold_head].m, Counter::held_at_stop);
    }
    rte_rcu_qsbr_thread_offline(qsbr, self);
    rte_rcu_qsbr_thread_unregister(qsbr, self);
  }

 private:
  void timed_process(rte_mbuf** pkts, std::uint16_t n) {
    const std::uint64_t t0 = rte_rdtsc();
    process(pkts, n);
    busy_cycles_ += rte_rdtsc() - t0;
    busy_frames_ += n;
  }

  static void prefetch_headers(rte_mbuf* m) {
    const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
    rte_prefetch0(p);
    rte_prefetch0(p + RTE_CACHE_LINE_SIZE);
  }

  void process(rte_mbuf** pkts, std::uint16_t n) {
    for (std::uint16_t i = 0; i < n && i < kPrefetchAhead; ++i) prefetch_headers(pkts[i]);
    for (std::uint16_t i = 0; i < n; ++i) {
      if (i + kPrefetchAhead < n) prefetch_headers(pkts[i + kPrefetchAhead]);
      if constexpr (M == Mode::scramble) scramble(pkts[i]);
      else descramble(pkts[i]);
    }
  }

  // Owned, or provisionally ours: keys, holds and stats are ours to update.
  bool owned(const Channel& c) const noexcept {
    return (ctx_.owners->of[c.index].load(std::memory_order_acquire) & ~kProvisional) == ctx_.index;
  }

  // True when this worker owns c (claiming it at its first datagram, and
  // then bringing its keys up to date at once); otherwise m goes to the
  // owner's inbox.
  bool own(const Channel& c, rte_mbuf* m) {
    std::uint16_t owner = ctx_.owners->of[c.index].load(std::memory_order_acquire);
    if (likely(owner == ctx_.index)) return true;
    while (owner & kProvisional) {
      if (ctx_.owners->of[c.index].compare_exchange_weak(owner, ctx_.index, std::memory_order_acq_rel)) {
        if constexpr (M == Mode::scramble) update_keys(c);
        else state_[c.index].keys = ctx_.keys->read(c.index);
        return true;
      }
    }
    if (owner == ctx_.index) return true;
    if (rte_ring_mp_enqueue(ctx_.inboxes[owner], m) != 0) drop(m, Counter::handoff_full);
    else ctx_.counters->add(Counter::handed_over);
    return false;
  }

  void update_keys() {
    for (const Channel& c : ctx_.channels->channels())
      if (owned(c)) update_keys(c);
  }

  // Which key of the channel's published set is ours, the switch at its
  // end (for a next key that came after it, once announced), and the
  // notices while a next key exists.
  void update_keys(const Channel& c) {
    const std::uint64_t now_ms = now_ms_;
    ChannelState& st = state_[c.index];
    st.key = nullptr;
    KeySet* ks = ctx_.keys->read(c.index);
    if (!ks) return;

    pktparse::PreparedKey* use = nullptr;
    std::uint64_t end_ms = 0;
    pktparse::PreparedKey* next = nullptr;
    std::uint64_t next_end_ms = 0;
    if (ks->current.key_id() != st.active_key_id && ks->has_next() && ks->next.key_id() == st.active_key_id) {
      // We switched already; the control thread has not republished yet.
      use = &ks->next;
      end_ms = ks->next_end_ms;
    } else if (ks->current.key_id() >= st.active_key_id) {
      if (ks->current.key_id() != st.active_key_id) {
        // The first key, or the control thread moved the channel on.
        if (st.active_key_id)
          post({Event::Kind::switched, c.id, st.active_key_id, ks->current.key_id(), st.packets, st.bytes});
        adopt(st, ks->current.key_id());
      }
      use = &ks->current;
      end_ms = ks->current_end_ms;
      if (ks->has_next()) {
        next = &ks->next;
        next_end_ms = ks->next_end_ms;
      }
    } else {
      return;  // only keys older than ours: nothing usable (no_key per datagram)
    }

    if (next && st.degraded && !st.late_switch_ms) {
      // Never more than half of what is left of the late key: it may be
      // near its end already, and the key manager then serves the one
      // after it as current.
      const std::uint64_t left = next_end_ms > now_ms ? next_end_ms - now_ms : 0;
      st.late_switch_ms = now_ms + std::min(kNoticesBeforeLateSwitch * c.notice_interval_ms, left / 2);
    }
    if (st.late_switch_ms) end_ms = st.late_switch_ms;
    if (now_ms >= end_ms) {
      if (next) {
        post({Event::Kind::switched, c.id, st.active_key_id, next->key_id(), st.packets, st.bytes});
        adopt(st, next->key_id());
        use = next;
        end_ms = next_end_ms;
        next = nullptr;
      } else if (!st.degraded) {
        st.degraded = true;
        ctx_.counters->add(Counter::degraded_switches);
        post({Event::Kind::degraded, c.id, st.active_key_id, 0, st.packets, st.bytes});
      }
    }

    st.key = use;
    st.remaining_ms = static_cast<std::uint32_t>(std::min<std::uint64_t>(end_ms > now_ms ? end_ms - now_ms : 0, UINT32_MAX));
    if (!next) {
      st.next_notice_ms = 0;
    } else if (now_ms >= st.next_notice_ms) {
      send_notice(c, st, use->key_id(), next->key_id());
      st.next_notice_ms = now_ms + c.notice_interval_ms;
    }
  }

  static void adopt(ChannelState& st, std::uint32_t key_id) {
    st.active_key_id = key_id;
    st.packets = st.bytes = 0;
    st.degraded = false;
    st.late_switch_ms = 0;
  }

  void scramble(rte_mbuf* m) {
    if (unlikely(m->nb_segs != 1)) return drop(m, Counter::multi_segment);
    std::uint8_t* frame = rte_pktmbuf_mtod(m, std::uint8_t*);
    pktparse::PacketView v;
    const pktparse::Status ps = pktparse::parse_frame({frame, m->data_len}, v);
    if (unlikely(ps != pktparse::Status::ok)) return drop(m, ps);
    const Channel* c = ctx_.channels->find(v.dst, v.dst_port);
    if (!c) return drop(m, Counter::not_a_channel);
    if (unlikely(!own(*c, m))) return;
    if (unlikely(udp_checksum_bad(m, v, frame))) return drop(m, Counter::udp_checksum_bad);
    ChannelState& st = state_[c->index];
    if (unlikely(!st.key)) return drop(m, Counter::no_key);
    if (unlikely(st.seq >= seq_limit_)) return drop(m, Counter::seq_not_reserved);

    const std::uint16_t datagram_end = static_cast<std::uint16_t>(v.payload_offset + v.payload_len);
    if (m->data_len > datagram_end) rte_pktmbuf_trim(m, static_cast<std::uint16_t>(m->data_len - datagram_end));
    const std::size_t udp_payload = std::size_t{c->hdr_len} + v.payload_len + c->trailer_len;
    if (unlikely(std::size_t{v.l4_offset} - v.l3_offset + 8 + udp_payload > ctx_.tx_mtu))
      return drop(m, Counter::over_mtu);
    if (unlikely(rte_pktmbuf_headroom(m) < c->hdr_len)) return drop(m, Counter::no_headroom);
    if (unlikely(rte_pktmbuf_tailroom(m) < c->trailer_len)) return drop(m, Counter::no_tailroom);

    // New front: headers move forward by hdr_len, the keycast header goes in
    // the gap, the payload is scrambled where it is.
    std::uint8_t* front = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(m, c->hdr_len));
    std::memmove(front, frame, v.payload_offset);
    std::uint8_t* payload = frame + v.payload_offset;
    pktparse::KcHeader h = c->hdr;
    h.seq = st.seq++;
    h.key_remaining_ms = st.remaining_ms;
    UdpChecksumSource checksum = checksum_source(v, *c, v.payload_offset - v.l4_offset + c->hdr_len);
    const pktparse::Status ss = pktparse::scramble(*st.key, c->rules, h, front + v.payload_offset, payload,
                                                   v.payload_len, payload_sum_wanted(*c, checksum));
    if (unlikely(ss != pktparse::Status::ok)) return drop(m, ss);
    if (c->trailer_len) rte_pktmbuf_append(m, c->trailer_len);
    if (unlikely(!rewrite(m, front, v, *c, udp_payload, checksum))) return drop(m, Counter::over_mtu);

    ++st.packets;
    ++st.datagrams;
    st.bytes += v.payload_len;
    if (st.want_template && v.payload_offset <= kTemplateMax) {
      std::memcpy(st.template_hdrs, front, v.payload_offset);
      st.template_len = v.payload_offset;
      st.template_view = v;
      st.want_template = false;
    }
    ++done_;
    tx(m);
  }

  // KEY_NOTICE (wire-format.md section 2): headers of the channel's last DATA
  // frame, then the notice header as the whole UDP payload. Not sent before
  // the channel has carried a datagram (no source address to send from).
  void send_notice(const Channel& c, ChannelState& st, std::uint32_t current_id, std::uint32_t next_id) {
    if (!st.template_len) return;
    rte_mbuf* m = rte_pktmbuf_alloc(ctx_.pool);
    if (unlikely(!m)) return ctx_.counters->add(Counter::notice_alloc_failed);
    const pktparse::KcHeader n = pktparse::make_key_notice(c.id, c.suite, current_id, next_id, st.remaining_ms);
    const std::uint16_t len = pktparse::header_len(n);
    auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, static_cast<std::uint16_t>(st.template_len + len)));
    if (unlikely(!p)) {
      rte_pktmbuf_free(m);
      return ctx_.counters->add(Counter::notice_alloc_failed);
    }
    std::memcpy(p, st.template_hdrs, st.template_len);
    pktparse::encode_header(n, p + st.template_len);
    (void)rewrite_headers(p, st.template_view, c, ctx_.tx_mac, len);
    st.want_template = true;
    ctx_.counters->add(Counter::notices_sent);
    tx(m);
  }


  // ---- Descramble ----

  // Parses up to the keycast header; false when m was dropped.
  bool parse(rte_mbuf* m, Datagram& d) {
    if (unlikely(m->nb_segs != 1)) return reject(m, Counter::multi_segment);
    d.frame = rte_pktmbuf_mtod(m, std::uint8_t*);
    pktparse::Status s = pktparse::parse_frame({d.frame, m->data_len}, d.v);
    if (unlikely(s != pktparse::Status::ok)) return reject(m, s);
    d.c = ctx_.channels->find(d.v.dst, d.v.dst_port);
    if (!d.c) return reject(m, Counter::not_a_channel);
    if (unlikely(!own(*d.c, m))) return false;
    if (unlikely(udp_checksum_bad(m, d.v, d.frame))) return reject(m, Counter::udp_checksum_bad);
    s = pktparse::parse_header({d.frame + d.v.payload_offset, d.v.payload_len}, d.h);
    if (unlikely(s != pktparse::Status::ok)) return reject(m, s);
    if (unlikely(d.h.channel_id != d.c->id)) return reject(m, Counter::channel_mismatch);
    return true;
  }

  static pktparse::PreparedKey* find_key(KeySet* ks, std::uint32_t key_id) {
    if (!ks || key_id == 0) return nullptr;
    if (ks->current.key_id() == key_id) return &ks->current;
    if (ks->next.key_id() == key_id) return &ks->next;
    if (ks->previous.key_id() == key_id) return &ks->previous;
    return nullptr;
  }

  // A key id the channel does not hold that it will not fetch either: older
  // than its previous key (a retired key is never fetched again, so replayed
  // old datagrams stay dead) or further than kKeyWindow beyond its newest.
  static bool refused(const ChannelState& st, std::uint32_t key_id, Counter& why) noexcept {
    if (!st.keys || !st.keys->current.ready()) return false;
    const std::uint32_t cur = st.keys->current.key_id();
    const std::uint32_t newest = st.keys->has_next() ? st.keys->next.key_id() : cur;
    const auto behind = static_cast<std::int32_t>(cur - key_id);
    if (behind > 1 || (behind == 1 && key_id == st.newest_previous)) {
      why = Counter::key_too_old;
      return true;
    }
    if (static_cast<std::int32_t>(key_id - newest) > kKeyWindow) {
      why = Counter::key_too_far_ahead;
      return true;
    }
    return false;
  }

  void descramble(rte_mbuf* m) {
    const std::uint64_t now_tsc = now_tsc_, now_ms = now_ms_;
    Datagram d;
    if (!parse(m, d)) return;
    ChannelState& st = state_[d.c->index];
    Counter refusal;
    if (d.h.type == pktparse::MsgType::key_notice) {
      ctx_.counters->add(Counter::notices_received);
      if (find_key(st.keys, d.h.next_key_id)) return rte_pktmbuf_free(m);
      if (refused(st, d.h.next_key_id, refusal)) {
        if (refusal != Counter::key_too_far_ahead || !resyncing(*d.c, st, now_ms)) return drop(m, refusal);
        return rte_pktmbuf_free(m);  // catching up, as for a datagram
      }
      need_key(*d.c, st, d.h.next_key_id, now_ms);
      return rte_pktmbuf_free(m);
    }
    pktparse::PreparedKey* key = find_key(st.keys, d.h.key_id);
    bool far_ahead = false;
    if (!key && refused(st, d.h.key_id, refusal)) {
      if (refusal != Counter::key_too_far_ahead || !resyncing(*d.c, st, now_ms)) return drop(m, refusal);
      far_ahead = true;
    }
    if (key && !st.hold_count) return open(m, d, st, *key);

    if (st.hold_count == st.hold_cap) return drop(m, Counter::hold_overflow);
    st.held[(st.hold_head + st.hold_count) % st.hold_cap] = {m, now_tsc};
    ++st.hold_count;
    ctx_.counters->add(Counter::held);
    if (!key && !far_ahead) need_key(*d.c, st, d.h.key_id, now_ms);
  }

  // A key far ahead may mean this gateway's keys fell behind (its input idle
  // through key changes) or the key manager's ids jumped (a replica promoted
  // to master skips those its old master may have made): the key manager,
  // not the datagram, says which keys are current (key id 0), at the
  // datagram's fetch budget. True while that question is out and this
  // gateway's keys are stale (the newest has ended): the datagram is held
  // for the answer (hold_ms), and dropped as too far ahead if the keys it
  // brings do not take it. With a live key such an id is forged or broken:
  // dropped at once, it holds up none of the channel's good datagrams.
  bool resyncing(const Channel& c, ChannelState& st, std::uint64_t now_ms) {
    need_key(c, st, 0, now_ms);
    const bool stale = !st.keys->has_next() && now_ms >= st.keys->current_end_ms;
    return stale && st.pending_key_id == 0 && now_ms < st.pending_until_ms;
  }

  // Asks the control thread for a key (0: which keys are current), at most kFetchBurst at once and
  // kFetchPerSecond after that per channel, so that forged key ids cannot
  // flood the key manager.
  void need_key(const Channel& c, ChannelState& st, std::uint32_t key_id, std::uint64_t now_ms) {
    if (st.pending_key_id == key_id && now_ms < st.pending_until_ms) return;
    const keycast::TokenBucket::Clock::time_point t{std::chrono::milliseconds{now_ms - epoch_ms_ + 1}};
    if (!st.fetch_budget.take(t)) return ctx_.counters->add(Counter::key_requests_rate_limited);
    st.pending_key_id = key_id;
    st.pending_until_ms = now_ms + kNeedRepeatMs;
    ctx_.counters->add(key_id ? Counter::unknown_key_requests : Counter::key_resyncs);
    post({Event::Kind::need_key, c.id, key_id, 0, 0, 0});
  }

  // Each channel's KeySet for this iteration; held datagrams go out in order
  // as far as the keys allow, those older than hold_ms are dropped.
  void update_holds() {
    const std::uint64_t now_tsc = now_tsc_;
    for (const Channel& c : ctx_.channels->channels()) {
      if (!owned(c)) continue;
      ChannelState& st = state_[c.index];
      st.keys = ctx_.keys->read(c.index);
      if (st.keys && st.keys->previous.ready())
        st.newest_previous = std::max(st.newest_previous, st.keys->previous.key_id());
      while (st.hold_count) {
        const Held h = st.held[st.hold_head];
        Datagram d;
        pktparse::PreparedKey* key = nullptr;
        const bool parsed = parse(h.m, d);  // as when it was held: cannot fail
        if (parsed) key = find_key(st.keys, d.h.key_id);
        if (parsed && !key && now_tsc - h.tsc <= st.hold_ticks) break;
        st.hold_head = (st.hold_head + 1) % st.hold_cap;
        --st.hold_count;
        if (!parsed) continue;
        if (!key) {
          Counter why = Counter::hold_timeout;
          (void)refused(st, d.h.key_id, why);  // far ahead still: not among the keys the resync brought
          drop(h.m, why);
          continue;
        }
        ctx_.counters->add(Counter::released);
        open(h.m, d, st, *key);
      }
    }
  }

  // Descrambles in place, then removes the keycast header (L2-L4 move forward
  // over it) and the GCM tag, and rewrites L2-L4 for the output group.
  // With GCM, a (key, seq) already delivered or behind the replay window is
  // dropped before the tag is checked, and the seq recorded once it is.
  void open(rte_mbuf* m, Datagram& d, ChannelState& st, pktparse::PreparedKey& key) {
    keycast::ReplayWindow* replay = nullptr;
    if (d.h.suite == pktparse::Suite::aes128_gcm) {
      replay = &replay_window(st, key.key_id());
      switch (replay->check(d.h.seq)) {
        case keycast::ReplayWindow::Verdict::fresh: break;
        case keycast::ReplayWindow::Verdict::replayed: return drop(m, Counter::replayed);
        case keycast::ReplayWindow::Verdict::too_old: return drop(m, Counter::replay_too_old);
      }
    }
    std::span<std::uint8_t> clear;
    UdpChecksumSource checksum = checksum_source(d.v, *d.c, d.v.payload_offset - d.v.l4_offset);
    const pktparse::Status s = pktparse::descramble(key, d.h, {d.frame + d.v.payload_offset, d.v.payload_len}, clear,
                                                    payload_sum_wanted(*d.c, checksum));
    if (unlikely(s != pktparse::Status::ok)) return drop(m, s);
    if (replay) replay->accept(d.h.seq);
    if (&key == &st.keys->next && st.switched_to != key.key_id()) {
      st.switched_to = key.key_id();
      post({Event::Kind::switched, d.c->id, st.keys->current.key_id(), key.key_id(), 0, 0});
    }
    const std::uint16_t hdr_len = d.h.hdr_len;
    std::uint8_t* front = d.frame + hdr_len;
    std::memmove(front, d.frame, d.v.payload_offset);
    (void)rte_pktmbuf_adj(m, hdr_len);
    const std::size_t end = std::size_t{d.v.payload_offset} + clear.size();
    if (m->data_len > end) (void)rte_pktmbuf_trim(m, static_cast<std::uint16_t>(m->data_len - end));
    if (unlikely(!rewrite(m, front, d.v, *d.c, clear.size(), checksum))) return drop(m, Counter::over_mtu);
    ++st.datagrams;
    ++done_;
    tx(m);
  }

  // key_id's window, or a fresh one in place of a key no longer in the set
  // (three windows, at most three keys).
  static keycast::ReplayWindow& replay_window(ChannelState& st, std::uint32_t key_id) {
    for (GcmReplay& r : st.replay)
      if (r.key_id == key_id) return r.window;
    for (GcmReplay& r : st.replay) {
      if (find_key(st.keys, r.key_id)) continue;
      r = GcmReplay{key_id, {}};
      return r.window;
    }
    return st.replay[0].window;  // not reached
  }

  // ---- Both ----

  // The input port checked the UDP checksum and found it wrong (RX offload):
  // scrambled or descrambled, the datagram would leave with a right one, its
  // corruption hidden from the receivers' stacks. IPv4's "no checksum" (0),
  // which some drivers report as wrong, is not.
  static bool udp_checksum_bad(const rte_mbuf* m, const pktparse::PacketView& v, const std::uint8_t* frame) noexcept {
    if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) != RTE_MBUF_F_RX_L4_CKSUM_BAD) return false;
    return v.ip_version != 4 || frame[v.l4_offset + 6] != 0 || frame[v.l4_offset + 7] != 0;
  }

  // The UDP checksum is left to the output port where it completes them (TX
  // offload) and the headers fit the mbuf's l2_len (7 bits) and l3_len (9
  // bits); payload_offset: where the payload will start, from the UDP header.
  UdpChecksumSource checksum_source(const pktparse::PacketView& v, const Channel& c,
                                    std::size_t payload_offset) const noexcept {
    return {ctx_.tx_udp_checksum && c.udp_checksum && v.l3_offset < 128 && v.l4_offset - v.l3_offset < 512,
            payload_offset, {}};
  }
  // Where the checksum is computed here, the crypto pass takes the payload's
  // sum so that it is not read again.
  static pktparse::PayloadSum* payload_sum_wanted(const Channel& c, UdpChecksumSource& checksum) noexcept {
    return c.udp_checksum && !checksum.by_port ? &checksum.payload_sum : nullptr;
  }

  // rewrite_headers() for the output port. False as rewrite_headers().
  bool rewrite(rte_mbuf* m, std::uint8_t* front, const pktparse::PacketView& v, const Channel& c,
               std::size_t udp_payload_len, const UdpChecksumSource& checksum) const noexcept {
    if (!rewrite_headers(front, v, c, ctx_.tx_mac, udp_payload_len, checksum)) return false;
    if (checksum.by_port) {
      m->l2_len = v.l3_offset & 0x7Fu;
      m->l3_len = (v.l4_offset - v.l3_offset) & 0x1FFu;
      m->ol_flags |= (v.ip_version == 4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6) | RTE_MBUF_F_TX_UDP_CKSUM;
    }
    return true;
  }

  // For observers, on the drain timer: a few relaxed stores per channel.
  void publish_stats() {
    if (!ctx_.channel_stats) return;
    for (const Channel& c : ctx_.channels->channels()) {
      if (!owned(c)) continue;
      const ChannelState& st = state_[c.index];
      ChannelStats& out = ctx_.channel_stats[c.index];
      out.datagrams.store(st.datagrams, std::memory_order_relaxed);
      if constexpr (M == Mode::scramble) {
        out.seq.store(st.seq, std::memory_order_relaxed);
        out.publish_key_usage({st.active_key_id, st.packets, st.bytes});
      }
    }
  }

  // Per datagram only local sums; the shared counters are written once per
  // loop iteration (commit_counts) and at every flush.
  void tx(rte_mbuf* m) { sent_ += rte_eth_tx_buffer(ctx_.tx_port, ctx_.tx_queue, txb_, m); }
  void flush() {
    sent_ += rte_eth_tx_buffer_flush(ctx_.tx_port, ctx_.tx_queue, txb_);
    commit_counts();
  }
  void commit_counts() {
    if (sent_) ctx_.counters->add(Counter::tx, sent_);
    if (done_) ctx_.counters->add(M == Mode::scramble ? Counter::scrambled : Counter::descrambled, done_);
    if (busy_frames_) ctx_.counters->add_busy(busy_cycles_, busy_frames_);
    sent_ = done_ = busy_cycles_ = busy_frames_ = 0;
  }

  void drop(rte_mbuf* m, Counter why) {
    ctx_.counters->add(why);
    rte_pktmbuf_free(m);
  }
  void drop(rte_mbuf* m, pktparse::Status why) {
    ctx_.counters->add(why);
    rte_pktmbuf_free(m);
  }

  template <typename Why>
  bool reject(rte_mbuf* m, Why why) {
    drop(m, why);
    return false;
  }

  void post(Event e) {
    if (rte_ring_sp_enqueue_elem(ctx_.events, &e, sizeof e) != 0) ctx_.counters->add(Counter::event_ring_full);
  }

  WorkerContext& ctx_;
  rte_eth_dev_tx_buffer* txb_;
  std::uint64_t sent_ = 0;  // frames the TX buffer sent, not yet in the counters
  std::uint64_t done_ = 0;  // datagrams (de)scrambled, not yet in the counters
  std::uint64_t busy_cycles_ = 0, busy_frames_ = 0;  // not yet in the counters
  std::uint64_t now_tsc_ = 0, now_ms_ = 0;  // this iteration's clock
  std::uint64_t seq_limit_ = 0;             // scramble: this iteration's SeqLease limit
  const std::uint64_t epoch_ms_ = ctx_.clock->now_ms();  // the fetch budgets' time starts here
  ChannelState state_[kMaxChannels];
};

}  // namespace

int worker_main(void* arg) {
  auto& ctx = *static_cast<WorkerContext*>(arg);
  ctx.burst = std::clamp<std::uint16_t>(ctx.burst, 1, kMaxBurst);
  ctx.rx_count = std::min<std::uint16_t>(ctx.rx_count, kMaxRxQueuesPerWorker);
  (void)pktparse::prepare_packet_thread();  // no allocation at the first AES datagram
  const int socket = static_cast<int>(rte_socket_id());
  auto* txb = static_cast<rte_eth_dev_tx_buffer*>(
      rte_zmalloc_socket("keycast_txbuf", RTE_ETH_TX_BUFFER_SIZE(ctx.burst), 0, socket));
  if (!txb) return -1;
  rte_eth_tx_buffer_init(txb, ctx.burst);
  rte_eth_tx_buffer_set_err_callback(txb, on_unsent, ctx.counters);
  Held* hold = nullptr;
  if (ctx.mode == Mode::descramble) {
    std::size_t entries = 0;
    for (const Channel& c : ctx.channels->channels()) entries += c.hold_datagrams;
    hold = static_cast<Held*>(rte_zmalloc_socket("keycast_hold", entries * sizeof(Held), RTE_CACHE_LINE_SIZE, socket));
    if (!hold) {
      rte_free(txb);
      return -1;
    }
  }
  // seq never repeats under one key, also across restarts: where it starts
  // and how far it may go are the control thread's SeqLease (seq_lease.h).
  const std::uint64_t first_seq = ctx.first_seq;
  if (ctx.mode == Mode::scramble) {
    Worker<Mode::scramble> w(ctx, txb, first_seq, hold);
    w.run();
  } else {
    Worker<Mode::descramble> w(ctx, txb, first_seq, hold);
    w.run();
  }
  rte_free(hold);
  rte_free(txb);
  return 0;
}

}  // namespace gateway
