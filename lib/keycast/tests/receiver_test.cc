// Receiver with keys injected through a fake key source and a test clock:
// current/next/previous selection, grace, hold and in-order release, hold
// overflow and timeout, notices, the KEYMGR_ADDR allow-list, fetch at Y,
// learned channels and fetch failures; the defences against forged and
// replayed datagrams (fetch window and rate limit, GCM replay window).
#include <poll.h>
#include <sys/eventfd.h>

#include <gtest/gtest.h>

#include <algorithm>

#include "fake_key_source.h"
#include "keycast/receiver.h"
#include "pktparse/scramble.h"

namespace keycast {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;
using Kind = Outcome::Kind;
using test::fetched;

Bytes clear_payload(std::uint64_t seq) {
  Bytes b(100 + seq % 50);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(seq * 31 + i);
  return b;
}

// A scrambled datagram of `channel` under key_id (aes128-ctr unless said,
// test material).
Bytes datagram(std::uint32_t channel, std::uint32_t key_id, std::uint64_t seq, pktparse::KcHeader h = {},
               pktparse::Suite suite = pktparse::Suite::aes128_ctr) {
  pktparse::PreparedKey key;
  EXPECT_EQ(key.prepare(suite, key_id, test::material_for(key_id)), pktparse::Status::ok);
  const Bytes clear = clear_payload(seq);
  h.channel_id = channel;
  h.seq = seq;
  const std::size_t hlen = pktparse::header_len(h);
  const std::size_t tag = suite == pktparse::Suite::aes128_gcm ? pktparse::kGcmTagLen : 0;
  Bytes buf(hlen + clear.size() + tag);
  std::copy(clear.begin(), clear.end(), buf.begin() + static_cast<std::ptrdiff_t>(hlen));
  EXPECT_EQ(pktparse::scramble(key, {}, h, buf.data(), buf.data() + hlen, clear.size()), pktparse::Status::ok);
  return buf;
}

Bytes notice(std::uint32_t channel, std::uint32_t cur, std::uint32_t next) {
  const auto h = pktparse::make_key_notice(channel, pktparse::Suite::aes128_ctr, cur, next, 1000);
  Bytes buf(pktparse::header_len(h));
  pktparse::encode_header(h, buf.data());
  return buf;
}

class Rx : public ::testing::Test {
 protected:
  void make(ReceiverOptions o = {}, std::vector<kmclient::Endpoint> allowed = {}) {
    if (o.channels.empty() && !learn_) o.channels = {{1, pktparse::Suite::aes128_ctr}};
    o.clock = [this] { return now_; };
    o.jitter_seed = 42;
    rx_ = std::make_unique<Receiver>(std::make_unique<test::FakeKeySource>(log_), std::move(o), std::move(allowed));
  }
  void give(std::uint32_t channel, std::uint32_t key_id, std::vector<FetchedKey> keys) {
    FetchResult r;
    r.channel_id = channel;
    r.key_id = key_id;
    r.keys = std::move(keys);
    r.latency = 1500us;
    log_.sink->deliver(std::move(r));
  }
  void fail(std::uint32_t channel, std::uint32_t key_id, FetchError e, bool held_off = false) {
    FetchResult r;
    r.channel_id = channel;
    r.key_id = key_id;
    r.error = e;
    r.message = "refused by 127.0.0.1:1";
    r.held_off = held_off;
    log_.sink->deliver(std::move(r));
  }
  void give_current(std::uint32_t id, std::uint32_t remaining_ms = 10000,
                    pktparse::Suite suite = pktparse::Suite::aes128_ctr) {
    std::vector<FetchedKey> k;
    k.push_back(fetched(1, id, KeyRole::current, 10000, remaining_ms, static_cast<std::uint8_t>(suite)));
    give(1, 0, std::move(k));
  }
  // Current key `id` and next `id + 1`, as the key manager answers at Y.
  void give_current_and_next(std::uint32_t id, pktparse::Suite suite = pktparse::Suite::aes128_ctr) {
    const auto su = static_cast<std::uint8_t>(suite);
    std::vector<FetchedKey> k;
    k.push_back(fetched(1, id, KeyRole::current, 10000, 10000, su));
    k.push_back(fetched(1, id + 1, KeyRole::next, 10000, 10000, su));
    give(1, 0, std::move(k));
  }
  // A channel-1 receiver of `suite` holding current key `id`.
  void make_with_key(pktparse::Suite suite, std::uint32_t id) {
    ReceiverOptions o;
    o.channels = {{1, suite}};
    make(std::move(o));
    give_current(id, 10000, suite);
  }
  Outcome process(Bytes d) {
    std::span<std::uint8_t> clear;
    return rx_->process(d, clear);
  }
  // Processes a datagram; on clear, checks it against the original payload.
  Outcome feed(Bytes d, std::uint64_t seq) {
    std::span<std::uint8_t> clear;
    const auto o = rx_->process(d, clear);
    if (o.kind == Kind::clear) {
      const Bytes want = clear_payload(seq);
      EXPECT_TRUE(std::equal(clear.begin(), clear.end(), want.begin(), want.end())) << "seq " << seq;
    }
    return o;
  }
  std::vector<std::uint64_t> release() {
    std::vector<std::uint64_t> seqs;
    rx_->poll_released([&](std::uint32_t, std::span<std::uint8_t> clear) {
      // Identify the payload by content: find the seq whose payload it is.
      for (std::uint64_t s = 0; s < 1000; ++s) {
        const Bytes want = clear_payload(s);
        if (std::equal(clear.begin(), clear.end(), want.begin(), want.end())) {
          seqs.push_back(s);
          return;
        }
      }
      ADD_FAILURE() << "released payload matches no seq";
    });
    return seqs;
  }
  std::size_t requests(std::uint32_t ch, std::uint32_t key) const {
    return static_cast<std::size_t>(std::count(log_.requests.begin(), log_.requests.end(), std::pair{ch, key}));
  }

