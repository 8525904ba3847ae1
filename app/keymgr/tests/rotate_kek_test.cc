// `keycast-keymgr rotate-kek` on the real binary: every key is served with the
// same material after a rotation, the old KEK no longer opens the state, a
// server finishes (or undoes) an interrupted rotation saying so, the command
// is refused while a server runs, and it never prints a KEK.
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>

#include "keymgr_process.h"
#include "test_client.h"
#include "test_configs.h"

namespace keymgr::test {
namespace {

using Bytes = std::vector<std::uint8_t>;
using Served = std::map<std::pair<std::uint32_t, std::uint32_t>, Bytes>;  // (channel, key id) -> material

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

Bytes read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_private(const std::filesystem::path& p, const Bytes& b) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(b.data()),
                                                            static_cast<std::streamsize>(b.size()));
  std::filesystem::permissions(p, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 ? st.st_mode & 0777 : 0;
}

std::string hex(const Bytes& b) {
  std::string s;
  char buf[3];
  for (auto c : b) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    s += buf;
  }
  return s;
}

// The keys of channels 1 and 2 (rx1) and 3 (rx2) as served now.
Served current_keys(std::uint16_t port) {
  Served out;
  for (const auto& [peer, channels] : {std::pair{"rx1", std::vector<std::uint32_t>{1, 2}},
                                       std::pair{"rx2", std::vector<std::uint32_t>{3}}}) {
    TestClient c(port);
    const auto h = c.hello(2, peer, std::string(peer) + "-lab-token");
    EXPECT_TRUE(h && h->error_code() == 0);
    for (auto ch : channels) {
      const auto a = c.key_request(ch);
      EXPECT_TRUE(a && a->error_code() == 0);
      if (!a) continue;
      for (const auto& r : a->key_records()) out[{ch, r.key_id}] = Bytes(r.material().begin(), r.material().end());
    }
  }
  return out;
}

// Each key of `before`, asked for by id.
void expect_served_alike(std::uint16_t port, const Served& before) {
  for (const auto& [peer, channels] : {std::pair{"rx1", std::vector<std::uint32_t>{1, 2}},
                                       std::pair{"rx2", std::vector<std::uint32_t>{3}}}) {
    TestClient c(port);
    ASSERT_TRUE(c.hello(2, peer, std::string(peer) + "-lab-token"));
    for (const auto& [at, material] : before) {
      if (std::find(channels.begin(), channels.end(), at.first) == channels.end()) continue;
      const auto a = c.key_request(at.first, at.second);
      ASSERT_TRUE(a);
      ASSERT_EQ(a->error_code(), 0) << "channel " << at.first << " key " << at.second << ": " << a->error_text();
      const auto records = a->key_records();  // material() views into a record
      const auto m = records.at(0).material();
      EXPECT_EQ(Bytes(m.begin(), m.end()), material) << "channel " << at.first << " key " << at.second;
    }
  }
}

class RotateKek : public ::testing::Test {
 protected:
  ConfigOptions options() const {
    ConfigOptions o;
    o.lifetime_ms = 120000;  // no key change during a test
    return o;
  }
  std::unique_ptr<KeymgrProcess> start() { return KeymgrProcess::start(dir_.path(), lab_config(options())); }
  // Serves once: the keys it hands out, then SIGTERM.
  Served served_then_stopped() {
    auto km = start();
    if (!km) return {};
    Served keys = current_keys(km->port());
    EXPECT_EQ(km->stop(SIGTERM), 0) << km->log();
    EXPECT_GE(keys.size(), 3u);
    return keys;
  }
  // Serves again: its log has log_part, and every key of before is served alike.
  void expect_restart_serves(const Served& before, const std::string& log_part) {
    auto km = start();
    ASSERT_TRUE(km);
    EXPECT_TRUE(has(km->log(), log_part)) << km->log();
    expect_served_alike(km->port(), before);
  }
  int rotate(std::string* out) {
    return run_keymgr({"rotate-kek", "--config", (dir_.path() / "keymgr.toml").string(), "--state-dir",
                       state_.string()},
                      out);
  }

  TempDir dir_;
  std::filesystem::path state_ = dir_.path() / "state";
  std::filesystem::path kek_ = state_ / "kek";
};

