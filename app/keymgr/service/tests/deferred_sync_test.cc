// KeyService with a deferred-sync store: what depends on a write waits for
// its sync (answers, key deliveries, shared memory) and nothing else does; a
// failed sync tells no one of what it may have lost.
#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <vector>

#include "config/keymgr_config.h"
#include "kmproto/frame.h"
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
using test::u16;
using test::u32;
using test::u64;
using test::u8;

constexpr std::uint64_t kNow = 1'700'000'000'000ull;

struct Sink : FrameSink {
  std::vector<std::uint8_t> bytes;
  void push(std::span<const std::uint8_t> f) override { bytes.insert(bytes.end(), f.begin(), f.end()); }
};

// The frames in bytes, by type.
std::vector<MessageType> types_of(std::span<const std::uint8_t> bytes) {
  std::vector<MessageType> types;
  kmproto::FrameDecoder d;
  std::size_t off = 0, used = 0;
  kmproto::Frame f;
  while (off < bytes.size() && d.decode(bytes.subspan(off), f, used) == kmproto::Status::ok) {
    types.push_back(f.type);
    off += used;
  }
  return types;
}

class DeferredSync : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = load_keymgr_config_string(test::lab_config(), "lab");
    auto s = store::KeyStore::open(dir_.path(), store::test::test_kek());
    ASSERT_TRUE(s.ok()) << s.message();
    store_.emplace(std::move(*s));
    service_ = std::make_unique<KeyService>(config_, *store_, [] { return kNow; });
    ASSERT_TRUE(service_->load(nullptr));
    service_->tick();  // channels 1..3: keys made here, on the disk (no syncer yet)
    ASSERT_TRUE(store_->defer_sync().ok());
    service_->set_syncer([this](std::uint64_t ticket, bool) { asked_.push_back(ticket); });
    service_->set_on_sync_failure([this] { ++failures_; });
    gw_ = hello(1, "gw1", kmproto::Role::gateway);
    rx_ = hello(2, "rx1", kmproto::Role::receiver);
  }

  struct Answer {
    std::vector<MessageType> types;
    bool held = false;
    std::shared_ptr<bool> released = std::make_shared<bool>(false);
  };
  // One frame from peer, and whether its answer waits.
  Answer send(Peer& peer, const std::vector<std::uint8_t>& bytes) {
    const secmem::Bytes out = test::handle_encoded(*service_, peer, bytes);
    Answer a;
    a.types = types_of(out);
    a.held = service_->hold_answers([r = a.released] { *r = true; });
    return a;
  }
  Peer hello(std::uint64_t id, const std::string& name, kmproto::Role role) {
    Peer p;
    p.connection_id = id;
    const auto a = send(p, test::lab_hello(name, role));
    EXPECT_TRUE(p.authenticated);
    EXPECT_FALSE(a.held);
    return p;
  }
  Answer generate_current() {
    return send(gw_, frame(MessageType::key_generate, {{ParamType::channel_id, u32(4)}, {ParamType::which, u8(1)},
                                                      {ParamType::suite, u8(2)}, {ParamType::key_length, u16(64)},
                                                      {ParamType::lifetime_ms, u32(10000)}}));
  }
  Answer request_channel_1() { return send(rx_, frame(MessageType::key_request, {{ParamType::channel_id, u32(1)}})); }

  store::test::TempDir dir_;
  KeymgrConfig config_;
  std::optional<store::KeyStore> store_;
  std::unique_ptr<KeyService> service_;
  std::vector<std::uint64_t> asked_;
  int failures_ = 0;
  Peer gw_, rx_;
};

TEST_F(DeferredSync, AnswersWaitForTheSyncOfTheirWriteOnly) {
  const Answer made = generate_current();
  EXPECT_EQ(made.types, std::vector{kmproto::answer_of(MessageType::key_generate)});
  EXPECT_TRUE(made.held);
  ASSERT_FALSE(asked_.empty());
  EXPECT_TRUE(service_->channel_keys(4).empty()) << "in shared memory before it is on the disk";

  // A key on the disk goes out at once, while the write above waits.
  const Answer served = request_channel_1();
  EXPECT_EQ(served.types, std::vector{kmproto::answer_of(MessageType::key_request)});
  EXPECT_FALSE(served.held);
  EXPECT_FALSE(*made.released);
  EXPECT_TRUE(service_->answers_waiting());

  service_->synced(asked_.back(), 0, 0.001);
  EXPECT_TRUE(*made.released);
  EXPECT_FALSE(service_->answers_waiting());
  EXPECT_EQ(service_->channel_keys(4).size(), 1u);

  const Answer usage = send(gw_, frame(MessageType::usage_report, {{ParamType::channel_id, u32(4)}, {ParamType::key_id, u32(1)},
                                                                   {ParamType::packets, u64(10)}, {ParamType::bytes, u64(13160)}}));
  EXPECT_EQ(usage.types, std::vector{kmproto::answer_of(MessageType::usage_report)});
  EXPECT_TRUE(usage.held);
  EXPECT_FALSE(request_channel_1().held);
  service_->synced(asked_.back() - 1, 0, 0.001);  // an earlier ticket does not cover it
  EXPECT_FALSE(*usage.released);
  service_->synced(asked_.back(), 0, 0.001);
  EXPECT_TRUE(*usage.released);
  EXPECT_EQ(failures_, 0);
}

TEST_F(DeferredSync, ARequestForAKeyNotYetOnTheDiskWaitsForIt) {
  const Answer made = generate_current();
  const Answer read = send(gw_, frame(MessageType::key_request, {{ParamType::channel_id, u32(4)}}));
  EXPECT_EQ(read.types, std::vector{kmproto::answer_of(MessageType::key_request)});
  EXPECT_TRUE(read.held);
  service_->synced(asked_.back(), 0, 0.001);
  EXPECT_TRUE(*made.released);
  EXPECT_TRUE(*read.released);
}

TEST_F(DeferredSync, SubscribersGetANewKeyOnceItIsOnTheDisk) {
  auto sink = std::make_shared<Sink>();
  gw_.sink = sink;
  const Answer sub = send(gw_, frame(MessageType::subscribe, {{ParamType::since_version, u64(service_->store_version())}}));
  EXPECT_EQ(sub.types, std::vector{kmproto::answer_of(MessageType::subscribe)});
  (void)generate_current();
  EXPECT_TRUE(types_of(sink->bytes).empty());
  service_->synced(asked_.back(), 0, 0.001);
  EXPECT_EQ(types_of(sink->bytes), std::vector{MessageType::key_delivery});
}

TEST_F(DeferredSync, AFailedSyncStopsTheServiceAndReleasesNothing) {
  const Answer made = generate_current();
  service_->synced(asked_.back(), EIO, 0.5);
  EXPECT_EQ(failures_, 1);
  EXPECT_FALSE(*made.released);
  EXPECT_TRUE(service_->channel_keys(4).empty());
  service_->synced(asked_.back(), 0, 0.001);  // a later sync that works brings back nothing
  EXPECT_FALSE(*made.released);
  EXPECT_TRUE(service_->channel_keys(4).empty());
  EXPECT_EQ(failures_, 1);
  EXPECT_EQ(service_->counters().store_sync.count, 2u);
}

}  // namespace
}  // namespace keymgr
