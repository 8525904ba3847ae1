// KeyService's housekeeping. It remembers each (receiver, channel, key) fetch
// it recorded, so that a key fetched again is not written again, and forgets
// a key's fetches when the key expires: on a master when it expires the key,
// on a replica when the master's expiry arrives (a replica expires nothing
// itself). With server.retention_days it deletes old keys and accounts. A
// peer's refused KEY_PUSH is its error, not a store failure. A key is served
// by id until grace_ms after it stopped being current.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "config/keymgr_config.h"
#include "kmproto/frame.h"
#include "kmproto/frame_builder.h"
#include "kmproto/key_record.h"
#include "service/key_service.h"
#include "store/tests/test_util.h"
#include "service_harness.h"
#include "test_client.h"
#include "test_configs.h"

namespace keymgr {
namespace {

using kmproto::MessageType;
using kmproto::ParamType;
using test::frame;
using test::u32;

constexpr std::uint64_t kStart = 1'700'000'000'000ull;
constexpr std::uint32_t kLifetimeMs = 10000;

class Housekeeping : public ::testing::Test {
 protected:
  static test::ConfigOptions options(const std::string& server_extra = {}) {
    test::ConfigOptions o;
    o.lifetime_ms = kLifetimeMs;
    o.server_extra = server_extra;
    return o;
  }

  void start(const std::string& config_text) {
    config_ = load_keymgr_config_string(config_text, "test");
    auto s = store::KeyStore::open(dir_.path(), store::test::test_kek());
    ASSERT_TRUE(s.ok()) << s.message();
    store_.emplace(std::move(*s));
    service_ = std::make_unique<KeyService>(config_, *store_, [this] { return now_; });
    ASSERT_TRUE(service_->load(nullptr));
    rx_.connection_id = 1;
    ASSERT_EQ(send(rx_, test::lab_hello("rx1", kmproto::Role::receiver)), kmproto::answer_of(MessageType::hello));
  }

  // The type of the first frame answered.
  MessageType send(Peer& peer, const std::vector<std::uint8_t>& bytes) {
    const secmem::Bytes out = test::handle_encoded(*service_, peer, bytes);
    kmproto::FrameDecoder d;
    kmproto::Frame answer;
    std::size_t used = 0;
    EXPECT_EQ(d.decode(out, answer, used), kmproto::Status::ok);
    return answer.type;
  }

  MessageType request(std::uint32_t channel_id) {
    return send(rx_, frame(MessageType::key_request, {{ParamType::channel_id, u32(channel_id)}}));
  }

  // A KEY_DELIVERY's record as a replica applies it; no material: expired.
  void deliver(std::uint64_t version, std::uint32_t key_id, std::uint64_t not_before_ms, bool expired) {
    kmproto::KeyRecord r;
    r.channel_id = 1;
    r.key_id = key_id;
    r.suite = 1;  // aes128-ctr, as channel 1
    r.state = kmproto::KeyState::next;
    r.lifetime_ms = kLifetimeMs;
    r.remaining_ms = kLifetimeMs;
    r.not_before_ms = not_before_ms;
    if (!expired) {
      ASSERT_EQ(r.set_material(store::test::make_key(1, key_id).material.view()), kmproto::Status::ok);
    }
    std::string why;
    ASSERT_TRUE(service_->apply_delivery(version, r, &why)) << why;
  }