  test::FakeKeySource::Log log_;
  std::chrono::steady_clock::time_point now_ = std::chrono::steady_clock::time_point{} + 1000s;
  std::unique_ptr<Receiver> rx_;
  bool learn_ = false;
};

TEST_F(Rx, FetchesConfiguredChannelsAtStartAndDescrambles) {
  make();
  EXPECT_EQ(requests(1, 0), 1u);
  EXPECT_FALSE(rx_->wait_ready(0ms));
  give_current(10);
  EXPECT_TRUE(rx_->wait_ready(0ms));
  EXPECT_EQ(feed(datagram(1, 10, 1), 1).kind, Kind::clear);
  const auto c = rx_->counters();
  EXPECT_EQ(c[Event::descrambled], 1u);
  EXPECT_EQ(c[Event::keys_fetched], 1u);
  EXPECT_EQ(c.fetch_latency_us_max, 1500u);
}

TEST_F(Rx, SwitchesToNextAndKeepsPreviousForGrace) {
  make();
  give_current_and_next(10);
  EXPECT_EQ(feed(datagram(1, 10, 1), 1).kind, Kind::clear);
  EXPECT_EQ(feed(datagram(1, 11, 2), 2).kind, Kind::clear);
  now_ += 1900ms;
  EXPECT_EQ(feed(datagram(1, 10, 3), 3).kind, Kind::clear);  // late, within grace
  now_ += 200ms;
  const auto o = feed(datagram(1, 10, 4), 4);
  EXPECT_EQ(o.kind, Kind::dropped);
  EXPECT_EQ(o.reason, Drop::key_expired);
  EXPECT_EQ(feed(datagram(1, 9, 5), 5).reason, Drop::key_too_old);
  EXPECT_EQ(rx_->counters()[Drop::key_expired], 1u);
}

TEST_F(Rx, UnknownKeyIsHeldRequestedOnceAndReleasedInOrder) {
  make();
  give_current(10);
  EXPECT_EQ(feed(datagram(1, 12, 1), 1).kind, Kind::held);
  EXPECT_EQ(feed(datagram(1, 12, 2), 2).kind, Kind::held);
  EXPECT_EQ(feed(datagram(1, 10, 3), 3).kind, Kind::held);  // behind the held ones, to keep the order
  EXPECT_EQ(feed(datagram(1, 12, 4), 4).kind, Kind::held);
  EXPECT_EQ(requests(1, 12), 1u);
  EXPECT_TRUE(release().empty());
  std::vector<FetchedKey> k;
  k.push_back(fetched(1, 12, KeyRole::current));
  give(1, 12, std::move(k));
  EXPECT_EQ(release(), (std::vector<std::uint64_t>{1, 2, 3, 4}));
  const auto c = rx_->counters();
  EXPECT_EQ(c[Event::held], 4u);
  EXPECT_EQ(c[Event::released], 4u);
  EXPECT_EQ(feed(datagram(1, 12, 5), 5).kind, Kind::clear);
}

TEST_F(Rx, HoldOverflowAndTimeoutAreCounted) {
  ReceiverOptions o;
  o.hold_limit = 3;
  make(std::move(o));
  give_current(10);
  for (std::uint64_t s = 1; s <= 5; ++s) {
    const auto out = feed(datagram(1, 11, s), s);
    EXPECT_EQ(out.kind, s <= 3 ? Kind::held : Kind::dropped) << s;
  }
  EXPECT_EQ(rx_->counters()[Drop::hold_overflow], 2u);
  now_ += 49ms;
  EXPECT_TRUE(release().empty());
  EXPECT_EQ(rx_->counters()[Drop::hold_timeout], 0u);
  now_ += 2ms;
  EXPECT_TRUE(release().empty());
  EXPECT_EQ(rx_->counters()[Drop::hold_timeout], 3u);
  EXPECT_EQ(rx_->counters()[Event::dropped], 5u);
  // The three make one record saying the fetch of key 11 was unanswered.
  const auto drops = rx_->take_hold_drops();
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0].channel_id, 1u);
  EXPECT_EQ(drops[0].key_id, 11u);
  EXPECT_EQ(drops[0].datagrams, 3u);
  EXPECT_TRUE(drops[0].fetch_in_flight);
  EXPECT_EQ(drops[0].current_key, 10u);
  EXPECT_EQ(drops[0].next_key, 0u);
  EXPECT_TRUE(rx_->take_hold_drops().empty());
}

