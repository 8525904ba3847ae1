// keycast-recv's receive loop (see run.h).
#include "run.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <optional>

#include "exit_codes.h"
#include "join_socket.h"
#include "keycast/receiver.h"
#include "metrics.h"
#include "output.h"
#include "pktparse/bytes.h"
#include "pktparse/key.h"
#include "report.h"
#include "secmem/wipe.h"
#include "signals.h"

namespace keycast_recv {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t kMaxDatagram = 65536;
constexpr int kBatchesPerWake = 4;
constexpr int kWakeMs = 5;  // the longest wait for datagrams before timers run
constexpr auto kMetricsEvery = milliseconds(100);

int complain(int code, const std::string& message) {
  std::cerr << "keycast-recv: " << message << "\n";
  return code;
}

// An exit code for fetch failures that end the run; 0 to go on.
int judge(const std::vector<keycast::FetchFailure>& failures, const std::string& peer) {
  for (const auto& f : failures) {
    const std::string ch = "channel " + std::to_string(f.channel_id);
    switch (f.error) {
      case keycast::FetchError::not_entitled:
        return complain(kExitNotEntitled, "peer " + peer + " is not entitled to " + ch + ": " + f.message);
      case keycast::FetchError::unauthenticated:
        return complain(kExitNotEntitled, "the key manager refused the credentials of peer " + peer + ": " + f.message);
      case keycast::FetchError::unknown_channel:
        return complain(kExitNotEntitled, "the key manager knows no " + ch + ": " + f.message);
      case keycast::FetchError::unreachable:
      case keycast::FetchError::other:
        if (!f.channel_has_keys) {
          return complain(kExitUnreachable, "key manager unreachable, no keys for " + ch + ": " + f.message);
        }
        if (!f.held_off)  // a repeat of the timeout already warned of
          std::cerr << "keycast-recv: warning: key fetch for " << ch << " failed, keeping its keys: " << f.message << "\n";
        break;
      case keycast::FetchError::unknown_key:
        std::cerr << "keycast-recv: warning: key " << f.key_id << " of " << ch
                  << " unknown to the key manager: " << f.message << "\n";
        break;
    }
  }
  return kExitOk;
}

// The channel of a keycast datagram, without validating it (0 if not one).
std::uint32_t peek_channel(std::span<const std::uint8_t> d) {
  if (d.size() < 12 || d[0] != 0x4B || d[1] != 0x43) return 0;
  return pktparse::load_be32(d.data() + 8);
}

class Loop {
 public:
  Loop(const Plan& plan, const RunLimits& limits) : plan_(plan), limits_(limits) {}
  ~Loop() {
    for (const int fd : fds_) ::close(fd);
  }
  int run();

 private:
  int start_receiver();
  int open_io();
  // block: wait (up to kWakeMs, SO_RCVTIMEO) for the first datagram.
  int receive_batches(std::size_t join, bool block, bool& done);
  int release_held(bool& done);
  void say_hold_drops(const std::vector<keycast::HoldDrop>& drops);
  void note_first_clear() {
    if (app_.first_clear_after_us != 0 || cleared_ == 0 || !first_datagram_) return;
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - *first_datagram_).count();
    app_.first_clear_after_us = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(us));
  }
  bool counted_enough() const { return limits_.count != 0 && cleared_ >= limits_.count; }
  int start_metrics();
  AppCounters app_counters() const {
    AppCounters a = app_;
    a.written = 0;
    for (const auto& o : outs_) a.written += o->written();
    return a;
  }
  void report() { print_counters(std::cerr, rx_->counters(), app_counters()); }
  void update_metrics(Clock::time_point now) {
    if (!metrics_ || now - metrics_updated_ < kMetricsEvery) return;
    metrics_updated_ = now;
    metrics_->update(rx_->counters(), app_counters());
  }

  const Plan& plan_;
  RunLimits limits_;
  std::unique_ptr<keycast::Receiver> rx_;
  std::vector<int> fds_;
  std::vector<std::unique_ptr<Output>> outs_;
  std::map<std::uint32_t, std::size_t> join_of_channel_;
  std::vector<std::uint8_t> buf_;
  std::vector<iovec> iov_;
  std::vector<mmsghdr> msgs_;
  AppCounters app_;
  std::uint64_t cleared_ = 0;
  Clock::time_point last_packet_;
  // What descrambling left on this thread's stack (lib/keycast's key thread wipes its own).
  secmem::StackWipeTimer stack_wipe_{milliseconds(100)};
  std::optional<Clock::time_point> first_datagram_;
  Clock::time_point hold_lines_since_{};  // the hold-drop lines' rate limit
  unsigned hold_lines_ = 0;
  std::uint64_t hold_lines_skipped_ = 0;
  std::unique_ptr<Metrics> metrics_;
  Clock::time_point metrics_updated_{};
};

