// Start-up, the event loop and shutdown of the key manager.
#include "serve.h"

#include <sys/stat.h>

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli_config.h"
#include "config/keymgr_config.h"
#include "kek_watch.h"
#include "metrics/metrics.h"
#include "replication/replica_link.h"
#include "server/listener.h"
#include "service/key_service.h"
#include "secmem/wipe.h"
#include "served_role.h"
#include "shm/shm_publisher.h"
#include "store/kek.h"
#include "store/store_open.h"
#include "store/wal_sync.h"

namespace keymgr {

namespace {

std::uint64_t unix_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

void print_counters(const ServiceCounters& c) {
  static const char* kTypes[] = {"", "hello", "key_request", "key_generate", "key_push",
                                 "subscribe", "key_delivery", "usage_report", "heartbeat"};
  std::cerr << "keycast-keymgr: requests";
  for (std::size_t i = 1; i < c.requests.size(); ++i) std::cerr << ' ' << kTypes[i] << '=' << c.requests[i];
  std::cerr << "; errors";
  for (std::size_t i = 1; i < c.errors.size(); ++i)
    std::cerr << ' ' << kmproto::error_code_name(static_cast<kmproto::ErrorCode>(i)) << '=' << c.errors[i];
  std::cerr << "; keys made=" << c.keys_made << " pushed=" << c.keys_pushed << " expired=" << c.keys_expired
            << "; hello refused=" << c.hello_refused << "; store failures=" << c.store_failures << "\n";
  auto latency = [](const char* what, const LatencyBuckets& b) {
    char text[96];
    std::snprintf(text, sizeof text, "%s %llu, mean %.1f ms, max %.1f ms", what,
                  static_cast<unsigned long long>(b.count),
                  b.count ? 1e3 * b.sum_seconds / static_cast<double>(b.count) : 0.0, 1e3 * b.max_seconds);
    return std::string(text);
  };
  std::cerr << "keycast-keymgr: " << latency("answers", c.answer) << "; " << latency("store writes", c.store_write)
            << "; " << latency("syncs", c.store_sync) << "\n";
}

// Serves /metrics at server.metrics_listen (resolved first: civetweb wants an
// address); null, having said why, if it cannot.
std::unique_ptr<Metrics> start_metrics(asio::io_context& io, const ServerConfig& server) {
  const HostPort& at = *server.metrics_listen;
  try {
    asio::ip::tcp::resolver resolver(io);
    const auto ep =
        resolver.resolve(at.host, std::to_string(at.port), asio::ip::resolver_base::passive).begin()->endpoint();
    auto m = std::make_unique<Metrics>(to_string(HostPort{ep.address().to_string(), ep.port()}),
                                       server.role == ServerRole::replica);
    std::cerr << "keycast-keymgr: metrics on http://" << to_string(HostPort{at.host, m->port()}) << "/metrics\n";
    return m;
  } catch (const std::exception& e) {
    std::cerr << "keycast-keymgr: cannot serve metrics on " << to_string(at) << ": " << e.what() << "\n";
    return nullptr;
  }
}

}  // namespace

int init_state(const std::string& config_file, const std::string& state_dir) {
  const auto config = load_config_or_say(config_file);
  if (!config) return 2;
  std::error_code ec;
  if (!std::filesystem::exists(state_dir)) {
    std::filesystem::create_directories(state_dir, ec);
    if (ec || ::chmod(state_dir.c_str(), 0700) != 0) {
      std::cerr << "keycast-keymgr init: cannot create " << state_dir << ": " << ec.message() << "\n";
      return 1;
    }
  }
  const std::filesystem::path kek = kek_path(config->server, state_dir);
  if (!std::filesystem::exists(kek)) {
    const auto r = store::create_kek_file(kek.string());
    if (!r) {
      std::cerr << "keycast-keymgr init: " << r.message() << "\n";
      return 1;
    }
    std::cout << "keycast-keymgr init: created KEK " << kek.string() << "\n";
  }
  return 0;
}

int serve(const std::string& config_file, const std::string& state_dir) {
  const auto config = load_config_or_say(config_file);
  if (!config) return 2;
  const auto say = [](const std::string& line) { std::cerr << "keycast-keymgr: " << line << "\n"; };
  const std::string kek_file = kek_path(config->server, state_dir).string();
  auto opened = store::open_store(state_dir, kek_file, store::StateLock::Mode::shared, say);
  if (!opened) {
    std::cerr << "keycast-keymgr: " << opened.message() << "\n";
    return 1;
  }
  KekWatch kek_watch(kek_file, say);
  if (!take_role(opened->store, config->server.role, state_dir, unix_ms(), say)) return 1;

  asio::io_context io;
  KeyService service(*config, opened->store, unix_ms);
  if (std::string why; !service.load(&why)) {
    std::cerr << "keycast-keymgr: cannot read keys: " << why << "\n";
    return 1;
  }
  if (const std::uint32_t days = config->server.retention_days)
    say("retention: keys that ended, and hours of accounts, more than " + std::to_string(days) +
        (days == 1 ? " day" : " days") + " ago are deleted every 10 minutes");
  service.set_poster([&io](std::function<void()> f) { asio::post(io, std::move(f)); });
  service.tick();  // the keys due at start, on the disk (and in shared memory below) before we listen
  // The event loop does not wait for the disk (but for a WAL header now and
  // then: store/README.md): commits reach the OS there, and the sync thread
  // puts them on the disk before anyone is told of them.
  if (auto deferred = opened->store.defer_sync(); !deferred) {
    std::cerr << "keycast-keymgr: " << deferred.message() << "\n";
    return 1;
  }
  auto synced = [&io, &service](std::uint64_t ticket, int error, double seconds) {
    asio::post(io, [&service, ticket, error, seconds] { service.synced(ticket, error, seconds); });
  };
  auto wal_sync = store::WalSync::open(opened->store.path(), synced, say);
  if (!wal_sync) {
    std::cerr << "keycast-keymgr: " << wal_sync.message() << "\n";
    return 1;
  }
  service.set_syncer([&w = **wal_sync](std::uint64_t ticket, bool checkpoint) { w.request(ticket, checkpoint); });
  ShmPublisher shm(*config, service);
  if (!shm.ok()) return 1;

  ConnectionLimits limits;
  limits.idle_timeout = std::chrono::milliseconds(config->server.idle_timeout_ms);
  limits.max_connections = config->server.max_connections;

  std::unique_ptr<asio::ssl::context> tls;
  std::optional<Listener> listener;
  try {
    if (!config->server.lab)
      tls = make_server_tls(config->tls->cert.string(), config->tls->key.string(), config->tls->ca.string());
    asio::ip::tcp::resolver resolver(io);
    const auto& at = config->server.listen;
    const auto endpoints = resolver.resolve(at.host, std::to_string(at.port), asio::ip::resolver_base::passive);
    listener.emplace(io, endpoints.begin()->endpoint(), service, limits, tls.get());
  } catch (const std::exception& e) {
    std::cerr << "keycast-keymgr: cannot listen on " << to_string(config->server.listen) << ": " << e.what() << "\n";
    return 1;
  }
  std::unique_ptr<Metrics> metrics;
  if (config->server.metrics_listen && !(metrics = start_metrics(io, config->server))) return 1;
  listener->start();

  std::unique_ptr<asio::ssl::context> client_tls;
  std::optional<ReplicaLink> replica;
  if (config->server.role == ServerRole::replica) {
    try {
      if (!config->server.lab) client_tls = make_client_tls(*config->tls);
    } catch (const std::exception& e) {
      std::cerr << "keycast-keymgr: " << e.what() << "\n";
      return 1;
    }
    replica.emplace(io, *config, service, client_tls.get());
    replica->start();
  }
  std::cout << "keycast-keymgr: listening on " << config->server.listen.host << ":" << listener->port() << " ("
            << (config->server.lab ? "lab, plaintext" : "TLS 1.3, client certificates") << ", "
            << to_string(config->server.role) << ")" << std::endl;

  auto update_metrics = [&] {
    ReplicationStats r{service.store_version()};
    if (replica) {
      r.connected = replica->connected();
      r.lag_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - replica->last_frame()).count();
    }
    metrics->update(service.counters(), {listener->live_connections(), listener->refused_connections()}, r);
  };

