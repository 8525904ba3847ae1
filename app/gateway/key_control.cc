// Key fetching, generation, publication and usage reports (control thread).
#include "key_control.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "key_by_id.h"
#include "log_line.h"
#include "pktparse/status.h"

namespace gateway {

namespace {

constexpr std::uint64_t kStartupRetryMs = 200;
constexpr std::uint64_t kGraceMs = 2000;  // wire-format.md section 5

std::string channel_name(std::uint32_t id) { return "channel " + std::to_string(id); }

}  // namespace

kmclient::ClientConfig client_config(const KeySource& keys) {
  kmclient::ClientConfig c;
  for (const Endpoint& e : keys.endpoints) c.endpoints.push_back({e.host, e.port});
  c.failover = keys.failover == Failover::round_robin ? kmclient::ClientConfig::Failover::round_robin
                                                      : kmclient::ClientConfig::Failover::in_order;
  c.role = kmproto::Role::gateway;
  c.peer_id = keys.peer_id;
  c.auth_token = keys.token;
  if (keys.tls_cert && keys.tls_key && keys.tls_ca)
    c.tls = kmclient::TlsFiles{keys.tls_cert->string(), keys.tls_key->string(), keys.tls_ca->string()};
  c.connect_timeout = std::chrono::milliseconds(keys.connect_timeout_ms);
  c.request_timeout = std::chrono::milliseconds(keys.request_timeout_ms);
  return c;
}

KeyControl::KeyControl(const GatewayConfig& config, const ChannelTable& channels, KeyTable& table,
                       const TscClock& clock, std::unique_ptr<UsageFile> usage_file)
    : mode_(config.mode),
      clock_(clock),
      jitter_(static_cast<std::uint32_t>(clock.now_ms())),
      table_(table),
      client_(config.keys.endpoints.empty() ? nullptr
                                            : std::make_unique<kmclient::KeymgrClient>(client_config(config.keys))),
      fetcher_(config.keys, client_.get()),
      startup_timeout_ms_(config.keys.startup_timeout_ms),
      usage_([this](const UsageReport& r, std::string* why, std::vector<std::string>* unanswered) {
               return send_usage(r, why, unanswered);
             },
             log_line,
             std::move(usage_file)) {
  if (!client_) log_line("no endpoints: usage reports are not sent");
  for (const Channel& ch : channels.channels()) {
    ChannelKeys k;
    k.cfg = config.find_channel(ch.id);
    k.ch = &ch;
    keys_.push_back(std::move(k));
  }
}

std::uint16_t KeyControl::key_length(const ChannelConfig& c) const {
  if (c.key_length) return c.key_length;
  return c.suite == pktparse::Suite::aes256_ctr ? 32 : 16;
}

std::vector<std::uint32_t> KeyControl::load_initial_keys() {
  const std::uint64_t deadline = clock_.now_ms() + startup_timeout_ms_;
  for (;;) {
    std::vector<kmclient::KeyQuery> queries;
    std::vector<ChannelKeys*> asked;
    for (ChannelKeys& k : keys_) {
      if (k.current || k.cfg->origin != KeyOrigin::keymgr) continue;
      queries.push_back({k.ch->id, 0});
      asked.push_back(&k);
    }
    if (!queries.empty()) {
      auto answers = fetcher_.request_many(queries);
      for (std::size_t i = 0; i < asked.size(); ++i) {
        if (!answers) {
          if (!answers.error().held_off) asked[i]->problem = answers.error().message;
        } else if (!(*answers)[i]) {
          asked[i]->problem = (*answers)[i].error().message;
        } else {
          (void)take(*asked[i], *(*answers)[i], clock_.now_ms());
        }
      }
    }
    for (ChannelKeys& k : keys_) {
      if (k.current || k.cfg->origin != KeyOrigin::gateway) continue;
      if (!client_) {  // the config loader refuses this
        k.problem = "origin \"gateway\" needs keys.endpoints (KEY_GENERATE)";
        continue;
      }
      auto made = client_->generate(k.ch->id, kmproto::Which::current, static_cast<std::uint8_t>(k.cfg->suite),
                                   key_length(*k.cfg), k.cfg->lifetime_ms);
      if (!made) {
        if (!made.error().held_off) k.problem = made.error().message;
        continue;
      }
      (void)take(k, {*made}, clock_.now_ms());
    }

    std::vector<std::uint32_t> missing;
    for (const ChannelKeys& k : keys_)
      if (!k.current) missing.push_back(k.ch->id);
    const std::uint64_t now = clock_.now_ms();
    if (missing.empty() || now >= deadline) {
      if (mode_ == Mode::descramble) load_previous_keys();
      for (const ChannelKeys& k : keys_)
        if (!k.current)
          log_line(channel_name(k.ch->id) + ": no key: " + (k.problem.empty() ? "none given" : k.problem));
      for (ChannelKeys& k : keys_) schedule_next_try(k, now);
      return missing;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(kStartupRetryMs, deadline - now)));
  }
}