// The wake fd turns readable when an answer arrives, so an owner polling
// it beside its sockets releases held datagrams at once.
TEST_F(Rx, AnAnswerMakesTheWakeFdReadable) {
  make();
  give_current(10);
  ASSERT_GE(rx_->wake_fd(), 0);
  eventfd_t n;
  (void)eventfd_read(rx_->wake_fd(), &n);
  EXPECT_FALSE(rx_->holding());
  EXPECT_EQ(feed(datagram(1, 11, 1), 1).kind, Kind::held);
  EXPECT_TRUE(rx_->holding());
  pollfd p{rx_->wake_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0) << "nothing answered yet";
  std::vector<FetchedKey> k;
  k.push_back(fetched(1, 11, KeyRole::next));
  give(1, 11, std::move(k));
  EXPECT_EQ(::poll(&p, 1, 0), 1);
  EXPECT_EQ(release(), (std::vector<std::uint64_t>{1}));
  EXPECT_FALSE(rx_->holding());
}

// process() with the batch's arrival time (one clock read per recvmmsg):
// a datagram held is timed from that time, not from the clock's.
TEST_F(Rx, BatchArrivalTimeGivenByTheCaller) {
  make();
  give_current(10);
  Bytes d = datagram(1, 11, 1);
  std::span<std::uint8_t> clear;
  EXPECT_EQ(rx_->process(d, clear, now_ - 40ms).kind, Kind::held);
  now_ += 9ms;  // 49 ms after arrival
  EXPECT_TRUE(release().empty());
  EXPECT_EQ(rx_->counters()[Drop::hold_timeout], 0u);
  now_ += 2ms;
  EXPECT_TRUE(release().empty());
  EXPECT_EQ(rx_->counters()[Drop::hold_timeout], 1u);
  Bytes d2 = datagram(1, 10, 2);
  EXPECT_EQ(rx_->process(d2, clear, now_).kind, Kind::clear);
  const Bytes want = clear_payload(2);
  EXPECT_TRUE(std::equal(clear.begin(), clear.end(), want.begin(), want.end()));
}

