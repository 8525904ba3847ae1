// keymgr-load-gen: a load generator for keycast-keymgr in lab mode (plaintext,
// auth tokens). One thread, epoll, non-blocking sockets.
//
// Load mode: opens CONNECTIONS connections, HELLOs each, then keeps DEPTH
// KEY_REQUESTs in flight on every one (DEPTH are sent at once; each answer
// sends the next request) and counts the answers over SECONDS after a warm-up.
// Prints one line:
//   keymgr-load: connections=50 depth=16 requests=N seconds=S rps=R errors=E closed=C
// (requests are 0x8002 answers; errors are ERROR frames or other answers).
//
// Idle mode (--idle N): opens N connections, HELLOs each, prints
//   keymgr-load: idle connections=N ready
// and holds them until SIGTERM/SIGINT or --hold seconds, then prints
//   keymgr-load: idle connections=N seconds=S closed=C
//
// Exit status: 0 when the run completed with every connection open, 1 when a
// connection was closed by the server or a frame was malformed, 2 on bad usage
// or a failure to connect or authenticate.
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kmproto/frame.h"
#include "kmproto/frame_builder.h"
#include "kmproto/protocol.h"

namespace {

using Clock = std::chrono::steady_clock;
using kmproto::MessageType;
using kmproto::ParamType;

constexpr std::size_t kMaxFrame = kmproto::kHeaderLen + kmproto::kMaxMessageLength;
constexpr std::size_t kReadBuffer = kMaxFrame + 16384;

volatile sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "keymgr-load: %s\n", what.c_str());
  std::exit(2);
}

void usage() {
  std::fprintf(stderr,
               "usage: keymgr-load-gen HOST PORT PEER TOKEN CHANNEL CONNECTIONS DEPTH SECONDS [--warmup S] [--role N]\n"
               "       keymgr-load-gen --idle N [--hold S] [--role N] HOST PORT PEER TOKEN\n"
               "  --role: HELLO role (1 gateway, 2 receiver; default 2)\n");
  std::exit(2);
}

unsigned long parse_number(const std::string& s, const char* what) {
  char* end = nullptr;
  errno = 0;
  const unsigned long v = std::strtoul(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0) die(std::string("bad ") + what + ": " + s);
  return v;
}

double parse_seconds(const std::string& s, const char* what) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v >= 0.0)) die(std::string("bad ") + what + ": " + s);
  return v;
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Lets this process hold as many sockets as the hard limit allows.
void raise_fd_limit(std::size_t needed) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < needed)
    die("open-file limit " + std::to_string(rl.rlim_cur) + " is below the " + std::to_string(needed) +
        " descriptors needed (raise the hard limit: ulimit -Hn)");
}

sockaddr_storage resolve(const std::string& host, const std::string& port, socklen_t& len) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0 || !res)
    die("cannot resolve " + host + ":" + port + ": " + gai_strerror(rc));
  sockaddr_storage ss{};
  std::memcpy(&ss, res->ai_addr, res->ai_addrlen);
  len = res->ai_addrlen;
  freeaddrinfo(res);
  return ss;
}

std::vector<std::uint8_t> hello_frame(std::uint8_t role, std::string_view peer, std::string_view token) {
  std::vector<std::uint8_t> out;
  kmproto::FrameBuilder b(out);
  b.begin(MessageType::hello);
  b.add_u8(ParamType::role, role);
  b.add_string(ParamType::peer_id, peer);
  b.add_string(ParamType::auth_token, token);
  if (b.finish() != kmproto::Status::ok) die("cannot build HELLO");
  return out;
}

std::vector<std::uint8_t> key_request_frame(std::uint32_t channel) {
  std::vector<std::uint8_t> out;
  kmproto::FrameBuilder b(out);
  b.begin(MessageType::key_request);
  b.add_u32(ParamType::channel_id, channel);
  if (b.finish() != kmproto::Status::ok) die("cannot build KEY_REQUEST");
  return out;
}

std::string error_text(const kmproto::Frame& f) {
  std::uint16_t code = 0;
  std::string_view text;
  (void)f.read_u16(ParamType::error_code, code);
  (void)f.read_string(ParamType::error_text, text);
  return std::string(kmproto::error_code_name(static_cast<kmproto::ErrorCode>(code))) + " (" + std::string(text) +
         ")";
}

