// FrameConnection, instantiated for plain TCP and TLS streams.
#include "frame_connection.h"

#include <asio/ssl.hpp>
#include <openssl/x509.h>

#include <cstdio>
#include <cstring>
#include <type_traits>

#include "connection_counter.h"
#include "kmproto/protocol.h"
#include "pktparse/bytes.h"
#include "secmem/wipe.h"

namespace keymgr {

namespace {

using TcpStream = asio::ip::tcp::socket;
using TlsStream = asio::ssl::stream<asio::ip::tcp::socket>;

// Room for one frame of the largest size plus what usually follows it; a
// connection starts small and grows only when a frame needs the room, so
// idle connections stay cheap.
constexpr std::size_t kReadBuffer = kmproto::kHeaderLen + kmproto::kMaxMessageLength + 16384;
constexpr std::size_t kSmallReadBuffer = 4096;
// Frames handled for one connection before the others get a turn: a peer
// that pipelines thousands of requests does not hold everyone else's up for
// as long as they take.
constexpr std::size_t kFramesPerTurn = 64;

std::string subject_cn(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return {};
  std::string cn;
  X509_NAME* name = X509_get_subject_name(cert);
  const int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i >= 0) {
    const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    cn.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s)));
  }
  X509_free(cert);
  return cn;
}

}  // namespace

template <class Stream>
FrameConnection<Stream>::FrameConnection(Stream stream, Peer peer, RequestHandler& handler,
                                         const ConnectionLimits& limits, std::shared_ptr<ConnectionCounter> counter)
    : stream_(std::move(stream)),
      peer_(std::move(peer)),
      handler_(handler),
      limits_(limits),
      counter_(std::move(counter)),
      idle_(stream_.get_executor()),
      in_(kSmallReadBuffer) {
  counter_->opened();
}

template <class Stream>
FrameConnection<Stream>::~FrameConnection() {
  counter_->closed();
}

template <class Stream>
void FrameConnection<Stream>::start() {
  peer_.sink = this->weak_from_this();
  last_frame_ = std::chrono::steady_clock::now();
  arm_idle_timer();
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    stream_.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](const asio::error_code& ec) {
      if (ec) return self->shut();
      self->peer_.cert_cn = subject_cn(self->stream_.native_handle());
      self->read();
    });
  } else {
    read();
  }
}

template <class Stream>
void FrameConnection<Stream>::push(std::span<const std::uint8_t> frames) {
  if (closed_) return;
  if (pending_.size() + frames.size() > limits_.max_pending_output) {  // a subscriber that does not read
    std::fprintf(stderr, "keymgr: closing %s: %zu bytes wait unread\n", peer_.address.c_str(), pending_.size());
    return shut();
  }
  pending_.insert(pending_.end(), frames.begin(), frames.end());
  flush();
}

template <class Stream>
void FrameConnection<Stream>::read() {
  if (closed_ || reading_ || held_ || close_after_write_ || pending_.size() > limits_.max_pending_output) return;
  if (in_len_ == 0 && in_.size() > kSmallReadBuffer) {
    in_ = secmem::Bytes(kSmallReadBuffer);
  } else if (in_.size() - in_len_ < kSmallReadBuffer / 2 && in_.size() < kReadBuffer) {
    in_.resize(kReadBuffer);
  }
  reading_ = true;
  stream_.async_read_some(asio::buffer(in_.data() + in_len_, in_.size() - in_len_),
                          [self = this->shared_from_this()](const asio::error_code& ec, std::size_t n) {
                            self->reading_ = false;
                            if (ec) return self->shut();
                            self->in_len_ += n;
                            self->process();
                          });
}

template <class Stream>
void FrameConnection<Stream>::process() {
  const auto read_at = std::chrono::steady_clock::now();
  std::size_t off = 0, frames = 0;
  while (!closed_ && !close_after_write_ && pending_.size() <= limits_.max_pending_output &&
         frames < kFramesPerTurn) {
    kmproto::Frame frame;
    std::size_t used = 0;
    const kmproto::Status s = decoder_.decode({in_.data() + off, in_len_ - off}, frame, used);
    if (s == kmproto::Status::need_more) {
      if (in_len_ - off >= kmproto::kHeaderLen) {
        const std::uint8_t* h = in_.data() + off;
        const auto type = static_cast<kmproto::MessageType>(pktparse::load_be16(h + 1));
        if (handler_.unfinished(peer_, type, pktparse::load_be32(h + 3), pending_) == After::close)
          close_after_write_ = true;
      }
      break;
    }
    if (s != kmproto::Status::ok) {
      handler_.malformed(peer_, s, pending_);
      close_after_write_ = true;
      break;
    }
    if (off == 0) last_frame_ = read_at;
    if (handler_.handle(peer_, frame, pending_) == After::close) close_after_write_ = true;
    off += used;
    ++frames;
  }
  if (off) {
    std::memmove(in_.data(), in_.data() + off, in_len_ - off);
    secmem::secure_wipe(in_.data() + in_len_ - off, off);
    in_len_ -= off;
    // The callback keeps the connection alive while nothing else is in flight.
    held_ = handler_.hold_answers([self = this->shared_from_this()] { self->release(); });
    if (held_) {
      burst_read_ = read_at;
    } else {
      handler_.answered(std::chrono::steady_clock::now() - read_at);
    }
  }
  flush();
  if (frames == kFramesPerTurn && !held_) {  // held: release() goes on with the rest
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->in_len_ && !self->reading_ && !self->held_) self->process();
      else self->read();
    });
    return;
  }
  read();
}

template <class Stream>
void FrameConnection<Stream>::release() {
  held_ = false;
  handler_.answered(std::chrono::steady_clock::now() - burst_read_);
  flush();
  if (in_len_ && !reading_) {
    process();
  } else {
    read();
  }
}

template <class Stream>
void FrameConnection<Stream>::flush() {
  if (closed_ || held_ || !writing_.empty()) return;
  if (pending_.empty()) {
    if (close_after_write_) shut();
    return;
  }
  writing_.swap(pending_);
  asio::async_write(stream_, asio::buffer(writing_),
                    [self = this->shared_from_this()](const asio::error_code& ec, std::size_t) {
                      secmem::secure_wipe(self->writing_.data(), self->writing_.size());
                      self->writing_.clear();
                      if (ec) return self->shut();
                      self->flush();
                      // Input left unprocessed while output was over its limit.
                      if (self->in_len_ && !self->reading_) self->process();
                      else self->read();
                    });
}

// One timer per connection, armed once per idle period rather than per frame:
// when it fires it closes the connection only if no frame came since.
template <class Stream>
void FrameConnection<Stream>::arm_idle_timer() {
  idle_.expires_at(last_frame_ + limits_.idle_timeout);
  idle_.async_wait([weak = this->weak_from_this()](const asio::error_code& ec) {
    if (ec) return;  // cancelled
    auto self = weak.lock();
    if (!self) return;
    if (std::chrono::steady_clock::now() - self->last_frame_ >= self->limits_.idle_timeout) return self->shut();
    self->arm_idle_timer();
  });
}

template <class Stream>
void FrameConnection<Stream>::shut() {
  if (closed_) return;
  closed_ = true;
  idle_.cancel();
  asio::error_code ignored;
  stream_.lowest_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.lowest_layer().close(ignored);
  handler_.closed(peer_);
}

template class FrameConnection<TcpStream>;
template class FrameConnection<TlsStream>;

}  // namespace keymgr
