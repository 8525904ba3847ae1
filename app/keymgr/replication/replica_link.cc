// ReplicaLink and its per-connection session, for plain TCP and TLS.
#include "replica_link.h"

#include <openssl/ssl.h>

#include <cstdio>
#include <cstring>
#include <type_traits>

#include "kmclient/server_name.h"
#include "kmproto/frame.h"
#include "kmproto/frame_builder.h"
#include "kmproto/key_record.h"
#include "secmem/allocator.h"
#include "secmem/wipe.h"

namespace keymgr {

namespace {

using kmproto::MessageType;
using kmproto::ParamType;
using TcpStream = asio::ip::tcp::socket;
using TlsStream = asio::ssl::stream<asio::ip::tcp::socket>;

constexpr auto kSilence = std::chrono::seconds(3);

void replica_log(const std::string& s) { std::fprintf(stderr, "keymgr replica: %s\n", s.c_str()); }

template <class Stream>
class ReplicaSession : public std::enable_shared_from_this<ReplicaSession<Stream>> {
 public:
  ReplicaSession(Stream stream, ReplicaLink& link, const KeymgrConfig& config, KeyService& service)
      : stream_(std::move(stream)), link_(link), config_(config), service_(service), watchdog_(stream_.get_executor()),
        in_(kmproto::kHeaderLen + kmproto::kMaxMessageLength + 16384) {}

  void start() {
    arm_watchdog();
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      kmclient::expect_server_name(stream_.native_handle(), config_.server.master->host);
      stream_.async_handshake(asio::ssl::stream_base::client, [self = this->shared_from_this()](const asio::error_code& ec) {
        if (ec) return self->down("TLS handshake with master: " + ec.message());
        self->greet();
      });
    } else {
      greet();
    }
  }

 private:
  void greet() {
    kmproto::FrameBuilder b(out_);
    b.begin(MessageType::hello);
    b.add_u8(ParamType::role, static_cast<std::uint8_t>(kmproto::Role::replica));
    b.add_string(ParamType::peer_id, config_.server.replica_peer_id);
    if (config_.server.lab) b.add_string(ParamType::auth_token, config_.server.replica_token);
    (void)b.finish();
    b.begin(MessageType::subscribe);
    b.add_u64(ParamType::since_version, service_.store_version());
    (void)b.finish();
    asio::async_write(stream_, asio::buffer(out_), [self = this->shared_from_this()](const asio::error_code& ec, std::size_t) {
      if (ec) return self->down("writing to master: " + ec.message());
      self->read();
    });
  }

  void read() {
    stream_.async_read_some(asio::buffer(in_.data() + in_len_, in_.size() - in_len_),
                            [self = this->shared_from_this()](const asio::error_code& ec, std::size_t n) {
                              if (ec) return self->down("master closed the link: " + ec.message());
                              self->in_len_ += n;
                              self->process();
                            });
  }

  void process() {
    std::size_t off = 0;
    for (;;) {
      kmproto::Frame f;
      std::size_t used = 0;
      const kmproto::Status s = decoder_.decode({in_.data() + off, in_len_ - off}, f, used);
      if (s == kmproto::Status::need_more) break;
      if (s != kmproto::Status::ok) return down(std::string("malformed frame from master: ") + kmproto::status_text(s));
      arm_watchdog();
      link_.on_frame();
      if (!handle(f)) return;
      off += used;
    }
    std::memmove(in_.data(), in_.data() + off, in_len_ - off);
    secmem::secure_wipe(in_.data() + in_len_ - off, off);  // KEY_DELIVERYs carry key material
    in_len_ -= off;
    read();
  }

