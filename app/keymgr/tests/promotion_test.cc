// A replica promoted to master (its state directory served as a master's):
// it keeps serving the old master's keys, and makes its own past any id the
// old master may have made unseen. A store a master served is refused to a
// replica, and a replica ahead of its master is refused by that master.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <fstream>
#include <thread>

#include "core/key_schedule.h"
#include "keymgr_process.h"
#include "test_client.h"
#include "test_configs.h"

namespace keymgr::test {
namespace {

using namespace std::chrono_literals;

ConfigOptions options(std::uint32_t lifetime_ms) {
  ConfigOptions o;
  o.lifetime_ms = lifetime_ms;
  o.server_extra = "grace_ms = 3000\n";
  return o;
}

// Channel 1's current and next key ids as a receiver is served them.
std::vector<std::uint32_t> served_ids(std::uint16_t port) {
  TestClient c(port);
  std::vector<std::uint32_t> ids;
  const auto h = c.hello(2, "rx1", "rx1-lab-token");
  if (!h || h->error_code()) return ids;
  const auto a = c.key_request(1);
  if (!a || a->error_code()) return ids;
  for (const auto& r : a->key_records()) ids.push_back(r.key_id);
  return ids;
}

std::uint32_t newest(const std::vector<std::uint32_t>& ids) {
  return ids.empty() ? 0 : *std::max_element(ids.begin(), ids.end());
}

// Waits until channel 1 has a key above `above`; its id, 0 if none came.
std::uint32_t wait_for_key_above(std::uint16_t port, std::uint32_t above, std::chrono::milliseconds limit) {
  for (auto until = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(20ms))
    if (const std::uint32_t id = newest(served_ids(port)); id > above) return id;
  return 0;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A master and its replica1, channels of lifetime_ms; promote() kills the
// master and serves the replica's state directory as a master.
class ReplicaPromotion : public ::testing::Test {
 protected:
  void start_pair(std::uint32_t lifetime_ms) {
    lifetime_ms_ = lifetime_ms;
    const std::uint16_t mport = free_port();
    master = KeymgrProcess::start(mdir_.path(), master_config(mport, options(lifetime_ms)));
    ASSERT_TRUE(master);
    replica = KeymgrProcess::start(rdir_.path(), replica_config(mport, options(lifetime_ms)));
    ASSERT_TRUE(replica);
  }
  std::unique_ptr<KeymgrProcess> promote() {
    master->stop(SIGKILL);
    replica->stop(SIGTERM);
    return KeymgrProcess::start(rdir_.path(), master_config(free_port(), options(lifetime_ms_)), replica->state_dir());
  }

  std::unique_ptr<KeymgrProcess> master, replica;

 private:
  TempDir mdir_, rdir_;
  std::uint32_t lifetime_ms_ = 0;
};

TEST_F(ReplicaPromotion, PromotedReplicaServesTheOldKeysAndMakesItsOwnPastAnyTheOldMasterMayHaveMade) {
  ASSERT_NO_FATAL_FAILURE(start_pair(3000));
  // Until the replica serves a next key the master made: then it has all it will get.
  std::uint32_t last_of_master = 0;
  for (int i = 0; i < 200 && served_ids(replica->port()).size() < 2; ++i) std::this_thread::sleep_for(20ms);
  last_of_master = newest(served_ids(replica->port()));
  ASSERT_EQ(served_ids(replica->port()).size(), 2u) << replica->log();
  ASSERT_EQ(newest(served_ids(master->port())), last_of_master);

  auto promoted = promote();
  ASSERT_TRUE(promoted);
  EXPECT_TRUE(has(promoted->log(), "promoted: ")) << promoted->log();

  // The old master's keys are still served, by id too.
  TestClient c(promoted->port());
  ASSERT_TRUE(c.hello(2, "rx1", "rx1-lab-token"));
  const auto old = c.key_request(1, last_of_master);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->error_code(), 0) << old->error_text();

  // Its first key, current at once, skips the one the old master made ahead
  // of last_of_master's end (promoted before that end) and the margin, and
  // one more if that is needed for the other parity than the key in use
  // (last_of_master - 1, or last_of_master if it started meanwhile); the
  // one after follows on.
  const std::uint32_t first = wait_for_key_above(promoted->port(), last_of_master, 5s);
  EXPECT_GE(first, last_of_master + 2 + kPromotionMargin) << promoted->log();
  EXPECT_LE(first, last_of_master + 3 + kPromotionMargin) << promoted->log();
  EXPECT_TRUE(has(promoted->log(), "first key since this key manager was promoted: id " + std::to_string(first)))
      << promoted->log();
  EXPECT_EQ(wait_for_key_above(promoted->port(), first, 5s), first + 1) << promoted->log();

  // Served as a master again: no second promotion.
  const auto dir = promoted->state_dir();
  promoted->stop(SIGTERM);
  promoted = KeymgrProcess::start(dir.parent_path(), master_config(free_port(), options(3000)), dir);
  ASSERT_TRUE(promoted);
  EXPECT_FALSE(has(promoted->log(), "promoted: ")) << promoted->log();
}

// KEY_GENERATE as gw1 on channel 4 (xor-inv, origin gateway, 64-byte keys).
std::optional<OwnedFrame> generate(TestClient& gw, kmproto::Which which, std::uint32_t lifetime_ms) {
  gw.send(frame(kmproto::MessageType::key_generate,
                {{kmproto::ParamType::channel_id, u32(4)},
                 {kmproto::ParamType::which, u8(static_cast<std::uint8_t>(which))},
                 {kmproto::ParamType::suite, u8(2)}, {kmproto::ParamType::key_length, u16(64)},
                 {kmproto::ParamType::lifetime_ms, u32(lifetime_ms)}}));
  return gw.read();
}

// A gateway-origin channel whose current key the old master made: a next key
// is refused (it could take an id the old master gave another), which makes
// gateways ask for a current one, made past the old master's ids.
TEST_F(ReplicaPromotion, AGatewayOriginChannelGetsACurrentKeyOfItsOwnAfterThePromotion) {
  ASSERT_NO_FATAL_FAILURE(start_pair(60000));
  {
    TestClient gw(master->port());
    ASSERT_TRUE(gw.hello(1, "gw1", "gw1-lab-token"));
    const auto made = generate(gw, kmproto::Which::current, 60000);
    ASSERT_TRUE(made);
    ASSERT_EQ(made->error_code(), 0) << made->error_text();
    ASSERT_EQ(made->key_records().at(0).key_id, 1u);
  }
  bool copied = false;
  for (int i = 0; i < 200 && !copied; ++i, std::this_thread::sleep_for(20ms)) {
    TestClient gw(replica->port());
    copied = gw.hello(1, "gw1", "gw1-lab-token") && [&] {
      const auto a = gw.key_request(4, 1);
      return a && a->error_code() == 0;
    }();
  }
  ASSERT_TRUE(copied) << replica->log();
  auto promoted = promote();
  ASSERT_TRUE(promoted);

  TestClient gw(promoted->port());
  ASSERT_TRUE(gw.hello(1, "gw1", "gw1-lab-token"));
  const auto next = generate(gw, kmproto::Which::next, 60000);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->error_code(), static_cast<std::uint16_t>(kmproto::ErrorCode::unknown_key)) << next->error_text();
  const auto current = generate(gw, kmproto::Which::current, 60000);
  ASSERT_TRUE(current);
  ASSERT_EQ(current->error_code(), 0) << current->error_text();
  // Key 1 in use, promoted before its end: 2 may exist, + margin, + 1, odd -> even.
  EXPECT_EQ(current->key_records().at(0).key_id, 2 + kPromotionMargin + 2) << promoted->log();
  const auto after = generate(gw, kmproto::Which::next, 60000);  // its own keys follow on
  ASSERT_TRUE(after);
  ASSERT_EQ(after->error_code(), 0) << after->error_text();
  EXPECT_EQ(after->key_records().at(0).key_id, current->key_records().at(0).key_id + 1);
}

// A store from before the role was recorded, with keys, served as a master:
// taken as a master's, and the operator told what to do had it been a
// replica's.
TEST(ServedRole, AStoreWithoutItsRoleServedAsMasterSaysWhatThatMeans) {
  TempDir dir;
  auto master = KeymgrProcess::start(dir.path(), lab_config(options(3000)));
  ASSERT_TRUE(master);
  const auto state = master->state_dir();
  master->stop(SIGTERM);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((state / "keys.db").c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, "DELETE FROM meta WHERE name = 'served_as'", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  master = KeymgrProcess::start(dir.path(), lab_config(options(3000)), state);
  ASSERT_TRUE(master);
  EXPECT_TRUE(has(master->log(), state.string() + " has no record of the role it was served in")) << master->log();
  master->stop(SIGTERM);
  master = KeymgrProcess::start(dir.path(), lab_config(options(3000)), state);  // recorded now
  ASSERT_TRUE(master);
  EXPECT_FALSE(has(master->log(), "has no record of the role")) << master->log();
}

TEST(ServedRole, AStoreAMasterServedIsRefusedToAReplica) {
  TempDir mdir, rdir;
  auto master = KeymgrProcess::start(mdir.path(), lab_config(options(3000)) + replica_peer());
  ASSERT_TRUE(master);
  const auto state = master->state_dir();
  master->stop(SIGTERM);
  const auto config = rdir.path() / "replica.toml";
  std::ofstream(config) << replica_config(free_port(), options(3000));
  std::string out;
  EXPECT_EQ(run_keymgr({"--config", config.string(), "--state-dir", state.string()}, &out, 10s), 1) << out;
  EXPECT_TRUE(has(out, state.string() + " was served by a master: a replica needs a state directory of its own"))
      << out;
}

TEST(ServedRole, AReplicaAheadOfItsMasterIsRefusedByIt) {
  TempDir mdir, mdir2, rdir;
  const std::uint16_t mport = free_port();
  auto master = KeymgrProcess::start(mdir.path(), master_config(mport, options(300)));
  ASSERT_TRUE(master);
  auto replica = KeymgrProcess::start(rdir.path(), replica_config(mport, options(300)));
  ASSERT_TRUE(replica);
  // 300 ms keys: a few versions a second on each of channels 1-3.
  const std::uint32_t later = wait_for_key_above(replica->port(), 8, 10s);
  ASSERT_GT(later, 8u) << replica->log();
  master->stop(SIGKILL);

  // Another master, with a store of its own, where the first was.
  auto other = KeymgrProcess::start(mdir2.path(), master_config(mport, options(60000)));
  ASSERT_TRUE(other);
  bool refused = false;
  for (int i = 0; i < 150 && !refused; ++i) {
    std::this_thread::sleep_for(20ms);
    refused = has(replica->log(), "is past this key manager's version") &&
              has(replica->log(), "the replica's store is not a copy of this one");
  }
  EXPECT_TRUE(refused) << replica->log();
  EXPECT_TRUE(has(other->log(), "refused SUBSCRIBE from replica1")) << other->log();
}

}  // namespace
}  // namespace keymgr::test
