// keycast-keymgr over the wire (lab mode): every message and error code,
// entitlement, pipelining, malformed frames, accounts.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "keymgr_process.h"
#include "test_client.h"
#include "test_configs.h"

namespace keymgr::test {
namespace {

using kmproto::ErrorCode;
using kmproto::MessageType;
using kmproto::ParamType;

class Protocol : public ::testing::Test {
 protected:
  void SetUp() override {
    km_ = KeymgrProcess::start(dir_.path(), lab_config());
    ASSERT_TRUE(km_);
  }
  std::unique_ptr<TestClient> connect(std::uint8_t role, const std::string& id) {
    auto c = std::make_unique<TestClient>(km_->port());
    EXPECT_TRUE(c->ok());
    const auto a = c->hello(role, id, id + "-lab-token");
    EXPECT_TRUE(a && a->type == kmproto::answer_of(MessageType::hello)) << (a ? a->error_text() : "no answer");
    return c;
  }
  TempDir dir_;
  std::unique_ptr<KeymgrProcess> km_;
};

TEST_F(Protocol, HelloAnswersServerTime) {
  TestClient c(km_->port());
  const auto a = c.hello(kReceiver, "rx1", "rx1-lab-token");
  ASSERT_TRUE(a);
  ASSERT_EQ(a->type, kmproto::answer_of(MessageType::hello));
  std::uint64_t t = 0;
  ASSERT_EQ(a->view().read_u64(ParamType::server_time_ms, t), kmproto::Status::ok);
  EXPECT_GT(t, 1700000000000u);
}

TEST_F(Protocol, HelloRefusals) {
  const struct {
    std::uint8_t role;
    std::string id, token;
  } cases[] = {{kReceiver, "rx1", "wrong"}, {kReceiver, "rx1", ""}, {kReceiver, "nobody", "nobody-lab-token"},
               {kGateway, "rx1", "rx1-lab-token"}};
  for (const auto& k : cases) {
    TestClient c(km_->port());
    const auto a = c.hello(k.role, k.id, k.token);
    ASSERT_TRUE(a) << k.id;
    EXPECT_EQ(a->error_code(), static_cast<std::uint16_t>(ErrorCode::unauthenticated)) << k.id << "/" << k.token;
    EXPECT_TRUE(c.closed_by_server());
  }
}

TEST_F(Protocol, AnythingBeforeHelloIsUnauthenticated) {
  TestClient c(km_->port());
  const auto a = c.key_request(1);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->error_code(), static_cast<std::uint16_t>(ErrorCode::unauthenticated));
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(Protocol, KeyRequestGivesCurrentAndNextThenById) {
  auto c = connect(kReceiver, "rx1");
  const auto a = c->key_request(1);
  ASSERT_TRUE(a);
  ASSERT_EQ(a->type, kmproto::answer_of(MessageType::key_request)) << a->error_text();
  const auto recs = a->key_records();
  ASSERT_GE(recs.size(), 1u);
  EXPECT_EQ(recs[0].channel_id, 1u);
  EXPECT_EQ(recs[0].state, kmproto::KeyState::current);
  EXPECT_EQ(recs[0].suite, 3);  // aes128-ctr
  EXPECT_EQ(recs[0].key_length(), 16);
  EXPECT_EQ(recs[0].lifetime_ms, 10000u);
  EXPECT_LE(recs[0].remaining_ms, 10000u);
  EXPECT_EQ(recs[0].not_before_ms, 0u);

  const auto by_id = c->key_request(1, recs[0].key_id);
  ASSERT_TRUE(by_id);
  const auto again = by_id->key_records();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].material().size() == 16 &&
              std::equal(again[0].material().begin(), again[0].material().end(), recs[0].material().begin()));

  const auto unknown = c->key_request(1, recs[0].key_id + 100);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->error_code(), static_cast<std::uint16_t>(ErrorCode::unknown_key));
}

TEST_F(Protocol, EntitlementIsEnforced) {
  auto rx1 = connect(kReceiver, "rx1");
  const auto refused = rx1->key_request(3);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error_code(), static_cast<std::uint16_t>(ErrorCode::not_entitled));
  EXPECT_EQ(refused->error_text(), "peer rx1 is not entitled to channel 3");
  const auto unknown = rx1->key_request(99);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->error_code(), static_cast<std::uint16_t>(ErrorCode::unknown_channel));
  auto rx2 = connect(kReceiver, "rx2");
  const auto ok = rx2->key_request(3);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->type, kmproto::answer_of(MessageType::key_request));
  EXPECT_TRUE(km_->log().find("refused KEY_REQUEST: peer rx1 is not entitled to channel 3") != std::string::npos);
}