  asio::steady_timer ticker(io);
  unsigned ticks = 0;
  std::function<void()> schedule = [&] {
    ticker.expires_after(std::chrono::milliseconds(50));
    ticker.async_wait([&](const asio::error_code& ec) {
      if (ec) return;
      service.tick();
      shm.publish();
      if (metrics) update_metrics();
      secmem::wipe_stack_below();  // what this loop's handlers (answers, key making, the store) left
      if (++ticks % 20 == 0) kek_watch.check();  // once a second
      schedule();
    });
  };
  schedule();

  int exit_code = 0;
  service.set_on_sync_failure([&] {
    exit_code = 1;
    listener->stop();
    ticker.cancel();
    io.stop();
  });
  // At a signal: no new connections; answers waiting for a commit or a sync
  // (a usage report, a key just made) still go out, for up to a second.
  asio::steady_timer drain(io);
  std::function<void(int)> stop_when_answered = [&](int checks_left) {
    if (!service.answers_waiting() || checks_left == 0) return io.stop();
    drain.expires_after(std::chrono::milliseconds(10));
    drain.async_wait([&, checks_left](const asio::error_code& ec) {
      if (!ec) stop_when_answered(checks_left - 1);
    });
  };
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code&, int sig) {
    std::cerr << "keycast-keymgr: signal " << sig << ", stopping\n";
    listener->stop();
    ticker.cancel();
    stop_when_answered(100);
  });
  io.run();
  service.flush_accounting();  // on the disk when wal_sync stops, with the rest
  print_counters(service.counters());
  return exit_code;
}

}  // namespace keymgr