  bool handle(const kmproto::Frame& f) {
    constexpr auto type = [](MessageType t) { return static_cast<std::uint16_t>(t); };
    switch (type(f.type)) {
      case type(kmproto::answer_of(MessageType::hello)):
      case type(MessageType::heartbeat):
        return true;
      case type(kmproto::answer_of(MessageType::subscribe)):
        link_.on_up();
        return true;
      case type(MessageType::key_delivery): {
        std::uint64_t version = 0;
        kmproto::KeyRecordIterator it(f);
        kmproto::KeyRecord r;
        if (f.read_u64(ParamType::version, version) != kmproto::Status::ok || !it.next(r)) {
          down("KEY_DELIVERY without version or key_record");
          return false;
        }
        std::string why;
        if (!service_.apply_delivery(version, r, &why)) {
          down("cannot apply version " + std::to_string(version) + ": " + why);
          return false;
        }
        return true;
      }
      case type(MessageType::error): {
        std::string_view text;
        (void)f.read_string(ParamType::error_text, text);
        down("master refused: " + std::string(text));
        return false;
      }
      default:
        return true;  // a later protocol's message: skip
    }
  }

  void arm_watchdog() {
    watchdog_.expires_after(kSilence);
    watchdog_.async_wait([weak = this->weak_from_this()](const asio::error_code& ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->down("master silent for 3 s");
    });
  }

  void down(const std::string& why) {
    if (done_) return;
    done_ = true;
    watchdog_.cancel();
    asio::error_code ignored;
    stream_.lowest_layer().close(ignored);
    link_.on_down(why);
  }

  Stream stream_;
  ReplicaLink& link_;
  const KeymgrConfig& config_;
  KeyService& service_;
  asio::steady_timer watchdog_;
  kmproto::FrameDecoder decoder_;
  secmem::Bytes in_;  // secret memory: KEY_DELIVERYs carry key material
  std::size_t in_len_ = 0;
  std::vector<std::uint8_t> out_;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<asio::ssl::context> make_client_tls(const TlsConfig& tls) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_3_VERSION);
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_CLEANSE_PLAINTEXT);  // KEY_DELIVERYs: keys in clear inside TLS
  asio::error_code ec;
  ctx->use_certificate_chain_file(tls.client_cert.string(), ec);
  if (!ec) ctx->use_private_key_file(tls.client_key.string(), asio::ssl::context::pem, ec);
  if (!ec) ctx->load_verify_file(tls.ca.string(), ec);
  if (ec) throw std::runtime_error("replica TLS client identity: " + ec.message());
  ctx->set_verify_mode(asio::ssl::verify_peer);
  return ctx;
}

ReplicaLink::ReplicaLink(asio::io_context& io, const KeymgrConfig& config, KeyService& service,
                         asio::ssl::context* tls)
    : io_(io), config_(config), service_(service), tls_(tls), retry_(io) {}

void ReplicaLink::connect() {
  auto resolver = std::make_shared<asio::ip::tcp::resolver>(io_);
  const HostPort& m = *config_.server.master;
  resolver->async_resolve(m.host, std::to_string(m.port), [this, resolver](const asio::error_code& ec, const asio::ip::tcp::resolver::results_type& results) {
    if (ec) return on_down("cannot resolve master: " + ec.message());
    auto socket = std::make_shared<asio::ip::tcp::socket>(io_);
    asio::async_connect(*socket, results, [this, socket](const asio::error_code& cec, const asio::ip::tcp::endpoint&) {
      if (cec) return on_down("cannot connect to master " + to_string(*config_.server.master) + ": " + cec.message());
      if (tls_) {
        std::make_shared<ReplicaSession<TlsStream>>(TlsStream(std::move(*socket), *tls_), *this, config_, service_)->start();
      } else {
        std::make_shared<ReplicaSession<TcpStream>>(std::move(*socket), *this, config_, service_)->start();
      }
    });
  });
}

void ReplicaLink::on_up() {
  connected_ = true;
  backoff_ = kFirstRetry;
  last_error_.clear();
  replica_log("subscribed to master " + to_string(*config_.server.master) + " at version " +
              std::to_string(service_.store_version()));
}

void ReplicaLink::on_down(const std::string& why) {
  connected_ = false;
  if (why != last_error_) replica_log(why + "; retrying");
  last_error_ = why;
  retry_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, kMaxRetry);
  retry_.async_wait([this](const asio::error_code& ec) {
    if (!ec) connect();
  });
}

}  // namespace keymgr