TEST_F(RotateKek, KeysServedAlikeAfterwardsAndTheOldKekNoLongerOpens) {
  const Served before = served_then_stopped();
  const Bytes old_kek = read_bytes(kek_);

  std::string out;
  ASSERT_EQ(rotate(&out), 0) << out;
  EXPECT_TRUE(has(out, "re-wrapped " + std::to_string(before.size()) + " keys")) << out;
  const Bytes new_kek = read_bytes(kek_);
  ASSERT_EQ(new_kek.size(), 32u);
  EXPECT_NE(new_kek, old_kek);
  for (const auto& k : {old_kek, new_kek}) {
    EXPECT_FALSE(has(out, hex(k))) << "a KEK printed";
    EXPECT_FALSE(has(out, std::string(k.begin(), k.end()))) << "a KEK printed";
  }
  EXPECT_EQ(mode_of(kek_), 0600u);
  EXPECT_FALSE(std::filesystem::exists(state_ / "kek.new"));

  ASSERT_NO_FATAL_FAILURE(expect_restart_serves(before, ""));

  // The old KEK file's bytes, named as kek_file, are refused.
  write_private(dir_.path() / "old-kek", old_kek);
  std::string config = lab_config(options());
  config.replace(config.find("kek_file = \"kek\""), 16, "kek_file = \"" + (dir_.path() / "old-kek").string() + "\"");
  std::ofstream(dir_.path() / "old.toml") << config;
  ASSERT_EQ(run_keymgr({"--config", (dir_.path() / "old.toml").string(), "--state-dir", state_.string()}, &out,
                       std::chrono::seconds(10)),
            1)
      << out;
  EXPECT_TRUE(has(out, "does not match")) << out;
}

TEST_F(RotateKek, RefusedWhileAServerRuns) {
  auto km = start();
  ASSERT_TRUE(km);
  const Served before = current_keys(km->port());
  const Bytes kek = read_bytes(kek_);
  std::string out;
  EXPECT_EQ(rotate(&out), 1) << out;
  EXPECT_TRUE(has(out, "in use by a running keycast-keymgr")) << out;
  EXPECT_EQ(read_bytes(kek_), kek);
  EXPECT_FALSE(std::filesystem::exists(state_ / "kek.new"));
  expect_served_alike(km->port(), before);
}

// The files a rotation killed after its commit leaves: the store under
// kek.new, kek still the old KEK.
TEST_F(RotateKek, ServeFinishesARotationInterruptedAfterItsCommit) {
  const Served before = served_then_stopped();
  const Bytes old_kek = read_bytes(kek_);
  std::string out;
  ASSERT_EQ(rotate(&out), 0) << out;
  const Bytes new_kek = read_bytes(kek_);
  write_private(state_ / "kek.new", new_kek);
  write_private(kek_, old_kek);

  ASSERT_NO_FATAL_FAILURE(expect_restart_serves(before, "finished an interrupted rotate-kek"));
  EXPECT_EQ(read_bytes(kek_), new_kek);
  EXPECT_FALSE(std::filesystem::exists(state_ / "kek.new"));
}

// ... and one killed before it: a kek.new the store is not under.
TEST_F(RotateKek, ServeRemovesTheNewKekOfARotationInterruptedBeforeItsCommit) {
  const Served before = served_then_stopped();
  const Bytes kek = read_bytes(kek_);
  write_private(state_ / "kek.new", Bytes(32, 0x5a));

  ASSERT_NO_FATAL_FAILURE(expect_restart_serves(before, "removed " + (state_ / "kek.new").string()));
  EXPECT_EQ(read_bytes(kek_), kek);
  EXPECT_FALSE(std::filesystem::exists(state_ / "kek.new"));
}

TEST_F(RotateKek, HelpDescribesIt) {
  std::string out;
  EXPECT_EQ(run_keymgr({"--help"}, &out), 0) << out;
  EXPECT_TRUE(has(out, "rotate-kek")) << out;
  EXPECT_EQ(run_keymgr({"rotate-kek", "--help"}, &out), 0) << out;
  EXPECT_TRUE(has(out, "--state-dir")) << out;
  EXPECT_TRUE(has(out, "back up")) << out;
  EXPECT_NE(run_keymgr({"rotate-kek", "--state-dir", state_.string()}, &out), 0) << out;
  EXPECT_TRUE(has(out, "--config is required")) << out;
}

}  // namespace
}  // namespace keymgr::test