TEST_F(Rx, NoticeFetchesTheNextKeyOnce) {
  make();
  give_current(10);
  std::span<std::uint8_t> clear;
  Bytes n = notice(1, 10, 11);
  EXPECT_EQ(rx_->process(n, clear).kind, Kind::notice);
  n = notice(1, 10, 11);
  EXPECT_EQ(rx_->process(n, clear).kind, Kind::notice);
  EXPECT_EQ(requests(1, 11), 1u);
  std::vector<FetchedKey> k;
  k.push_back(fetched(1, 11, KeyRole::next));
  give(1, 11, std::move(k));
  n = notice(1, 10, 11);
  EXPECT_EQ(rx_->process(n, clear).kind, Kind::notice);
  EXPECT_EQ(requests(1, 11), 1u);  // held: no new fetch
  EXPECT_EQ(rx_->counters()[Event::notices], 3u);
  EXPECT_EQ(feed(datagram(1, 11, 1), 1).kind, Kind::clear);  // switch without a hold
}

TEST_F(Rx, KeymgrAddrHonouredOnlyForConfiguredEndpoints) {
  make({}, {{"127.0.0.1", 7000}, {"127.0.0.1", 7001}, {"keymgr.example", 7002}});
  give_current(10);
  auto with_addr = [](std::array<std::uint8_t, 4> ip, std::uint16_t port) {
    pktparse::KcHeader h;
    h.set(pktparse::TlvType::keymgr_addr4);
    std::copy(ip.begin(), ip.end(), h.keymgr4.addr);
    h.keymgr4.port = port;
    return h;
  };
  EXPECT_EQ(feed(datagram(1, 10, 1, with_addr({10, 0, 0, 66}, 7000)), 1).kind, Kind::clear);
  EXPECT_EQ(feed(datagram(1, 10, 2, with_addr({127, 0, 0, 1}, 7002)), 2).kind, Kind::clear);
  EXPECT_TRUE(log_.preferred.empty());
  EXPECT_EQ(rx_->counters()[Event::keymgr_addr_ignored], 2u);
  EXPECT_EQ(feed(datagram(1, 10, 3, with_addr({127, 0, 0, 1}, 7001)), 3).kind, Kind::clear);
  EXPECT_EQ(feed(datagram(1, 10, 4, with_addr({127, 0, 0, 1}, 7001)), 4).kind, Kind::clear);
  EXPECT_EQ(log_.preferred, (std::vector<std::size_t>{1}));
  EXPECT_EQ(rx_->counters()[Event::keymgr_addr_honoured], 1u);
}

TEST_F(Rx, FetchesNextKeyAtYJittered) {
  make();
  give_current(10, 10000);  // Y at 7.5 s from now, +-10 %
  now_ += 6700ms;
  release();
  EXPECT_EQ(requests(1, 0), 1u);
  now_ += 1600ms;
  release();
  EXPECT_EQ(requests(1, 0), 2u);
  // The answer has no next key yet: ask again a little later, not at once.
  give_current(10, 1700);
  release();
  EXPECT_EQ(requests(1, 0), 2u);
  now_ += 600ms;
  release();
  EXPECT_EQ(requests(1, 0), 3u);
}

TEST_F(Rx, KeyRemainingTlvPlansTheFetch) {
  make();
  give_current(10, 10000);
  pktparse::KcHeader h;
  h.set(pktparse::TlvType::key_remaining_ms);
  h.key_remaining_ms = 3000;  // Y is 2.5 s from here: 0.5 s +-10 %
  EXPECT_EQ(feed(datagram(1, 10, 1, h), 1).kind, Kind::clear);
  now_ += 600ms;
  release();
  EXPECT_EQ(requests(1, 0), 2u);
}

