// keycast-recv's receive loop (see run.h).
#include "run.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>

#include "exit_codes.h"
#include "join_socket.h"
#include "keycast/receiver.h"
#include "output.h"
#include "pktparse/bytes.h"
#include "report.h"

namespace keycast_recv {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t kMaxDatagram = 65536;
constexpr int kBatchesPerWake = 4;

volatile std::sig_atomic_t g_usr1 = 0;
volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_usr1(int) { g_usr1 = 1; }
extern "C" void on_stop(int) { g_stop = 1; }

void install_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_usr1;
  ::sigaction(SIGUSR1, &sa, nullptr);
  sa.sa_handler = on_stop;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

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
        std::cerr << "keycast-recv: warning: key fetch for " << ch << " failed, keeping its keys: " << f.message << "\n";
        break;
      case keycast::FetchError::unknown_key:
        std::cerr << "keycast-recv: warning: key " << f.key_id << " of " << ch << " unknown to the key manager\n";
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
  int receive_batches(std::size_t join, bool& done);
  int release_held(bool& done);
  bool counted_enough() const { return limits_.count != 0 && cleared_ >= limits_.count; }
  void report() {
    AppCounters a = app_;
    a.written = 0;
    for (const auto& o : outs_) a.written += o->written();
    print_counters(std::cerr, rx_->counters(), a);
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
};

int Loop::start_receiver() {
  keycast::ReceiverOptions o;
  for (const auto c : plan_.channels) {
    if (std::none_of(o.channels.begin(), o.channels.end(), [&](const auto& x) { return x.id == c; })) {
      o.channels.push_back({c, std::nullopt});
    }
  }
  o.hold_timeout = milliseconds(limits_.hold_timeout_ms);
  rx_ = std::make_unique<keycast::Receiver>(plan_.keymgr, std::move(o));
  if (plan_.channels.empty()) return kExitOk;
  const auto per_endpoint = plan_.keymgr.connect_timeout + plan_.keymgr.request_timeout;
  const auto wait = per_endpoint * static_cast<int>(plan_.keymgr.endpoints.size()) + milliseconds(1000);
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

int Loop::receive_batches(std::size_t join, bool& done) {
  Output& out = *outs_[plan_.out_of_join[join]];
  for (int round = 0; round < kBatchesPerWake && !done; ++round) {
    for (std::size_t k = 0; k < limits_.batch; ++k) {
      iov_[k] = {buf_.data() + k * kMaxDatagram, kMaxDatagram};
      msgs_[k] = {};
      msgs_[k].msg_hdr.msg_iov = &iov_[k];
      msgs_[k].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::recvmmsg(fds_[join], msgs_.data(), limits_.batch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return kExitOk;
      return complain(kExitFailure, "receive on " + plan_.joins[join].text + ": " + std::strerror(errno));
    }
    last_packet_ = Clock::now();
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
      const auto o = rx_->process(d, clear);
      if (o.channel_id != 0) join_of_channel_.try_emplace(o.channel_id, join);
      if (o.kind == keycast::Outcome::Kind::clear) {
        out.add(clear);
        ++cleared_;
        done = counted_enough();
      }
    }
    std::string error;
    if (!out.flush(&error)) return complain(kExitFailure, error);
    if (static_cast<std::uint32_t>(n) < limits_.batch) break;
  }
  return kExitOk;
}

int Loop::release_held(bool& done) {
  std::string error;
  bool failed = false;
  rx_->poll_released([&](std::uint32_t channel, std::span<std::uint8_t> clear) {
    if (done || failed) return;
    const auto it = join_of_channel_.find(channel);
    const std::size_t join = it == join_of_channel_.end() ? 0 : it->second;
    failed = !outs_[plan_.out_of_join[join]]->write_now(clear, &error);
    ++cleared_;
    done = counted_enough();
  });
  return failed ? complain(kExitFailure, error) : kExitOk;
}

int Loop::run() {
  install_signals();
  if (const int code = start_receiver(); code != kExitOk) return code;
  if (const int code = open_io(); code != kExitOk) return code;
  for (std::size_t i = 0; i < plan_.joins.size(); ++i) {
    std::cerr << "keycast-recv: receiving on " << plan_.joins[i].text;
    if (!plan_.channels.empty()) std::cerr << " (channel " << plan_.channels[i] << ")";
    std::cerr << " -> " << outs_[plan_.out_of_join[i]]->name() << "\n";
  }
  std::vector<pollfd> pfds;
  for (const int fd : fds_) pfds.push_back({fd, POLLIN, 0});
  last_packet_ = Clock::now();
  bool done = false;
  int code = kExitOk;
  while (!done && !g_stop && code == kExitOk) {
    if (g_usr1) {
      g_usr1 = 0;
      report();
    }
    const int ready = ::poll(pfds.data(), pfds.size(), 5);
    for (std::size_t i = 0; ready > 0 && i < pfds.size() && !done && code == kExitOk; ++i) {
      if (pfds[i].revents & POLLIN) code = receive_batches(i, done);
    }
    if (code == kExitOk && !done) code = release_held(done);
    if (code == kExitOk) code = judge(rx_->take_failures(), plan_.keymgr.peer_id);
    if (code == kExitOk && !done && limits_.timeout_ms != 0 &&
        Clock::now() - last_packet_ > milliseconds(limits_.timeout_ms)) {
      std::string joins;
      for (const auto& j : plan_.joins) joins += (joins.empty() ? "" : ", ") + j.text;
      code = complain(kExitNoPackets, "no packets on " + joins + " within " + std::to_string(limits_.timeout_ms) + " ms");
    }
  }
  report();
  return code;
}

}  // namespace

int run(const Plan& plan, const RunLimits& limits) {
  Loop loop(plan, limits);
  return loop.run();
}

}  // namespace keycast_recv
