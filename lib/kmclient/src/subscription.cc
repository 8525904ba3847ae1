// Subscription: reading KEY_DELIVERY and HEARTBEAT frames off the stream.
#include "kmclient/subscription.h"

#include "answers.h"
#include "connection.h"

namespace kmclient {

using kmproto::MessageType;
using kmproto::ParamType;

Subscription::Subscription(std::unique_ptr<detail::Connection> conn, Endpoint endpoint, std::uint64_t since_version)
    : conn_(std::move(conn)),
      endpoint_(std::move(endpoint)),
      last_version_(since_version),
      last_heard_(std::chrono::steady_clock::now()) {}

Subscription::Subscription(Subscription&&) noexcept = default;
Subscription& Subscription::operator=(Subscription&&) noexcept = default;
Subscription::~Subscription() = default;

Result<SubscriptionEvent> Subscription::poll_delivery(std::chrono::milliseconds timeout) {
  if (failed_) return *failed_;
  const std::string name = endpoint_.to_string();
  auto finish = [&](Error e) {
    conn_.reset();
    failed_ = e;
    return e;
  };
  const detail::Deadline deadline = detail::Clock::now() + timeout;
  for (;;) {
    auto f = conn_->read_frame(deadline);
    if (!f) {
      if (f.error().kind == ErrorKind::timeout) return SubscriptionEvent{};
      return finish(Error{f.error().kind, std::nullopt, name + ": subscription: " + f.error().message});
    }
    last_heard_ = std::chrono::steady_clock::now();
    const kmproto::Frame v = f->view();
    switch (f->type) {
      case MessageType::heartbeat: {
        SubscriptionEvent e;
        e.kind = SubscriptionEvent::Kind::heartbeat;
        (void)v.read_u64(ParamType::server_time_ms, e.server_time_ms);
        return e;
      }
      case MessageType::error:
        return finish(detail::error_from(*f, name));
      case MessageType::key_delivery: {
        SubscriptionEvent e;
        e.kind = SubscriptionEvent::Kind::delivery;
        const kmproto::Status st = v.read_u64(ParamType::version, e.delivery.version);
        kmproto::KeyRecordIterator it(v);
        kmproto::KeyRecord r;
        while (it.next(r)) e.delivery.records.push_back(r);
        const kmproto::Status bad = st != kmproto::Status::ok ? st : it.status();
        if (bad != kmproto::Status::ok)
          return finish(Error{ErrorKind::bad_frame, std::nullopt,
                              name + ": subscription: KEY_DELIVERY: " + kmproto::status_text(bad)});
        last_version_ = e.delivery.version;
        return e;
      }
      default:
        break;  // a message this version does not know: skipped
    }
  }
}

}  // namespace kmclient