TEST_F(Rx, LearnsChannelsFromDatagrams) {
  learn_ = true;
  make();
  EXPECT_TRUE(log_.requests.empty());
  EXPECT_EQ(feed(datagram(7, 3, 1), 1).kind, Kind::held);
  // Its key first, then current and next: if the key manager is a key ahead
  // of the sender, current and next do not hold it, and an exchange after
  // theirs on the one connection could outlast the hold.
  using Asked = std::pair<std::uint32_t, std::uint32_t>;
  EXPECT_EQ(log_.requests, (std::vector<Asked>{{7, 3}, {7, 0}}));
  std::vector<FetchedKey> k;
  k.push_back(fetched(7, 4, KeyRole::current));
  give(7, 0, std::move(k));
  EXPECT_TRUE(release().empty());
  k.clear();
  k.push_back(fetched(7, 3, KeyRole::previous));
  give(7, 3, std::move(k));
  EXPECT_EQ(release(), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(requests(7, 3), 1u);
}

// Forged channel ids cannot make it learn channels without end.
TEST_F(Rx, LearnsAtMostMaxLearnedChannels) {
  learn_ = true;
  ReceiverOptions o;
  o.max_learned_channels = 2;
  make(o);
  EXPECT_EQ(feed(datagram(7, 3, 1), 1).kind, Kind::held);
  EXPECT_EQ(feed(datagram(8, 3, 2), 2).kind, Kind::held);
  const auto third = feed(datagram(9, 3, 3), 3);
  EXPECT_EQ(third.kind, Kind::dropped);
  EXPECT_EQ(third.reason, Drop::unknown_channel);
  EXPECT_EQ(requests(9, 0), 0u);
}

TEST_F(Rx, DropsWhatItCannotUse) {
  make();
  give_current(10);
  EXPECT_EQ(feed(datagram(2, 10, 1), 1).reason, Drop::unknown_channel);
  Bytes bad = datagram(1, 10, 2);
  bad[0] = 0;
  EXPECT_EQ(feed(bad, 2).reason, Drop::kc_bad_magic);
  Bytes tiny(3);
  EXPECT_EQ(feed(tiny, 3).reason, Drop::kc_truncated);
  const auto c = rx_->counters();
  EXPECT_EQ(c[Drop::unknown_channel] + c[Drop::kc_bad_magic] + c[Drop::kc_truncated], c[Event::dropped]);
}

TEST_F(Rx, FailedFetchDropsItsHeldDatagramsAndIsReported) {
  make();
  fail(1, 0, FetchError::not_entitled);
  EXPECT_FALSE(rx_->wait_ready(0ms));
  auto f = rx_->take_failures();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].error, FetchError::not_entitled);
  EXPECT_FALSE(f[0].channel_has_keys);
  EXPECT_FALSE(f[0].held_off);
  EXPECT_TRUE(rx_->take_failures().empty());

  now_ += 1s;
  give_current(10);
  EXPECT_EQ(feed(datagram(1, 12, 1), 1).kind, Kind::held);
  fail(1, 12, FetchError::unknown_key);
  release();
  EXPECT_EQ(rx_->counters()[Drop::key_unavailable], 1u);
  EXPECT_EQ(rx_->counters()[Event::fetch_failures], 2u);
}

// While the key manager cannot be reached (a restart), failed fetches of
// current and next back off, but a key held datagrams wait for is asked for
// again soon, and they stay held until it comes (or hold_timeout).
TEST_F(Rx, HeldDatagramsKeepAskingForTheirKeyThroughAnOutage) {
  make();
  give_current(10);
  now_ += 1ms;
  fail(1, 0, FetchError::unreachable);  // next-key fetch failed: retry_after before the next one
  EXPECT_EQ(feed(datagram(1, 11, 1), 1).kind, Kind::held);
  EXPECT_EQ(requests(1, 11), 1u);
  fail(1, 11, FetchError::unreachable, true);  // held off: a repeat of the failure before
  const auto failures = rx_->take_failures();
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_FALSE(failures[0].held_off);
  EXPECT_TRUE(failures[1].held_off);  // for the application to say once
  EXPECT_TRUE(failures[1].channel_has_keys);
  now_ += 11ms;
  release();
  EXPECT_EQ(requests(1, 11), 2u);
  fail(1, 11, FetchError::unreachable);
  release();
  EXPECT_EQ(rx_->counters()[Drop::key_unavailable], 0u);
  now_ += 11ms;
  release();
  EXPECT_EQ(requests(1, 11), 3u);
  std::vector<FetchedKey> k;
  k.push_back(fetched(1, 11, KeyRole::current));
  give(1, 11, std::move(k));
  EXPECT_EQ(release(), (std::vector<std::uint64_t>{1}));
}

