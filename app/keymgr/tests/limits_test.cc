// keycast-keymgr against slow, idle, greedy and numerous peers: the idle
// timeout (counted between complete frames), the connection cap, per-peer
// rate limits, oversized frame headers, 1000 connections at once, and more
// connections than the server has descriptors for.
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "keymgr_process.h"
#include "test_client.h"
#include "test_configs.h"

namespace keymgr::test {
namespace {

using kmproto::ErrorCode;
using kmproto::MessageType;
using kmproto::ParamType;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

milliseconds since(Clock::time_point t) { return std::chrono::duration_cast<milliseconds>(Clock::now() - t); }

std::uint16_t code(ErrorCode c) { return static_cast<std::uint16_t>(c); }

std::vector<std::uint8_t> hello_frame(std::uint8_t role, const std::string& id) {
  return frame(MessageType::hello,
               {{ParamType::role, u8(role)}, {ParamType::peer_id, str(id)}, {ParamType::auth_token, str(id + "-lab-token")}});
}

std::vector<std::uint8_t> key_request_frame(std::uint32_t channel_id, std::uint32_t key_id = 0) {
  std::vector<std::pair<ParamType, std::vector<std::uint8_t>>> p = {{ParamType::channel_id, u32(channel_id)}};
  if (key_id) p.push_back({ParamType::key_id, u32(key_id)});
  return frame(MessageType::key_request, p);
}

bool is_answer(const std::optional<OwnedFrame>& f, MessageType request) {
  return f && f->type == kmproto::answer_of(request);
}

std::string describe(const std::optional<OwnedFrame>& f) {
  if (!f) return "no answer";
  return "type " + std::to_string(static_cast<unsigned>(f->type)) + " " + f->error_text();
}

// Sends bytes one at a time, `gap` apart, watching for the close in between;
// returns how many it sent before the server closed (bytes.size() if never).
std::size_t trickle(TestClient& c, const std::vector<std::uint8_t>& bytes, milliseconds gap) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (!c.send({bytes[i]}) || c.closed_by_server(gap)) return i;
  }
  return bytes.size();
}

void raise_fd_limit(rlim_t want) {
  rlimit r{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &r), 0);
  if (r.rlim_cur >= want) return;
  r.rlim_cur = r.rlim_max == RLIM_INFINITY ? want : std::min(want, r.rlim_max);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &r), 0);
  ASSERT_GE(r.rlim_cur, want) << "hard RLIMIT_NOFILE too low";
}

// User plus system CPU time of a process.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;
  double utime = 0, stime = 0;
  fields >> utime >> stime;
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

class Limits : public ::testing::Test {
 protected:
  void start(const std::string& server_extra) {
    ConfigOptions o;
    o.server_extra = server_extra;
    km_ = KeymgrProcess::start(dir_.path(), lab_config(o));
    ASSERT_TRUE(km_);
  }
  std::unique_ptr<TestClient> connect(std::uint8_t role, const std::string& id) {
    auto c = std::make_unique<TestClient>(km_->port());
    EXPECT_TRUE(c->ok());
    const auto a = c->hello(role, id, id + "-lab-token");
    EXPECT_TRUE(is_answer(a, MessageType::hello)) << id << ": " << describe(a);
    return c;
  }
  TempDir dir_;
  std::unique_ptr<KeymgrProcess> km_;
};

TEST_F(Limits, IdleConnectionsAreClosed) {
  ASSERT_NO_FATAL_FAILURE(start("idle_timeout_ms = 300\n"));
  {
    const auto t = Clock::now();
    TestClient c(km_->port());
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(c.closed_by_server());
    EXPECT_GE(since(t), milliseconds(280));
    EXPECT_LT(since(t), milliseconds(3000));
  }
  {
    auto c = connect(kReceiver, "rx1");
    const auto t = Clock::now();
    EXPECT_TRUE(c->closed_by_server());
    EXPECT_GE(since(t), milliseconds(250));
    EXPECT_LT(since(t), milliseconds(3000));
  }
}

