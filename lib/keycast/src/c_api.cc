// The C API (keycast.h) over keycast::Receiver: arguments checked, every
// exception caught at the boundary, errors kept per thread.
#include <cstring>
#include <new>
#include <string>

#include "keycast/endpoint.h"
#include "keycast/keycast.h"
#include "keycast/receiver.h"

struct keycast_receiver {
  keycast::Receiver rx;
  std::uint32_t channel_count = 0;
};

namespace {

thread_local std::string g_last_error;

int fail(int code, std::string message) {
  g_last_error = std::move(message);
  return code;
}

template <typename F>
int guarded(F&& f) noexcept {
  try {
    g_last_error.clear();
    return f();
  } catch (const std::bad_alloc&) {
    return fail(KEYCAST_ENOMEM, "out of memory");
  } catch (const std::exception& e) {
    return fail(KEYCAST_EINTERNAL, e.what());
  } catch (...) {
    return fail(KEYCAST_EINTERNAL, "unknown error");
  }
}

std::string failures_text(keycast::Receiver& rx) {
  std::string text;
  for (const auto& f : rx.take_failures()) {
    if (!text.empty()) text += "; ";
    text += "channel " + std::to_string(f.channel_id) + ": " + keycast::fetch_error_name(f.error) + ": " + f.message;
  }
  return text;
}

}  // namespace

extern "C" {

int keycast_receiver_create(const keycast_config* c, keycast_receiver** out) {
  return guarded([&] {
    if (!c || !out) return fail(KEYCAST_EINVAL, "config and out must not be NULL");
    *out = nullptr;
    kmclient::ClientConfig km;
    if (c->keymgr_count == 0 || !c->keymgr) return fail(KEYCAST_EINVAL, "no key manager endpoint");
    for (std::size_t i = 0; i < c->keymgr_count; ++i) {
      const auto ep = c->keymgr[i] ? keycast::parse_endpoint(c->keymgr[i]) : std::nullopt;
      if (!ep) return fail(KEYCAST_EINVAL, std::string("bad key manager endpoint: ") + (c->keymgr[i] ? c->keymgr[i] : "NULL"));
      km.endpoints.push_back(*ep);
    }
    km.failover = c->round_robin ? kmclient::ClientConfig::Failover::round_robin
                                 : kmclient::ClientConfig::Failover::in_order;
    if (!c->peer_id || !*c->peer_id) return fail(KEYCAST_EINVAL, "peer_id missing");
    km.peer_id = c->peer_id;
    if (c->token) km.auth_token = c->token;
    const int tls_parts = (c->tls_cert != nullptr) + (c->tls_key != nullptr) + (c->tls_ca != nullptr);
    if (tls_parts != 0 && tls_parts != 3) return fail(KEYCAST_EINVAL, "tls_cert, tls_key and tls_ca go together");
    if (tls_parts == 3) km.tls = kmclient::TlsFiles{c->tls_cert, c->tls_key, c->tls_ca};
    keycast::ReceiverOptions o;
    for (std::size_t i = 0; i < c->channel_count; ++i) {
      if (!c->channels || c->channels[i] == 0) return fail(KEYCAST_EINVAL, "channel ids are non-zero");
      o.channels.push_back({c->channels[i], std::nullopt});
    }
    if (c->grace_ms) o.grace = std::chrono::milliseconds(c->grace_ms);
    if (c->hold_timeout_ms) o.hold_timeout = std::chrono::milliseconds(c->hold_timeout_ms);
    if (c->hold_limit) o.hold_limit = c->hold_limit;
    *out = new keycast_receiver{keycast::Receiver(std::move(km), std::move(o)),
                                static_cast<std::uint32_t>(c->channel_count)};
    return static_cast<int>(KEYCAST_OK);
  });
}

int keycast_receiver_wait_ready(keycast_receiver* r, uint32_t timeout_ms) {
  return guarded([&] {
    if (!r) return fail(KEYCAST_EINVAL, "NULL receiver");
    if (r->rx.wait_ready(std::chrono::milliseconds(timeout_ms))) return static_cast<int>(KEYCAST_OK);
    std::string text = failures_text(r->rx);
    if (!text.empty()) return fail(KEYCAST_EFETCH, text);
    return fail(KEYCAST_ETIMEDOUT, "keys did not arrive within " + std::to_string(timeout_ms) + " ms");
  });
}

int keycast_receiver_process(keycast_receiver* r, uint8_t* datagram, size_t len, keycast_outcome* out) {
  return guarded([&] {
    if (!r || !out || (!datagram && len)) return fail(KEYCAST_EINVAL, "NULL argument");
    std::span<std::uint8_t> clear;
    const auto o = r->rx.process({datagram, len}, clear);
    out->kind = static_cast<int>(o.kind);
    out->drop_reason = static_cast<int>(o.reason);
    out->channel_id = o.channel_id;
    out->clear = clear.data();
    out->clear_len = clear.size();
    return static_cast<int>(KEYCAST_OK);
  });
}

int keycast_receiver_poll_released(keycast_receiver* r, keycast_release_fn fn, void* user, size_t* released) {
  return guarded([&] {
    if (!r || !fn) return fail(KEYCAST_EINVAL, "NULL argument");
    const auto n = r->rx.poll_released(
        [&](std::uint32_t ch, std::span<std::uint8_t> clear) { fn(user, ch, clear.data(), clear.size()); });
    if (released) *released = n;
    return static_cast<int>(KEYCAST_OK);
  });
}

int keycast_receiver_counter(const keycast_receiver* r, const char* name, uint64_t* value) {
  return guarded([&] {
    if (!r || !name || !value) return fail(KEYCAST_EINVAL, "NULL argument");
    const auto c = r->rx.counters();
    for (std::size_t i = 0; i < keycast::kEventCount; ++i) {
      if (std::strcmp(name, keycast::event_name(static_cast<keycast::Event>(i))) == 0) {
        *value = c.events[i];
        return static_cast<int>(KEYCAST_OK);
      }
    }
    if (std::strncmp(name, "drop.", 5) == 0) {
      for (std::size_t i = 0; i < keycast::kDropCount; ++i) {
        if (std::strcmp(name + 5, keycast::drop_name(static_cast<keycast::Drop>(i))) == 0) {
          *value = c.drops[i];
          return static_cast<int>(KEYCAST_OK);
        }
      }
    }
    return fail(KEYCAST_EINVAL, std::string("no counter named ") + name);
  });
}

void keycast_receiver_destroy(keycast_receiver* r) { delete r; }

const char* keycast_drop_name(int reason) {
  if (reason < 0 || static_cast<std::size_t>(reason) >= keycast::kDropCount) return "unknown";
  return keycast::drop_name(static_cast<keycast::Drop>(reason));
}

const char* keycast_last_error(void) { return g_last_error.c_str(); }

}  // extern "C"
