// A replica key manager: catches up from its master, serves the same keys,
// refuses to make keys, and after the master restarts (or the link drops)
// resumes with nothing missing.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "keymgr_process.h"
#include "test_client.h"
#include "test_configs.h"

namespace keymgr::test {
namespace {

std::string master_config(std::uint16_t port, std::uint32_t lifetime_ms) {
  ConfigOptions o;
  o.lifetime_ms = lifetime_ms;
  o.server_extra = "grace_ms = 3000\n";
  return master_config(port, o);
}

std::string replica_config(std::uint16_t master_port, std::uint32_t lifetime_ms) {
  ConfigOptions o;
  o.lifetime_ms = lifetime_ms;
  o.server_extra = "grace_ms = 3000\n";
  return replica_config(master_port, o);
}

using Keys = std::map<std::uint32_t, std::vector<std::uint8_t>>;

// The current and next keys of channel 1 as a receiver sees them.
Keys fetch(std::uint16_t port) {
  TestClient c(port);
  Keys out;
  const auto h = c.hello(2, "rx1", "rx1-lab-token");
  if (!h || h->error_code()) return out;
  const auto a = c.key_request(1);
  if (!a || a->error_code()) return out;
  for (const auto& r : a->key_records()) out[r.key_id].assign(r.material().begin(), r.material().end());
  return out;
}

// Waits until the replica serves what the master serves.
bool converge(std::uint16_t master, std::uint16_t replica) {
  for (int i = 0; i < 100; ++i) {
    const Keys m = fetch(master), r = fetch(replica);
    if (!m.empty() && m == r) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST(Replication, ReplicaServesTheMastersKeysAndRefusesToMakeAny) {
  TempDir mdir, rdir;
  const std::uint16_t mport = free_port();
  auto master = KeymgrProcess::start(mdir.path(), master_config(mport, 10000));
  ASSERT_TRUE(master);
  auto replica = KeymgrProcess::start(rdir.path(), replica_config(mport, 10000));
  ASSERT_TRUE(replica);
  EXPECT_TRUE(converge(master->port(), replica->port())) << replica->log();

  TestClient gw(replica->port());
  ASSERT_TRUE(gw.hello(1, "gw1", "gw1-lab-token"));
  gw.send(frame(kmproto::MessageType::key_generate,
                {{kmproto::ParamType::channel_id, u32(4)}, {kmproto::ParamType::which, u8(1)},
                 {kmproto::ParamType::suite, u8(2)}, {kmproto::ParamType::key_length, u16(64)},
                 {kmproto::ParamType::lifetime_ms, u32(10000)}}));
  const auto a = gw.read();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->error_code(), static_cast<std::uint16_t>(kmproto::ErrorCode::not_master));
}

TEST(Replication, ReplicaCatchesUpAfterMasterRestartsAndKeysMoveOn) {
  TempDir mdir, rdir;
  const std::uint16_t mport = free_port();
  auto master = KeymgrProcess::start(mdir.path(), master_config(mport, 400));
  ASSERT_TRUE(master);
  auto replica = KeymgrProcess::start(rdir.path(), replica_config(mport, 400));
  ASSERT_TRUE(replica);
  ASSERT_TRUE(converge(master->port(), replica->port())) << replica->log();

  // The master dies mid-rotation; keys move on while the replica is cut off.
  master->stop(SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  master = KeymgrProcess::start(mdir.path(), master_config(mport, 400), mdir.path() / "state");
  ASSERT_TRUE(master);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  EXPECT_TRUE(converge(master->port(), replica->port())) << replica->log();

  // Every key the master made since is on the replica too: ask for the last
  // few ids the master served.
  const Keys now = fetch(master->port());
  ASSERT_FALSE(now.empty());
  TestClient c(replica->port());
  ASSERT_TRUE(c.hello(2, "rx1", "rx1-lab-token"));
  for (std::uint32_t id = now.begin()->first; id + 2 > now.begin()->first && id > 0; --id) {
    const auto a = c.key_request(1, id);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->error_code(), 0) << "key " << id << ": " << a->error_text();
  }
}

}  // namespace
}  // namespace keymgr::test
