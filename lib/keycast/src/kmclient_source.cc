// The production KeySource: a thread that owns a kmclient::KeymgrClient and
// serves requests queued by the receiver, pipelining whatever has queued up
// in one request_many exchange.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "keycast/key_source.h"
#include "kmclient/client.h"
#include "secmem/wipe.h"

namespace keycast {
namespace {

constexpr std::size_t kMaxBatch = 32;

FetchError classify(const kmclient::Error& e) {
  using kmproto::ErrorCode;
  if (e.kind == kmclient::ErrorKind::unauthenticated || e.is(ErrorCode::unauthenticated)) return FetchError::unauthenticated;
  if (e.kind != kmclient::ErrorKind::answer) {
    return e.kind == kmclient::ErrorKind::config ? FetchError::other : FetchError::unreachable;
  }
  if (e.is(ErrorCode::not_entitled)) return FetchError::not_entitled;
  if (e.is(ErrorCode::unknown_channel)) return FetchError::unknown_channel;
  if (e.is(ErrorCode::unknown_key)) return FetchError::unknown_key;
  return FetchError::other;
}

FetchedKey to_fetched(const kmproto::KeyRecord& r) {
  FetchedKey k;
  k.channel_id = r.channel_id;
  k.key_id = r.key_id;
  k.suite = r.suite;
  k.role = static_cast<KeyRole>(r.state);
  k.lifetime_ms = r.lifetime_ms;
  k.remaining_ms = r.remaining_ms;
  k.material = SecretBytes(r.material());
  return k;
}

class KmclientSource final : public KeySource {
 public:
  explicit KmclientSource(kmclient::ClientConfig config) : config_(std::move(config)) {}
  ~KmclientSource() override { stop(); }

  void start(KeySink& sink) override {
    sink_ = &sink;
    thread_ = std::thread([this] { run(); });
  }

  void request(std::uint32_t channel_id, std::uint32_t key_id) override {
    {
      std::lock_guard lock(mu_);
      queue_.push_back({{channel_id, key_id}, std::chrono::steady_clock::now()});
    }
    cv_.notify_one();
  }

  bool connect(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mu_);
    if (!connect_asked_) {
      connect_asked_ = true;
      cv_.notify_one();
    }
    done_cv_.wait_for(lock, timeout, [&] { return connect_done_; });
    return connected_;
  }

  void prefer_endpoint(std::size_t index) override {
    {
      std::lock_guard lock(mu_);
      prefer_ = index;
    }
    cv_.notify_one();
  }

  void stop() noexcept override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  struct Queued {
    kmclient::KeyQuery query;
    std::chrono::steady_clock::time_point at;  // when requested
  };

  void run() {
    auto client = std::make_unique<kmclient::KeymgrClient>(config_);
    for (;;) {
      std::vector<Queued> batch;
      std::optional<std::size_t> prefer;
      bool connect = false;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !queue_.empty() || prefer_ || (connect_asked_ && !connect_done_); });
        if (stop_) return;
        connect = connect_asked_ && !connect_done_;
        prefer.swap(prefer_);
        while (!queue_.empty() && batch.size() < kMaxBatch) {
          batch.push_back(queue_.front());
          queue_.pop_front();
        }
      }
      if (prefer && *prefer < config_.endpoints.size()) client = rotated_client(*prefer);
      if (connect) {
        const bool up = static_cast<bool>(client->connect());
        {
          std::lock_guard lock(mu_);
          connect_done_ = true;
          connected_ = up;
        }
        done_cv_.notify_all();
      }
      if (!batch.empty()) serve(*client, batch);
    }
  }

  std::unique_ptr<kmclient::KeymgrClient> rotated_client(std::size_t first) {
    kmclient::ClientConfig c = config_;
    std::rotate(c.endpoints.begin(), c.endpoints.begin() + static_cast<std::ptrdiff_t>(first), c.endpoints.end());
    return std::make_unique<kmclient::KeymgrClient>(std::move(c));
  }

  void serve(kmclient::KeymgrClient& client, const std::vector<Queued>& batch) {
    std::vector<kmclient::KeyQuery> queries;
    for (const auto& q : batch) queries.push_back(q.query);
    auto answers = client.request_many(queries);
    const auto done = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      FetchResult r;
      r.channel_id = batch[i].query.channel_id;
      r.key_id = batch[i].query.key_id;
      // From the request, so the wait behind other fetches on this one
      // connection counts too.
      r.latency = std::chrono::duration_cast<std::chrono::microseconds>(done - batch[i].at);
      if (!answers) {
        r.error = classify(answers.error());
        r.message = answers.error().message;
        r.held_off = answers.error().held_off;
      } else if (const auto& one = (*answers)[i]; !one) {
        r.error = classify(one.error());
        r.message = one.error().message;
      } else {
        for (const auto& rec : *one) r.keys.push_back(to_fetched(rec));
      }
      sink_->deliver(std::move(r));
    }
    // The answers' key material passed through the frames below this one
    // (reads, parsing, key preparation).
    secmem::wipe_stack_below();
  }

  kmclient::ClientConfig config_;
  KeySink* sink_ = nullptr;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Queued> queue_;
  std::optional<std::size_t> prefer_;
  std::condition_variable done_cv_;  // connect_done_
  bool connect_asked_ = false, connect_done_ = false, connected_ = false;
  bool stop_ = false;
};

}  // namespace

std::unique_ptr<KeySource> make_kmclient_source(kmclient::ClientConfig config) {
  return std::make_unique<KmclientSource>(std::move(config));
}

}  // namespace keycast
