// Shared-memory publication by the real key manager: gw1's object holds the
// keys KEY_REQUEST serves, follows rotations, is owner-only, is removed on a
// clean stop and replaced after a kill -9.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "keymgr_process.h"
#include "keyshm/keyshm.h"
#include "test_client.h"
#include "test_configs.h"

namespace keymgr::test {
namespace {

using namespace std::chrono_literals;

// A name unique to this run, unlinked at the end whatever happens.
struct ShmName {
  std::string name;
  explicit ShmName(const char* what) {
    static int n = 0;
    name = "keycast-test-" + std::string(what) + "-" + std::to_string(getpid()) + "-" + std::to_string(n++);
  }
  ~ShmName() { shm_unlink(("/" + name).c_str()); }
};

// lab_config() with `shm = NAME` for gw1.
std::string config_with_shm(const std::string& name, std::uint32_t lifetime_ms) {
  ConfigOptions o;
  o.lifetime_ms = lifetime_ms;
  std::string s = lab_config(o);
  const std::string gw1 = "id = \"gw1\"\nrole = \"gateway\"\n";
  const auto at = s.find(gw1);
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos) s.insert(at + gw1.size(), "shm = \"" + name + "\"\n");
  return s;
}

std::unique_ptr<keyshm::ShmReader> open_reader(const std::string& name) {
  keyshm::Failure why;
  auto r = keyshm::ShmReader::open(name, &why);
  EXPECT_TRUE(r) << why.message;
  return r;
}

std::unique_ptr<TestClient> gateway(std::uint16_t port) {
  auto c = std::make_unique<TestClient>(port);
  const auto a = c->hello(1, "gw1", "gw1-lab-token");
  EXPECT_TRUE(a && a->error_code() == 0);
  return c;
}

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// Empty if the shm key is the record; else the first field that differs.
std::string differs(const kmproto::KeyRecord& r, const keyshm::Key& k) {
  if (k.key_id != r.key_id) return "key_id " + std::to_string(k.key_id) + " != " + std::to_string(r.key_id);
  if (k.suite != r.suite) return "suite";
  if (static_cast<std::uint8_t>(k.state) != static_cast<std::uint8_t>(r.state)) return "state";
  if (k.lifetime_ms != r.lifetime_ms) return "lifetime_ms";
  // KEY_REQUEST sends 0 for a key already current; shm keeps the instant.
  const bool already = r.not_before_ms == 0 && r.state == kmproto::KeyState::current;
  if (already ? k.not_before_ms == 0 || k.not_before_ms > now_ms() : k.not_before_ms != r.not_before_ms)
    return "not_before_ms";
  if (!std::equal(k.bytes().begin(), k.bytes().end(), r.material().begin(), r.material().end())) return "material";
  return {};
}

// Channel 1's current key over TCP and in shm, compared once both sides agree
// on which key is current (the shm follows within one 50 ms tick). Returns
// that key id, or 0 after a failure.
std::uint32_t compare_current(TestClient& c, const keyshm::ShmReader& r) {
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto a = c.key_request(1);
    if (!a || a->error_code() != 0) {
      ADD_FAILURE() << "KEY_REQUEST failed";
      return 0;
    }
    const auto recs = a->key_records();
    keyshm::Snapshot s;
    const auto st = r.read(1, s);
    if (st != keyshm::ReadStatus::ok) {
      ADD_FAILURE() << "shm read: " << keyshm::to_string(st);
      return 0;
    }
    const keyshm::Key* cur = s.find(keyshm::KeyState::current);
    if (!recs.empty() && recs[0].state == kmproto::KeyState::current && cur) {
      last = differs(recs[0], *cur);
      if (last.empty()) {
        // A next key TCP served is identical in shm once published there.
        for (const auto& rec : recs) {
          if (const keyshm::Key* k = s.find(static_cast<keyshm::KeyState>(rec.state))) {
            EXPECT_EQ(differs(rec, *k), "") << "key " << rec.key_id;
          }
        }
        return cur->key_id;
      }
    }
    std::this_thread::sleep_for(10ms);
  }
  ADD_FAILURE() << "shm and KEY_REQUEST never agreed on channel 1's current key: " << last;
  return 0;
}