// Says why datagrams timed out in the hold, a line per run of one key; at
// most kHoldLinesPerSecond a second (forged key ids must not flood the log),
// the rest counted in the next line shown.
void Loop::say_hold_drops(const std::vector<keycast::HoldDrop>& drops) {
  constexpr unsigned kHoldLinesPerSecond = 10;
  for (const auto& d : drops) {
    const auto now = Clock::now();
    if (now - hold_lines_since_ >= std::chrono::seconds(1)) {
      hold_lines_since_ = now;
      hold_lines_ = 0;
    }
    if (hold_lines_ == kHoldLinesPerSecond) {
      ++hold_lines_skipped_;
      continue;
    }
    ++hold_lines_;
    std::cerr << "keycast-recv: channel " << d.channel_id << ": dropped " << d.datagrams << " datagram(s) of key "
              << d.key_id << " held " << limits_.hold_timeout_ms << " ms: "
              << (d.fetch_in_flight ? "its fetch was still unanswered"
                                    : "no fetch of it in flight (refused by the request limit, or failed and not "
                                      "retried yet)")
              << "; keys held: current " << d.current_key << ", next " << d.next_key;
    if (hold_lines_skipped_ != 0) std::cerr << " (" << hold_lines_skipped_ << " such lines not shown before)";
    std::cerr << "\n";
    hold_lines_skipped_ = 0;
  }
}

int Loop::start_metrics() {
  if (plan_.metrics_listen.empty()) return kExitOk;
  try {
    metrics_ = std::make_unique<Metrics>(plan_.metrics_listen);
  } catch (const std::exception& e) {
    return complain(kExitFailure, "--metrics-listen " + plan_.metrics_listen + ": " + e.what());
  }
  const auto colon = plan_.metrics_listen.rfind(':');
  std::cerr << "keycast-recv: metrics on http://" << plan_.metrics_listen.substr(0, colon) << ":" << metrics_->port()
            << "/metrics\n";
  return kExitOk;
}

int Loop::start_receiver() {
  keycast::ReceiverOptions o;
  for (const auto c : plan_.channels) {
    if (std::none_of(o.channels.begin(), o.channels.end(), [&](const auto& x) { return x.id == c; })) {
      o.channels.push_back({c, std::nullopt});
    }
  }
  o.hold_timeout = milliseconds(limits_.hold_timeout_ms);
  rx_ = std::make_unique<keycast::Receiver>(plan_.keymgr, std::move(o));
  const auto per_endpoint = plan_.keymgr.connect_timeout + plan_.keymgr.request_timeout;
  const auto wait = per_endpoint * static_cast<int>(plan_.keymgr.endpoints.size()) + milliseconds(1000);
  if (plan_.channels.empty()) {
    // Channels learned from the datagrams: the connection is set up before
    // the groups are joined, so the first ones wait for a fetch only.
    if (!rx_->connect(wait))
      std::cerr << "keycast-recv: no key manager answered yet; keys are fetched as datagrams arrive\n";
    return kExitOk;
  }
  if (rx_->wait_ready(wait)) return kExitOk;
  if (const int code = judge(rx_->take_failures(), plan_.keymgr.peer_id); code != kExitOk) return code;
  return complain(kExitUnreachable, "no keys from the key manager within " + std::to_string(wait.count()) + " ms");
}

int Loop::open_io() {
  std::string error;
  for (const auto& spec : plan_.outs) {
    outs_.push_back(std::make_unique<Output>());
    if (!outs_.back()->open(spec, plan_.iface_index, &error)) return complain(kExitFailure, error);
  }
  for (std::size_t i = 0; i < plan_.joins.size(); ++i) {
    const int fd = open_join(plan_.joins[i], plan_.iface_index, &error);
    if (fd < 0) return complain(kExitFailure, error);
    fds_.push_back(fd);
    if (!plan_.channels.empty()) join_of_channel_.emplace(plan_.channels[i], i);
  }
  buf_.resize(kMaxDatagram * limits_.batch);
  iov_.resize(limits_.batch);
  msgs_.resize(limits_.batch);
  return kExitOk;
}

int Loop::receive_batches(std::size_t join, bool block, bool& done) {
  Output& out = *outs_[plan_.out_of_join[join]];
  for (int round = 0; round < kBatchesPerWake && !done; ++round) {
    for (std::size_t k = 0; k < limits_.batch; ++k) {
      iov_[k] = {buf_.data() + k * kMaxDatagram, kMaxDatagram};
      msgs_[k] = {};
      msgs_[k].msg_hdr.msg_iov = &iov_[k];
      msgs_[k].msg_hdr.msg_iovlen = 1;
    }
    const int flags = block && round == 0 ? MSG_WAITFORONE : MSG_DONTWAIT;
    const int n = ::recvmmsg(fds_[join], msgs_.data(), limits_.batch, flags, nullptr);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return kExitOk;
      return complain(kExitFailure, "receive on " + plan_.joins[join].text + ": " + std::strerror(errno));
    }
    last_packet_ = Clock::now();  // also the batch's arrival time for the receiver
    if (!first_datagram_ && n > 0) first_datagram_ = last_packet_;
    for (int k = 0; k < n && !done; ++k) {
      std::span<std::uint8_t> d(buf_.data() + static_cast<std::size_t>(k) * kMaxDatagram, msgs_[k].msg_len);
      ++app_.socket_datagrams;
      if (!plan_.channels.empty()) {
        const auto ch = peek_channel(d);
        if (ch != 0 && ch != plan_.channels[join]) {
          ++app_.wrong_channel;
          continue;
        }
      }
      std::span<std::uint8_t> clear;
      const auto o = rx_->process(d, clear, last_packet_);
      if (o.channel_id != 0 && plan_.channels.empty()) join_of_channel_.try_emplace(o.channel_id, join);  // learned
      if (o.kind == keycast::Outcome::Kind::clear) {
        out.add(clear);
        ++cleared_;
        done = counted_enough();
      }
    }
    std::string error;
    if (!out.flush(&error)) return complain(kExitFailure, error);
    note_first_clear();
    if (static_cast<std::uint32_t>(n) < limits_.batch) break;
  }
  return kExitOk;
}