// A blocking connect, HELLO and its answer; returns the socket, non-blocking.
int connect_authenticated(const sockaddr_storage& addr, socklen_t len, std::span<const std::uint8_t> hello) {
  const int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
  const int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const timeval tv{10, 0};
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0)
    die(std::string("connect: ") + std::strerror(errno));
  for (std::size_t off = 0; off < hello.size();) {
    const ssize_t n = write(fd, hello.data() + off, hello.size() - off);
    if (n <= 0) die(std::string("sending HELLO: ") + std::strerror(errno));
    off += static_cast<std::size_t>(n);
  }
  std::uint8_t buf[4096];
  std::size_t have = 0;
  kmproto::FrameDecoder dec;
  for (;;) {
    const ssize_t n = read(fd, buf + have, sizeof buf - have);
    if (n == 0) die("server closed the connection after HELLO");
    if (n < 0) die(std::string("reading HELLO answer: ") + std::strerror(errno));
    have += static_cast<std::size_t>(n);
    kmproto::Frame f;
    std::size_t used = 0;
    const kmproto::Status s = dec.decode({buf, have}, f, used);
    if (s == kmproto::Status::need_more) {
      if (have == sizeof buf) die("HELLO answer too long");
      continue;
    }
    if (s != kmproto::Status::ok) die(std::string("malformed HELLO answer: ") + kmproto::status_text(s));
    if (f.type == MessageType::error) die("HELLO refused: " + error_text(f));
    if (f.type != kmproto::answer_of(MessageType::hello))
      die("unexpected answer to HELLO: type " + std::to_string(static_cast<unsigned>(f.type)));
    if (used != have) die("unexpected bytes after the HELLO answer");
    break;
  }
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) die(std::string("fcntl: ") + std::strerror(errno));
  return fd;
}

struct Conn {
  int fd = -1;
  bool dead = false;
  bool want_out = false;
  kmproto::FrameDecoder decoder;
  std::vector<std::uint8_t> in;
  std::size_t in_len = 0;
  std::vector<std::uint8_t> out;
  std::size_t out_off = 0;
};

class LoadRun {
 public:
  LoadRun(std::vector<int> fds, std::vector<std::uint8_t> request, std::size_t depth)
      : request_(std::move(request)), depth_(depth), conns_(fds.size()) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) die(std::string("epoll_create1: ") + std::strerror(errno));
    for (std::size_t i = 0; i < fds.size(); ++i) {
      Conn& c = conns_[i];
      c.fd = fds[i];
      c.in.resize(kReadBuffer);
      c.out.reserve(request_.size() * depth_ * 2);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      if (epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) != 0) die(std::string("epoll_ctl: ") + std::strerror(errno));
    }
  }

  // Runs warm-up then the measured window; returns 0, or 1 if connections were lost.
  int run(double warmup_s, double seconds_s) {
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      for (std::size_t k = 0; k < depth_; ++k) queue_request(conns_[i]);
      write_out(i);
    }
    const auto t0 = Clock::now();
    const auto warm_end = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup_s));
    std::optional<Clock::time_point> start;
    Clock::time_point stop_at{};
    std::uint64_t answers_at_start = 0, errors_at_start = 0;
    Clock::time_point now = t0;
    std::vector<epoll_event> events(conns_.size());
    while (!g_stop && live_ > 0) {
      const int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), 10);
      if (n < 0 && errno != EINTR) die(std::string("epoll_wait: ") + std::strerror(errno));
      for (int e = 0; e < n; ++e) {
        const auto& ev = events[static_cast<std::size_t>(e)];
        const auto i = static_cast<std::size_t>(ev.data.u64);
        if (ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(i);
        if (!conns_[i].dead && (ev.events & EPOLLOUT)) write_out(i);
      }
      now = Clock::now();
      if (!start && now >= warm_end) {
        start = now;
        stop_at = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds_s));
        answers_at_start = answers_;
        errors_at_start = errors_;
      } else if (start && now >= stop_at) {
        break;
      }
    }
    if (!start) {
      start = now;
      answers_at_start = answers_;
      errors_at_start = errors_;
    }
    const double secs = seconds_between(*start, now);
    const std::uint64_t requests = answers_ - answers_at_start;
    const std::uint64_t errors = errors_ - errors_at_start;
    std::printf("keymgr-load: connections=%zu depth=%zu requests=%llu seconds=%.3f rps=%.0f errors=%llu closed=%zu\n",
                conns_.size(), depth_, static_cast<unsigned long long>(requests), secs,
                secs > 0 ? static_cast<double>(requests) / secs : 0.0, static_cast<unsigned long long>(errors),
                closed_);
    if (!first_error_.empty()) std::fprintf(stderr, "keymgr-load: first error: %s\n", first_error_.c_str());
    std::fflush(stdout);
    return closed_ ? 1 : 0;
  }

 private:
  void queue_request(Conn& c) { c.out.insert(c.out.end(), request_.begin(), request_.end()); }

  void kill(std::size_t i, const std::string& why) {
    Conn& c = conns_[i];
    if (c.dead) return;
    c.dead = true;
    ++closed_;
    --live_;
    if (first_error_.empty()) first_error_ = why;
    (void)epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
  }

  void on_readable(std::size_t i) {
    Conn& c = conns_[i];
    const ssize_t n = read(c.fd, c.in.data() + c.in_len, c.in.size() - c.in_len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) return kill(i, n == 0 ? "server closed a connection" : std::string("read: ") + std::strerror(errno));
    c.in_len += static_cast<std::size_t>(n);
    std::size_t off = 0;
    for (;;) {
      kmproto::Frame f;
      std::size_t used = 0;
      const kmproto::Status s = c.decoder.decode({c.in.data() + off, c.in_len - off}, f, used);
      if (s == kmproto::Status::need_more) break;
      if (s != kmproto::Status::ok) return kill(i, std::string("malformed answer: ") + kmproto::status_text(s));
      off += used;
      if (f.type == kmproto::answer_of(MessageType::key_request)) {
        ++answers_;
      } else {
        ++errors_;
        if (first_error_.empty())
          first_error_ = f.type == MessageType::error
                             ? error_text(f)
                             : "unexpected frame type " + std::to_string(static_cast<unsigned>(f.type));
      }
      queue_request(c);  // one answer, one more request: DEPTH stay in flight
    }
    if (off) {
      std::memmove(c.in.data(), c.in.data() + off, c.in_len - off);
      c.in_len -= off;
    }
    write_out(i);
  }

  void write_out(std::size_t i) {
    Conn& c = conns_[i];
    while (c.out_off < c.out.size()) {
      const ssize_t n = write(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n <= 0) return kill(i, std::string("write: ") + std::strerror(errno));
      c.out_off += static_cast<std::size_t>(n);
    }
    const bool pending = c.out_off < c.out.size();
    if (!pending) {
      c.out.clear();
      c.out_off = 0;
    }
    if (pending != c.want_out) {
      epoll_event ev{};
      ev.events = pending ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
      ev.data.u64 = i;
      if (epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev) != 0) die(std::string("epoll_ctl: ") + std::strerror(errno));
      c.want_out = pending;
    }
  }

  std::vector<std::uint8_t> request_;
  std::size_t depth_;
  std::vector<Conn> conns_;
  int ep_ = -1;
  std::size_t live_ = conns_.size();
  std::size_t closed_ = 0;
  std::uint64_t answers_ = 0;
  std::uint64_t errors_ = 0;
  std::string first_error_;
};

