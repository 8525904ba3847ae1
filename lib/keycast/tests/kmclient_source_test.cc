// The production KeySource (make_kmclient_source) against kmclient's scripted
// server: connect() opens the connection ahead of the first request, which
// then goes over it; without a server it says so in time and requests still
// get their failure. Built for ThreadSanitizer too (scripts/check).
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

#include "../../kmclient/tests/test_util.h"
#include "keycast/key_source.h"

namespace keycast {
namespace {

using namespace std::chrono_literals;

class Collect final : public KeySink {
 public:
  void deliver(FetchResult&& r) noexcept override {
    {
      std::lock_guard lock(mu_);
      got_.push_back(std::move(r));
    }
    cv_.notify_all();
  }
  // The first result, waiting at most `timeout` for it.
  std::optional<FetchResult> first(std::chrono::milliseconds timeout) { return nth(0, timeout); }
  std::optional<FetchResult> nth(std::size_t i, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return got_.size() > i; })) return std::nullopt;
    return std::move(got_[i]);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<FetchResult> got_;
};

TEST(KmclientSource, ConnectOpensTheConnectionTheFirstRequestUses) {
  kmclient::test::FakeServer server(kmclient::test::answer_requests);
  Collect sink;
  auto source = make_kmclient_source(kmclient::test::config_for({server.port()}));
  source->start(sink);
  EXPECT_TRUE(source->connect(5s));
  EXPECT_EQ(server.connections(), 1);
  EXPECT_TRUE(source->connect(5s));  // up already: nothing dialled
  source->request(7, 0);
  const auto r = sink.first(5s);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->error) << r->message;
  ASSERT_EQ(r->keys.size(), 1u);
  EXPECT_EQ(r->keys[0].key_id, 107u);  // 100 + channel + 1000 * connection index 0
  EXPECT_EQ(server.connections(), 1);
  source->stop();
}

TEST(KmclientSource, WithoutAServerConnectSaysSoAndRequestsStillFail) {
  Collect sink;
  auto source = make_kmclient_source(kmclient::test::config_for({kmclient::test::closed_port()}));
  source->start(sink);
  EXPECT_FALSE(source->connect(5s));
  source->request(7, 0);
  const auto r = sink.first(5s);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->error);
  EXPECT_EQ(*r->error, FetchError::unreachable) << r->message;
  source->stop();
}

TEST(KmclientSource, ConnectGivesUpAtItsTimeoutAndStopStillReturns) {
  kmclient::test::FakeServer silent([](kmclient::test::FakeConn& c) { c.stall(); });  // never answers HELLO
  Collect sink;
  auto config = kmclient::test::config_for({silent.port()});
  config.connect_timeout = 800ms;
  auto source = make_kmclient_source(config);
  source->start(sink);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(source->connect(100ms));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 700ms);
  source->stop();  // waits for the dial in progress (at most connect_timeout)
}

// A key manager that hangs: the fetch that meets it fails as unreachable;
// the next one, while kmclient holds that endpoint off, asks nothing and
// says it is a repeat (held_off), so the application need not warn twice.
TEST(KmclientSource, FetchWhileTheKeyManagerIsHeldOffSaysItIsARepeat) {
  kmclient::test::FakeServer hung(kmclient::test::hang_after_hello);
  auto config = kmclient::test::config_for({hung.port()});
  config.request_timeout = 200ms;
  config.hold_off = 5s;
  Collect sink;
  auto source = make_kmclient_source(config);
  source->start(sink);
  source->request(7, 0);
  const auto first = sink.nth(0, 5s);
  ASSERT_TRUE(first && first->error);
  EXPECT_EQ(*first->error, FetchError::unreachable) << first->message;
  EXPECT_FALSE(first->held_off);
  source->request(7, 0);
  const auto second = sink.nth(1, 5s);
  ASSERT_TRUE(second && second->error);
  EXPECT_EQ(*second->error, FetchError::unreachable) << second->message;
  EXPECT_TRUE(second->held_off) << second->message;
  EXPECT_EQ(hung.connections(), 1);
  source->stop();
}

}  // namespace
}  // namespace keycast
