// Connection: non-blocking connect, TLS handshake, send and frame reading,
// each bounded by poll() against a deadline.
#include "connection.h"

#include "kmclient/server_name.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <string>

#include "secmem/wipe.h"

namespace kmclient::detail {
namespace {

Error fail(ErrorKind k, std::string what) { return Error{k, std::nullopt, std::move(what)}; }

Error sys_error(const char* what, int err) { return fail(ErrorKind::transport, std::string(what) + ": " + std::strerror(err)); }

int ms_left(Deadline d) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(d - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1 << 30));
}

// Waits until fd is ready for events or the deadline passes.
Result<void> wait_for(int fd, short events, Deadline d) {
  for (;;) {
    const int ms = ms_left(d);
    if (ms == 0) return fail(ErrorKind::timeout, "timed out");
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, ms);
    if (n > 0) return {};
    if (n < 0 && errno != EINTR) return sys_error("poll", errno);
  }
}

// The first queued OpenSSL error as text, the queue cleared; unauthenticated
// when the key manager's alert says it refused our certificate.
Error tls_error(const char* what) {
  const unsigned long e = ERR_peek_error();
  char buf[256] = "unknown TLS error";
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  ErrorKind kind = ErrorKind::transport;
  switch (ERR_GET_REASON(e)) {
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
      kind = ErrorKind::unauthenticated;
      break;
    default:
      break;
  }
  return fail(kind, std::string(what) + ": " + buf);
}

// OpenSSL writes to the socket with write(): a peer that closed would raise
// SIGPIPE. Blocks it on this thread for the scope and swallows one raised.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe, &old_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      const timespec zero{0, 0};
      while (sigtimedwait(&pipe, nullptr, &zero) > 0) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t old_{};
  bool was_pending_ = false;
};

// Connects a non-blocking socket to one address.
Result<int> connect_one(const addrinfo& ai, Deadline d) {
  const int fd = ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol);
  if (fd < 0) return sys_error("socket", errno);
  if (::connect(fd, ai.ai_addr, ai.ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      const int err = errno;
      ::close(fd);
      return sys_error("connect", err);
    }
    if (auto w = wait_for(fd, POLLOUT, d); !w) {
      ::close(fd);
      return Error{w.error().kind, std::nullopt, "connect: " + w.error().message};
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
      ::close(fd);
      return sys_error("connect", err);
    }
  }
  const int one = 1;
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

Result<int> tcp_connect(const Endpoint& ep, Deadline d) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
  const std::string port = std::to_string(ep.port);
  addrinfo* list = nullptr;
  int rc = ::getaddrinfo(ep.host.c_str(), port.c_str(), &hints, &list);
  if (rc == EAI_NONAME) {
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    rc = ::getaddrinfo(ep.host.c_str(), port.c_str(), &hints, &list);
  }
  if (rc != 0) return fail(ErrorKind::transport, std::string("resolve: ") + ::gai_strerror(rc));
  Error last = fail(ErrorKind::transport, "resolve: no address");
  for (const addrinfo* ai = list; ai; ai = ai->ai_next) {
    auto fd = connect_one(*ai, d);
    if (fd) {
      ::freeaddrinfo(list);
      return fd;
    }
    last = fd.error();
    if (last.kind == ErrorKind::timeout) break;
  }
  ::freeaddrinfo(list);
  return last;
}

}  // namespace

Result<std::unique_ptr<Connection>> Connection::open(const Endpoint& ep, SSL_CTX* tls_ctx, Deadline deadline) {
  auto fd = tcp_connect(ep, deadline);
  if (!fd) return fd.error();
  SSL* ssl = nullptr;
  if (tls_ctx) {
    ssl = SSL_new(tls_ctx);
    if (!ssl) {
      ::close(*fd);
      return tls_error("SSL_new");
    }
    SSL_set_fd(ssl, *fd);
  }
  std::unique_ptr<Connection> c(new Connection(*fd, ssl));
  if (ssl)
    if (auto h = c->handshake(ep, deadline); !h) return h.error();
  return c;
}

