// KeymgrClient failover: refused connections, `unavailable` and
// `not_master` answers, stalls, refused HELLOs, in-order and round-robin
// choice of endpoint, and the hold-off of an endpoint that timed out.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <thread>

#include "kmclient/client.h"
#include "test_util.h"

namespace kmclient::test {
namespace {

using kmproto::ErrorCode;
using kmproto::KeyState;
using kmproto::MessageType;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

std::string port_text(std::uint16_t p) { return "127.0.0.1:" + std::to_string(p); }

TEST(Failover, RefusedConnectionGoesToTheNextEndpoint) {
  FakeServer live(answer_requests);
  const std::uint16_t dead = closed_port();
  KeymgrClient client(config_for({dead, live.port()}));
  const auto a = client.request_keys(1);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(client.current_endpoint());
  EXPECT_EQ(client.current_endpoint()->port, live.port());
}

TEST(Failover, EveryEndpointFailingNamesEachOne) {
  const std::uint16_t a = closed_port(), b = closed_port();
  KeymgrClient client(config_for({a, b}));
  const auto r = client.request_keys(1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::transport);
  EXPECT_NE(r.error().message.find(port_text(a) + ": connect: Connection refused"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find(port_text(b)), std::string::npos) << r.error().message;
}

TEST(Failover, UnavailableGoesToTheNextEndpoint) {
  FakeServer busy([](FakeConn& c) {
    ASSERT_TRUE(c.accept_hello());
    while (c.read()) c.send(error_frame(ErrorCode::unavailable, "key store cannot be read"));
  });
  FakeServer live(answer_requests);
  KeymgrClient client(config_for({busy.port(), live.port()}));
  const auto a = client.request_keys(2);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->at(0).key_id, 102u);
  EXPECT_EQ(busy.connections(), 1);
  EXPECT_EQ(live.connections(), 1);
}

// The rest of a pipelined batch moves to the next endpoint; answers already
// read are kept.
TEST(Failover, PipelinedBatchContinuesOnTheNextEndpoint) {
  FakeServer flaky([](FakeConn& c) {
    ASSERT_TRUE(c.accept_hello());
    for (int i = 0; i < 3; ++i)
      if (!c.read()) return;
    const auto r = make_record(1, 7, KeyState::current);
    auto out = answer_frame(MessageType::key_request, std::span(&r, 1));
    const auto e = error_frame(ErrorCode::unavailable, "busy");
    out.insert(out.end(), e.begin(), e.end());
    c.send(out);
    c.stall();
  });
  FakeServer live(answer_requests);
  KeymgrClient client(config_for({flaky.port(), live.port()}));
  const KeyQuery q[] = {{1, 0}, {2, 0}, {3, 0}};
  const auto a = client.request_many(q);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_EQ(a->size(), 3u);
  EXPECT_EQ((*a)[0]->at(0).key_id, 7u);
  EXPECT_EQ((*a)[1]->at(0).key_id, 102u);
  EXPECT_EQ((*a)[2]->at(0).key_id, 103u);
}

// A USAGE_REPORT read by an endpoint that then closed without answering is
// taken by the next one, and the first is named as one that may have counted
// it too; the next call, answered at once, names none.
TEST(Failover, EndpointThatReadARequestAndClosedUnansweredIsNamed) {
  FakeServer reader([](FakeConn& c) {
    ASSERT_TRUE(c.accept_hello());
    (void)c.read();
  });
  FakeServer live([](FakeConn& c) {
    ASSERT_TRUE(c.accept_hello());
    while (c.read()) c.send(answer_frame(MessageType::usage_report));
  });
  KeymgrClient client(config_for({reader.port(), live.port()}));
  ASSERT_TRUE(client.report_usage(1, 7, 30, 39480));
  EXPECT_EQ(client.unanswered(), std::vector<std::string>{port_text(reader.port())});
  ASSERT_TRUE(client.report_usage(1, 8, 30, 39480));
  EXPECT_TRUE(client.unanswered().empty());
  EXPECT_EQ(reader.connections(), 1);
}

TEST(Failover, NotMasterFailsOverForGenerateButIsAnAnswerForKeyRequest) {
  FakeServer replica([](FakeConn& c) {
    ASSERT_TRUE(c.accept_hello());
    while (c.read()) c.send(error_frame(ErrorCode::not_master, "this key manager is a replica"));
  });
  FakeServer master([](FakeConn& c) {
    ASSERT_TRUE(c.accept_hello());
    while (auto f = c.read()) {
      ASSERT_EQ(f->type, MessageType::key_generate);
      const auto r = make_record(4, 5, KeyState::current, 64);
      c.send(answer_frame(MessageType::key_generate, std::span(&r, 1)));
    }
  });
  KeymgrClient client(config_for({replica.port(), master.port()}));
  const auto made = client.generate(4, kmproto::Which::current, 2, 64, 10000);
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ(made->key_id, 5u);

  KeymgrClient reader(config_for({replica.port(), master.port()}));
  const auto keys = reader.request_keys(4);
  ASSERT_FALSE(keys);
  EXPECT_TRUE(keys.error().is(ErrorCode::not_master));
  EXPECT_EQ(master.connections(), 1);
}

// A replica that has not caught up answers unknown_key for a key the master
// just made: a key asked for by id is then asked of the next endpoint; a
// request for the current keys takes the answer as it is.
TEST(Failover, UnknownKeyByIdIsAskedOfTheNextEndpoint) {
  FakeServer lagging([](FakeConn& c) {
    ASSERT_TRUE(c.accept_hello());
    while (c.read()) c.send(error_frame(ErrorCode::unknown_key, "key 777 of channel 1 unknown"));
  });
  FakeServer master([](FakeConn& c) {
    ASSERT_TRUE(c.accept_hello());
    while (auto f = c.read()) {
      std::uint32_t ch = 0, id = 0;
      (void)f->view().read_u32(kmproto::ParamType::channel_id, ch);
      (void)f->view().read_u32(kmproto::ParamType::key_id, id);
      const auto r = make_record(ch, id, KeyState::next);
      c.send(answer_frame(MessageType::key_request, std::span(&r, 1)));
    }
  });
  KeymgrClient client(config_for({lagging.port(), master.port()}));
  const auto k = client.request_key(1, 777);
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->key_id, 777u);
  EXPECT_EQ(master.connections(), 1);

