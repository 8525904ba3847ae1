// Key rotation on the master (origin keymgr) over the wire, and kill -9 at
// any moment losing no key: after a restart the same keys are served.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "keymgr_process.h"
#include "test_client.h"
#include "test_configs.h"

namespace keymgr::test {
namespace {

using Material = std::vector<std::uint8_t>;

std::unique_ptr<TestClient> receiver(std::uint16_t port) {
  auto c = std::make_unique<TestClient>(port);
  const auto a = c->hello(2, "rx1", "rx1-lab-token");
  EXPECT_TRUE(a && a->error_code() == 0);
  return c;
}

// Every key of channel 1 seen, by id; the same id must always carry the same material.
struct Seen {
  std::map<std::uint32_t, Material> material;
  std::vector<std::uint32_t> currents;  // current key id per poll, in order
  void add(const kmproto::KeyRecord& r) {
    const Material m(r.material().begin(), r.material().end());
    auto [it, fresh] = material.try_emplace(r.key_id, m);
    EXPECT_TRUE(fresh || it->second == m) << "key " << r.key_id << " changed its material";
  }
};

void poll_for(TestClient& c, Seen& seen, std::chrono::milliseconds how_long) {
  const auto end = std::chrono::steady_clock::now() + how_long;
  while (std::chrono::steady_clock::now() < end) {
    const auto a = c.key_request(1);
    ASSERT_TRUE(a);
    ASSERT_EQ(a->error_code(), 0) << a->error_text();
    const auto recs = a->key_records();
    for (const auto& r : recs) seen.add(r);
    if (!recs.empty() && recs[0].state == kmproto::KeyState::current) {
      if (seen.currents.empty() || seen.currents.back() != recs[0].key_id) seen.currents.push_back(recs[0].key_id);
      // At X = 50 % the next key exists: with remaining under 40 % it must be there.
      if (recs[0].remaining_ms < 0.4 * recs[0].lifetime_ms) {
        EXPECT_EQ(recs.size(), 2u) << "no next key with " << recs[0].remaining_ms << " ms left";
        if (recs.size() == 2) {
          EXPECT_EQ(recs[1].key_id, recs[0].key_id + 1);
          EXPECT_EQ(recs[1].state, kmproto::KeyState::next);
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

TEST(Lifecycle, KeysRotateWithIdsRisingByOne) {
  TempDir dir;
  ConfigOptions o;
  o.lifetime_ms = 500;
  const auto km = KeymgrProcess::start(dir.path(), lab_config(o));
  ASSERT_TRUE(km);
  auto c = receiver(km->port());
  Seen seen;
  poll_for(*c, seen, std::chrono::milliseconds(3000));
  ASSERT_GE(seen.currents.size(), 5u) << "expected a key change every 500 ms";
  for (std::size_t i = 1; i < seen.currents.size(); ++i) EXPECT_EQ(seen.currents[i], seen.currents[i - 1] + 1);
}

TEST(Lifecycle, PreviousKeyServedByIdWithinGraceThenExpired) {
  TempDir dir;
  ConfigOptions o;
  o.lifetime_ms = 400;
  o.server_extra = "grace_ms = 600\n";
  const auto km = KeymgrProcess::start(dir.path(), lab_config(o));
  ASSERT_TRUE(km);
  auto c = receiver(km->port());
  const auto first = c->key_request(1);
  ASSERT_TRUE(first);
  const std::uint32_t id = first->key_records().at(0).key_id;
  std::this_thread::sleep_for(std::chrono::milliseconds(550));  // switched; within grace
  const auto prev = c->key_request(1, id);
  ASSERT_TRUE(prev);
  ASSERT_EQ(prev->error_code(), 0) << prev->error_text();
  EXPECT_EQ(prev->key_records().at(0).state, kmproto::KeyState::previous);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // long past grace
  const auto gone = c->key_request(1, id);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->error_code(), static_cast<std::uint16_t>(kmproto::ErrorCode::unknown_key));
}

TEST(Lifecycle, KillNineDuringRotationLosesNoKey) {
  TempDir dir;
  ConfigOptions o;
  o.lifetime_ms = 1500;
  o.server_extra = "grace_ms = 5000\n";
  Seen seen;
  std::filesystem::path state;
  for (int round = 0; round < 3; ++round) {
    auto km = KeymgrProcess::start(dir.path(), lab_config(o), state);
    ASSERT_TRUE(km);
    state = km->state_dir();
    auto c = receiver(km->port());
    // Every key seen before is served again, byte for byte, while in grace.
    for (const auto& [id, m] : seen.material) {
      const auto a = c->key_request(1, id);
      ASSERT_TRUE(a);
      if (a->error_code() == static_cast<std::uint16_t>(kmproto::ErrorCode::unknown_key)) continue;  // expired
      ASSERT_EQ(a->error_code(), 0) << a->error_text();
      seen.add(a->key_records().at(0));
    }
    poll_for(*c, seen, std::chrono::milliseconds(900 + 300 * round));
    km->stop(SIGKILL);
  }
  ASSERT_GE(seen.currents.size(), 2u);
  for (std::size_t i = 1; i < seen.currents.size(); ++i) EXPECT_GT(seen.currents[i], seen.currents[i - 1]);
}

}  // namespace
}  // namespace keymgr::test

namespace keymgr::test {
namespace {

TEST(Lifecycle, KillNineLosesNoAnsweredRequestCount) {
  TempDir dir;
  const auto km = KeymgrProcess::start(dir.path(), lab_config());
  ASSERT_TRUE(km);
  auto c = receiver(km->port());
  std::vector<std::uint8_t> burst;
  constexpr int kRequests = 300;
  for (int i = 0; i < kRequests; ++i) {
    const auto f = frame(kmproto::MessageType::key_request, {{kmproto::ParamType::channel_id, u32(1)}});
    burst.insert(burst.end(), f.begin(), f.end());
  }
  ASSERT_TRUE(c->send(burst));
  for (int i = 0; i < kRequests; ++i) ASSERT_TRUE(c->read()) << i;
  km->stop(SIGKILL);  // right after the last answer

  std::string out;
  ASSERT_EQ(run_keymgr({"accounts", "--state-dir", km->state_dir().string(), "--peer", "rx1", "--format", "json"}, &out),
            0) << out;
  std::uint64_t counted = 0;
  for (const auto& row : nlohmann::json::parse(out)) counted += row["requests"].get<std::uint64_t>();
  EXPECT_EQ(counted, static_cast<std::uint64_t>(kRequests));
}

}  // namespace
}  // namespace keymgr::test