// Forged KEY_NOTICEs and DATA naming ids far ahead or far in the past: not
// fetched, dropped and counted, holding up nothing while the key is live. A
// far-ahead id only prompts a fetch of current and next (how a receiver that
// fell behind catches up).
TEST_F(Rx, IdsFarAheadOrFarBehindAreNotFetched) {
  make();
  give_current(10);
  EXPECT_EQ(process(notice(1, 10, 27)).reason, Drop::key_too_far_ahead);
  EXPECT_EQ(process(notice(1, 10, 0xFFFFFFF0u)).reason, Drop::key_too_far_ahead);
  EXPECT_EQ(feed(datagram(1, 500, 1), 1).reason, Drop::key_too_far_ahead);
  EXPECT_EQ(process(notice(1, 10, 3)).reason, Drop::key_too_old);
  EXPECT_EQ(feed(datagram(1, 5, 2), 2).reason, Drop::key_too_old);
  EXPECT_EQ(requests(1, 27) + requests(1, 0xFFFFFFF0u) + requests(1, 500) + requests(1, 3) + requests(1, 5), 0u);
  EXPECT_EQ(requests(1, 0), 2u);  // at start, then one catch-up (in flight since)
  auto c = rx_->counters();
  EXPECT_EQ(c[Drop::key_too_far_ahead], 3u);
  EXPECT_EQ(c[Drop::key_too_old], 2u);
  EXPECT_EQ(c[Event::dropped], 5u);
  EXPECT_EQ(process(notice(1, 10, 26)).kind, Kind::notice);  // the edge of the window: fetched
  EXPECT_EQ(requests(1, 26), 1u);
  EXPECT_EQ(feed(datagram(1, 10, 3), 3).kind, Kind::clear);  // never redirected
}