// Holds fds until a signal or `hold_s` (negative: forever); returns how many the server closed.
std::size_t hold_idle(const std::vector<int>& fds, double hold_s, double& held) {
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die(std::string("epoll_create1: ") + std::strerror(errno));
  for (std::size_t i = 0; i < fds.size(); ++i) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = i;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) != 0) die(std::string("epoll_ctl: ") + std::strerror(errno));
  }
  std::size_t closed = 0;
  const auto t0 = Clock::now();
  std::vector<epoll_event> events(256);
  while (!g_stop && (hold_s < 0 || seconds_between(t0, Clock::now()) < hold_s)) {
    const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 200);
    for (int e = 0; e < n; ++e) {
      const auto i = static_cast<std::size_t>(events[static_cast<std::size_t>(e)].data.u64);
      std::uint8_t buf[4096];
      const ssize_t r = read(fds[i], buf, sizeof buf);
      if (r > 0 || (r < 0 && (errno == EAGAIN || errno == EINTR))) continue;  // a server frame; ignored
      ++closed;
      (void)epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], nullptr);
    }
  }
  held = seconds_between(t0, Clock::now());
  close(ep);
  return closed;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> pos;
  std::optional<unsigned long> idle;
  double warmup = 1.0, hold = -1.0;
  std::uint8_t role = static_cast<std::uint8_t>(kmproto::Role::receiver);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--idle") idle = parse_number(value(), "--idle");
    else if (a == "--hold") hold = parse_seconds(value(), "--hold");
    else if (a == "--warmup") warmup = parse_seconds(value(), "--warmup");
    else if (a == "--role") role = static_cast<std::uint8_t>(parse_number(value(), "--role"));
    else if (a == "-h" || a == "--help") usage();
    else if (a.starts_with("--")) usage();
    else pos.push_back(a);
  }
  if (pos.size() != (idle ? 4u : 8u)) usage();

  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  socklen_t addr_len = 0;
  const sockaddr_storage addr = resolve(pos[0], pos[1], addr_len);
  const auto hello = hello_frame(role, pos[2], pos[3]);

  if (idle) {
    const std::size_t n = *idle;
    raise_fd_limit(n + 16);
    std::vector<int> fds;
    fds.reserve(n);
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < n && !g_stop; ++i) fds.push_back(connect_authenticated(addr, addr_len, hello));
    std::printf("keymgr-load: idle connections=%zu setup_seconds=%.3f ready\n", fds.size(),
                seconds_between(t0, Clock::now()));
    std::fflush(stdout);
    double held = 0;
    const std::size_t closed = hold_idle(fds, hold, held);
    std::printf("keymgr-load: idle connections=%zu seconds=%.3f closed=%zu\n", fds.size(), held, closed);
    std::fflush(stdout);
    for (const int fd : fds) close(fd);
    return closed ? 1 : 0;
  }

  const auto channel = parse_number(pos[4], "channel");
  const auto connections = parse_number(pos[5], "connections");
  const auto depth = parse_number(pos[6], "depth");
  const double seconds = parse_seconds(pos[7], "seconds");
  if (channel == 0 || channel > 0xFFFFFFFFul || connections == 0 || depth == 0) usage();
  raise_fd_limit(connections + 16);
  std::vector<int> fds;
  for (unsigned long i = 0; i < connections; ++i) fds.push_back(connect_authenticated(addr, addr_len, hello));
  LoadRun run(std::move(fds), key_request_frame(static_cast<std::uint32_t>(channel)), depth);
  return run.run(warmup, seconds);
}
