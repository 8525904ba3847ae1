// KeymgrClient against one scripted server: requests and their answers,
// pipelining, ERROR answers, deadlines, malformed frames.
#include <gtest/gtest.h>

#include <chrono>

#include "kmclient/client.h"
#include "kmproto/frame_builder.h"
#include "test_util.h"

namespace kmclient::test {
namespace {

using kmproto::ErrorCode;
using kmproto::KeyState;
using kmproto::MessageType;
using kmproto::ParamType;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

TEST(Request, HelloThenKeysOfAChannel) {
  FakeServer s([](FakeConn& c) {
    const auto hello = c.read();
    ASSERT_TRUE(hello);
    ASSERT_EQ(hello->type, MessageType::hello);
    std::uint8_t role = 0;
    std::string_view id, token;
    EXPECT_EQ(hello->view().read_u8(ParamType::role, role), kmproto::Status::ok);
    EXPECT_EQ(role, 1);
    EXPECT_EQ(hello->view().read_string(ParamType::peer_id, id), kmproto::Status::ok);
    EXPECT_EQ(id, "gw1");
    EXPECT_EQ(hello->view().read_string(ParamType::auth_token, token), kmproto::Status::ok);
    EXPECT_EQ(token, "gw1-lab-token");
    std::vector<std::uint8_t> ok;
    kmproto::FrameBuilder b(ok);
    b.begin(kmproto::answer_of(MessageType::hello));
    b.add_u64(ParamType::server_time_ms, 1234);
    (void)b.finish();
    c.send(ok);
    const auto req = c.read();
    ASSERT_TRUE(req);
    ASSERT_EQ(req->type, MessageType::key_request);
    std::uint32_t ch = 0, key_id = 0;
    EXPECT_EQ(req->view().read_u32(ParamType::channel_id, ch), kmproto::Status::ok);
    EXPECT_EQ(ch, 7u);
    EXPECT_EQ(req->view().read_u32(ParamType::key_id, key_id), kmproto::Status::param_missing);
    const kmproto::KeyRecord recs[] = {make_record(7, 1, KeyState::current), make_record(7, 2, KeyState::next)};
    c.send(answer_frame(MessageType::key_request, recs));
    c.stall();
  });
  KeymgrClient client(config_for({s.port()}));
  const auto keys = client.request_keys(7);
  ASSERT_TRUE(keys) << keys.error().message;
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0], make_record(7, 1, KeyState::current));
  EXPECT_EQ((*keys)[1], make_record(7, 2, KeyState::next));
  EXPECT_EQ(client.server_time_ms(), 1234u);
  EXPECT_TRUE(client.connected());
}

TEST(Request, KeyById) {
  FakeServer s([](FakeConn& c) {
    ASSERT_TRUE(c.accept_hello());
    const auto req = c.read();
    ASSERT_TRUE(req);
    std::uint32_t key_id = 0;
    EXPECT_EQ(req->view().read_u32(ParamType::key_id, key_id), kmproto::Status::ok);
    const auto r = make_record(3, key_id, KeyState::previous);
    c.send(answer_frame(MessageType::key_request, std::span(&r, 1)));
    c.stall();
  });
  KeymgrClient client(config_for({s.port()}));
  const auto key = client.request_key(3, 42);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->key_id, 42u);
  EXPECT_EQ(key->state, KeyState::previous);
}

// The server reads all three requests before it answers any: the client
// must have sent them without waiting.
TEST(Request, PipelinedAnswersInOrder) {
  FakeServer s([&](FakeConn& c) {
    ASSERT_TRUE(c.accept_hello());
    std::vector<std::uint32_t> channels;
    for (int i = 0; i < 3; ++i) {
      const auto f = c.read();
      ASSERT_TRUE(f);
      std::uint32_t ch = 0;
      (void)f->view().read_u32(ParamType::channel_id, ch);
      channels.push_back(ch);
    }
    ASSERT_EQ(channels, (std::vector<std::uint32_t>{1, 3, 2}));
    const auto r1 = make_record(1, 11, KeyState::current);
    const auto r2 = make_record(2, 22, KeyState::current);
    std::vector<std::uint8_t> all = answer_frame(MessageType::key_request, std::span(&r1, 1));
    const auto e = error_frame(ErrorCode::not_entitled, "peer gw1 may not read channel 3");
    all.insert(all.end(), e.begin(), e.end());
    const auto a2 = answer_frame(MessageType::key_request, std::span(&r2, 1));
    all.insert(all.end(), a2.begin(), a2.end());
    c.send(all);
    c.stall();
  });
  KeymgrClient client(config_for({s.port()}));
  const KeyQuery q[] = {{1, 0}, {3, 0}, {2, 0}};
  const auto a = client.request_many(q);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_EQ(a->size(), 3u);
  ASSERT_TRUE((*a)[0]);
  EXPECT_EQ((*a)[0]->at(0).key_id, 11u);
  ASSERT_FALSE((*a)[1]);
  EXPECT_EQ((*a)[1].error().kind, ErrorKind::answer);
  EXPECT_TRUE((*a)[1].error().is(ErrorCode::not_entitled));
  EXPECT_NE((*a)[1].error().message.find("127.0.0.1:" + std::to_string(s.port())), std::string::npos);
  ASSERT_TRUE((*a)[2]);
  EXPECT_EQ((*a)[2]->at(0).key_id, 22u);
}