  KeymgrClient current(config_for({lagging.port(), master.port()}));
  const auto keys = current.request_keys(1);
  ASSERT_FALSE(keys);
  EXPECT_TRUE(keys.error().is(ErrorCode::unknown_key));

  KeymgrClient alone(config_for({lagging.port()}));
  const auto none = alone.request_key(1, 777);
  ASSERT_FALSE(none);
  EXPECT_TRUE(none.error().is(ErrorCode::unknown_key)) << none.error().message;
}

TEST(Failover, StalledEndpointTimesOutThenTheNextAnswers) {
  FakeServer stalled(hang_after_hello);
  FakeServer live(answer_requests);
  auto cfg = config_for({stalled.port(), live.port()});
  cfg.request_timeout = milliseconds(300);
  KeymgrClient client(cfg);
  const auto t0 = Clock::now();
  const auto a = client.request_keys(1);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_LT(Clock::now() - t0, milliseconds(600));
}

TEST(Failover, RefusedHelloEverywhereIsUnauthenticated) {
  auto refuse = [](FakeConn& c) {
    if (c.read()) c.send(error_frame(ErrorCode::unauthenticated, "wrong or missing auth_token for peer gw1"));
  };
  FakeServer a(refuse);
  const std::uint16_t dead = closed_port();
  KeymgrClient client(config_for({a.port(), dead}));
  const auto r = client.request_keys(1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::unauthenticated) << r.error().message;
  EXPECT_NE(r.error().message.find("HELLO refused"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(port_text(dead)), std::string::npos) << r.error().message;
}

// in_order: every reconnect starts at the first endpoint.
TEST(Failover, InOrderReconnectsToTheFirstEndpoint) {
  FakeServer a(answer_requests), b(answer_requests);
  KeymgrClient client(config_for({a.port(), b.port()}));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.request_keys(1));
    EXPECT_EQ(client.current_endpoint()->port, a.port());
    client.disconnect();
  }
  EXPECT_EQ(a.connections(), 3);
  EXPECT_EQ(b.connections(), 0);
}

TEST(Failover, RoundRobinRotatesOnEveryReconnect) {
  FakeServer a(answer_requests), b(answer_requests), c(answer_requests);
  KeymgrClient client(config_for({a.port(), b.port(), c.port()}, ClientConfig::Failover::round_robin));
  std::vector<std::uint16_t> used;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(client.request_keys(1));
    used.push_back(client.current_endpoint()->port);
    client.disconnect();
  }
  EXPECT_EQ(used, (std::vector<std::uint16_t>{a.port(), b.port(), c.port(), a.port()}));
}