// Descramble, at start: the key before each channel's current one too, where
// the current one began less than the grace period ago (wire-format.md
// section 5: the previous key is kept that long after a switch). Datagrams
// sent under it can be waiting in the input port (af_packet's ring fills
// from EAL start-up on, before the keys are asked for): with it they are
// descrambled at once, not held while it is fetched by id.
void KeyControl::load_previous_keys() {
  std::vector<kmclient::KeyQuery> queries;
  std::vector<ChannelKeys*> asked;
  for (ChannelKeys& k : keys_) {
    if (!k.current || k.previous || k.current->key_id <= 1) continue;
    const kmproto::KeyRecord& c = *k.current;
    if (c.state != kmproto::KeyState::current || c.lifetime_ms - std::min(c.lifetime_ms, c.remaining_ms) >= kGraceMs)
      continue;
    queries.push_back({k.ch->id, k.current->key_id - 1});
    asked.push_back(&k);
  }
  if (queries.empty()) return;
  auto answers = fetcher_.request_many(queries);
  if (!answers) return;  // each is fetched by id if its datagrams come
  for (std::size_t i = 0; i < asked.size(); ++i) {
    ChannelKeys& k = *asked[i];
    if (!(*answers)[i]) continue;
    for (const kmproto::KeyRecord& r : *(*answers)[i]) {
      if (r.channel_id != k.ch->id || r.key_id != queries[i].key_id) continue;
      k.previous = r;
      k.previous_until_ms = clock_.now_ms() + kGraceMs;
      (void)publish(k);
    }
  }
}

bool KeyControl::take(ChannelKeys& k, const std::vector<kmproto::KeyRecord>& records, std::uint64_t now_ms) {
  bool learned = false;
  if (!k.current) {
    for (const kmproto::KeyRecord& r : records) {
      if (r.state != kmproto::KeyState::current) continue;
      k.current = r;
      k.current_end_ms = now_ms + r.remaining_ms;
      learned = true;
    }
    if (!k.current) {
      k.problem = "the key manager has no current key";
      return false;
    }
  }
  if (!k.next) {
    const kmproto::KeyRecord* ahead = nullptr;
    for (const kmproto::KeyRecord& r : records) {
      const bool skipped_to = static_cast<std::int32_t>(r.key_id - k.current->key_id) > 1;
      if (r.state == kmproto::KeyState::current && skipped_to) ahead = &r;
      if (r.key_id != k.current->key_id + 1) continue;
      k.next = r;
      // A next key that is current already at the key manager (made after
      // ours ended there) ends when it says.
      k.next_end_ms = r.state == kmproto::KeyState::current ? now_ms + r.remaining_ms : k.current_end_ms + r.lifetime_ms;
      learned = true;
    }
    // The key manager's current key is beyond ours + 1: keys after ours
    // ended there while this gateway could not reach it (cut off, or
    // stopped, for longer than a key's life), or a promoted key manager
    // skipped their ids. Nothing follows ours any more, so its current key
    // is next, switched to when ours ends (once announced if it has).
    if (!k.next && ahead) {
      const std::uint32_t ours = k.current->key_id;
      log_line(channel_name(k.ch->id) + ": the key manager's current key is " + std::to_string(ahead->key_id) +
               "; keys " + std::to_string(ours + 1) + ".." + std::to_string(ahead->key_id - 1) +
               " ended there while this gateway was away, or a promoted key manager skipped them, so it follows key " +
               std::to_string(ours));
      k.next = *ahead;
      k.next_end_ms = now_ms + ahead->remaining_ms;
      learned = true;
    }
  }
  if (!learned) return false;
  if (!publish(k)) {
    k.current.reset();
    k.next.reset();
    return false;
  }
  return true;
}

