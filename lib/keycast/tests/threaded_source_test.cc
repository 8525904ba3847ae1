// Receiver with a key source that answers on a thread of its own, as the
// production source does: keys are prepared on that thread and handed over
// through the inbox while the owner keeps processing. Every datagram comes
// out clear (at once, or held and released). Built for ThreadSanitizer too.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "fake_key_source.h"
#include "keycast/receiver.h"
#include "pktparse/scramble.h"

namespace keycast {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;
using Kind = Outcome::Kind;

constexpr std::uint32_t kChannel = 1;
constexpr std::uint32_t kFirstKey = 10;
constexpr std::uint32_t kKeySteps = 12;       // every second one is fetched by id
constexpr std::uint64_t kDatagramsPerKey = 20;

// Answers requests on its own thread: current kFirstKey and next at start,
// any key by id.
class ThreadedKeySource final : public KeySource {
 public:
  ~ThreadedKeySource() override { stop(); }
  void start(KeySink& sink) override {
    sink_ = &sink;
    thread_ = std::thread([this] { run(); });
  }
  void request(std::uint32_t channel_id, std::uint32_t key_id) override {
    {
      std::lock_guard lock(mu_);
      queue_.emplace_back(channel_id, key_id);
    }
    cv_.notify_one();
  }
  void prefer_endpoint(std::size_t) override {}
  void stop() noexcept override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    for (;;) {
      std::pair<std::uint32_t, std::uint32_t> q;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        q = queue_.front();
        queue_.pop_front();
      }
      FetchResult r;
      r.channel_id = q.first;
      r.key_id = q.second;
      if (q.second == 0) {
        r.keys.push_back(test::fetched(q.first, kFirstKey, KeyRole::current, 60000, 60000));
        r.keys.push_back(test::fetched(q.first, kFirstKey + 1, KeyRole::next, 60000, 60000));
      } else {
        r.keys.push_back(test::fetched(q.first, q.second, KeyRole::current, 60000, 60000));
      }
      sink_->deliver(std::move(r));
    }
  }

  KeySink* sink_ = nullptr;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::uint32_t, std::uint32_t>> queue_;
  bool stop_ = false;
};

Bytes clear_payload(std::uint64_t seq) {
  Bytes b(200);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(seq * 13 + i);
  return b;
}

Bytes datagram(std::uint32_t key_id, std::uint64_t seq) {
  pktparse::PreparedKey key;
  EXPECT_EQ(key.prepare(pktparse::Suite::aes128_ctr, key_id, test::material_for(key_id)), pktparse::Status::ok);
  const Bytes clear = clear_payload(seq);
  pktparse::KcHeader h;
  h.channel_id = kChannel;
  h.seq = seq;
  const std::size_t hlen = pktparse::header_len(h);
  Bytes buf(hlen + clear.size());
  std::copy(clear.begin(), clear.end(), buf.begin() + static_cast<std::ptrdiff_t>(hlen));
  EXPECT_EQ(pktparse::scramble(key, {}, h, buf.data(), buf.data() + hlen, clear.size()), pktparse::Status::ok);
  return buf;
}

bool is_payload_of(std::span<const std::uint8_t> clear, std::uint64_t seq) {
  const Bytes want = clear_payload(seq);
  return std::equal(clear.begin(), clear.end(), want.begin(), want.end());
}

TEST(ReceiverThreads, KeysFromTheSourceThreadWhileTheOwnerProcesses) {
  ReceiverOptions o;
  o.channels = {{kChannel, pktparse::Suite::aes128_ctr}};
  o.hold_timeout = 10s;  // sanitizer builds are slow; nothing here may time out
  o.hold_limit = kDatagramsPerKey;
  Receiver rx(std::make_unique<ThreadedKeySource>(), o);
  ASSERT_TRUE(rx.wait_ready(10s));

  std::uint64_t seq = 0, clear = 0, held = 0, released = 0, wrong = 0;
  auto release = [&] {
    rx.poll_released([&](std::uint32_t, std::span<std::uint8_t> c) {
      ++released;
      if (c.size() != 200) ++wrong;
    });
  };
  // Keys kFirstKey, +2, +4, ...: each one after the first is neither current
  // nor next, so its first datagram holds and fetches it by id.
  for (std::uint32_t step = 0; step < kKeySteps; ++step) {
    const std::uint32_t key_id = kFirstKey + 2 * step;
    for (std::uint64_t i = 0; i < kDatagramsPerKey; ++i, ++seq) {
      Bytes d = datagram(key_id, seq);
      std::span<std::uint8_t> out;
      const Outcome r = rx.process(d, out);
      if (r.kind == Kind::clear) {
        ++clear;
        if (!is_payload_of(out, seq)) ++wrong;
      } else if (r.kind == Kind::held) {
        ++held;
      } else {
        ADD_FAILURE() << "datagram " << seq << " of key " << key_id << ": " << drop_name(r.reason);
      }
      release();
    }
    // As a stream's next key comes a crypto-period later: this one has arrived.
    for (auto deadline = std::chrono::steady_clock::now() + 10s;
         released < held && std::chrono::steady_clock::now() < deadline;)
      std::this_thread::sleep_for(1ms), release();
  }

  EXPECT_EQ(clear + held, seq);
  EXPECT_EQ(released, held);
  EXPECT_EQ(wrong, 0u);
  EXPECT_GT(held, 0u) << "no key was fetched by id: the source thread was not exercised";
  const Counters c = rx.counters();
  EXPECT_EQ(c[Event::dropped], 0u);
  EXPECT_EQ(c[Event::fetch_failures], 0u);
}

}  // namespace
}  // namespace keycast