// not_entitled, unknown_key, unknown_channel are answers: no failover, and
// the connection stays.
TEST(Request, ErrorAnswersAreReturnedNotFailedOver) {
  FakeServer first([](FakeConn& c) {
    ASSERT_TRUE(c.accept_hello());
    const ErrorCode codes[] = {ErrorCode::not_entitled, ErrorCode::unknown_key, ErrorCode::unknown_channel,
                               ErrorCode::rate_limited};
    for (const auto code : codes) {
      if (!c.read()) return;
      c.send(error_frame(code, "no"));
    }
    c.stall();
  });
  FakeServer second(answer_requests);
  KeymgrClient client(config_for({first.port(), second.port()}));
  const ErrorCode expected[] = {ErrorCode::not_entitled, ErrorCode::unknown_key, ErrorCode::unknown_channel,
                                ErrorCode::rate_limited};
  for (const auto code : expected) {
    const auto a = client.request_keys(5);
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().kind, ErrorKind::answer);
    EXPECT_TRUE(a.error().is(code)) << a.error().message;
    EXPECT_NE(a.error().message.find(kmproto::error_code_name(code)), std::string::npos) << a.error().message;
  }
  EXPECT_EQ(first.connections(), 1);
  EXPECT_EQ(second.connections(), 0);
}

TEST(Request, StalledServerTimesOutWithinTheDeadline) {
  FakeServer s([](FakeConn& c) {
    ASSERT_TRUE(c.accept_hello());
    c.stall();
  });
  auto cfg = config_for({s.port()});
  cfg.request_timeout = milliseconds(300);
  KeymgrClient client(cfg);
  const auto t0 = Clock::now();
  const auto a = client.request_keys(1);
  const auto took = Clock::now() - t0;
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::timeout) << a.error().message;
  EXPECT_GE(took, milliseconds(290));
  EXPECT_LT(took, milliseconds(600));
  EXPECT_FALSE(client.connected());
}

TEST(Request, StalledHelloTimesOutWithinTheConnectDeadline) {
  FakeServer s([](FakeConn& c) { c.stall(); });
  auto cfg = config_for({s.port()});
  cfg.connect_timeout = milliseconds(300);
  KeymgrClient client(cfg);
  const auto t0 = Clock::now();
  const auto a = client.request_keys(1);
  const auto took = Clock::now() - t0;
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::timeout) << a.error().message;
  EXPECT_NE(a.error().message.find("HELLO"), std::string::npos) << a.error().message;
  EXPECT_LT(took, milliseconds(600));
}

// A frame with version 2: the stream is lost, the call fails with bad_frame
// and the next call dials again.
TEST(Request, MalformedFrameIsAProtocolErrorAndReconnects) {
  FakeServer s([](FakeConn& c) {
    if (c.index() > 0) return answer_requests(c);
    ASSERT_TRUE(c.accept_hello());
    if (!c.read()) return;
    auto bad = answer_frame(MessageType::key_request);
    bad[0] = 2;
    c.send(bad);
    c.stall();
  });
  KeymgrClient client(config_for({s.port()}));
  const auto a = client.request_keys(1);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::bad_frame) << a.error().message;
  EXPECT_FALSE(client.connected());
  const auto b = client.request_keys(1);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->at(0).key_id, 1101u);
  EXPECT_EQ(s.connections(), 2);
}

TEST(Request, WrongAnswerTypeAndBadKeyRecordAreProtocolErrors) {
  FakeServer s([](FakeConn& c) {
    ASSERT_TRUE(c.accept_hello());
    if (!c.read()) return;
    if (c.index() == 0) {
      c.send(answer_frame(MessageType::key_push));
    } else {
      std::vector<std::uint8_t> out;
      kmproto::FrameBuilder b(out);
      b.begin(kmproto::answer_of(MessageType::key_request));
      const std::uint8_t short_record[5] = {0, 0, 0, 1, 0};
      b.add_bytes(ParamType::key_record, short_record);
      (void)b.finish();
      c.send(out);
    }
    c.stall();
  });
  KeymgrClient client(config_for({s.port()}));
  const auto a = client.request_keys(1);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::bad_frame);
  EXPECT_NE(a.error().message.find("KEY_PUSH answer"), std::string::npos) << a.error().message;
  const auto b = client.request_keys(1);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().kind, ErrorKind::bad_frame);
  EXPECT_NE(b.error().message.find("28"), std::string::npos) << b.error().message;
}