TEST(Failover, RoundRobinSkipsADeadEndpoint) {
  FakeServer a(answer_requests), c(answer_requests);
  const std::uint16_t dead = closed_port();
  KeymgrClient client(config_for({a.port(), dead, c.port()}, ClientConfig::Failover::round_robin));
  std::vector<std::uint16_t> used;
  for (int i = 0; i < 3; ++i) {
    const auto r = client.request_keys(1);
    ASSERT_TRUE(r) << r.error().message;
    used.push_back(client.current_endpoint()->port);
    client.disconnect();
  }
  EXPECT_EQ(used, (std::vector<std::uint16_t>{a.port(), c.port(), a.port()}));
}

TEST(Failover, ConnectAheadDialsInFailoverOrderAndRequestsUseThatConnection) {
  FakeServer live(answer_requests);
  const std::uint16_t dead = closed_port();
  KeymgrClient client(config_for({dead, live.port()}));
  const auto up = client.connect();
  ASSERT_TRUE(up) << up.error().message;
  ASSERT_TRUE(client.current_endpoint());
  EXPECT_EQ(client.current_endpoint()->port, live.port());
  EXPECT_EQ(live.connections(), 1);
  ASSERT_TRUE(client.connect());  // already up: nothing dialled
  ASSERT_TRUE(client.request_keys(1));
  EXPECT_EQ(live.connections(), 1);
}

TEST(Failover, ConnectAheadWithEveryEndpointDeadNamesEachOne) {
  const std::uint16_t a = closed_port(), b = closed_port();
  KeymgrClient client(config_for({a, b}));
  const auto up = client.connect();
  ASSERT_FALSE(up);
  EXPECT_EQ(up.error().kind, ErrorKind::transport);
  EXPECT_NE(up.error().message.find(port_text(b)), std::string::npos) << up.error().message;
  EXPECT_FALSE(client.connected());
}

// The "left alone N ms more" of a call that dialled nothing; -1 when absent.
long held_off_ms(const std::string& message) {
  std::smatch m;
  if (!std::regex_search(message, m, std::regex("left alone (\\d+) ms more"))) return -1;
  return std::stol(m[1]);
}

// A key manager that takes the connection and then answers nothing: the call
// that meets it waits its timeout, the calls after it do not dial it again
// until its hold-off is over (they fail at once, as a timeout that names it),
// and then it is dialled again.
TEST(Failover, HungEndpointIsLeftAloneForItsHoldOff) {
  FakeServer hung(hang_after_hello);
  auto cfg = config_for({hung.port()});
  cfg.request_timeout = milliseconds(200);
  cfg.hold_off = milliseconds(800);
  KeymgrClient client(cfg);
  const auto t0 = Clock::now();
  const auto first = client.request_keys(1);
  ASSERT_FALSE(first);
  EXPECT_GE(Clock::now() - t0, milliseconds(190));
  EXPECT_EQ(hung.connections(), 1);

  const auto t1 = Clock::now();
  const auto second = client.request_keys(1);
  ASSERT_FALSE(second);
  EXPECT_LT(Clock::now() - t1, milliseconds(150));  // did not wait another request timeout
  EXPECT_EQ(second.error().kind, ErrorKind::timeout) << second.error().message;
  EXPECT_TRUE(second.error().held_off);
  EXPECT_FALSE(first.error().held_off);
  EXPECT_NE(second.error().message.find(port_text(hung.port()) + ": not dialled: it gave no answer in time"),
            std::string::npos)
      << second.error().message;
  const long left = held_off_ms(second.error().message);
  EXPECT_GT(left, 0) << second.error().message;
  EXPECT_LE(left, 800) << second.error().message;
  EXPECT_EQ(hung.connections(), 1);

  std::this_thread::sleep_for(milliseconds(left + 50));
  ASSERT_FALSE(client.request_keys(1));
  EXPECT_EQ(hung.connections(), 2);
}