Result<void> Connection::handshake(const Endpoint& ep, Deadline deadline) {
  expect_server_name(ssl_, ep.host);
  SigpipeGuard guard;
  for (;;) {
    const int rc = SSL_connect(ssl_);
    if (rc == 1) return {};
    const int err = SSL_get_error(ssl_, rc);
    Result<void> w;
    if (err == SSL_ERROR_WANT_READ) {
      w = wait_for(fd_, POLLIN, deadline);
    } else if (err == SSL_ERROR_WANT_WRITE) {
      w = wait_for(fd_, POLLOUT, deadline);
    } else if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
      return fail(ErrorKind::transport, "TLS handshake: connection closed by the key manager");
    } else {
      const long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK) {
        ERR_clear_error();
        return fail(ErrorKind::transport,
                    std::string("TLS handshake: server certificate: ") + X509_verify_cert_error_string(verify));
      }
      return tls_error("TLS handshake");
    }
    if (!w) return Error{w.error().kind, std::nullopt, "TLS handshake: " + w.error().message};
  }
}

Connection::~Connection() {
  if (ssl_) SSL_free(ssl_);  // no close_notify: it could block, and the server does not need it
  if (fd_ >= 0) ::close(fd_);
}

Result<void> Connection::send(std::span<const std::uint8_t> bytes, Deadline deadline) {
  std::size_t done = 0;
  if (ssl_) {
    SigpipeGuard guard;
    while (done < bytes.size()) {
      const int chunk = static_cast<int>(std::min<std::size_t>(bytes.size() - done, 1 << 20));
      const int n = SSL_write(ssl_, bytes.data() + done, chunk);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
        continue;
      }
      const int err = SSL_get_error(ssl_, n);
      Result<void> w;
      if (err == SSL_ERROR_WANT_WRITE) {
        w = wait_for(fd_, POLLOUT, deadline);
      } else if (err == SSL_ERROR_WANT_READ) {
        w = wait_for(fd_, POLLIN, deadline);
      } else if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        return sys_error("send", errno != 0 ? errno : EPIPE);
      } else {
        return tls_error("send");
      }
      if (!w) return Error{w.error().kind, std::nullopt, "send: " + w.error().message};
    }
    return {};
  }
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n >= 0) {
      done += static_cast<std::size_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (auto w = wait_for(fd_, POLLOUT, deadline); !w)
        return Error{w.error().kind, std::nullopt, "send: " + w.error().message};
    } else if (errno != EINTR) {
      return sys_error("send", errno);
    }
  }
  return {};
}

Result<void> Connection::read_some(Deadline deadline) {
  std::uint8_t buf[16384];
  for (;;) {
    if (ssl_) {
      const int n = SSL_read(ssl_, buf, sizeof buf);
      if (n > 0) {
        in_.insert(in_.end(), buf, buf + n);
        secmem::secure_wipe(buf, static_cast<std::size_t>(n));
        heard_from_ = true;
        return {};
      }
      const int err = SSL_get_error(ssl_, n);
      Result<void> w;
      if (err == SSL_ERROR_WANT_READ) {
        w = wait_for(fd_, POLLIN, deadline);
      } else if (err == SSL_ERROR_WANT_WRITE) {
        w = wait_for(fd_, POLLOUT, deadline);
      } else if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
        ERR_clear_error();
        return fail(ErrorKind::transport, "connection closed by the key manager");
      } else {
        return tls_error("receive");
      }
      if (!w) return w;
      continue;
    }
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      in_.insert(in_.end(), buf, buf + n);
      secmem::secure_wipe(buf, static_cast<std::size_t>(n));
      heard_from_ = true;
      return {};
    }
    if (n == 0) return fail(ErrorKind::transport, "connection closed by the key manager");
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (auto w = wait_for(fd_, POLLIN, deadline); !w) return w;
    } else if (errno != EINTR) {
      return sys_error("receive", errno);
    }
  }
}

bool Connection::idle_and_open() {
  if (!in_.empty()) return false;
  const auto r = read_some(Clock::now());  // one non-blocking read
  return !r && r.error().kind == ErrorKind::timeout;
}

Result<OwnedFrame> Connection::read_frame(Deadline deadline) {
  for (;;) {
    kmproto::Frame f;
    std::size_t used = 0;
    const kmproto::Status st = decoder_.decode(in_, f, used);
    if (st == kmproto::Status::ok) {
      OwnedFrame out(f.type, secmem::Bytes(f.params.begin(), f.params.end()));
      // Move what follows to the front and wipe the bytes it leaves behind.
      const std::size_t rest = in_.size() - used;
      std::memmove(in_.data(), in_.data() + used, rest);
      secmem::secure_wipe(in_.data() + rest, used);
      in_.resize(rest);
      return out;
    }
    if (st != kmproto::Status::need_more)
      return fail(ErrorKind::bad_frame, std::string("malformed frame from the key manager: ") + kmproto::status_text(st));
    if (auto r = read_some(deadline); !r) return r.error();
  }
}

}  // namespace kmclient::detail