int Loop::release_held(bool& done) {
  struct State {
    Loop& loop;
    bool& done;
  } st{*this, done};
  // Captures one pointer: fits std::function's local buffer, no allocation
  // per wake. The payloads stay valid until the next process(): queued here,
  // written below with one writev/sendmmsg per output.
  rx_->poll_released([s = &st](std::uint32_t channel, std::span<std::uint8_t> clear) {
    if (s->done) return;
    const auto it = s->loop.join_of_channel_.find(channel);
    const std::size_t join = it == s->loop.join_of_channel_.end() ? 0 : it->second;
    s->loop.outs_[s->loop.plan_.out_of_join[join]]->add(clear);
    ++s->loop.cleared_;
    s->done = s->loop.counted_enough();
  });
  std::string error;
  for (const auto& out : outs_) {
    if (!out->flush(&error)) return complain(kExitFailure, error);
  }
  note_first_clear();
  return kExitOk;
}

int Loop::run() {
  install_signals();
  if (const int code = start_metrics(); code != kExitOk) return code;
  if (const int code = start_receiver(); code != kExitOk) return code;
  if (const int code = open_io(); code != kExitOk) return code;
  for (std::size_t i = 0; i < plan_.joins.size(); ++i) {
    std::cerr << "keycast-recv: receiving on " << plan_.joins[i].text;
    if (!plan_.channels.empty()) std::cerr << " (channel " << plan_.channels[i] << ")";
    std::cerr << " -> " << outs_[plan_.out_of_join[i]]->name() << "\n";
  }
  // One join and nothing held: a blocking recvmmsg that gives up after
  // kWakeMs, one syscall per wake. Several joins, or datagrams held for a
  // key: poll the sockets and the receiver's wake_fd (a fetch answered, so
  // held datagrams go out at once), then each ready socket.
  const bool single = fds_.size() == 1;
  if (single) {
    const timeval tv{0, kWakeMs * 1000};
    ::setsockopt(fds_[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  std::vector<pollfd> pfds;
  for (const int fd : fds_) pfds.push_back({fd, POLLIN, 0});
  const int wake_fd = rx_->wake_fd();
  if (wake_fd >= 0) pfds.push_back({wake_fd, POLLIN, 0});
  (void)pktparse::prepare_packet_thread();  // no allocation at the first AES datagram
  last_packet_ = Clock::now();
  bool done = false;
  int code = kExitOk;
  while (!done && !g_stop && code == kExitOk) {
    if (g_usr1) {
      g_usr1 = 0;
      report();
    }
    if (single && !rx_->holding()) {
      code = receive_batches(0, true, done);
    } else {
      const int ready = ::poll(pfds.data(), pfds.size(), kWakeMs);
      if (ready > 0 && wake_fd >= 0 && (pfds.back().revents & POLLIN)) {
        eventfd_t n;
        (void)::eventfd_read(wake_fd, &n);  // release_held below takes the answers in
      }
      for (std::size_t i = 0; ready > 0 && i < fds_.size() && !done && code == kExitOk; ++i) {
        if (pfds[i].revents & POLLIN) code = receive_batches(i, false, done);
      }
    }
    if (code == kExitOk && !done) code = release_held(done);
    if (code == kExitOk) code = judge(rx_->take_failures(), plan_.keymgr.peer_id);
    say_hold_drops(rx_->take_hold_drops());
    update_metrics(Clock::now());
    stack_wipe_.due();
    if (code == kExitOk && !done && limits_.timeout_ms != 0 &&
        Clock::now() - last_packet_ > milliseconds(limits_.timeout_ms)) {
      std::string joins;
      for (const auto& j : plan_.joins) joins += (joins.empty() ? "" : ", ") + j.text;
      code = complain(kExitNoPackets, "no packets on " + joins + " within " + std::to_string(limits_.timeout_ms) + " ms");
    }
  }
  report();
  if (metrics_) metrics_->update(rx_->counters(), app_counters());
  return code;
}

}  // namespace

int run(const Plan& plan, const RunLimits& limits) {
  Loop loop(plan, limits);
  return loop.run();
}

}  // namespace keycast_recv