// The endpoint held off is passed over for the next one, which answers at
// once (in_order would otherwise start every reconnect at the hung one).
TEST(Failover, HeldOffEndpointIsPassedOverForTheNext) {
  FakeServer hung(hang_after_hello);
  FakeServer live(answer_requests);
  auto cfg = config_for({hung.port(), live.port()});
  cfg.request_timeout = milliseconds(200);
  cfg.hold_off = milliseconds(5000);
  KeymgrClient client(cfg);
  ASSERT_TRUE(client.request_keys(1));
  client.disconnect();
  const auto t0 = Clock::now();
  const auto a = client.request_keys(1);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_LT(Clock::now() - t0, milliseconds(150));
  EXPECT_EQ(hung.connections(), 1);
  EXPECT_EQ(live.connections(), 2);
}

// Each timeout in a row doubles the hold-off up to hold_off_max; an answer
// ends it, so the next timeout holds off for hold_off again.
TEST(Failover, HoldOffDoublesWhileTimeoutsRepeatAndAnAnswerEndsIt) {
  FakeServer s([](FakeConn& c) { c.index() == 3 ? answer_requests(c) : hang_after_hello(c); });
  auto cfg = config_for({s.port()});
  cfg.request_timeout = milliseconds(100);
  cfg.hold_off = milliseconds(200);
  cfg.hold_off_max = milliseconds(500);
  KeymgrClient client(cfg);
  std::vector<long> held;
  for (int i = 0; i < 3; ++i) {
    ASSERT_FALSE(client.request_keys(1));  // connection i: timeout
    const auto r = client.request_keys(1);  // held off
    ASSERT_FALSE(r);
    held.push_back(held_off_ms(r.error().message));
    std::this_thread::sleep_for(milliseconds(held.back() + 30));
  }
  EXPECT_GT(held[0], 100);
  EXPECT_LE(held[0], 200);
  EXPECT_GT(held[1], 300);
  EXPECT_LE(held[1], 400);
  EXPECT_GT(held[2], 400);
  EXPECT_LE(held[2], 500);  // hold_off_max
  const auto a = client.request_keys(1);  // connection 3 answers
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(s.connections(), 4);
  client.disconnect();
  ASSERT_FALSE(client.request_keys(1));  // connection 4 hangs: hold_off again, not twice hold_off_max
  const auto r = client.request_keys(1);
  ASSERT_FALSE(r);
  EXPECT_GT(held_off_ms(r.error().message), 100) << r.error().message;
  EXPECT_LE(held_off_ms(r.error().message), 200) << r.error().message;
}

// An ERROR answer (here `unavailable`, a reason to fail over) shows the
// endpoint alive: it ends the hold-off as any answer does.
TEST(Failover, AnErrorAnswerEndsTheHoldOffToo) {
  FakeServer s([](FakeConn& c) {
    if (c.index() != 1) return hang_after_hello(c);
    ASSERT_TRUE(c.accept_hello());
    while (c.read()) c.send(error_frame(ErrorCode::unavailable, "key store cannot be read"));
  });
  auto cfg = config_for({s.port()});
  cfg.request_timeout = milliseconds(100);
  cfg.hold_off = milliseconds(200);
  KeymgrClient client(cfg);
  ASSERT_FALSE(client.request_keys(1));  // connection 0 hangs: held off 200 ms
  std::this_thread::sleep_for(milliseconds(230));
  const auto busy = client.request_keys(1);  // connection 1: unavailable
  ASSERT_FALSE(busy);
  EXPECT_TRUE(busy.error().is(ErrorCode::unavailable)) << busy.error().message;
  ASSERT_FALSE(client.request_keys(1));  // connection 2 hangs: 200 ms again, not 400
  const auto r = client.request_keys(1);
  ASSERT_FALSE(r);
  EXPECT_GT(held_off_ms(r.error().message), 100) << r.error().message;
  EXPECT_LE(held_off_ms(r.error().message), 200) << r.error().message;
}

TEST(Failover, ZeroHoldOffDialsEveryTime) {
  FakeServer hung(hang_after_hello);
  auto cfg = config_for({hung.port()});
  cfg.request_timeout = milliseconds(100);
  cfg.hold_off = milliseconds(0);
  KeymgrClient client(cfg);
  ASSERT_FALSE(client.request_keys(1));
  const auto r = client.request_keys(1);
  ASSERT_FALSE(r);
  EXPECT_EQ(held_off_ms(r.error().message), -1) << r.error().message;
  EXPECT_FALSE(r.error().held_off);
  EXPECT_EQ(hung.connections(), 2);
}

}  // namespace
}  // namespace kmclient::test