TEST_F(Protocol, PipelinedRequestsAreAnsweredInOrder) {
  auto c = connect(kReceiver, "rx1");
  std::vector<std::uint8_t> burst;
  for (int i = 0; i < 50; ++i) {
    const auto f = frame(MessageType::key_request, {{ParamType::channel_id, u32(i % 3 == 2 ? 3 : 1 + i % 2)}});
    burst.insert(burst.end(), f.begin(), f.end());
  }
  ASSERT_TRUE(c->send(burst));
  for (int i = 0; i < 50; ++i) {
    const auto a = c->read();
    ASSERT_TRUE(a) << i;
    if (i % 3 == 2) {
      EXPECT_EQ(a->error_code(), static_cast<std::uint16_t>(ErrorCode::not_entitled)) << i;
    } else {
      ASSERT_EQ(a->type, kmproto::answer_of(MessageType::key_request)) << i;
      EXPECT_EQ(a->key_records().at(0).channel_id, static_cast<std::uint32_t>(1 + i % 2)) << i;
    }
  }
}

TEST_F(Protocol, MalformedFramesGetBadMessageAndClose) {
  const std::vector<std::vector<std::uint8_t>> bad = {
      {0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00},                    // wrong version
      {0x01, 0x00, 0x02, 0x00, 0x01, 0x00, 0x01},                    // length over limit
      {0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04, 0x00, 0x04, 0x00, 0x09},  // parameter overruns
      {0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x04},        // truncated parameter header
  };
  for (const auto& b : bad) {
    auto c = connect(kReceiver, "rx1");
    ASSERT_TRUE(c->send(b));
    const auto a = c->read();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->error_code(), static_cast<std::uint16_t>(ErrorCode::bad_message));
    EXPECT_TRUE(c->closed_by_server());
  }
}

TEST_F(Protocol, GatewayGeneratesAndPushesKeysForItsChannel) {
  auto gw = connect(kGateway, "gw1");
  auto generate = [&](std::uint8_t which) {
    gw->send(frame(MessageType::key_generate, {{ParamType::channel_id, u32(4)}, {ParamType::which, u8(which)},
                                               {ParamType::suite, u8(2)}, {ParamType::key_length, u16(64)},
                                               {ParamType::lifetime_ms, u32(10000)}}));
    return gw->read();
  };
  const auto cur = generate(1);
  ASSERT_TRUE(cur);
  ASSERT_EQ(cur->type, kmproto::answer_of(MessageType::key_generate)) << cur->error_text();
  const auto c = cur->key_records().at(0);
  EXPECT_EQ(c.state, kmproto::KeyState::current);
  EXPECT_EQ(c.key_length(), 64);
  const auto nxt = generate(2);
  ASSERT_TRUE(nxt);
  const auto n = nxt->key_records().at(0);
  EXPECT_EQ(n.key_id, c.key_id + 1);
  EXPECT_EQ(n.state, kmproto::KeyState::next);
  EXPECT_GT(n.not_before_ms, 0u);
  const auto nxt2 = generate(2);  // asked again: the same next key
  ASSERT_TRUE(nxt2);
  EXPECT_EQ(nxt2->key_records().at(0).key_id, n.key_id);

  // Channel 1's keys are the key manager's own.
  gw->send(frame(MessageType::key_generate, {{ParamType::channel_id, u32(1)}, {ParamType::which, u8(1)},
                                             {ParamType::suite, u8(3)}, {ParamType::key_length, u16(16)},
                                             {ParamType::lifetime_ms, u32(10000)}}));
  const auto refused = gw->read();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error_code(), static_cast<std::uint16_t>(ErrorCode::not_entitled));

  // A receiver cannot make keys.
  auto rx = connect(kReceiver, "rx1");
  rx->send(frame(MessageType::key_generate, {{ParamType::channel_id, u32(4)}, {ParamType::which, u8(1)},
                                             {ParamType::suite, u8(2)}, {ParamType::key_length, u16(64)},
                                             {ParamType::lifetime_ms, u32(10000)}}));
  const auto rx_refused = rx->read();
  ASSERT_TRUE(rx_refused);
  EXPECT_EQ(rx_refused->error_code(), static_cast<std::uint16_t>(ErrorCode::not_entitled));

  // A pushed key becomes the channel's next-but-one and is served by id.
  kmproto::KeyRecord r;
  r.channel_id = 4;
  r.key_id = n.key_id + 1;
  r.suite = 2;
  r.state = kmproto::KeyState::next;
  r.lifetime_ms = 10000;
  r.remaining_ms = 10000;
  r.not_before_ms = n.not_before_ms + 10000;
  std::vector<std::uint8_t> m(64, 0x5C);
  ASSERT_EQ(r.set_material(m), kmproto::Status::ok);
  std::vector<std::uint8_t> push;
  kmproto::FrameBuilder b(push);
  b.begin(MessageType::key_push);
  b.add_key_record(r);
  ASSERT_EQ(b.finish(), kmproto::Status::ok);
  gw->send(push);
  const auto pushed = gw->read();
  ASSERT_TRUE(pushed);
  EXPECT_EQ(pushed->type, kmproto::answer_of(MessageType::key_push)) << pushed->error_text();
  const auto got = gw->key_request(4, r.key_id);
  ASSERT_TRUE(got);
  const auto g = got->key_records().at(0);
  EXPECT_TRUE(std::equal(m.begin(), m.end(), g.material().begin(), g.material().end()));
}

