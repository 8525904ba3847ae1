// Attacks by numbers: thousands of connections held open, and one entitled
// peer flooding KEY_REQUESTs (with a second connection that never reads).
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>

#include "close_watch.h"
#include "fd_limits.h"
#include "scenario.h"

namespace hostile {

namespace {

// Both ends need a descriptor per connection, plus room for the rest.
void make_room(const Target& t, std::size_t connections, Findings& f) {
  std::string why;
  f.expect(raise_nofile(0, connections + 1024, &why), "this tool: " + why);
  if (t.pid <= 0) return;
  const rlim_t want = std::min(connections, t.max_connections) + 256;
  const rlim_t had = nofile(t.pid);
  if (had >= want) return;
  if (raise_nofile(t.pid, want, &why)) {
    f.note = "keymgr RLIMIT_NOFILE raised " + std::to_string(had) + " -> " + std::to_string(want);
  } else {
    f.note = "keymgr RLIMIT_NOFILE stays " + std::to_string(had) + ": " + why;
  }
}

std::size_t count_closed(const std::vector<std::unique_ptr<TestClient>>& cs) {
  std::vector<pollfd> fds;
  for (const auto& c : cs) fds.push_back({c->fd(), POLLRDHUP, 0});
  if (::poll(fds.data(), fds.size(), 0) <= 0) return 0;
  return static_cast<std::size_t>(
      std::count_if(fds.begin(), fds.end(), [](const pollfd& p) { return p.revents & (POLLRDHUP | POLLHUP | POLLERR); }));
}

}  // namespace

void conns(const Target& t, const Scale& s, Control& ctl, Findings& f) {
  const std::size_t n = s.connections;
  make_room(t, n, f);
  const auto hello = hello_frame(t.attacker);
  const auto beat = heartbeat_frame();
  const Ms beat_every = std::max(Ms(10), t.idle_timeout / 3);

  // Connect and HELLO each; connections already in keep beating while the
  // rest are made, which can take longer than the idle timeout under TLS.
  std::vector<std::unique_ptr<TestClient>> open;
  open.reserve(n);
  std::size_t refused = 0;
  auto last_beat = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    auto c = connect_raw(t, t.attacker);
    if (c->ok() && c->send(hello)) {
      open.push_back(std::move(c));
    } else {
      ++refused;
    }
    if (Clock::now() - last_beat > beat_every) {
      for (auto& o : open) o->send(beat);
      last_beat = Clock::now();
    }
  }
  std::vector<std::unique_ptr<TestClient>> held;
  std::size_t hung = 0;
  std::string other;
  for (auto& c : open) {
    const auto a = c->read(Ms(10000));
    if (is_answer(a, kHello)) {
      held.push_back(std::move(c));
    } else if (!a && wait_closed(*c, Ms(2000))) {
      ++refused;
    } else {
      ++hung;
      if (other.empty()) other = describe(a);
    }
  }
  open.clear();
  ctl.set_ready();

  while (!ctl.stopping()) {
    if (Clock::now() - last_beat > beat_every) {
      for (auto& c : held) c->send(beat);
      last_beat = Clock::now();
    }
    ctl.sleep(Ms(20));
  }
  const std::size_t dropped = count_closed(held);

  const std::size_t room = t.max_connections - 1;  // the latency probe holds one
  const std::size_t want = std::min(n, room);
  f.expect(held.size() <= room, std::to_string(held.size()) + " answered, over max_connections " +
                                    std::to_string(t.max_connections));
  f.expect(held.size() + 16 >= want, "only " + std::to_string(held.size()) + " of " + std::to_string(n) +
                                         " answered HELLO (want " + std::to_string(want) + ")");
  f.expect(hung == 0, std::to_string(hung) + " connections neither answered nor closed: " + other);
  f.expect(dropped == 0, std::to_string(dropped) + " held connections closed by the key manager");
  f.answer = std::to_string(n) + " connections: " + std::to_string(held.size()) + " HELLO answered, " +
             std::to_string(refused) + " closed at once (max_connections " + std::to_string(t.max_connections) +
             "), " + std::to_string(hung) + " hung, " + std::to_string(dropped) + " dropped while held";
}

void flood(const Target& t, const Scale& s, Control& ctl, Findings& f) {
  std::string why;
  auto c = connect_peer(t, t.attacker, &why);
  auto deaf = connect_peer(t, t.attacker, &why);
  if (!c || !deaf) {
    f.expect(false, why);
    return;
  }
  std::vector<std::uint8_t> window;
  for (std::size_t i = 0; i < s.flood_depth; ++i) {
    const auto r = key_request_frame(t.channel);
    window.insert(window.end(), r.begin(), r.end());
  }
  // The deaf connection pipelines without reading until the key manager
  // stops reading it (its answers wait unsent): bounded by its output limit.
  timeval tv{0, 100000};
  setsockopt(deaf->fd(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::size_t deaf_bytes = 0;
  while (deaf_bytes < (256u << 20) && deaf->send(window)) deaf_bytes += window.size();
  f.expect(deaf_bytes < (256u << 20), "the key manager read 256 MiB of requests whose answers are not read");
  ctl.set_ready();

  const auto start = Clock::now();
  std::size_t sent = 0, keys = 0, limited = 0;
  std::string other;
  while (!ctl.stopping() && other.empty()) {
    if (!c->send(window)) {
      other = "send failed";
      break;
    }
    sent += s.flood_depth;
    for (std::size_t i = 0; i < s.flood_depth; ++i) {
      const auto a = c->read(Ms(10000));
      if (is_answer(a, kKeyRequest)) {
        ++keys;
      } else if (is_error(a, kRateLimited)) {
        ++limited;
      } else {
        other = describe(a);
        break;
      }
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double allowed = t.request_burst + t.request_rate * seconds * 1.1 + 50;  // the bucket's most, and clock slack
  f.expect(other.empty(), "flood answered " + other + " (want keys or ERROR rate_limited, connection open)");
  f.expect(static_cast<double>(keys) <= allowed,
           std::to_string(keys) + " requests served, over burst + rate x time (" + std::to_string(long(allowed)) + ")");
  if (static_cast<double>(sent) > allowed) f.expect(limited > 0, "no rate_limited answer");
  char line[256];
  std::snprintf(line, sizeof line,
                "%zu requests in %.1f s at depth %zu: %zu keys (<= burst %u + %u/s), %zu rate_limited; deaf peer "
                "unread after %.1f MiB",
                sent, seconds, s.flood_depth, keys, t.request_burst, t.request_rate, limited,
                static_cast<double>(deaf_bytes) / (1 << 20));
  f.answer = line;
}

}  // namespace hostile