TEST_F(Limits, SlowTrickleIsClosed) {
  ASSERT_NO_FATAL_FAILURE(start("idle_timeout_ms = 300\n"));
  {
    TestClient c(km_->port());
    ASSERT_TRUE(c.ok());
    const auto bytes = hello_frame(kReceiver, "rx1");
    EXPECT_LT(trickle(c, bytes, milliseconds(100)), bytes.size() / 2) << "a HELLO sent byte by byte";
  }
  {
    auto c = connect(kReceiver, "rx1");
    const auto bytes = key_request_frame(1, 1);
    EXPECT_LT(trickle(*c, bytes, milliseconds(100)), bytes.size() / 2) << "a KEY_REQUEST sent byte by byte";
  }
}

TEST_F(Limits, RegularFramesKeepAConnectionOpen) {
  ASSERT_NO_FATAL_FAILURE(start("idle_timeout_ms = 300\n"));
  auto beats = connect(kReceiver, "rx1");
  auto requests = connect(kGateway, "gw1");
  const auto t = Clock::now();
  while (since(t) < milliseconds(1200)) {
    ASSERT_TRUE(beats->send(frame(MessageType::heartbeat, {})));
    const auto a = requests->key_request(1);
    ASSERT_TRUE(is_answer(a, MessageType::key_request)) << describe(a);
    ASSERT_FALSE(beats->closed_by_server(milliseconds(100))) << "after " << since(t).count() << " ms";
  }
  const auto a = beats->key_request(2);
  EXPECT_TRUE(is_answer(a, MessageType::key_request)) << describe(a);
}

TEST_F(Limits, ConnectionCap) {
  ASSERT_NO_FATAL_FAILURE(start("max_connections = 3\n"));
  std::vector<std::unique_ptr<TestClient>> open;
  for (const char* id : {"rx1", "rx2", "gw1"})
    open.push_back(connect(id[0] == 'g' ? kGateway : kReceiver, id));

  {
    const auto t = Clock::now();
    TestClient fourth(km_->port());
    const auto a = fourth.hello(kReceiver, "rx1", "rx1-lab-token");
    EXPECT_FALSE(a) << describe(a);
    EXPECT_TRUE(fourth.closed_by_server());
    EXPECT_LT(since(t), milliseconds(3000));
  }

  open.erase(open.begin());
  const auto t = Clock::now();
  bool served = false;
  while (!served && since(t) < milliseconds(5000)) {
    TestClient c(km_->port());
    served = is_answer(c.hello(kReceiver, "rx1", "rx1-lab-token"), MessageType::hello);
    if (!served) std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_TRUE(served) << "no room after a connection closed";
  for (auto& c : open) EXPECT_TRUE(is_answer(c->key_request(3), MessageType::key_request));
}

TEST_F(Limits, RequestRateIsLimitedPerPeer) {
  ASSERT_NO_FATAL_FAILURE(start("request_rate = 5\nrequest_burst = 5\n"));
  auto rx1 = connect(kReceiver, "rx1");
  auto gw1 = connect(kGateway, "gw1");

  std::vector<std::uint8_t> six;
  for (int i = 0; i < 6; ++i) {
    const auto f = key_request_frame(1);
    six.insert(six.end(), f.begin(), f.end());
  }
  ASSERT_TRUE(rx1->send(six));
  for (int i = 0; i < 5; ++i) {
    const auto a = rx1->read();
    EXPECT_TRUE(is_answer(a, MessageType::key_request)) << i << ": " << describe(a);
  }
  const auto limited = rx1->read();
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->error_code(), code(ErrorCode::rate_limited)) << describe(limited);
  const auto limited_at = Clock::now();

  const auto other = gw1->key_request(1);
  EXPECT_TRUE(is_answer(other, MessageType::key_request)) << describe(other);

  auto rx1_again = connect(kReceiver, "rx1");
  const auto shared = rx1_again->key_request(2);
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared->error_code(), code(ErrorCode::rate_limited)) << "the bucket is the peer's, not the connection's";

  EXPECT_FALSE(rx1->closed_by_server(milliseconds(1100) - since(limited_at)));
  const auto again = rx1->key_request(1);
  EXPECT_TRUE(is_answer(again, MessageType::key_request)) << describe(again);
}