TEST_F(Protocol, UsageReportsAndRequestsShowInAccounts) {
  auto rx = connect(kReceiver, "rx1");
  const auto a = rx->key_request(1);
  ASSERT_TRUE(a);
  const std::uint32_t key = a->key_records().at(0).key_id;
  ASSERT_TRUE(rx->key_request(1));
  auto gw = connect(kGateway, "gw1");
  gw->send(frame(MessageType::usage_report, {{ParamType::channel_id, u32(1)}, {ParamType::key_id, u32(key)},
                                             {ParamType::packets, u64(1000)}, {ParamType::bytes, u64(1316000)}}));
  const auto ack = gw->read();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->type, kmproto::answer_of(MessageType::usage_report)) << ack->error_text();

  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // batched request counts reach the store
  std::string out;
  ASSERT_EQ(run_keymgr({"accounts", "--state-dir", km_->state_dir().string(), "--format", "json"}, &out), 0) << out;
  const auto rows = nlohmann::json::parse(out);
  std::uint64_t rx_requests = 0, rx_bytes = 0, gw_bytes = 0;
  for (const auto& r : rows) {
    if (r["peer"] == "rx1" && r["channel"] == 1) {
      rx_requests += r["requests"].get<std::uint64_t>();
      rx_bytes += r["bytes"].get<std::uint64_t>();
    }
    if (r["peer"] == "gw1" && r["channel"] == 1) gw_bytes += r["bytes"].get<std::uint64_t>();
  }
  EXPECT_EQ(rx_requests, 2u);
  EXPECT_EQ(rx_bytes, 1316000u) << "receiver charged the bytes sent under the key it fetched";
  EXPECT_EQ(gw_bytes, 1316000u);

  ASSERT_EQ(run_keymgr({"accounts", "--state-dir", km_->state_dir().string(), "--peer", "rx1"}, &out), 0);
  EXPECT_EQ(out.rfind("hour,peer,channel,requests,packets,bytes\n", 0), 0u);
  EXPECT_NE(out.find(",rx1,1,2,1000,1316000"), std::string::npos) << out;
}

}  // namespace
}  // namespace keymgr::test

namespace keymgr::test {
namespace {

TEST(Rotation, UsageReportsMakeTheNextKeyOfAByteRotatedChannel) {
  TempDir dir;
  std::string config = lab_config();
  const std::string ch1 = "id = 1\nsuite = \"aes128-ctr\"\nlifetime_ms = 10000\n";
  config.replace(config.find(ch1), ch1.size(), ch1 + "rotate_bytes = 1000\n");
  const auto km = KeymgrProcess::start(dir.path(), config);
  ASSERT_TRUE(km);
  TestClient gw(km->port());
  ASSERT_TRUE(gw.hello(1, "gw1", "gw1-lab-token"));
  const auto first = gw.key_request(1);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->key_records().size(), 1u) << "only a current key at the start of a 10 s period";
  const std::uint32_t key = first->key_records()[0].key_id;
  auto report = [&](std::uint64_t bytes) {
    gw.send(frame(MessageType::usage_report, {{ParamType::channel_id, u32(1)}, {ParamType::key_id, u32(key)},
                                              {ParamType::packets, u64(1)}, {ParamType::bytes, u64(bytes)}}));
    const auto a = gw.read();
    ASSERT_TRUE(a);
    ASSERT_EQ(a->error_code(), 0) << a->error_text();
  };
  report(300);
  EXPECT_EQ(gw.key_request(1)->key_records().size(), 1u) << "30 % used: not yet";
  report(250);  // 55 % of the 1000-byte budget used, X = 50 % left
  const auto after = gw.key_request(1);
  ASSERT_TRUE(after);
  ASSERT_EQ(after->key_records().size(), 2u);
  EXPECT_EQ(after->key_records()[1].key_id, key + 1);
}

}  // namespace
}  // namespace keymgr::test
