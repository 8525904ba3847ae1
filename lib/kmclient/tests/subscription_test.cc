// Subscription: SUBSCRIBE on its own connection, KEY_DELIVERY and HEARTBEAT
// frames, idle polls, errors that end the stream.
#include <gtest/gtest.h>

#include <chrono>

#include "kmclient/client.h"
#include "test_util.h"

namespace kmclient::test {
namespace {

using kmproto::ErrorCode;
using kmproto::KeyState;
using kmproto::MessageType;
using kmproto::ParamType;
using std::chrono::milliseconds;
using Kind = SubscriptionEvent::Kind;

// Connection 0 answers KEY_REQUESTs; later ones are subscriptions.
void keys_and_stream(FakeConn& c) {
  if (c.index() == 0) return answer_requests(c);
  ASSERT_TRUE(c.accept_hello());
  const auto sub = c.read();
  ASSERT_TRUE(sub);
  ASSERT_EQ(sub->type, MessageType::subscribe);
  std::uint64_t since = 0;
  EXPECT_EQ(sub->view().read_u64(ParamType::since_version, since), kmproto::Status::ok);
  EXPECT_EQ(since, 5u);
  auto out = answer_frame(MessageType::subscribe);
  const auto d6 = delivery_frame(6, make_record(1, 3, KeyState::next));
  out.insert(out.end(), d6.begin(), d6.end());
  c.send(out);
  c.send(heartbeat_frame(1700000001000u));
  c.send(delivery_frame(7, make_record(2, 4, KeyState::current)));
  c.stall();
}

TEST(Subscription, DeliveriesAndHeartbeatsOnItsOwnConnection) {
  FakeServer s(keys_and_stream);
  KeymgrClient client(config_for({s.port()}));
  ASSERT_TRUE(client.request_keys(1));
  auto sub = client.subscribe(5);
  ASSERT_TRUE(sub) << sub.error().message;
  EXPECT_EQ(sub->endpoint().port, s.port());

  auto e = sub->poll_delivery(milliseconds(1000));
  ASSERT_TRUE(e) << e.error().message;
  ASSERT_EQ(e->kind, Kind::delivery);
  EXPECT_EQ(e->delivery.version, 6u);
  ASSERT_EQ(e->delivery.records.size(), 1u);
  EXPECT_EQ(e->delivery.records[0], make_record(1, 3, KeyState::next));

  e = sub->poll_delivery(milliseconds(1000));
  ASSERT_TRUE(e);
  ASSERT_EQ(e->kind, Kind::heartbeat);
  EXPECT_EQ(e->server_time_ms, 1700000001000u);

  e = sub->poll_delivery(milliseconds(1000));
  ASSERT_TRUE(e);
  ASSERT_EQ(e->kind, Kind::delivery);
  EXPECT_EQ(e->delivery.version, 7u);
  EXPECT_EQ(sub->last_version(), 7u);

  const auto t0 = std::chrono::steady_clock::now();
  e = sub->poll_delivery(milliseconds(200));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, Kind::idle);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(400));

  // The request connection was left alone.
  ASSERT_TRUE(client.request_keys(2));
  EXPECT_EQ(s.connections(), 2);
}

TEST(Subscription, RefusalIsReturned) {
  FakeServer s([](FakeConn& c) {
    ASSERT_TRUE(c.accept_hello());
    if (c.read()) c.send(error_frame(ErrorCode::not_entitled, "peer rx1 may not subscribe"));
    c.stall();
  });
  KeymgrClient client(config_for({s.port()}));
  const auto sub = client.subscribe(0);
  ASSERT_FALSE(sub);
  EXPECT_TRUE(sub.error().is(ErrorCode::not_entitled));
}

TEST(Subscription, UnavailableFailsOverToTheNextEndpoint) {
  FakeServer busy([](FakeConn& c) {
    ASSERT_TRUE(c.accept_hello());
    if (c.read()) c.send(error_frame(ErrorCode::unavailable, "busy"));
    c.stall();
  });
  FakeServer live([](FakeConn& c) {
    ASSERT_TRUE(c.accept_hello());
    if (c.read()) c.send(answer_frame(MessageType::subscribe));
    c.stall();
  });
  KeymgrClient client(config_for({busy.port(), live.port()}));
  const auto sub = client.subscribe(0);
  ASSERT_TRUE(sub) << sub.error().message;
  EXPECT_EQ(sub->endpoint().port, live.port());
}

TEST(Subscription, ClosedOrMalformedStreamEndsItAndResubscribeWorks) {
  FakeServer s([](FakeConn& c) {
    ASSERT_TRUE(c.accept_hello());
    const auto sub = c.read();
    if (!sub) return;
    std::uint64_t since = 0;
    (void)sub->view().read_u64(ParamType::since_version, since);
    c.send(answer_frame(MessageType::subscribe));
    c.send(delivery_frame(since + 1, make_record(1, 9, KeyState::current)));
    if (c.index() == 0) return;  // closes
    auto bad = heartbeat_frame(0);
    bad[0] = 9;
    c.send(bad);
    c.stall();
  });
  KeymgrClient client(config_for({s.port()}));
  auto sub = client.subscribe(10);
  ASSERT_TRUE(sub);
  auto e = sub->poll_delivery(milliseconds(1000));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->delivery.version, 11u);
  e = sub->poll_delivery(milliseconds(1000));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().kind, ErrorKind::transport) << e.error().message;
  EXPECT_FALSE(sub->poll_delivery(milliseconds(10)));

  sub = client.subscribe(sub->last_version());
  ASSERT_TRUE(sub) << sub.error().message;
  e = sub->poll_delivery(milliseconds(1000));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->delivery.version, 12u);
  e = sub->poll_delivery(milliseconds(1000));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().kind, ErrorKind::bad_frame) << e.error().message;
}

}  // namespace
}  // namespace kmclient::test