TEST_F(Limits, OversizedFrameHeaderIsRefused) {
  ASSERT_NO_FATAL_FAILURE(start(""));
  const std::vector<std::uint8_t> header = {kmproto::kVersion, 0x00, 0x02, 0x00, 0x01, 0x00, 0x01};  // 65537 bytes
  for (const bool authenticated : {false, true}) {
    std::unique_ptr<TestClient> c = authenticated ? connect(kReceiver, "rx1") : std::make_unique<TestClient>(km_->port());
    ASSERT_TRUE(c->send(header));
    const auto a = c->read();
    ASSERT_TRUE(a) << "authenticated " << authenticated;
    EXPECT_EQ(a->error_code(), code(ErrorCode::bad_message)) << describe(a);
    EXPECT_TRUE(c->closed_by_server());
  }
  auto c = connect(kReceiver, "rx1");
  EXPECT_TRUE(is_answer(c->key_request(1), MessageType::key_request));
}

TEST_F(Limits, ThousandConnectionsAtOnce) {
  ASSERT_NO_FATAL_FAILURE(raise_fd_limit(4096));
  ASSERT_NO_FATAL_FAILURE(start(""));
  constexpr int kCount = 1000;
  const char* ids[] = {"rx1", "rx2", "gw1"};
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < kCount; ++i) {
    clients.push_back(std::make_unique<TestClient>(km_->port()));
    ASSERT_TRUE(clients.back()->ok()) << "connection " << i;
  }
  for (int i = 0; i < kCount; ++i) {
    const char* id = ids[i % 3];
    ASSERT_TRUE(clients[static_cast<std::size_t>(i)]->send(hello_frame(id[0] == 'g' ? kGateway : kReceiver, id)));
  }
  int answered = 0;
  for (auto& c : clients) answered += is_answer(c->read(milliseconds(10000)), MessageType::hello) ? 1 : 0;
  EXPECT_EQ(answered, kCount);
  for (int i = 0; i < kCount; i += 97) {
    const auto a = clients[static_cast<std::size_t>(i)]->key_request(i % 3 == 1 ? 3 : 1);
    EXPECT_TRUE(is_answer(a, MessageType::key_request)) << i << ": " << describe(a);
  }
}

// Connections beyond the server's descriptor limit wait in the backlog: the
// server neither spins on failing accepts nor stops serving, and takes them
// once descriptors are free.
TEST_F(Limits, DescriptorExhaustionDoesNotSpin) {
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = 64;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  start("");
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_TRUE(km_);

  auto first = connect(kReceiver, "rx1");
  std::vector<std::unique_ptr<TestClient>> flood;
  for (int i = 0; i < 150; ++i) {
    flood.push_back(std::make_unique<TestClient>(km_->port()));
    ASSERT_TRUE(flood.back()->ok()) << "connection " << i;
  }
  std::this_thread::sleep_for(milliseconds(200));
  const double before = cpu_seconds(km_->pid());
  std::this_thread::sleep_for(milliseconds(1000));
  EXPECT_LT(cpu_seconds(km_->pid()) - before, 0.3) << "CPU seconds in 1 s while out of descriptors";
  const auto a = first->key_request(1);
  EXPECT_TRUE(is_answer(a, MessageType::key_request)) << describe(a);

  flood.clear();
  const auto t = Clock::now();
  bool served = false;
  while (!served && since(t) < milliseconds(5000)) {
    TestClient c(km_->port());
    served = is_answer(c.hello(kReceiver, "rx2", "rx2-lab-token"), MessageType::hello);
    if (!served) std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_TRUE(served) << "not serving new connections after descriptors were freed";
}

}  // namespace
}  // namespace keymgr::test
