// KeymgrClient: requests, pipelining and failover across endpoints.
#include "kmclient/client.h"

#include "answers.h"
#include "connection.h"
#include "endpoint_order.h"
#include "hold_off.h"
#include "owned_frame.h"
#include "requests.h"
#include "session.h"
#include "tls_context.h"

namespace kmclient {

using kmproto::ErrorCode;
using kmproto::KeyRecord;
using kmproto::MessageType;

namespace detail {

struct Outgoing {
  secmem::Bytes frame;  // secret memory: a KEY_PUSH carries key material
  MessageType type{};
  bool master_only = false;  // not_master is a reason to fail over
  bool by_id = false;        // a key asked for by id: unknown_key is a reason to ask another endpoint

  Outgoing(secmem::Bytes f, MessageType t, bool m = false, bool id = false)
      : frame(std::move(f)), type(t), master_only(m), by_id(id) {}
  Outgoing(Outgoing&&) noexcept = default;
  Outgoing(const Outgoing&) = delete;
  Outgoing& operator=(const Outgoing&) = delete;
};

// Collects why each endpoint failed during one call.
class Failures {
 public:
  void add(const Error& e) {
    held_off_ = (text_.empty() || held_off_) && e.held_off;
    if (!text_.empty()) text_ += "; ";
    text_ += e.message;
    if (e.kind == ErrorKind::unauthenticated || !worst_ ||
        (worst_->kind != ErrorKind::unauthenticated && e.kind == ErrorKind::answer) ||
        (worst_->kind != ErrorKind::unauthenticated && worst_->kind != ErrorKind::answer))
      worst_ = e;
  }
  Error result(std::size_t endpoints) const {
    Error e = worst_.value_or(Error{ErrorKind::config, std::nullopt, ""});
    e.message = "no key manager answered (" + std::to_string(endpoints) + " endpoint" + (endpoints == 1 ? "" : "s") +
                " tried): " + text_;
    e.held_off = held_off_;
    return e;
  }

