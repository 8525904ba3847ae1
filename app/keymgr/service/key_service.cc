// KeyService: one method per message type, plus the key schedule tick.
#include "key_service.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <utility>

#include "kmproto/key_record.h"

namespace keymgr {

namespace {

using kmproto::ErrorCode;
using kmproto::MessageType;
using kmproto::ParamType;

bool contains(const std::vector<std::uint32_t>& v, std::uint32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

void log_line(const std::string& s) { std::fprintf(stderr, "keymgr: %s\n", s.c_str()); }

std::string channel_text(std::uint32_t ch) { return "channel " + std::to_string(ch); }

}  // namespace

KeyService::KeyService(const KeymgrConfig& config, store::KeyStore& store, Clock clock)
    : config_(config),
      store_(store),
      clock_(std::move(clock)),
      limiter_(config.server.request_rate, config.server.request_burst) {}

bool KeyService::load(std::string* why) {
  std::vector<std::uint32_t> ids;
  for (const auto& c : config_.channels) ids.push_back(c.id);
  const auto r = live_.load(store_, ids);
  if (!r) {
    if (why) *why = r.message();
    return false;
  }
  const auto promotion = store_.promotion();
  if (!promotion) {
    if (why) *why = promotion.message();
    return false;
  }
  promotion_ = *promotion;
  for (const auto& c : config_.channels) {
    if (!promotion_) break;
    const auto newest = newest_stored(c.id);
    if (!newest) {
      if (why) *why = newest.message();
      return false;
    }
    if (*newest && (*newest)->version <= promotion_->version) promoted_over_.insert(c.id);
  }
  durable_version_ = store_version();
  return true;
}

After KeyService::error(secmem::Bytes& out, ErrorCode code, const std::string& text, After after) {
  ++counters_.errors[static_cast<std::size_t>(code)];
  kmproto::FrameBuilder b(out);
  b.begin(MessageType::error);
  b.add_u16(ParamType::error_code, static_cast<std::uint16_t>(code));
  b.add_string(ParamType::error_text, text);
  (void)b.finish();
  return after;
}

// Before HELLO: anything but a HELLO is refused from its header, and so is a
// HELLO too long to be one, without waiting for the rest of the frame.
After KeyService::unfinished(Peer& peer, MessageType type, std::uint32_t length, secmem::Bytes& out) {
  if (peer.authenticated) return After::keep_open;
  if (type != MessageType::hello) return error(out, ErrorCode::unauthenticated, "HELLO first", After::close);
  if (length > kMaxHelloLength)
    return error(out, ErrorCode::bad_message, "HELLO over " + std::to_string(kMaxHelloLength) + " bytes", After::close);
  return After::keep_open;
}

void KeyService::log_peer(std::string line) {
  if (auto admitted = peer_log_.admit(std::move(line), clock_())) log_line(*admitted);
}

void KeyService::malformed(Peer& peer, kmproto::Status why, secmem::Bytes& out) {
  log_peer("closing " + peer.address + ": " + kmproto::status_text(why));
  error(out, ErrorCode::bad_message, kmproto::status_text(why), After::close);
}

void KeyService::closed(Peer& peer) {
  std::erase_if(subscribers_, [&](const Subscriber& s) { return s.connection_id == peer.connection_id; });
}

After KeyService::handle(Peer& peer, const kmproto::Frame& f, secmem::Bytes& out) {
  const auto type = static_cast<std::uint16_t>(f.type);
  if (type < counters_.requests.size()) ++counters_.requests[type];
  if (f.type == MessageType::hello) return hello(peer, f, out);
  if (!peer.authenticated) return error(out, ErrorCode::unauthenticated, "HELLO first", After::close);
  if (f.type == MessageType::heartbeat) return After::keep_open;
  if (!limiter_.allow(peer.peer_id, clock_()))
    return error(out, ErrorCode::rate_limited, "peer " + peer.peer_id + " over its request rate");
  switch (f.type) {
    case MessageType::key_request: return key_request(peer, f, out);
    case MessageType::key_generate: return key_generate(peer, f, out);
    case MessageType::key_push: return key_push(peer, f, out);
    case MessageType::usage_report: return usage_report(peer, f, out);
    case MessageType::subscribe: return subscribe(peer, f, out);
    default:
      return error(out, ErrorCode::bad_message, "message type " + std::to_string(type) + " not accepted here",
                   After::close);
  }
}

After KeyService::hello(Peer& peer, const kmproto::Frame& f, secmem::Bytes& out) {
  if (peer.authenticated) return error(out, ErrorCode::bad_message, "second HELLO", After::close);
  if (f.params.size() > kMaxHelloLength)
    return error(out, ErrorCode::bad_message, "HELLO over " + std::to_string(kMaxHelloLength) + " bytes", After::close);
  std::uint8_t role = 0;
  std::string_view id;
  if (f.read_u8(ParamType::role, role) != kmproto::Status::ok ||
      f.read_string(ParamType::peer_id, id) != kmproto::Status::ok || id.empty() || id.size() > 64)
    return error(out, ErrorCode::bad_message, "HELLO needs role and peer_id (1..64 bytes)", After::close);

  auto refuse = [&](const std::string& why) {
    ++counters_.hello_refused;
    log_peer("refused HELLO from " + peer.address + ": " + why);
    return error(out, ErrorCode::unauthenticated, why, After::close);
  };
  const PeerConfig* pc = config_.find_peer(id);
  if (!pc) return refuse("unknown peer " + std::string(id));
  if (static_cast<std::uint8_t>(pc->role) != role) return refuse("peer " + pc->id + " has another role");
  if (config_.server.lab) {
    std::string_view token;
    if (f.read_string(ParamType::auth_token, token) != kmproto::Status::ok || token.size() != pc->token.size() ||
        CRYPTO_memcmp(token.data(), pc->token.data(), token.size()) != 0)
      return refuse("wrong or missing auth_token for peer " + pc->id);
  }
  if (peer.tls && peer.cert_cn != pc->id) return refuse("certificate CN does not match peer_id " + pc->id);
  if (!peer.tls && !config_.server.lab) return refuse("plaintext connection outside lab mode");

  peer.authenticated = true;
  peer.peer_id = pc->id;
  peer.role = static_cast<kmproto::Role>(role);
  kmproto::FrameBuilder b(out);
  b.begin(kmproto::answer_of(MessageType::hello));
  b.add_u64(ParamType::server_time_ms, clock_());
  (void)b.finish();
  return After::keep_open;
}

namespace {
// A live key's key_record fields at now; not_before_ms as the protocol sends
// it (0 once started).
kmproto::KeyRecordFields record_fields(std::uint32_t channel_id, const LiveKey& k, kmproto::KeyState state,
                                       std::uint64_t now) {
  kmproto::KeyRecordFields r;
  r.channel_id = channel_id;
  r.key_id = k.times.key_id;
  r.suite = k.suite;
  r.state = state;
  r.lifetime_ms = k.times.lifetime_ms;
  r.remaining_ms = state == kmproto::KeyState::previous ? 0 : remaining_ms(k.times, now);
  r.not_before_ms = k.times.not_before_ms > now ? k.times.not_before_ms : 0;
  return r;
}
}  // namespace

void KeyService::add_record(kmproto::FrameBuilder& b, std::uint32_t channel_id, const LiveKey& k,
                            kmproto::KeyState state, std::uint64_t now) {
  b.add_key_record(record_fields(channel_id, k, state, now), k.material.view());
}

After KeyService::key_request(Peer& peer, const kmproto::Frame& f, secmem::Bytes& out) {
  std::uint32_t channel_id = 0;
  if (f.read_u32(ParamType::channel_id, channel_id) != kmproto::Status::ok || channel_id == 0)
    return error(out, ErrorCode::bad_message, "KEY_REQUEST needs a non-zero channel_id", After::close);
  const PeerConfig* pc = config_.find_peer(peer.peer_id);
  if (!config_.find_channel(channel_id)) return error(out, ErrorCode::unknown_channel, channel_text(channel_id) + " is not configured");
  if (!contains(pc->channels, channel_id)) {
    log_peer("refused KEY_REQUEST: peer " + peer.peer_id + " is not entitled to " + channel_text(channel_id));
    return error(out, ErrorCode::not_entitled,
                 "peer " + peer.peer_id + " is not entitled to " + channel_text(channel_id));
  }

  const std::uint64_t now = clock_();
  const auto times = live_.times(channel_id);
  const ChannelView v = classify(times, now, config_.server.grace_ms);
  const auto& keys = live_.of(channel_id);
  // In a gap the last key to have started is the one senders use (degraded):
  // receivers get it as current, so that they hold on to it.
  const std::optional<std::size_t> in_use = v.in_use();
  kmproto::FrameBuilder b(out);
  std::uint32_t served[2];
  std::size_t n_served = 0;

  std::uint32_t key_id = 0;
  if (const kmproto::Status s = f.read_u32(ParamType::key_id, key_id); s == kmproto::Status::ok) {
    const auto it = std::find_if(keys.begin(), keys.end(), [&](const LiveKey& k) { return k.times.key_id == key_id; });
    if (key_id == 0 || it == keys.end())
      return error(out, ErrorCode::unknown_key, "no key " + std::to_string(key_id) + " on " + channel_text(channel_id));
    const auto i = static_cast<std::size_t>(it - keys.begin());
    if (!served_by_id(times, i, v, now, config_.server.grace_ms))
      return error(out, ErrorCode::unknown_key, "key " + std::to_string(key_id) + " of " + channel_text(channel_id) + " has expired");
    const kmproto::KeyState state = i == in_use ? kmproto::KeyState::current
                                    : (i == v.next || it->times.not_before_ms > now) ? kmproto::KeyState::next
                                                                                      : kmproto::KeyState::previous;
    b.begin(kmproto::answer_of(MessageType::key_request));
    add_record(b, channel_id, *it, state, now);
    needs(it->ticket);
    served[n_served++] = key_id;
  } else if (s != kmproto::Status::param_missing) {
    return error(out, ErrorCode::bad_message, "key_id must be a u32", After::close);
  } else {
    if (!in_use && !v.next) return error(out, ErrorCode::unknown_key, "no key yet on " + channel_text(channel_id));
    b.begin(kmproto::answer_of(MessageType::key_request));
    if (in_use) {
      add_record(b, channel_id, keys[*in_use], kmproto::KeyState::current, now);
      needs(keys[*in_use].ticket);
      served[n_served++] = keys[*in_use].times.key_id;
    }
    if (v.next) {
      add_record(b, channel_id, keys[*v.next], kmproto::KeyState::next, now);
      needs(keys[*v.next].ticket);
      served[n_served++] = keys[*v.next].times.key_id;
    }
  }
  if (b.finish() != kmproto::Status::ok) return error(out, ErrorCode::internal, "answer too long");
  ++pending_requests_[{now - now % store::kHourMs, peer.peer_id, channel_id}];
  if (peer.role == kmproto::Role::receiver)  // receivers are charged the bytes sent under the keys they fetched
    for (const std::uint32_t id : std::span(served, n_served))
      if (fetches_recorded_.emplace(peer.peer_id, channel_id, id).second)
        pending_fetches_.push_back(store::FetchOp{peer.peer_id, channel_id, id, now});
  return After::keep_open;
}

const ChannelConfig* KeyService::fed_channel(const Peer& peer, std::uint32_t channel_id,
                                             secmem::Bytes& out) {
  const ChannelConfig* ch = config_.find_channel(channel_id);
  if (!ch) {
    error(out, ErrorCode::unknown_channel, channel_text(channel_id) + " is not configured");
    return nullptr;
  }
  const PeerConfig* pc = config_.find_peer(peer.peer_id);
  if (pc->role != PeerRole::gateway || !contains(pc->feeds, channel_id)) {
    error(out, ErrorCode::not_entitled, "peer " + peer.peer_id + " may not feed " + channel_text(channel_id));
    return nullptr;
  }
  if (ch->origin != KeyOrigin::gateway) {
    error(out, ErrorCode::not_entitled, channel_text(channel_id) + " keys are made by the key manager");
    return nullptr;
  }
  return ch;
}

bool KeyService::store_key(const ChannelConfig& ch, std::uint32_t key_id, std::uint64_t not_before_ms,
                           std::span<const std::uint8_t> material, secmem::Bytes& out) {
  store::StoredKey k;
  k.channel_id = ch.id;
  k.key_id = key_id;
  k.suite = static_cast<std::uint8_t>(ch.suite);
  k.key_length = static_cast<std::uint16_t>(material.size());
  k.lifetime_ms = ch.lifetime_ms;
  k.not_before_ms = not_before_ms;
  k.created_ms = clock_();
  k.material.assign(material);
  const auto r = counters_.store_write.time([&] { return store_.put_key(k); });
  if (!r) {
    const bool conflict = r.error() == store::StoreError::conflict;
    if (conflict) {  // the peer's error (answered bad_message), not the store's
      log_line("key refused: " + r.message());
    } else {
      store_write_failed(r.failure());
    }
    error(out, conflict ? ErrorCode::bad_message : ErrorCode::unavailable,
          conflict ? r.message() : "key store cannot be written");
    return false;
  }
  store_written();
  // An idempotent repeat keeps the first not_before; reread what is stored.
  const auto row = store_.get_key(ch.id, key_id);
  LiveKey live;
  live.times = {key_id, row ? row->key.not_before_ms : not_before_ms, ch.lifetime_ms};
  live.suite = k.suite;
  live.material = k.material;
  live.ticket = wrote(*r);
  live_.insert(ch.id, std::move(live));
  // To the replicas at once, not at the next tick: a gateway may use the key
  // as soon as it has the answer, and a master dying right after must not
  // take the only copy with it.
  publish(clock_());
  return true;
}

store::Result<std::optional<store::KeyRow>> KeyService::newest_stored(std::uint32_t channel_id) {
  const auto max_id = store_.max_key_id(channel_id);
  if (!max_id) return max_id.failure();
  if (*max_id == 0) return std::optional<store::KeyRow>{};
  auto row = store_.get_key(channel_id, *max_id);
  if (!row) return row.failure();
  return std::optional<store::KeyRow>{std::move(*row)};
}

store::Result<std::uint32_t> KeyService::id_to_make(const ChannelConfig& ch) {
  if (!promoted_over_.contains(ch.id)) {
    const auto max_id = store_.max_key_id(ch.id);
    if (!max_id) return max_id;
    return *max_id + 1;
  }
  const auto newest = newest_stored(ch.id);
  if (!newest) return newest.failure();
  const std::uint32_t max_id = (*newest)->key.key_id;  // the channel has keys: it is in promoted_over_
  const auto times = live_.times(ch.id);
  const ChannelView v = classify(times, clock_(), config_.server.grace_ms);
  const auto in_use = v.in_use();
  const store::StoredKey& k = (*newest)->key;
  return first_id_after_promotion({max_id, k.not_before_ms, k.lifetime_ms}, in_use ? times[*in_use].key_id : max_id,
                                  promotion_->at_ms);
}

bool KeyService::make_key(const ChannelConfig& ch, std::uint64_t not_before_ms, secmem::Bytes* out) {
  secmem::Bytes scratch;
  secmem::Bytes& err = out ? *out : scratch;
  const auto key_id = id_to_make(ch);
  if (!key_id) {
    ++counters_.store_failures;
    log_line("store: " + key_id.message());
    error(err, ErrorCode::unavailable, "key store cannot be read");
    return false;
  }
  store::KeyMaterial m;
  m.len = ch.key_length;
  if (RAND_priv_bytes(m.bytes.data(), ch.key_length) != 1) {
    error(err, ErrorCode::internal, "random generator failed");
    return false;
  }
  if (!store_key(ch, *key_id, not_before_ms, m.view(), err)) return false;
  if (promoted_over_.erase(ch.id))
    log_line(channel_text(ch.id) + ": first key since this key manager was promoted: id " + std::to_string(*key_id) +
             ", current at once, past any the old master may have made unseen");
  ++counters_.keys_made;
  log_line(channel_text(ch.id) + ": made key " + std::to_string(*key_id) + " (" +
           std::string(pktparse::suite_name(ch.suite)) + "), current from " + std::to_string(not_before_ms));
  return true;
}

After KeyService::key_generate(Peer& peer, const kmproto::Frame& f, secmem::Bytes& out) {
  if (config_.server.role == ServerRole::replica) return error(out, ErrorCode::not_master, "this key manager is a replica");
  std::uint32_t channel_id = 0, lifetime = 0;
  std::uint8_t which = 0, suite = 0;
  std::uint16_t key_length = 0;
  if (f.read_u32(ParamType::channel_id, channel_id) != kmproto::Status::ok ||
      f.read_u8(ParamType::which, which) != kmproto::Status::ok ||
      f.read_u8(ParamType::suite, suite) != kmproto::Status::ok ||
      f.read_u16(ParamType::key_length, key_length) != kmproto::Status::ok ||
      f.read_u32(ParamType::lifetime_ms, lifetime) != kmproto::Status::ok || (which != 1 && which != 2))
    return error(out, ErrorCode::bad_message,
                 "KEY_GENERATE needs channel_id, which (1|2), suite, key_length and lifetime_ms", After::close);
  const ChannelConfig* ch = fed_channel(peer, channel_id, out);
  if (!ch) return After::keep_open;
  if (suite != static_cast<std::uint8_t>(ch->suite) || key_length != ch->key_length || lifetime != ch->lifetime_ms)
    return error(out, ErrorCode::bad_message,
                 "KEY_GENERATE parameters differ from " + channel_text(channel_id) + "'s suite, key_length or lifetime");

  const std::uint64_t now = clock_();
  auto view = [&] { return classify(live_.times(channel_id), now, config_.server.grace_ms); };
  ChannelView v = view();
  if (which == static_cast<std::uint8_t>(kmproto::Which::current)) {
    if (!make_key(*ch, now, &out)) return After::keep_open;
  } else if (!v.next) {
    if (!v.current) return error(out, ErrorCode::unknown_key, "no current key on " + channel_text(channel_id));
    if (promoted_over_.contains(channel_id))  // a next key could take an id the old master gave another
      return error(out, ErrorCode::unknown_key,
                   "no current key of this key manager's own on " + channel_text(channel_id) +
                       " since it was promoted: ask for a current one");
    if (!make_key(*ch, live_.of(channel_id)[*v.current].times.end_ms(), &out)) return After::keep_open;
  }
  v = view();
  const auto& keys = live_.of(channel_id);
  const bool cur = which == static_cast<std::uint8_t>(kmproto::Which::current);
  const std::size_t i = cur ? keys.size() - 1 : *v.next;
  kmproto::FrameBuilder b(out);
  b.begin(kmproto::answer_of(MessageType::key_generate));
  add_record(b, channel_id, keys[i], cur ? kmproto::KeyState::current : kmproto::KeyState::next, now);
  needs(keys[i].ticket);
  (void)b.finish();
  return After::keep_open;
}

After KeyService::key_push(Peer& peer, const kmproto::Frame& f, secmem::Bytes& out) {
  if (config_.server.role == ServerRole::replica) return error(out, ErrorCode::not_master, "this key manager is a replica");
  kmproto::KeyRecordIterator it(f);
  kmproto::KeyRecord r;
  std::size_t n = 0;
  const std::uint64_t now = clock_();
  while (it.next(r)) {
    ++n;
    const ChannelConfig* ch = fed_channel(peer, r.channel_id, out);
    if (!ch) return After::keep_open;
    if (r.key_id == 0 || r.suite != static_cast<std::uint8_t>(ch->suite) || r.key_length() != ch->key_length ||
        r.lifetime_ms != ch->lifetime_ms)
      return error(out, ErrorCode::bad_message,
                   "pushed key " + std::to_string(r.key_id) + " does not fit " + channel_text(ch->id));
    std::uint64_t not_before = r.not_before_ms;
    if (not_before == 0) {  // already current: it started lifetime - remaining ago
      const std::uint64_t elapsed = r.lifetime_ms > r.remaining_ms ? r.lifetime_ms - r.remaining_ms : 0;
      not_before = now > elapsed ? now - elapsed : 0;
    }
    if (!store_key(*ch, r.key_id, not_before, r.material(), out)) return After::keep_open;
    needs(live_.find(ch->id, r.key_id)->ticket);
    ++counters_.keys_pushed;
    log_line(channel_text(ch->id) + ": key " + std::to_string(r.key_id) + " pushed by " + peer.peer_id);
  }
  if (it.status() != kmproto::Status::ok || n == 0)
    return error(out, ErrorCode::bad_message, "KEY_PUSH needs well-formed key_records", After::close);
  kmproto::FrameBuilder b(out);
  b.begin(kmproto::answer_of(MessageType::key_push));
  (void)b.finish();
  return After::keep_open;
}

After KeyService::usage_report(Peer& peer, const kmproto::Frame& f, secmem::Bytes& out) {
  std::uint32_t channel_id = 0, key_id = 0;
  std::uint64_t packets = 0, bytes = 0;
  if (f.read_u32(ParamType::channel_id, channel_id) != kmproto::Status::ok ||
      f.read_u32(ParamType::key_id, key_id) != kmproto::Status::ok ||
      f.read_u64(ParamType::packets, packets) != kmproto::Status::ok ||
      f.read_u64(ParamType::bytes, bytes) != kmproto::Status::ok)
    return error(out, ErrorCode::bad_message, "USAGE_REPORT needs channel_id, key_id, packets and bytes", After::close);
  const PeerConfig* pc = config_.find_peer(peer.peer_id);
  if (!config_.find_channel(channel_id)) return error(out, ErrorCode::unknown_channel, channel_text(channel_id) + " is not configured");
  if (pc->role != PeerRole::gateway || !(contains(pc->feeds, channel_id) || contains(pc->channels, channel_id)))
    return error(out, ErrorCode::not_entitled, "peer " + peer.peer_id + " may not report usage of " + channel_text(channel_id));
  const auto r = counters_.store_write.time(
      [&] { return store_.add_usage(peer.peer_id, channel_id, key_id, packets, bytes, clock_()); });
  if (!r) {
    store_write_failed(r.failure());
    return error(out, ErrorCode::unavailable, "key store cannot be written");
  }
  store_written();
  needs(wrote(std::nullopt));
  rotate_by_usage(*config_.find_channel(channel_id), key_id, packets, bytes);
  kmproto::FrameBuilder b(out);
  b.begin(kmproto::answer_of(MessageType::usage_report));
  (void)b.finish();
  return After::keep_open;
}

void KeyService::forget(std::uint32_t channel_id, std::uint32_t key_id) {
  live_.erase(channel_id, key_id);
  usage_.erase({channel_id, key_id});
  std::erase_if(fetches_recorded_,
                [&](const auto& f) { return std::get<1>(f) == channel_id && std::get<2>(f) == key_id; });
}

void KeyService::rotate_by_usage(const ChannelConfig& ch, std::uint32_t key_id, std::uint64_t packets,
                                 std::uint64_t bytes) {
  if (config_.server.role != ServerRole::master || ch.origin != KeyOrigin::keymgr) return;
  if (ch.rotate_bytes == 0 && ch.rotate_datagrams == 0) return;
  if (promoted_over_.contains(ch.id)) return;  // tick() makes its first key, current at once
  const std::uint64_t now = clock_();
  const auto times = live_.times(ch.id);
  const ChannelView v = classify(times, now, config_.server.grace_ms);
  if (!v.current || times[*v.current].key_id != key_id) return;  // only the current key's usage counts
  Usage& u = usage_[{ch.id, key_id}];
  u.packets += packets;
  u.bytes += bytes;
  if (v.next) return;
  // At X the next key must exist: X of the byte or datagram budget left.
  const double used = 1.0 - ch.threshold_x;
  const bool due = (ch.rotate_bytes && static_cast<double>(u.bytes) >= used * static_cast<double>(ch.rotate_bytes)) ||
                   (ch.rotate_datagrams &&
                    static_cast<double>(u.packets) >= used * static_cast<double>(ch.rotate_datagrams));
  if (due) make_key(ch, times[*v.current].end_ms(), nullptr);
}

bool KeyService::hold_answers(std::function<void()> release) {
  const std::uint64_t needed = std::exchange(burst_needs_, 0);
  const bool accounting = !pending_requests_.empty() || !pending_fetches_.empty();
  if (accounting && post_) {
    held_.push_back({needed, std::move(release)});
    if (!commit_posted_) {
      commit_posted_ = true;
      // Runs after every read that completed in this turn of the event loop:
      // one commit for all of them, then their answers go out (or wait for
      // the sync of a write they depend on).
      post_([this] {
        commit_posted_ = false;
        flush_accounting();  // on failure the counts stay in memory; answers still go
        auto waiting = std::move(held_);
        held_.clear();
        for (auto& h : waiting) release_or_wait(std::move(h));
      });
    }
    return true;
  }
  if (accounting) flush_accounting();  // no event loop: committed at once
  if (needed <= synced_) return false;
  waiting_sync_.push_back({needed, std::move(release)});
  return true;
}

void KeyService::answered(std::chrono::steady_clock::duration waited) {
  counters_.answer.observe(std::chrono::duration<double>(waited).count());
}

void KeyService::release_or_wait(Held h) {
  if (h.needs <= synced_) {
    h.release();
  } else {
    waiting_sync_.push_back(std::move(h));
  }
}

std::uint64_t KeyService::wrote(std::optional<std::uint64_t> version) {
  const std::uint64_t ticket = ++written_;
  if (version) unsynced_versions_.emplace_back(ticket, *version);
  if (request_sync_) {
    request_sync_(ticket, store_.wal_frames() >= kCheckpointFrames);
  } else {
    settle(ticket);
  }
  return ticket;
}

void KeyService::synced(std::uint64_t ticket, int error, double seconds) {
  counters_.store_sync.observe(seconds);
  if (sync_failed_) return;  // a later sync that works does not bring back what the failed one lost
  if (error == 0) return settle(ticket);
  sync_failed_ = true;
  ++counters_.store_failures;
  log_line("store: cannot sync " + store_.path() + "-wal: " + std::strerror(error) +
           "; stopping: what was written since the last sync may not be on the disk, and was not answered, "
           "delivered or served");
  if (on_sync_failure_) on_sync_failure_();
}

void KeyService::settle(std::uint64_t ticket) {
  synced_ = std::max(synced_, ticket);
  bool delivered_more = false;
  while (!unsynced_versions_.empty() && unsynced_versions_.front().first <= synced_) {
    durable_version_ = std::max(durable_version_, unsynced_versions_.front().second);
    unsynced_versions_.pop_front();
    delivered_more = true;
  }
  std::vector<Held> ready;
  std::erase_if(waiting_sync_, [&](Held& h) {
    if (h.needs > synced_) return false;
    ready.push_back(std::move(h));
    return true;
  });
  if (delivered_more && request_sync_) publish(clock_());  // without a syncer the writer publishes
  for (auto& h : ready) h.release();
}

void KeyService::flush_accounting() {
  if (pending_requests_.empty() && pending_fetches_.empty()) return;
  std::vector<store::AccountingOp> ops(pending_fetches_.begin(), pending_fetches_.end());
  for (const auto& [k, n] : pending_requests_)
    ops.push_back(store::RequestsOp{std::get<1>(k), std::get<2>(k), n, std::get<0>(k)});
  const auto r = counters_.store_write.time([&] { return store_.apply_os_durable(ops); });
  if (r) {
    pending_requests_.clear();
    pending_fetches_.clear();
    store_written();
    return;
  }
  store_write_failed(r.failure());  // the counts stay in memory for the next try
}

void KeyService::store_write_failed(const store::Failure& f) {
  ++counters_.store_failures;
  if (store_failing_) return;
  store_failing_ = true;
  log_line("store: cannot write: " + f.message +
           "; until it can: KEY_GENERATE, KEY_PUSH and USAGE_REPORT are answered `unavailable`, accounting is kept "
           "in memory, keys already stored are still served");
}

void KeyService::store_written() {
  if (!store_failing_) return;
  store_failing_ = false;
  log_line("store: written again");
}

std::uint64_t KeyService::tick() {
  const std::uint64_t now = clock_();
  for (const ChannelConfig& ch : config_.channels) {
    if (config_.server.role == ServerRole::master && ch.origin == KeyOrigin::keymgr) {
      if (promoted_over_.contains(ch.id)) (void)make_key(ch, now, nullptr);
      for (int round = 0; round < 2; ++round) {
        const auto times = live_.times(ch.id);
        const ChannelView v = classify(times, now, config_.server.grace_ms);
        const Due due = key_due(times, v, now, ch.threshold_x);
        if (due == Due::nothing) break;
        const std::uint64_t start = due == Due::current ? now : times[*v.current].end_ms();
        if (!make_key(ch, start, nullptr)) break;
      }
    }
    if (config_.server.role == ServerRole::replica) continue;  // the master says when keys expire
    const auto times = live_.times(ch.id);
    const ChannelView v = classify(times, now, config_.server.grace_ms);
    for (const std::uint32_t id : keys_to_expire(times, v, now, config_.server.grace_ms)) {
      const auto r = counters_.store_write.time([&] { return store_.expire_key(ch.id, id); });
      if (!r) {
        store_write_failed(r.failure());
        break;
      }
      store_written();
      (void)wrote(*r);
      forget(ch.id, id);
      ++counters_.keys_expired;
    }
  }
  apply_retention(now);
  flush_accounting();
  publish(now);
  return now + 50;
}

void KeyService::apply_retention(std::uint64_t now) {
  constexpr std::size_t kBatch = 1000;                 // rows per table and transaction
  constexpr std::uint64_t kEveryMs = 10 * 60'000;      // between runs
  constexpr std::uint64_t kDayMs = 86'400'000;
  const std::uint64_t keep_ms = config_.server.retention_days * kDayMs;
  if (keep_ms == 0 || now < next_retention_ms_ || now <= keep_ms) return;
  const auto r = counters_.store_write.time([&] { return store_.prune(now - keep_ms, kBatch); });
  if (!r) {
    store_write_failed(r.failure());
    next_retention_ms_ = now + kEveryMs;
    return;
  }
  store_written();
  counters_.retention_deleted += r->rows();
  retention_run_.keys += r->keys;
  retention_run_.usage += r->usage;
  retention_run_.requests += r->requests;
  retention_run_.fetch_runs += r->fetch_runs;
  if (r->more) return;  // the next batch at the next tick
  if (retention_run_.rows()) {
    log_line("retention: deleted " + std::to_string(retention_run_.keys) + " keys that ended, " +
             std::to_string(retention_run_.usage) + " usage and " + std::to_string(retention_run_.requests) +
             " request-count rows of hours that ended, and " + std::to_string(retention_run_.fetch_runs) +
             " fetch runs, more than " + std::to_string(config_.server.retention_days) +
             (config_.server.retention_days == 1 ? " day ago" : " days ago"));
  }
  retention_run_ = {};
  next_retention_ms_ = now + kEveryMs;
}

After KeyService::subscribe(Peer& peer, const kmproto::Frame& f, secmem::Bytes& out) {
  std::uint64_t since = 0;
  if (f.read_u64(ParamType::since_version, since) != kmproto::Status::ok)
    return error(out, ErrorCode::bad_message, "SUBSCRIBE needs since_version", After::close);
  const PeerConfig* pc = config_.find_peer(peer.peer_id);
  if (pc->role != PeerRole::replica && pc->role != PeerRole::gateway)
    return error(out, ErrorCode::not_entitled, "peer " + peer.peer_id + " may not subscribe");
  // Versions a master delivered are on its disk: a replica ahead of it
  // copied another store (this one restored from an older copy, or a new
  // one in its place), and what it holds under an id may differ from ours.
  // (A gateway may be ahead of a replica it failed over to: it only waits.)
  if (const std::uint64_t ours = store_version(); pc->role == PeerRole::replica && since > ours) {
    log_peer("refused SUBSCRIBE from " + peer.peer_id + ": since_version " + std::to_string(since) +
             " is past this store's " + std::to_string(ours));
    return error(out, ErrorCode::bad_message,
                 "since_version " + std::to_string(since) + " is past this key manager's version " +
                     std::to_string(ours) + ": the replica's store is not a copy of this one",
                 After::close);
  }
  Subscriber s{peer.connection_id, peer.sink, {}, since};
  if (pc->role == PeerRole::gateway) s.channels = pc->channels;
  kmproto::FrameBuilder b(out);
  b.begin(kmproto::answer_of(MessageType::subscribe));
  (void)b.finish();
  deliveries(s, out);
  log_line("peer " + peer.peer_id + " subscribed since version " + std::to_string(since));
  subscribers_.push_back(std::move(s));
  return After::keep_open;
}

void KeyService::deliveries(Subscriber& s, secmem::Bytes& out) {
  const std::uint64_t now = clock_();
  for (;;) {
    const auto rows = store_.changes_since(s.sent_version, 1000);
    if (!rows) {
      ++counters_.store_failures;
      log_line("store: " + rows.message());
      return;
    }
    for (const auto& row : *rows) {
      if (row.version > durable_version_) return;  // not on the disk yet: with the sync that puts it there
      s.sent_version = row.version;
      if (!s.channels.empty() && !contains(s.channels, row.key.channel_id)) continue;
      kmproto::KeyRecord r;
      r.channel_id = row.key.channel_id;
      r.key_id = row.key.key_id;
      r.suite = row.key.suite;
      r.lifetime_ms = row.key.lifetime_ms;
      const KeyTimes t{row.key.key_id, row.key.not_before_ms, row.key.lifetime_ms};
      r.state = t.not_before_ms > now ? kmproto::KeyState::next
                : now < t.end_ms()    ? kmproto::KeyState::current
                                      : kmproto::KeyState::previous;
      r.remaining_ms = remaining_ms(t, now);
      r.not_before_ms = t.not_before_ms > now ? t.not_before_ms : 0;
      if (!row.expired) (void)r.set_material(row.key.material.view());
      kmproto::FrameBuilder b(out);
      b.begin(MessageType::key_delivery);
      b.add_u64(ParamType::version, row.version);
      b.add_key_record(r);
      (void)b.finish();
    }
    if (rows->size() < 1000) return;
  }
}

void KeyService::publish(std::uint64_t now) {
  const bool beat = now >= last_heartbeat_ms_ + 1000;
  if (beat) last_heartbeat_ms_ = now;
  std::erase_if(subscribers_, [](const Subscriber& s) { return s.sink.expired(); });
  for (Subscriber& s : subscribers_) {
    secmem::Bytes out;  // KEY_DELIVERYs carry key material
    deliveries(s, out);
    if (beat) {
      kmproto::FrameBuilder b(out);
      b.begin(MessageType::heartbeat);
      b.add_u64(ParamType::server_time_ms, now);
      (void)b.finish();
    }
    if (!out.empty())
      if (auto sink = s.sink.lock()) sink->push(out);
  }
}

std::vector<kmproto::KeyRecord> KeyService::channel_keys(std::uint32_t channel_id) {
  const std::uint64_t now = clock_();
  const auto times = live_.times(channel_id);
  const ChannelView v = classify(times, now, config_.server.grace_ms);
  const auto& keys = live_.of(channel_id);
  std::vector<kmproto::KeyRecord> out;
  const std::pair<std::optional<std::size_t>, kmproto::KeyState> wanted[] = {
      {v.current, kmproto::KeyState::current}, {v.next, kmproto::KeyState::next}, {v.previous, kmproto::KeyState::previous}};
  for (const auto& [i, state] : wanted) {
    if (!i) continue;
    const LiveKey& k = keys[*i];
    if (!on_disk(k)) continue;  // published by the first call after its sync
    kmproto::KeyRecord r;
    static_cast<kmproto::KeyRecordFields&>(r) = record_fields(channel_id, k, state, now);
    r.not_before_ms = k.times.not_before_ms;  // absolute, also for a current key
    (void)r.set_material(k.material.view());
    out.push_back(std::move(r));
  }
  return out;
}

std::uint64_t KeyService::store_version() {
  const auto v = store_.current_version();
  return v ? *v : 0;
}

bool KeyService::apply_delivery(std::uint64_t version, const kmproto::KeyRecord& r, std::string* why) {
  const std::uint64_t now = clock_();
  store::KeyRow row;
  row.version = version;
  row.expired = r.key_length() == 0;
  row.key.channel_id = r.channel_id;
  row.key.key_id = r.key_id;
  row.key.suite = r.suite;
  row.key.key_length = r.key_length();
  if (row.expired) {  // the wire carries no length for a wiped key: the channel's
    const ChannelConfig* ch = config_.find_channel(r.channel_id);
    row.key.key_length = ch ? ch->key_length : 1;
  }
  row.key.lifetime_ms = r.lifetime_ms;
  // A key already current arrives with not_before 0 and its remaining time.
  const std::uint64_t elapsed = r.lifetime_ms > r.remaining_ms ? r.lifetime_ms - r.remaining_ms : 0;
  row.key.not_before_ms = r.not_before_ms ? r.not_before_ms : (now > elapsed ? now - elapsed : 0);
  row.key.created_ms = now;
  row.key.material.assign(r.material());
  const auto applied = counters_.store_write.time([&] { return store_.apply_replicated(row); });
  if (!applied) {
    ++counters_.store_failures;
    if (why) *why = applied.message();
    return false;
  }
  const std::uint64_t ticket = wrote(version);
  if (!config_.find_channel(r.channel_id)) return true;
  if (row.expired) {
    forget(r.channel_id, r.key_id);
  } else if (!live_.find(r.channel_id, r.key_id)) {
    // An earlier copy keeps the not_before it was first given.
    const auto stored = store_.get_key(r.channel_id, r.key_id);
    LiveKey k;
    k.times = {r.key_id, stored ? stored->key.not_before_ms : row.key.not_before_ms, r.lifetime_ms};
    k.suite = r.suite;
    k.material = row.key.material;
    k.ticket = ticket;
    live_.insert(r.channel_id, std::move(k));
  }
  return true;
}

}  // namespace keymgr