  store::test::TempDir dir_;
  KeymgrConfig config_;
  std::optional<store::KeyStore> store_;
  std::unique_ptr<KeyService> service_;
  std::uint64_t now_ = kStart;
  Peer rx_;
};

TEST_F(Housekeeping, AMasterForgetsTheFetchesOfTheKeysItExpires) {
  start(test::lab_config(options()));
  (void)service_->tick();  // current keys of channels 1-3
  now_ += kLifetimeMs / 2;
  (void)service_->tick();  // and their next keys
  ASSERT_EQ(request(1), kmproto::answer_of(MessageType::key_request));
  ASSERT_EQ(request(2), kmproto::answer_of(MessageType::key_request));
  EXPECT_EQ(service_->fetches_remembered(), 4u);  // current and next of two channels
  ASSERT_EQ(request(1), kmproto::answer_of(MessageType::key_request));
  EXPECT_EQ(service_->fetches_remembered(), 4u);

  now_ += kLifetimeMs / 2 + config_.server.grace_ms + 1;  // the first keys are past their grace
  (void)service_->tick();
  EXPECT_GE(service_->counters().keys_expired, 2u);
  EXPECT_EQ(service_->fetches_remembered(), 2u);  // the next keys, current now
}

TEST_F(Housekeeping, AReplicaForgetsTheFetchesOfTheKeysTheMasterExpired) {
  start(test::replica_config(7700, options()));
  deliver(1, 1, kStart, false);
  deliver(2, 2, kStart + kLifetimeMs, false);
  now_ += kLifetimeMs / 2;
  ASSERT_EQ(request(1), kmproto::answer_of(MessageType::key_request));
  EXPECT_EQ(service_->fetches_remembered(), 2u);

  now_ += kLifetimeMs / 2 + config_.server.grace_ms + 1;
  (void)service_->tick();
  EXPECT_EQ(service_->fetches_remembered(), 2u) << "a replica waits for the master's expiry";
  deliver(3, 1, 0, true);
  EXPECT_EQ(service_->fetches_remembered(), 1u);
}

// Keys shorter than the grace (200 ms, grace 2 s): one two or more behind
// current is still served by id until grace_ms after it stopped being
// current (an input lagging by more than one key), then expired.
TEST_F(Housekeeping, KeysShorterThanTheGraceAreServedByIdUntilItEnds) {
  test::ConfigOptions o = options();
  o.lifetime_ms = 200;
  start(test::lab_config(o));
  auto by_id = [&](std::uint32_t key_id) {
    return send(rx_,
                frame(MessageType::key_request, {{ParamType::channel_id, u32(1)}, {ParamType::key_id, u32(key_id)}}));
  };
  const auto answered = kmproto::answer_of(MessageType::key_request);
  auto run_until = [&](std::uint64_t t) {
    while (now_ < t) {
      (void)service_->tick();
      now_ += 100;
    }
    (void)service_->tick();
  };
  run_until(kStart + 800);  // key 5 current, 4 previous, 3 stopped 200 ms ago
  EXPECT_EQ(by_id(3), answered);
  EXPECT_EQ(by_id(1), answered);
  run_until(kStart + 600 + config_.server.grace_ms + 100);
  EXPECT_NE(by_id(3), answered) << "grace over";
  EXPECT_EQ(by_id(5), answered) << "stopped 1.7 s ago";
  EXPECT_GE(service_->counters().keys_expired, 3u);
}

TEST_F(Housekeeping, RetentionDeletesKeysThatEndedLongerAgo) {
  start(test::lab_config(options("retention_days = 1\n")));
  (void)service_->tick();  // key 1 of channels 1-3
  now_ += kLifetimeMs / 2;
  (void)service_->tick();  // key 2
  now_ += 86'400'000 + 60'000;  // a day after key 2's end: key 3 is made, 1 and 2 expire and go
  (void)service_->tick();
  EXPECT_EQ(service_->counters().retention_deleted, 6u);
  for (const std::uint32_t ch : {1u, 2u, 3u}) {
    EXPECT_EQ(store_->get_key(ch, 1).error(), store::StoreError::not_found) << ch;
    EXPECT_EQ(store_->get_key(ch, 2).error(), store::StoreError::not_found) << ch;
    EXPECT_EQ(*store_->max_key_id(ch), 3u) << ch;
  }
  ASSERT_EQ(request(1), kmproto::answer_of(MessageType::key_request));  // the keys in use are served
  now_ += 60'000;
  (void)service_->tick();  // the next run is 10 minutes on
  EXPECT_EQ(service_->counters().retention_deleted, 6u);
}

// store_failures_total "must stay 0" (operator guide): a gateway pushing a
// key id that exists with other content gets bad_message and the store's
// reason, and the store has not failed.
TEST_F(Housekeeping, AConflictingPushIsThePeersErrorNotAStoreFailure) {
  start(test::lab_config(options()));
  Peer gw;
  gw.connection_id = 2;
  ASSERT_EQ(send(gw, test::lab_hello("gw1", kmproto::Role::gateway)), kmproto::answer_of(MessageType::hello));
  const auto push = [&](std::uint8_t fill) {
    kmproto::KeyRecord r;
    r.channel_id = 4;  // xor-inv, 64-byte keys, origin gateway
    r.key_id = 1;
    r.suite = 2;
    r.lifetime_ms = kLifetimeMs;
    r.remaining_ms = kLifetimeMs;
    r.not_before_ms = now_;
    const std::vector<std::uint8_t> m(64, fill);
    EXPECT_EQ(r.set_material(m), kmproto::Status::ok);
    std::vector<std::uint8_t> f;
    kmproto::FrameBuilder b(f);
    b.begin(MessageType::key_push);
    b.add_key_record(r);
    EXPECT_EQ(b.finish(), kmproto::Status::ok);
    const secmem::Bytes out = test::handle_encoded(*service_, gw, f);
    kmproto::FrameDecoder d;
    kmproto::Frame answer;
    std::size_t used = 0;
    EXPECT_EQ(d.decode(out, answer, used), kmproto::Status::ok);
    std::string_view text;
    (void)answer.read_string(ParamType::error_text, text);
    return std::make_pair(answer.type, std::string(text));
  };
  EXPECT_EQ(push(0x11).first, kmproto::answer_of(MessageType::key_push));
  EXPECT_EQ(push(0x11).first, kmproto::answer_of(MessageType::key_push)) << "the same key again";
  const auto [type, text] = push(0x22);
  EXPECT_EQ(type, MessageType::error);
  EXPECT_NE(text.find("different content"), std::string::npos) << text;
  EXPECT_EQ(service_->counters().store_failures, 0u);
  EXPECT_EQ(service_->counters().errors[static_cast<std::size_t>(kmproto::ErrorCode::bad_message)], 1u);
}

TEST_F(Housekeeping, NoRetentionKeepsEverything) {
  start(test::lab_config(options()));
  (void)service_->tick();
  now_ += 400ull * 86'400'000;
  (void)service_->tick();
  EXPECT_EQ(service_->counters().retention_deleted, 0u);
  EXPECT_TRUE(store_->get_key(1, 1).ok());
}

}  // namespace
}  // namespace keymgr