bool KeyControl::publish(ChannelKeys& k) {
  auto set = std::make_unique<KeySet>();
  auto prepare = [&](pktparse::PreparedKey& pk, const kmproto::KeyRecord& r) {
    if (r.suite != static_cast<std::uint8_t>(k.ch->suite)) {
      k.problem = "key " + std::to_string(r.key_id) + " is of suite " + std::to_string(r.suite) +
                  ", the channel's configured suite is " + std::string(pktparse::suite_name(k.ch->suite));
      return false;
    }
    const pktparse::Status s = pk.prepare(k.ch->suite, r.key_id, r.material());
    if (s != pktparse::Status::ok) {
      k.problem = "key " + std::to_string(r.key_id) + ": " + pktparse::status_text(s);
      return false;
    }
    return true;
  };
  if (!prepare(set->current, *k.current)) return false;
  if (k.previous && !prepare(set->previous, *k.previous)) {
    log_line(channel_name(k.ch->id) + ": previous key not usable: " + k.problem);
    k.previous.reset();
  }
  set->current_end_ms = k.current_end_ms;
  if (k.next) {
    if (!prepare(set->next, *k.next)) {
      log_line(channel_name(k.ch->id) + ": next key not usable: " + k.problem);
      k.next.reset();
    } else {
      set->next_end_ms = k.next_end_ms;
    }
  }
  table_.publish(k.ch->index, std::move(set));
  return true;
}

void KeyControl::schedule_next_try(ChannelKeys& k, std::uint64_t now_ms) {
  if (!k.current) return;
  double at_fraction = k.cfg->next_key_at;
  if (mode_ == Mode::descramble)
    at_fraction = k.cfg->fetch_at * std::uniform_real_distribution<double>(0.9, 1.1)(jitter_);
  const auto lead = static_cast<std::uint64_t>(at_fraction * k.current->lifetime_ms);
  const std::uint64_t at = k.current_end_ms > lead ? k.current_end_ms - lead : 0;
  k.next_try_ms = std::max(now_ms, at);
}

void KeyControl::fetch_next(ChannelKeys& k, std::uint64_t now_ms) {
  bool got = false;
  std::optional<kmclient::Error> failed;
  if (k.cfg->origin == KeyOrigin::gateway) {
    auto made = client_->generate(k.ch->id, kmproto::Which::next, static_cast<std::uint8_t>(k.cfg->suite),
                                 key_length(*k.cfg), k.cfg->lifetime_ms);
    if (!made && made.error().is(kmproto::ErrorCode::unknown_key)) {
      // The key manager's current key ended before a next one was asked of
      // it (the key manager stalled or restarted, this thread was late): no
      // next can follow it, so a new current one, which the workers switch
      // to once their notices announced it (they keep the old key meanwhile,
      // degraded).
      log_line(channel_name(k.ch->id) + ": the key manager has no current key: asking it for a new one");
      made = client_->generate(k.ch->id, kmproto::Which::current, static_cast<std::uint8_t>(k.cfg->suite),
                               key_length(*k.cfg), k.cfg->lifetime_ms);
    }
    if (made) {
      got = take(k, {*made}, clock_.now_ms());
    } else if (auto lost = fetcher_.request_key(k.ch->id, k.current->key_id + 1)) {
      // Made, and its answer lost: the master stored it, and a replica got
      // it, before it died (a replica makes no keys: not_master). Receivers
      // get it as the channel's next or current key, and would let this one
      // expire while the workers kept it (degraded).
      log_line(channel_name(k.ch->id) + ": key " + std::to_string(lost->key_id) +
               " was made at the key manager, its answer lost: taken as next");
      got = take(k, {*lost}, clock_.now_ms());
    } else {
      failed = made.error();
    }
  } else {
    auto keys = fetcher_.request_keys(k.ch->id);
    if (keys) got = take(k, *keys, clock_.now_ms());
    else failed = keys.error();
  }
  if (got) {
    k.problem.clear();
    return;
  }
  // A held-off failure repeats the timeout that began the hold-off: said
  // only when the channel has met nothing else yet.
  if (failed && (failed->held_off ? k.problem.empty() : failed->message != k.problem)) {
    log_line(channel_name(k.ch->id) + ": next key: " + failed->message);
    k.problem = failed->message;
  }
  const std::uint64_t retry = std::clamp<std::uint64_t>(k.current->lifetime_ms / 10, 20, 1000);
  k.next_try_ms = fetcher_.busy() ? now_ms : now_ms + retry;  // busy: again on the next tick
}

bool KeyControl::holds(const ChannelKeys& k, std::uint32_t key_id) noexcept {
  return (k.current && k.current->key_id == key_id) || (k.next && k.next->key_id == key_id) ||
         (k.previous && k.previous->key_id == key_id);
}

