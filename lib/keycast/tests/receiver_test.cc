// Receiver with keys injected through a fake key source and a test clock:
// current/next/previous selection, grace, hold and in-order release, hold
// overflow and timeout, notices, the KEYMGR_ADDR allow-list, fetch at Y,
// learned channels and fetch failures.
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

// A scrambled datagram of `channel` under key_id (aes128-ctr, test material).
Bytes datagram(std::uint32_t channel, std::uint32_t key_id, std::uint64_t seq, pktparse::KcHeader h = {}) {
  pktparse::PreparedKey key;
  EXPECT_EQ(key.prepare(pktparse::Suite::aes128_ctr, key_id, test::material_for(key_id)), pktparse::Status::ok);
  const Bytes clear = clear_payload(seq);
  h.channel_id = channel;
  h.seq = seq;
  const std::size_t hlen = pktparse::header_len(h);
  Bytes buf(hlen + clear.size());
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
  void fail(std::uint32_t channel, std::uint32_t key_id, FetchError e) {
    FetchResult r;
    r.channel_id = channel;
    r.key_id = key_id;
    r.error = e;
    r.message = "refused by 127.0.0.1:1";
    log_.sink->deliver(std::move(r));
  }
  void give_current(std::uint32_t id, std::uint32_t remaining_ms = 10000) {
    std::vector<FetchedKey> k;
    k.push_back(fetched(1, id, KeyRole::current, 10000, remaining_ms));
    give(1, 0, std::move(k));
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
  std::vector<FetchedKey> k;
  k.push_back(fetched(1, 10, KeyRole::current));
  k.push_back(fetched(1, 11, KeyRole::next));
  give(1, 0, std::move(k));
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
  EXPECT_EQ(requests(7, 0), 1u);
  EXPECT_EQ(requests(7, 3), 0u);  // current and next are on their way
  std::vector<FetchedKey> k;
  k.push_back(fetched(7, 3, KeyRole::current));
  give(7, 0, std::move(k));
  EXPECT_EQ(release(), (std::vector<std::uint64_t>{1}));
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
  fail(1, 11, FetchError::unreachable);
  release();
  EXPECT_EQ(rx_->counters()[Drop::key_unavailable], 0u);
  now_ += 11ms;
  release();
  EXPECT_EQ(requests(1, 11), 2u);
  std::vector<FetchedKey> k;
  k.push_back(fetched(1, 11, KeyRole::current));
  give(1, 11, std::move(k));
  EXPECT_EQ(release(), (std::vector<std::uint64_t>{1}));
}

}  // namespace
}  // namespace keycast