// A receiver that slept through many key changes, or whose key manager's ids
// jumped (a promoted replica): its key ended, the sender's ids are far ahead;
// the catch-up fetch of current and next brings it back, and the datagrams
// that waited for it are delivered, in order. While its key was live, one
// was dropped at once.
TEST_F(Rx, FarAheadIdsCatchUpThroughCurrentAndNext) {
  make();
  give_current(10, 1000);
  EXPECT_EQ(feed(datagram(1, 40, 1), 1).reason, Drop::key_too_far_ahead);  // the catch-up in flight since
  give_current(10, 500);  // the key manager's word: 10 is still current
  now_ += 2s;  // 10 ended, no next came
  EXPECT_EQ(feed(datagram(1, 40, 1), 1).kind, Kind::held);
  EXPECT_EQ(feed(datagram(1, 40, 2), 2).kind, Kind::held);
  EXPECT_EQ(requests(1, 0), 3u);
  EXPECT_EQ(requests(1, 40), 0u);
  give_current_and_next(40);
  EXPECT_EQ(release(), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(feed(datagram(1, 40, 3), 3).kind, Kind::clear);
  EXPECT_EQ(feed(datagram(1, 41, 4), 4).kind, Kind::clear);
  EXPECT_EQ(rx_->counters()[Drop::key_too_far_ahead], 1u);
}

// Far ahead with no catch-up possible (the channel's token bucket spent):
// dropped at once, not held for an answer that will not come. Held for one
// that fails (key manager unreachable): dropped then.
TEST_F(Rx, FarAheadIdsAreDroppedWhenNoCatchUpIsOnItsWay) {
  ReceiverOptions o;
  o.key_request_burst = 1;
  o.key_requests_per_second = 1;
  make(std::move(o));
  give_current(10, 1000);
  now_ += 2s;  // 10 ended, no next came
  EXPECT_EQ(feed(datagram(1, 40, 1), 1).kind, Kind::held);
  fail(1, 0, FetchError::unreachable);
  EXPECT_TRUE(release().empty());
  EXPECT_EQ(rx_->counters()[Drop::key_too_far_ahead], 1u);
  EXPECT_EQ(feed(datagram(1, 40, 2), 2).reason, Drop::key_too_far_ahead);  // no fetch can go now: no hold
  EXPECT_EQ(requests(1, 0), 2u);
}

// A flood of notices with distinct ids inside the window: fetches capped by
// the channel's token bucket, refusals counted; the scheduled fetch at Y
// still goes out.
TEST_F(Rx, NoticeFloodIsRateLimited) {
  ReceiverOptions o;
  o.key_request_burst = 4;
  o.key_requests_per_second = 2;
  make(std::move(o));
  give_current(10);
  const auto by_id = [&] { return log_.requests.size() - requests(1, 0); };
  for (std::uint32_t id = 11; id <= 26; ++id) EXPECT_EQ(process(notice(1, 10, id)).kind, Kind::notice);
  EXPECT_EQ(by_id(), 4u);
  EXPECT_EQ(rx_->counters()[Event::key_requests_rate_limited], 12u);
  now_ += 1s;
  for (std::uint32_t id = 11; id <= 26; ++id) process(notice(1, 10, id));
  EXPECT_EQ(by_id(), 6u);
  EXPECT_EQ(rx_->counters()[Event::key_requests_rate_limited], 12u + 10u);
  now_ += 7s;  // past Y (7.5 s +-10 % after the key came)
  release();
  EXPECT_EQ(requests(1, 0), 2u);
}

// However generous the bucket, only a few fetches by id are in flight.
TEST_F(Rx, FetchesInFlightAreCapped) {
  ReceiverOptions o;
  o.key_request_burst = 100;
  make(std::move(o));
  give_current(10);
  for (std::uint32_t id = 11; id <= 26; ++id) process(notice(1, 10, id));
  EXPECT_EQ(log_.requests.size() - requests(1, 0), 8u);
  EXPECT_EQ(rx_->counters()[Event::key_requests_rate_limited], 8u);
  give(1, 11, {});  // an answer (empty) makes room for one more
  process(notice(1, 10, 12));
  EXPECT_EQ(log_.requests.size() - requests(1, 0), 8u);  // 12 is still in flight
  process(notice(1, 10, 19));
  EXPECT_EQ(requests(1, 19), 1u);
}

// GCM: the same datagram twice is delivered once; a reordered one not seen
// yet is delivered; one further behind than the window is dropped.
TEST_F(Rx, GcmReplayWindow) {
  make_with_key(pktparse::Suite::aes128_gcm, 10);
  const auto gcm = [](std::uint64_t seq) { return datagram(1, 10, seq, {}, pktparse::Suite::aes128_gcm); };
  const Bytes five = gcm(5);
  EXPECT_EQ(feed(five, 5).kind, Kind::clear);
  EXPECT_EQ(feed(five, 5).reason, Drop::replayed);
  EXPECT_EQ(feed(gcm(3), 3).kind, Kind::clear);
  EXPECT_EQ(feed(gcm(3), 3).reason, Drop::replayed);
  EXPECT_EQ(feed(gcm(2000), 2000).kind, Kind::clear);
  EXPECT_EQ(feed(gcm(2000 - 1023), 977).kind, Kind::clear);  // the oldest seq still inside
  EXPECT_EQ(feed(gcm(2000 - 1024), 976).reason, Drop::replay_too_old);
  EXPECT_EQ(feed(five, 5).reason, Drop::replay_too_old);
  Bytes forged = gcm(2001);
  forged.back() ^= 1;
  EXPECT_EQ(feed(forged, 2001).reason, Drop::gcm_auth_failed);
  EXPECT_EQ(feed(gcm(2001), 2001).kind, Kind::clear);  // a forgery does not burn its seq
  const auto c = rx_->counters();
  EXPECT_EQ(c[Drop::replayed], 2u);
  EXPECT_EQ(c[Drop::replay_too_old], 2u);
  EXPECT_EQ(c[Event::descrambled], 5u);
}

// Held GCM datagrams: released in order, a replay among them dropped.
TEST_F(Rx, GcmReplayAmongHeldDatagrams) {
  make_with_key(pktparse::Suite::aes128_gcm, 10);
  const Bytes a = datagram(1, 11, 1, {}, pktparse::Suite::aes128_gcm);
  const Bytes b = datagram(1, 11, 2, {}, pktparse::Suite::aes128_gcm);
  EXPECT_EQ(feed(a, 1).kind, Kind::held);
  EXPECT_EQ(feed(b, 2).kind, Kind::held);
  EXPECT_EQ(feed(a, 1).kind, Kind::held);
  std::vector<FetchedKey> k;
  k.push_back(fetched(1, 11, KeyRole::next, 10000, 10000, 0x05));
  give(1, 11, std::move(k));
  EXPECT_EQ(release(), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(rx_->counters()[Drop::replayed], 1u);
  EXPECT_EQ(feed(b, 2).reason, Drop::replayed);
}

// A forged GCM datagram under the next key's id does not switch keys: the
// current key stays current past the grace a switch would have started.
TEST_F(Rx, ForgedGcmDatagramDoesNotSwitchKeys) {
  ReceiverOptions o;
  o.channels = {{1, pktparse::Suite::aes128_gcm}};
  make(std::move(o));
  give_current_and_next(10, pktparse::Suite::aes128_gcm);
  Bytes forged = datagram(1, 11, 1, {}, pktparse::Suite::aes128_gcm);
  forged[forged.size() - 20] ^= 0x40;
  EXPECT_EQ(feed(forged, 1).reason, Drop::gcm_auth_failed);
  now_ += 3s;
  EXPECT_EQ(feed(datagram(1, 10, 2, {}, pktparse::Suite::aes128_gcm), 2).kind, Kind::clear);
  EXPECT_EQ(feed(datagram(1, 11, 3, {}, pktparse::Suite::aes128_gcm), 3).kind, Kind::clear);  // the real switch
  EXPECT_EQ(feed(datagram(1, 10, 4, {}, pktparse::Suite::aes128_gcm), 4).kind, Kind::clear);  // within grace
}

// xor (and xor-inv, CTR) carry no authenticity: a replay cannot be told from
// a datagram and is delivered again. Documented in receiver.h.
TEST_F(Rx, XorReplayIsDeliveredAgain) {
  make_with_key(pktparse::Suite::xor_pattern, 10);
  const Bytes d = datagram(1, 10, 7, {}, pktparse::Suite::xor_pattern);
  EXPECT_EQ(feed(d, 7).kind, Kind::clear);
  EXPECT_EQ(feed(d, 7).kind, Kind::clear);
  EXPECT_EQ(rx_->counters()[Drop::replayed], 0u);
}

// A receiver with no key yet has nothing to judge ids against: it joins on
// any id, whether current and next are on their way or their fetch failed.
TEST_F(Rx, LateJoinerWithNoKeyStillJoins) {
  make();
  EXPECT_EQ(feed(datagram(1, 5000, 1), 1).kind, Kind::held);
  std::vector<FetchedKey> k;
  k.push_back(fetched(1, 5000, KeyRole::current));
  give(1, 0, std::move(k));
  EXPECT_EQ(release(), (std::vector<std::uint64_t>{1}));

  rx_.reset();
  log_ = {};
  make();
  fail(1, 0, FetchError::unreachable);
  EXPECT_EQ(feed(datagram(1, 7000, 2), 2).kind, Kind::held);
  EXPECT_EQ(requests(1, 7000), 1u);
  k.clear();
  k.push_back(fetched(1, 7000, KeyRole::current));
  give(1, 7000, std::move(k));
  EXPECT_EQ(release(), (std::vector<std::uint64_t>{2}));
}

}  // namespace
}  // namespace keycast