void KeyControl::fetch_wanted(ChannelKeys& k, std::uint32_t key_id, std::uint64_t now_ms) {
  using Outcome = WantedKeys::Outcome;
  if (holds(k, key_id)) {  // it came meanwhile (as next, or by another want)
    k.wanted.remove(key_id);
    return;
  }
  auto r = fetcher_.request_key(k.ch->id, key_id);
  const Outcome o = r                      ? Outcome::got
                    : fetcher_.busy()      ? Outcome::busy
                    : r.error().held_off   ? Outcome::held_off
                                           : Outcome::failed;
  const unsigned tries = k.wanted.tries(key_id) + 1;
  const bool given_up = k.wanted.after(key_id, o, now_ms);
  if (r) {
    install(k, *r, clock_.now_ms());
  } else if (given_up) {
    log_line(channel_name(k.ch->id) + ": key " + std::to_string(key_id) + ": " + r.error().message +
             " (gave up after " + std::to_string(tries) + " tries; its held datagrams time out)");
  }
}

// Descramble: datagrams under a key far beyond ours (this gateway's input
// was idle through many key changes, or they are forged): the key manager
// says which keys are current, and its current and next replace ours if
// they are newer.
void KeyControl::resync(ChannelKeys& k) {
  auto keys = fetcher_.request_keys(k.ch->id);
  if (!keys) {
    if (!keys.error().held_off) log_line(channel_name(k.ch->id) + ": current keys: " + keys.error().message);
    return;
  }
  for (const kmproto::KeyState state : {kmproto::KeyState::current, kmproto::KeyState::next})
    for (const kmproto::KeyRecord& r : *keys)
      if (r.state == state) install(k, r, clock_.now_ms());
}

void KeyControl::install(ChannelKeys& k, const kmproto::KeyRecord& r, std::uint64_t now_ms) {
  if (r.channel_id != k.ch->id || r.suite != static_cast<std::uint8_t>(k.ch->suite) || !k.current) {
    log_line(channel_name(k.ch->id) + ": key " + std::to_string(r.key_id) + " does not fit the channel: ignored");
    return;
  }
  auto id_of = [](const std::optional<kmproto::KeyRecord>& x) -> std::optional<std::uint32_t> {
    return x ? std::optional<std::uint32_t>(x->key_id) : std::nullopt;
  };
  switch (place_by_id(r.key_id, k.current->key_id, id_of(k.next), id_of(k.previous))) {
    case ByIdPlace::held:
      return;
    case ByIdPlace::too_old:  // the workers refuse such ids; a retired key stays retired
      log_line(channel_name(k.ch->id) + ": key " + std::to_string(r.key_id) + " is older than the previous key: ignored");
      return;
    case ByIdPlace::next:
      k.next = r;
      k.next_end_ms = k.current_end_ms + r.lifetime_ms;
      break;
    case ByIdPlace::step_forward:
      k.previous = std::move(k.current);
      k.previous_until_ms = now_ms + kGraceMs;
      k.current = std::move(k.next);
      k.current_end_ms = k.next_end_ms;
      k.next = r;
      k.next_end_ms = k.current_end_ms + r.lifetime_ms;
      break;
    case ByIdPlace::new_current:  // the input moved past our keys
      k.previous = std::move(k.current);
      k.previous_until_ms = now_ms + kGraceMs;
      k.current = r;
      k.current_end_ms = now_ms + (r.state == kmproto::KeyState::current ? r.remaining_ms : r.lifetime_ms);
      if (k.next && k.next->key_id == r.key_id + 1) k.next_end_ms = k.current_end_ms + k.next->lifetime_ms;
      else k.next.reset();
      schedule_next_try(k, now_ms);
      break;
    case ByIdPlace::previous:  // late datagrams of an older key
      k.previous = r;
      k.previous_until_ms = now_ms + kGraceMs;
      break;
  }
  log_line(channel_name(k.ch->id) + ": got key " + std::to_string(r.key_id) + " by id");
  (void)publish(k);
}

void KeyControl::tick() {
  usage_.tick(clock_.now_ms());
  for (ChannelKeys& k : keys_) {
    std::uint64_t now = clock_.now_ms();
    if (k.previous && now >= k.previous_until_ms) {
      k.previous.reset();
      (void)publish(k);
    }
    for (const std::uint32_t id : k.wanted.due(now)) fetch_wanted(k, id, now);
    if (!k.current || k.next) continue;
    now = clock_.now_ms();
    if (now >= k.next_try_ms) fetch_next(k, now);
  }
}

