// Receiver: key selection, holds, notices, fetch scheduling and the
// defences against forged and replayed datagrams, per channel (see
// receiver.h and receiver_impl.h).
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "keycast/receiver.h"
#include "pktparse/scramble.h"
#include "receiver_impl.h"

namespace keycast {

using pktparse::KcHeader;
using pktparse::TlvType;
using std::chrono::milliseconds;

namespace {
constexpr std::size_t kMaxRecordsKept = 64;  // failures, and hold drops, between two takes
constexpr std::chrono::milliseconds kHeldRetry{10};  // after a failed fetch by id, before the next a datagram prompts
constexpr const char* kEventNames[] = {
#define KEYCAST_EVENT_NAME(name, text) #name,
    KEYCAST_EVENT_LIST(KEYCAST_EVENT_NAME)
#undef KEYCAST_EVENT_NAME
};
}  // namespace

const char* event_name(Event e) noexcept {
  const auto i = static_cast<std::size_t>(e);
  return i < kEventCount ? kEventNames[i] : "unknown";
}

Receiver::Impl::Impl(std::unique_ptr<KeySource> source, ReceiverOptions options,
                     const std::vector<kmclient::Endpoint>& allowed)
    : options_(std::move(options)), allow_(allowed), source_(std::move(source)) {
  rng_.seed(options_.jitter_seed != 0 ? options_.jitter_seed : std::random_device{}());
  const auto t = now();
  for (const auto& c : options_.channels) channels_.try_emplace(c.id, options_).first->second.suite = c.suite;
  pktparse::warm_up_aes();  // not on the source's thread between a join's first datagram and its key
  source_->start(*this);
  for (auto& [id, ch] : channels_) request(ch, id, 0, t, Prompt::schedule);
}

Receiver::Impl::~Impl() {
  source_->stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

// On the source's thread: prepare the keys, then hand them over.
void Receiver::Impl::deliver(FetchResult&& r) noexcept {
  try {
    Prepared p;
    p.channel_id = r.channel_id;
    p.key_id = r.key_id;
    p.error = r.error;
    p.message = std::move(r.message);
    p.held_off = r.held_off;
    p.latency = r.latency;
    const auto received = now();
    for (auto& k : r.keys) {
      detail::SlotKey slot;
      slot.key = std::make_unique<pktparse::PreparedKey>();
      slot.lifetime_ms = k.lifetime_ms;
      slot.remaining_ms = k.remaining_ms;
      slot.received = received;
      pktparse::Status s = pktparse::Status::kc_bad_suite;
      if (k.channel_id == r.channel_id && pktparse::suite_valid(k.suite)) {
        s = slot.key->prepare(static_cast<pktparse::Suite>(k.suite), k.key_id, k.material.bytes());
      }
      k.material.wipe();
      if (s != pktparse::Status::ok) {
        p.error = FetchError::other;
        p.message = "key " + std::to_string(k.key_id) + " of channel " + std::to_string(k.channel_id) +
                    " unusable: " + pktparse::status_text(s);
        continue;
      }
      p.keys.emplace_back(std::move(slot), k.role);
    }
    {
      std::lock_guard lock(mu_);
      inbox_.push_back(std::move(p));
      pending_.store(true, std::memory_order_release);
    }
    cv_.notify_all();
    if (wake_fd_ >= 0) (void)::eventfd_write(wake_fd_, 1);
  } catch (...) {
    // Out of memory: this answer is lost and its request stays marked in flight.
  }
}

void Receiver::Impl::drain(Clock::time_point t) {
  if (!pending_.load(std::memory_order_acquire)) return;
  std::vector<Prepared> got;
  {
    std::lock_guard lock(mu_);
    got.swap(inbox_);
    pending_.store(false, std::memory_order_relaxed);
  }
  for (auto& p : got) apply(p, t);
}

void Receiver::Impl::apply(Prepared& p, Clock::time_point t) {
  Channel* ch = known_channel(p.channel_id);
  if (!ch) return;
  ch->requested.remove(p.key_id);
  if (!p.keys.empty()) {
    counters_.fetches_answered++;
    const auto us = static_cast<std::uint64_t>(p.latency.count());
    counters_.fetch_latency_us_sum += us;
    counters_.fetch_latency_us_max = std::max(counters_.fetch_latency_us_max, us);
  }
  for (auto& [slot, role] : p.keys) {
    count(Event::keys_fetched);
    ch->slots.install(std::move(slot), role, t, options_.grace);
  }
  if (p.error) {
    count(Event::fetch_failures);
    // A failed scheduled fetch of current and next waits retry_after; a key
    // held datagrams wait for is asked for again soon (their hold_timeout is
    // short), and given up at once only on a definite answer; catch-ups of
    // current and next for far-ahead datagrams are bounded by the budget.
    if (p.key_id == 0) ch->retry_not_before = t + options_.retry_after;
    else ch->held_retry_not_before = t + kHeldRetry;
    if (!ch->slots.current()) ch->failed = true;
    if (p.key_id != 0 && *p.error != FetchError::unreachable && !ch->slots.holds(p.key_id)) {
      const auto n = ch->hold.remove_key(p.key_id);
      counters_.drops[static_cast<std::size_t>(Drop::key_unavailable)] += n;
      count(Event::dropped, n);
    }
    if (failures_.size() < kMaxRecordsKept) {
      failures_.push_back({p.channel_id, p.key_id, *p.error, p.message, ch->slots.current() != nullptr, p.held_off});
    }
  } else {
    ch->failed = false;
  }
  if (ch->slots.next() || !ch->slots.current()) {
    ch->fetch_at.reset();
    if (p.key_id == 0 && p.error) ch->fetch_at = t + options_.retry_after;
  } else if (p.key_id == 0 || !ch->fetch_at) {
    schedule_next_fetch(*ch, t, p.key_id == 0);
  }
}

Receiver::Impl::Channel* Receiver::Impl::known_channel(std::uint32_t id) {
  const auto it = channels_.find(id);
  return it != channels_.end() ? &it->second : nullptr;
}

Receiver::Impl::Channel* Receiver::Impl::learn_channel(std::uint32_t id) {
  if (!options_.channels.empty() || channels_.size() >= options_.max_learned_channels) return nullptr;
  return &channels_.try_emplace(id, options_).first->second;
}

// A datagram, possibly forged, spends the channel's budget and finds room
// among the few fetches in flight, or its fetch is refused and counted.
void Receiver::Impl::request(Channel& ch, std::uint32_t channel_id, std::uint32_t key_id, Clock::time_point t,
                             Prompt by) {
  if (ch.requested.has(key_id) || t < (by == Prompt::schedule ? ch.retry_not_before : ch.held_retry_not_before)) return;
  if (by == Prompt::datagram && !ch.budget.take(t)) {
    count(Event::key_requests_rate_limited);
    return;
  }
  if (!ch.requested.add(key_id)) {
    count(Event::key_requests_rate_limited);
    return;
  }
  count(Event::key_requests);
  source_->request(channel_id, key_id);
}

// Y: the next key is fetched when the current key has fetch_at_remaining of
// its lifetime left, each receiver jittered around that point.
void Receiver::Impl::schedule_next_fetch(Channel& ch, Clock::time_point t, bool after_fetch) {
  const detail::SlotKey* cur = ch.slots.current();
  if (!cur) return;
  const auto y_ms = static_cast<std::int64_t>(static_cast<double>(cur->lifetime_ms) * options_.fetch_at_remaining);
  const auto end = ch.slots.current_end();
  const auto y_point = end - milliseconds(y_ms);
  if (y_point <= t) {
    ch.fetch_at = after_fetch ? t + options_.retry_after : t;
    return;
  }
  std::uniform_real_distribution<double> jitter(1.0 - options_.fetch_jitter, 1.0 + options_.fetch_jitter);
  const auto wait = std::chrono::duration<double>(y_point - t) * jitter(rng_);
  auto when = t + std::chrono::duration_cast<Clock::duration>(wait);
  ch.fetch_at = std::min(when, end);
}

void Receiver::Impl::maybe_fetch(Channel& ch, std::uint32_t channel_id, Clock::time_point t) {
  if (!ch.fetch_at || t < *ch.fetch_at || ch.requested.has(0) || t < ch.retry_not_before) return;
  ch.fetch_at.reset();
  request(ch, channel_id, 0, t, Prompt::schedule);
}

void Receiver::Impl::after_switch(Channel& ch, Clock::time_point t) {
  ch.end_from_wire = false;
  if (!ch.slots.next()) schedule_next_fetch(ch, t, false);
}

void Receiver::Impl::check_keymgr_addr(const KcHeader& h) {
  auto one = [&](const pktparse::KeymgrAddr& a, bool v6) {
    const auto idx = allow_.find(a, v6);
    if (!idx) {
      count(Event::keymgr_addr_ignored);
    } else if (*idx != preferred_endpoint_) {
      preferred_endpoint_ = *idx;
      source_->prefer_endpoint(*idx);
      count(Event::keymgr_addr_honoured);
    }
  };
  if (h.has(TlvType::keymgr_addr4)) one(h.keymgr4, false);
  if (h.has(TlvType::keymgr_addr6)) one(h.keymgr6, true);
}

Outcome Receiver::Impl::drop(Drop reason, std::uint32_t channel_id) {
  counters_.drops[static_cast<std::size_t>(reason)]++;
  count(Event::dropped);
  return {Outcome::Kind::dropped, reason, channel_id};
}

Outcome Receiver::Impl::hold(Channel& ch, const KcHeader& h, std::span<const std::uint8_t> datagram,
                             Clock::time_point t) {
  if (!ch.hold.push(datagram, h.key_id, t)) return drop(Drop::hold_overflow, h.channel_id);
  count(Event::held);
  // Also while current and next are on their way (a join): a sender a key
  // behind the key manager is then served in the same round trip, not after.
  if (!ch.slots.holds(h.key_id)) request(ch, h.channel_id, h.key_id, t, Prompt::datagram);
  return {Outcome::Kind::held, Drop::ok, h.channel_id};
}

// A key id far ahead of the keys held: this receiver fell behind (asleep
// through key changes), or the key manager's ids jumped (a replica promoted
// to master skips the ids its old master may have made). Not fetched by id:
// the key manager, not the datagram, says which keys are current, at the
// datagram's budget. While the channel's keys are stale (no next, the
// current one ended) the datagram waits for that answer, refused if it does
// not bring its key. With a live key such an id is forged or broken:
// refused at once, it holds up none of the channel's good datagrams.
Outcome Receiver::Impl::hold_far_ahead(Channel& ch, const KcHeader& h, std::span<const std::uint8_t> datagram,
                                       Clock::time_point t) {
  request(ch, h.channel_id, 0, t, Prompt::datagram);
  if (!stale(ch, t) || !ch.requested.has(0)) return refuse(ch, detail::KeySlots::Select::too_far_ahead, h.channel_id, t);
  if (!ch.hold.push(datagram, h.key_id, t)) return drop(Drop::hold_overflow, h.channel_id);
  count(Event::held);
  return {Outcome::Kind::held, Drop::ok, h.channel_id};
}

bool Receiver::Impl::stale(const Channel& ch, Clock::time_point t) noexcept {
  return !ch.slots.next() && (!ch.slots.current() || ch.slots.current_end() <= t);
}

// A key id the channel will not use nor fetch (one far ahead: not brought by
// the current keys, see hold_far_ahead; those are asked for again).
Outcome Receiver::Impl::refuse(Channel& ch, detail::KeySlots::Select why, std::uint32_t channel_id,
                               Clock::time_point t) {
  using Select = detail::KeySlots::Select;
  if (why == Select::too_far_ahead) {
    request(ch, channel_id, 0, t, Prompt::datagram);
    return drop(Drop::key_too_far_ahead, channel_id);
  }
  return drop(why == Select::too_old ? Drop::key_too_old : Drop::key_expired, channel_id);
}

// Descrambles a datagram under `slot`. With GCM, a (key_id, seq) already
// delivered or behind the window is refused first, and the seq recorded
// once the tag verified. A datagram under the next key switches to it only
// when it descrambled, so a forged GCM datagram cannot.
Drop Receiver::Impl::open(Channel& ch, detail::SlotKey& slot, bool is_next, const KcHeader& h,
                          std::span<std::uint8_t> datagram, std::span<std::uint8_t>& clear, Clock::time_point t) {
  const bool gcm = h.suite == pktparse::Suite::aes128_gcm;
  if (gcm) {
    switch (slot.replay.check(h.seq)) {
      case ReplayWindow::Verdict::fresh: break;
      case ReplayWindow::Verdict::replayed: return Drop::replayed;
      case ReplayWindow::Verdict::too_old: return Drop::replay_too_old;
    }
  }
  if (const auto s = pktparse::descramble(*slot.key, h, datagram, clear); s != pktparse::Status::ok) {
    return drop_from(s);
  }
  if (gcm) slot.replay.accept(h.seq);
  if (is_next) {
    ch.slots.switch_to_next(t);
    after_switch(ch, t);
  }
  return Drop::ok;
}

Outcome Receiver::Impl::process(std::span<std::uint8_t> udp_payload, std::span<std::uint8_t>& clear,
                                Clock::time_point t) {
  using Select = detail::KeySlots::Select;
  drain(t);
  count(Event::received);
  KcHeader h;
  if (const auto s = pktparse::parse_header(udp_payload, h); s != pktparse::Status::ok) return drop(drop_from(s), 0);
  Channel* ch = known_channel(h.channel_id);
  if (!ch && (ch = learn_channel(h.channel_id))) {
    // The datagram's key first: its answer releases the datagrams held, also
    // when the sender is a key behind and current and next do not hold it.
    if (h.type != pktparse::MsgType::key_notice) request(*ch, h.channel_id, h.key_id, t, Prompt::datagram);
    request(*ch, h.channel_id, 0, t, Prompt::schedule);
  }
  if (!ch) return drop(Drop::unknown_channel, h.channel_id);
  if (ch->suite && *ch->suite != h.suite) return drop(Drop::suite_unexpected, h.channel_id);
  if (h.tlvs & (KcHeader::bit(TlvType::keymgr_addr4) | KcHeader::bit(TlvType::keymgr_addr6))) check_keymgr_addr(h);

  detail::SlotKey* slot = nullptr;
  if (h.type == pktparse::MsgType::key_notice) {
    count(Event::notices);
    const auto sel = ch->slots.select(h.next_key_id, t, slot);
    if (sel == Select::unknown) request(*ch, h.channel_id, h.next_key_id, t, Prompt::datagram);
    if (sel == Select::too_far_ahead && stale(*ch, t)) {  // catching up, as for a datagram (hold_far_ahead)
      request(*ch, h.channel_id, 0, t, Prompt::datagram);
    } else if (sel == Select::too_old || sel == Select::expired || sel == Select::too_far_ahead) {
      return refuse(*ch, sel, h.channel_id, t);
    }
    return {Outcome::Kind::notice, Drop::ok, h.channel_id};
  }
  const auto sel = ch->slots.select(h.key_id, t, slot);
  if (sel == Select::too_far_ahead) return hold_far_ahead(*ch, h, udp_payload, t);
  if (sel == Select::too_old || sel == Select::expired) return refuse(*ch, sel, h.channel_id, t);
  // Behind held datagrams of the same channel, to keep the order.
  if (sel == Select::unknown || !ch->hold.empty()) return hold(*ch, h, udp_payload, t);

  if (const auto d = open(*ch, *slot, sel == Select::found_next, h, udp_payload, clear, t); d != Drop::ok) {
    return drop(d, h.channel_id);
  }
  if (h.has(TlvType::key_remaining_ms) && !ch->end_from_wire && ch->slots.current() &&
      ch->slots.current()->id() == h.key_id) {
    ch->slots.set_current_end(t + milliseconds(h.key_remaining_ms));
    ch->end_from_wire = true;
    if (!ch->slots.next() && !ch->requested.has(0)) schedule_next_fetch(*ch, t, false);
  }
  maybe_fetch(*ch, h.channel_id, t);
  count(Event::descrambled);
  return {Outcome::Kind::clear, Drop::ok, h.channel_id};
}

std::size_t Receiver::Impl::poll_released(const ReleaseFn& fn) {
  const auto t = now();
  drain(t);
  std::size_t released = 0;
  for (auto& [id, ch] : channels_) {
    ch.slots.expire(t);
    maybe_fetch(ch, id, t);
    while (!ch.hold.empty()) {
      detail::Held& f = ch.hold.front();
      detail::SlotKey* slot = nullptr;
      const auto sel = ch.slots.select(f.key_id, t, slot);
      if (sel == detail::KeySlots::Select::found || sel == detail::KeySlots::Select::found_next) {
        KcHeader h;
        std::span<std::uint8_t> clear;
        auto d = drop_from(pktparse::parse_header(f.bytes, h));
        if (d == Drop::ok) d = open(ch, *slot, sel == detail::KeySlots::Select::found_next, h, f.bytes, clear, t);
        if (d == Drop::ok) {
          count(Event::descrambled);
          count(Event::released);
          ++released;
          fn(id, clear);
        } else {
          drop(d, id);
        }
        ch.hold.pop_front();
        continue;
      }
      if (sel == detail::KeySlots::Select::unknown && t - f.arrived < options_.hold_timeout) {
        request(ch, id, f.key_id, t, Prompt::datagram);
        break;
      }
      // Far ahead: waits while the current keys are on their way.
      if (sel == detail::KeySlots::Select::too_far_ahead && ch.requested.has(0) && t - f.arrived < options_.hold_timeout)
        break;
      if (sel == detail::KeySlots::Select::unknown) {
        drop(Drop::hold_timeout, id);
        note_hold_drop(ch, id, f.key_id);
      } else {
        refuse(ch, sel, id, t);
      }
      ch.hold.pop_front();
    }
  }
  return released;
}

void Receiver::Impl::note_hold_drop(const Channel& ch, std::uint32_t channel_id, std::uint32_t key_id) {
  if (!hold_drops_.empty() && hold_drops_.back().channel_id == channel_id && hold_drops_.back().key_id == key_id) {
    hold_drops_.back().datagrams++;
    return;
  }
  if (hold_drops_.size() >= kMaxRecordsKept) return;
  HoldDrop d;
  d.channel_id = channel_id;
  d.key_id = key_id;
  d.datagrams = 1;
  d.fetch_in_flight = ch.requested.has(key_id);
  if (const auto* cur = ch.slots.current()) d.current_key = cur->id();
  if (const auto* next = ch.slots.next()) d.next_key = next->id();
  hold_drops_.push_back(d);
}

bool Receiver::Impl::wait_ready(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    drain(now());
    const bool settled = std::all_of(channels_.begin(), channels_.end(),
                                     [](const auto& kv) { return kv.second.slots.current() || kv.second.failed; });
    if (options_.channels.empty() || settled) {
      return std::all_of(channels_.begin(), channels_.end(),
                         [](const auto& kv) { return kv.second.slots.current() != nullptr; });
    }
    std::unique_lock lock(mu_);
    if (!cv_.wait_until(lock, deadline, [&] { return pending_.load(); })) return false;
  }
}

std::vector<FetchFailure> Receiver::Impl::take_failures() {
  drain(now());
  std::vector<FetchFailure> out;
  out.swap(failures_);
  return out;
}

std::vector<HoldDrop> Receiver::Impl::take_hold_drops() {
  std::vector<HoldDrop> out;
  out.swap(hold_drops_);
  return out;
}

bool Receiver::Impl::holding() const noexcept {
  return std::any_of(channels_.begin(), channels_.end(), [](const auto& kv) { return !kv.second.hold.empty(); });
}

bool Receiver::Impl::has_current_key(std::uint32_t channel_id) const {
  const auto it = channels_.find(channel_id);
  return it != channels_.end() && it->second.slots.current();
}

Receiver::Receiver(kmclient::ClientConfig config, ReceiverOptions options) {
  auto allowed = config.endpoints;
  impl_ = std::make_unique<Impl>(make_kmclient_source(std::move(config)), std::move(options), allowed);
}

Receiver::Receiver(std::unique_ptr<KeySource> source, ReceiverOptions options, std::vector<kmclient::Endpoint> allowed)
    : impl_(std::make_unique<Impl>(std::move(source), std::move(options), allowed)) {}

Receiver::~Receiver() = default;

Outcome Receiver::process(std::span<std::uint8_t> udp_payload, std::span<std::uint8_t>& clear) {
  return impl_->process(udp_payload, clear, impl_->now());
}
Outcome Receiver::process(std::span<std::uint8_t> udp_payload, std::span<std::uint8_t>& clear,
                          std::chrono::steady_clock::time_point now) {
  return impl_->process(udp_payload, clear, now);
}
std::size_t Receiver::poll_released(const ReleaseFn& fn) { return impl_->poll_released(fn); }
bool Receiver::wait_ready(milliseconds timeout) { return impl_->wait_ready(timeout); }
bool Receiver::connect(milliseconds timeout) { return impl_->connect(timeout); }
std::vector<FetchFailure> Receiver::take_failures() { return impl_->take_failures(); }
std::vector<HoldDrop> Receiver::take_hold_drops() { return impl_->take_hold_drops(); }
Counters Receiver::counters() const { return impl_->counters(); }
bool Receiver::has_current_key(std::uint32_t channel_id) const { return impl_->has_current_key(channel_id); }
int Receiver::wake_fd() const noexcept { return impl_->wake_fd(); }
bool Receiver::holding() const noexcept { return impl_->holding(); }

}  // namespace keycast