// The server closed the idle connection: the next call redials the same
// (only) endpoint instead of failing, and sent nothing on the closed one.
TEST(Request, IdleClosedConnectionIsRedialed) {
  FakeServer s([](FakeConn& c) {
    ASSERT_TRUE(c.accept_hello());
    const auto f = c.read();
    if (!f) return;
    const auto r = make_record(1, 100u + 1000u * static_cast<std::uint32_t>(c.index()), KeyState::current);
    c.send(answer_frame(MessageType::key_request, std::span(&r, 1)));
    if (c.index() > 0) c.stall();
  });
  KeymgrClient client(config_for({s.port()}));
  ASSERT_TRUE(client.request_keys(1));
  std::this_thread::sleep_for(milliseconds(100));
  const auto b = client.request_keys(1);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->at(0).key_id, 1100u);
  EXPECT_EQ(s.connections(), 2);
  EXPECT_TRUE(client.unanswered().empty());
}

TEST(Request, GeneratePushAndUsageReport) {
  FakeServer s([&](FakeConn& c) {
    ASSERT_TRUE(c.accept_hello());
    const auto gen = c.read();
    ASSERT_TRUE(gen);
    ASSERT_EQ(gen->type, MessageType::key_generate);
    std::uint32_t ch = 0, life = 0;
    std::uint8_t which = 0, suite = 0;
    std::uint16_t len = 0;
    EXPECT_EQ(gen->view().read_u32(ParamType::channel_id, ch), kmproto::Status::ok);
    EXPECT_EQ(gen->view().read_u8(ParamType::which, which), kmproto::Status::ok);
    EXPECT_EQ(gen->view().read_u8(ParamType::suite, suite), kmproto::Status::ok);
    EXPECT_EQ(gen->view().read_u16(ParamType::key_length, len), kmproto::Status::ok);
    EXPECT_EQ(gen->view().read_u32(ParamType::lifetime_ms, life), kmproto::Status::ok);
    EXPECT_EQ(ch, 4u);
    EXPECT_EQ(which, 2);
    EXPECT_EQ(suite, 2);
    EXPECT_EQ(len, 64);
    EXPECT_EQ(life, 10000u);
    const auto made = make_record(4, 9, KeyState::next, 64);
    c.send(answer_frame(MessageType::key_generate, std::span(&made, 1)));

    const auto push = c.read();
    ASSERT_TRUE(push);
    ASSERT_EQ(push->type, MessageType::key_push);
    kmproto::KeyRecordIterator it(push->view());
    kmproto::KeyRecord r;
    int n = 0;
    while (it.next(r)) EXPECT_EQ(r, make_record(4, static_cast<std::uint32_t>(10 + n++), KeyState::next, 64));
    EXPECT_EQ(n, 2);
    c.send(answer_frame(MessageType::key_push));

    const auto usage = c.read();
    ASSERT_TRUE(usage);
    ASSERT_EQ(usage->type, MessageType::usage_report);
    std::uint64_t packets = 0, bytes = 0;
    EXPECT_EQ(usage->view().read_u64(ParamType::packets, packets), kmproto::Status::ok);
    EXPECT_EQ(usage->view().read_u64(ParamType::bytes, bytes), kmproto::Status::ok);
    EXPECT_EQ(packets, 1000u);
    EXPECT_EQ(bytes, 1316000u);
    c.send(error_frame(ErrorCode::not_entitled, "peer gw1 may not report usage of channel 4"));
    c.stall();
  });
  KeymgrClient client(config_for({s.port()}));
  const auto made = client.generate(4, kmproto::Which::next, 2, 64, 10000);
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ(made->key_id, 9u);
  const kmproto::KeyRecord mine[] = {make_record(4, 10, KeyState::next, 64), make_record(4, 11, KeyState::next, 64)};
  const auto pushed = client.push(mine);
  EXPECT_TRUE(pushed) << pushed.error().message;
  const auto reported = client.report_usage(4, 9, 1000, 1316000);
  ASSERT_FALSE(reported);
  EXPECT_TRUE(reported.error().is(ErrorCode::not_entitled));
}

TEST(Request, NoEndpointsIsAConfigError) {
  KeymgrClient client(ClientConfig{});
  const auto a = client.request_keys(1);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::config);
}

TEST(Request, UnreadableTlsFilesAreAConfigError) {
  auto cfg = config_for({closed_port()});
  cfg.tls = TlsFiles{"/nonexistent/cert.pem", "/nonexistent/key.pem", "/nonexistent/ca.pem"};
  KeymgrClient client(cfg);
  const auto a = client.request_keys(1);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::config);
  EXPECT_NE(a.error().message.find("/nonexistent/ca.pem"), std::string::npos) << a.error().message;
}

}  // namespace
}  // namespace kmclient::test