TEST(Shm, PublishesTheServedKeysAndFollowsRotation) {
  TempDir dir;
  ShmName shm("km");
  const auto km = KeymgrProcess::start(dir.path(), config_with_shm(shm.name, 500));
  ASSERT_TRUE(km);
  EXPECT_NE(km->log().find("publishing keys of gw1 in shared memory /" + shm.name + " (4 channels)"),
            std::string::npos)
      << km->log();

  const auto r = open_reader(shm.name);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->channel_ids().size(), 4u);
  const int fd = shm_open(("/" + shm.name).c_str(), O_RDONLY, 0);
  ASSERT_GE(fd, 0);
  struct stat st {};
  ASSERT_EQ(fstat(fd, &st), 0);
  close(fd);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  auto c = gateway(km->port());
  const std::uint32_t first = compare_current(*c, *r);
  ASSERT_NE(first, 0u);

  // Lifetime 500 ms: wait for two rotations in shm, then compare again.
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  std::uint32_t seen = first;
  while (seen < first + 2 && std::chrono::steady_clock::now() < deadline) {
    keyshm::Snapshot s;
    if (r->read(1, s) == keyshm::ReadStatus::ok)
      if (const keyshm::Key* k = s.find(keyshm::KeyState::current)) {
        EXPECT_GE(k->key_id, seen) << "the current key went back";
        seen = k->key_id;
      }
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_GE(seen, first + 2) << "no rotation seen in shared memory";
  const std::uint32_t later = compare_current(*c, *r);
  EXPECT_GE(later, first + 2);
  keyshm::Snapshot s;
  ASSERT_EQ(r->read(1, s), keyshm::ReadStatus::ok);
  const keyshm::Key* prev = s.find(keyshm::KeyState::previous);
  ASSERT_TRUE(prev) << "a previous key within grace";
  EXPECT_EQ(prev->key_id + 1, s.find(keyshm::KeyState::current)->key_id);

  // A clean stop wipes and removes the object.
  km->stop(SIGTERM);
  EXPECT_EQ(r->read(1, s), keyshm::ReadStatus::closed);
  EXPECT_EQ(r->writer_status(), keyshm::WriterStatus::closed);
  EXPECT_LT(shm_open(("/" + shm.name).c_str(), O_RDONLY, 0), 0);
}

TEST(Shm, RestartAfterKillReplacesTheObjectWithTheSameKeys) {
  TempDir dir;
  ShmName shm("restart");
  const std::string config = config_with_shm(shm.name, 10000);
  auto km = KeymgrProcess::start(dir.path(), config);
  ASSERT_TRUE(km);
  const auto before = open_reader(shm.name);
  ASSERT_TRUE(before);
  keyshm::Snapshot a;
  ASSERT_EQ(before->read(2, a), keyshm::ReadStatus::ok);
  ASSERT_TRUE(a.find(keyshm::KeyState::current));

  km->stop(SIGKILL);
  EXPECT_EQ(before->writer_status(), keyshm::WriterStatus::live);  // stale, and nothing can tell yet
  km = KeymgrProcess::start(dir.path(), config, km->state_dir());
  ASSERT_TRUE(km);
  EXPECT_EQ(before->writer_status(), keyshm::WriterStatus::restarted);

  const auto after = open_reader(shm.name);
  ASSERT_TRUE(after);
  EXPECT_GT(after->generation(), before->generation());
  keyshm::Snapshot b;
  ASSERT_EQ(after->read(2, b), keyshm::ReadStatus::ok);
  const keyshm::Key* ka = a.find(keyshm::KeyState::current);
  const keyshm::Key* kb = b.find(keyshm::KeyState::current);
  ASSERT_TRUE(kb);
  EXPECT_EQ(kb->key_id, ka->key_id);
  EXPECT_TRUE(std::equal(ka->bytes().begin(), ka->bytes().end(), kb->bytes().begin(), kb->bytes().end()));
}

}  // namespace
}  // namespace keymgr::test