void KeyControl::handle(const Event& e) {
  auto it = std::find_if(keys_.begin(), keys_.end(), [&](const ChannelKeys& k) { return k.ch->id == e.channel_id; });
  if (it == keys_.end()) return;
  ChannelKeys& k = *it;
  if (e.kind == Event::Kind::need_key && e.key_id == 0) return resync(k);
  if (e.kind == Event::Kind::need_key) {
    const std::uint64_t now = clock_.now_ms();
    std::uint32_t displaced = 0;
    if (holds(k, e.key_id) || !k.wanted.add(e.key_id, now, &displaced)) return;
    if (displaced)
      log_line(channel_name(e.channel_id) + ": key " + std::to_string(displaced) + ": given up for key " +
               std::to_string(e.key_id) + " (" + std::to_string(WantedKeys::kMax) +
               " keys asked for at once already; its held datagrams time out)");
    log_line(channel_name(e.channel_id) + ": key " + std::to_string(e.key_id) + " not held: asking the key manager");
    fetch_wanted(k, e.key_id, now);
    return;
  }
  if (e.kind == Event::Kind::degraded) {
    log_line(channel_name(e.channel_id) + ": key " + std::to_string(e.key_id) +
             " reached its end with no next key: kept in use (degraded) until the next key arrives, then for "
             "up to three notice intervals while notices announce it");
    k.next_try_ms = clock_.now_ms();
    return;
  }
  if (client_ && mode_ == Mode::scramble) usage_.finished({e.channel_id, e.key_id, e.packets, e.bytes}, clock_.now_ms());
  if (e.kind != Event::Kind::switched) return;
  if (mode_ == Mode::descramble)
    log_line(channel_name(e.channel_id) + ": input switched from key " + std::to_string(e.key_id) + " to " +
             std::to_string(e.next_key_id));
  else
    log_line(channel_name(e.channel_id) + ": switched from key " + std::to_string(e.key_id) + " to " +
             std::to_string(e.next_key_id) + " after " + std::to_string(e.packets) + " datagrams");
  if (k.next && k.next->key_id == e.next_key_id) {
    const std::uint64_t now = clock_.now_ms();
    if (mode_ == Mode::descramble) {
      // The input's switch starts the new key's lifetime; the old key stays
      // for late datagrams.
      k.previous = std::move(k.current);
      k.previous_until_ms = now + kGraceMs;
      k.next_end_ms = now + k.next->lifetime_ms;
    }
    k.current = std::move(k.next);
    k.current_end_ms = k.next_end_ms;
    k.next.reset();
    (void)publish(k);
    schedule_next_try(k, clock_.now_ms());
  }
}

void KeyControl::observe_usage(const ChannelStats* stats) {
  if (!usage_.counts_due(clock_.now_ms())) return;
  for (const ChannelKeys& k : keys_) {
    const KeyUsage u = stats[k.ch->index].key_usage();
    usage_.in_use({k.ch->id, u.key_id, u.datagrams, u.bytes});
  }
}

void KeyControl::stop() {
  usage_.stop(clock_.now_ms());
  const UsageStats u = usage_.stats();
  if (u.sent || u.failed_attempts || u.lost)
    log_line("usage reports: " + std::to_string(u.sent) + " sent, " + std::to_string(u.failed_attempts) +
             " failed attempts, " + std::to_string(u.lost) + " lost, " + std::to_string(u.maybe_twice) +
             " maybe counted twice");
}

// Refused for good: an ERROR answer that asking again will not change.
// Later: no answer (transport, timeout, garbage), or a key manager that is
// unavailable, rate limiting, failing inside or not the master right now.
UsageReports::Sent KeyControl::send_usage(const UsageReport& u, std::string* why,
                                          std::vector<std::string>* unanswered) {
  const auto r = client_->report_usage(u.channel_id, u.key_id, u.packets, u.bytes);
  unanswered->insert(unanswered->end(), client_->unanswered().begin(), client_->unanswered().end());
  if (r) return UsageReports::Sent::taken;
  const kmclient::Error& e = r.error();
  *why = e.message;
  using kmproto::ErrorCode;
  const bool transient = e.kind != kmclient::ErrorKind::answer || e.is(ErrorCode::unavailable) ||
                         e.is(ErrorCode::rate_limited) || e.is(ErrorCode::internal) || e.is(ErrorCode::not_master);
  return transient ? UsageReports::Sent::later : UsageReports::Sent::refused;
}

std::vector<ChannelKeyIds> KeyControl::key_ids() const {
  std::vector<ChannelKeyIds> out;
  out.reserve(keys_.size());
  for (const ChannelKeys& k : keys_) {
    ChannelKeyIds c;
    c.channel_id = k.ch->id;
    if (k.previous) {
      c.previous = k.previous->key_id;
      c.previous_until_ms = k.previous_until_ms;
    }
    if (k.current) {
      c.current = k.current->key_id;
      c.current_end_ms = k.current_end_ms;
    }
    if (k.next) {
      c.next = k.next->key_id;
      c.next_end_ms = k.next_end_ms;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace gateway