 private:
  std::string text_;
  bool held_off_ = false;  // every failure so far is a hold-off
  std::optional<Error> worst_;  // unauthenticated, else an ERROR answer, else the last
};

namespace {

bool fail_over_on(const OwnedFrame& answer, const Outgoing& req) {
  if (answer.type != MessageType::error) return false;
  const ErrorCode c = error_code_of(answer);
  return c == ErrorCode::unavailable || (c == ErrorCode::not_master && req.master_only);
}

// A replica that has not caught up yet (it resubscribes after a master
// restart) does not know a key the master just made: another endpoint may.
bool ask_elsewhere(const OwnedFrame& answer, const Outgoing& req) {
  return req.by_id && answer.type == MessageType::error && error_code_of(answer) == ErrorCode::unknown_key;
}

// The server closes the connection after these.
bool closes_connection(const OwnedFrame& answer) {
  if (answer.type != MessageType::error) return false;
  const ErrorCode c = error_code_of(answer);
  return c == ErrorCode::bad_message || c == ErrorCode::unauthenticated;
}

}  // namespace
}  // namespace detail

using detail::Clock;
using detail::Outgoing;
using detail::OwnedFrame;

std::string Endpoint::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

KeymgrClient::KeymgrClient(ClientConfig config)
    : config_(std::move(config)),
      order_(std::make_unique<detail::EndpointOrder>(config_.endpoints.size(), config_.failover)),
      hold_off_(std::make_unique<detail::HoldOff>(config_.endpoints.size(), config_.hold_off, config_.hold_off_max)),
      tls_ctx_(nullptr, SSL_CTX_free) {}

KeymgrClient::~KeymgrClient() = default;

void KeymgrClient::disconnect() { conn_.reset(); }

std::optional<Endpoint> KeymgrClient::current_endpoint() const {
  if (!conn_) return std::nullopt;
  return config_.endpoints[conn_endpoint_];
}

std::optional<std::uint64_t> KeymgrClient::server_time_ms() const {
  if (!conn_) return std::nullopt;
  return server_time_ms_;
}

std::string KeymgrClient::answered_by() const { return config_.endpoints[answered_by_].to_string(); }

Result<SSL_CTX*> KeymgrClient::tls_context() {
  if (!config_.tls) return static_cast<SSL_CTX*>(nullptr);
  if (!tls_ctx_) {
    auto ctx = detail::make_tls_context(*config_.tls);
    if (!ctx) return ctx.error();
    tls_ctx_.reset(ctx->release());
  }
  return tls_ctx_.get();
}

bool KeymgrClient::dial(SSL_CTX* ctx, std::vector<bool>& tried, detail::Failures& failures) {
  const auto i = order_->next(tried);
  if (!i) return false;
  tried[*i] = true;
  const Endpoint& ep = config_.endpoints[*i];
  if (const auto left = hold_off_->left(*i, Clock::now()); left.count() > 0) {
    failures.add(Error{ErrorKind::timeout, std::nullopt,
                       ep.to_string() + ": not dialled: it gave no answer in time, left alone " +
                           std::to_string(left.count()) + " ms more",
                       true});
    return true;
  }
  auto s = detail::open_session(config_, ctx, ep, Clock::now() + config_.connect_timeout);
  if (!s) {
    if (s.error().kind == ErrorKind::timeout) hold_off_->timed_out(*i, Clock::now());
    failures.add(s.error());
    return true;
  }
  conn_ = std::move(s->conn);
  conn_endpoint_ = *i;
  server_time_ms_ = s->server_time_ms;
  return true;
}

Result<void> KeymgrClient::connect() {
  if (conn_) return {};
  const std::size_t n_endpoints = config_.endpoints.size();
  if (n_endpoints == 0) return Error{ErrorKind::config, std::nullopt, "no key manager endpoints configured"};
  auto ctx = tls_context();
  if (!ctx) return ctx.error();
  std::vector<bool> tried(n_endpoints, false);
  detail::Failures failures;
  while (!conn_)
    if (!dial(*ctx, tried, failures)) return failures.result(n_endpoints);
  return {};
}

Result<std::vector<OwnedFrame>> KeymgrClient::exchange(std::span<const Outgoing> reqs) {
  unanswered_.clear();
  const std::size_t n_endpoints = config_.endpoints.size();
  if (n_endpoints == 0) return Error{ErrorKind::config, std::nullopt, "no key manager endpoints configured"};
  auto ctx = tls_context();
  if (!ctx) return ctx.error();

  std::vector<OwnedFrame> answers;
  answers.reserve(reqs.size());
  std::vector<bool> tried(n_endpoints, false);
  detail::Failures failures;

  while (answers.size() < reqs.size()) {
    if (!conn_) {
      if (!dial(*ctx, tried, failures)) return failures.result(n_endpoints);
      if (!conn_) continue;
    } else if (!conn_->idle_and_open()) {
      // Closed by the key manager while kept (idle timeout, restart): dialled
      // anew, not counted against its endpoint; nothing was sent on it.
      conn_.reset();
      continue;
    }
    const std::string name = config_.endpoints[conn_endpoint_].to_string();
    const std::size_t first = answers.size();
    auto endpoint_failed = [&](const Error& e, const std::string& what) {
      conn_.reset();
      tried[conn_endpoint_] = true;
      if (e.kind == ErrorKind::timeout) hold_off_->timed_out(conn_endpoint_, Clock::now());
      failures.add(Error{e.kind, e.code, name + ": " + what + e.message});
    };

    secmem::Bytes out;
    for (std::size_t k = first; k < reqs.size(); ++k) out.insert(out.end(), reqs[k].frame.begin(), reqs[k].frame.end());
    auto sent = conn_->send(out, Clock::now() + config_.request_timeout);
    if (!sent) {
      endpoint_failed(sent.error(), "sending " + detail::message_name(reqs[first].type) + ": ");
      continue;
    }
    while (conn_ && answers.size() < reqs.size()) {
      const Outgoing& req = reqs[answers.size()];
      const std::string waiting = "waiting for the " + detail::message_name(req.type) + " answer: ";
      auto f = conn_->read_frame(Clock::now() + config_.request_timeout);
      if (!f) {
        Error e = f.error();
        if (e.kind == ErrorKind::timeout)
          e.message = "no answer within " + std::to_string(config_.request_timeout.count()) + " ms";
        unanswered_.push_back(name);
        endpoint_failed(e, waiting);
        break;
      }
      if (f->type == MessageType::heartbeat) continue;
      if (auto c = detail::check_answer(*f, req.type); !c) {
        unanswered_.push_back(name);
        endpoint_failed(c.error(), "");
        break;
      }
      hold_off_->answered(conn_endpoint_);  // an ERROR too: the endpoint is alive
      bool others_left = false;
      for (std::size_t i = 0; i < n_endpoints; ++i) others_left |= i != conn_endpoint_ && !tried[i];
      if (detail::fail_over_on(*f, req) || (others_left && detail::ask_elsewhere(*f, req))) {
        conn_.reset();
        tried[conn_endpoint_] = true;
        failures.add(detail::error_from(*f, name));
        break;
      }
      const bool closing = detail::closes_connection(*f);
      answers.push_back(std::move(*f));
      answered_by_ = conn_endpoint_;
      if (closing) conn_.reset();
    }
  }
  return answers;
}

namespace {

// The answer as key records, or its ERROR.
Result<std::vector<KeyRecord>> keys_of(const OwnedFrame& f, const std::string& endpoint) {
  if (f.type == MessageType::error) return detail::error_from(f, endpoint);
  return detail::records_of(f);
}

}  // namespace

Result<std::vector<KeyRecord>> KeymgrClient::request_keys(std::uint32_t channel_id) {
  const Outgoing req[] = {{detail::key_request_frame(channel_id, 0), MessageType::key_request}};
  auto a = exchange(req);
  if (!a) return a.error();
  return keys_of((*a)[0], answered_by());
}

Result<KeyRecord> KeymgrClient::request_key(std::uint32_t channel_id, std::uint32_t key_id) {
  const Outgoing req[] = {{detail::key_request_frame(channel_id, key_id), MessageType::key_request, false, true}};
  auto a = exchange(req);
  if (!a) return a.error();
  const std::string name = answered_by();
  auto keys = keys_of((*a)[0], name);
  if (!keys) return keys.error();
  for (const KeyRecord& r : *keys)
    if (r.channel_id == channel_id && r.key_id == key_id) return r;
  return Error{ErrorKind::bad_frame, std::nullopt,
               name + ": KEY_REQUEST answer lacks key " + std::to_string(key_id) + " of channel " +
                   std::to_string(channel_id)};
}

Result<std::vector<Result<std::vector<KeyRecord>>>> KeymgrClient::request_many(std::span<const KeyQuery> queries) {
  std::vector<Outgoing> reqs;
  reqs.reserve(queries.size());
  for (const KeyQuery& q : queries)
    reqs.emplace_back(detail::key_request_frame(q.channel_id, q.key_id), MessageType::key_request, false, q.key_id != 0);
  auto a = exchange(reqs);
  if (!a) return a.error();
  const std::string name = answered_by();
  std::vector<Result<std::vector<KeyRecord>>> out;
  out.reserve(a->size());
  for (const OwnedFrame& f : *a) out.push_back(keys_of(f, name));
  return out;
}

Result<KeyRecord> KeymgrClient::generate(std::uint32_t channel_id, kmproto::Which which, std::uint8_t suite,
                                         std::uint16_t key_length, std::uint32_t lifetime_ms) {
  const Outgoing req[] = {{detail::key_generate_frame(channel_id, which, suite, key_length, lifetime_ms),
                           MessageType::key_generate, true}};
  auto a = exchange(req);
  if (!a) return a.error();
  const std::string name = answered_by();
  auto keys = keys_of((*a)[0], name);
  if (!keys) return keys.error();
  if (keys->size() != 1)
    return Error{ErrorKind::bad_frame, std::nullopt,
                 name + ": KEY_GENERATE answer holds " + std::to_string(keys->size()) + " key records, not 1"};
  return (*keys)[0];
}

Result<void> KeymgrClient::push(std::span<const KeyRecord> records) {
  if (records.empty()) return {};
  auto frame = detail::key_push_frame(records);
  if (frame.empty())
    return Error{ErrorKind::config, std::nullopt, std::to_string(records.size()) + " key records do not fit in one KEY_PUSH"};
  const Outgoing req[] = {{std::move(frame), MessageType::key_push, true}};
  auto a = exchange(req);
  if (!a) return a.error();
  if ((*a)[0].type == MessageType::error)
    return detail::error_from((*a)[0], answered_by());
  return {};
}

Result<void> KeymgrClient::report_usage(std::uint32_t channel_id, std::uint32_t key_id, std::uint64_t packets,
                                        std::uint64_t bytes) {
  const Outgoing req[] = {{detail::usage_report_frame(channel_id, key_id, packets, bytes), MessageType::usage_report}};
  auto a = exchange(req);
  if (!a) return a.error();
  if ((*a)[0].type == MessageType::error)
    return detail::error_from((*a)[0], answered_by());
  return {};
}

Result<Subscription> KeymgrClient::subscribe(std::uint64_t since_version) {
  // The request connection is set aside so that exchange() dials a new one.
  std::unique_ptr<detail::Connection> kept = std::move(conn_);
  const std::size_t kept_endpoint = conn_endpoint_;
  const std::uint64_t kept_time = server_time_ms_;
  const Outgoing req[] = {{detail::subscribe_frame(since_version), MessageType::subscribe}};
  auto a = exchange(req);
  std::unique_ptr<detail::Connection> stream = std::move(conn_);
  const Endpoint ep = config_.endpoints.empty() ? Endpoint{} : config_.endpoints[conn_endpoint_];
  conn_ = std::move(kept);
  conn_endpoint_ = kept_endpoint;
  server_time_ms_ = kept_time;
  if (!a) return a.error();
  if ((*a)[0].type == MessageType::error) return detail::error_from((*a)[0], ep.to_string());
  if (!stream) return Error{ErrorKind::transport, std::nullopt, ep.to_string() + ": subscription connection closed"};
  return Subscription(std::move(stream), ep, since_version);
}

}  // namespace kmclient
