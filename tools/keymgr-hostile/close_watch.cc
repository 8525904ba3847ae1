// CloseWatch and friends: poll(POLLRDHUP) over key manager connections.
#include "close_watch.h"

#include <poll.h>

#include <algorithm>

namespace hostile {

namespace {
constexpr short kClosed = POLLRDHUP | POLLHUP | POLLERR;
}

bool wait_closed(const TestClient& c, Ms timeout) {
  if (!c.ok()) return true;
  pollfd p{c.fd(), POLLRDHUP, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1 && (p.revents & kClosed);
}

bool answered_then_closed(TestClient& c, const std::vector<std::uint8_t>& bytes, std::uint16_t error_code,
                          std::string* seen) {
  if (!c.ok()) {
    *seen = "could not connect";
    return false;
  }
  if (!c.send(bytes)) {
    *seen = "send failed";
    return false;
  }
  const auto a = c.read(Ms(5000));
  const bool closed = wait_closed(c, Ms(3000));
  *seen = describe(a) + (closed ? ", closed" : ", left open");
  return is_error(a, error_code) && closed;
}

void CloseWatch::add(std::unique_ptr<TestClient> c, Clock::time_point since) {
  entries_.push_back({std::move(c), since, std::nullopt});
  if (entries_.back().client->ok()) {
    ++open_;
  } else {
    entries_.back().closed_at = Clock::now();
  }
}

void CloseWatch::poll(Ms timeout) {
  std::vector<pollfd> fds;
  std::vector<std::size_t> which;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].closed_at) continue;
    fds.push_back({entries_[i].client->fd(), POLLRDHUP, 0});
    which.push_back(i);
  }
  if (fds.empty()) return;
  if (::poll(fds.data(), fds.size(), static_cast<int>(timeout.count())) <= 0) return;
  const auto now = Clock::now();
  for (std::size_t k = 0; k < fds.size(); ++k) {
    if (!(fds[k].revents & kClosed)) continue;
    entries_[which[k]].closed_at = now;
    --open_;
  }
}

std::string CloseWatch::check_window(Ms min, Ms max, const std::string& what, std::vector<std::string>& wrong) const {
  double lo = 1e18, hi = 0;
  std::size_t early = 0, late = 0;
  for (const auto& e : entries_) {
    if (!e.closed_at) {
      ++late;
      continue;
    }
    const double ms = std::chrono::duration<double, std::milli>(*e.closed_at - e.since).count();
    lo = std::min(lo, ms);
    hi = std::max(hi, ms);
    if (ms < static_cast<double>(min.count())) ++early;
    if (ms > static_cast<double>(max.count())) ++late;
  }
  if (early)
    wrong.push_back(std::to_string(early) + " " + what + " closed before " + std::to_string(min.count()) + " ms");
  if (late)
    wrong.push_back(std::to_string(late) + " " + what + " not closed within " + std::to_string(max.count()) + " ms");
  if (hi == 0) return "none closed";
  return std::to_string(static_cast<long>(lo)) + "-" + std::to_string(static_cast<long>(hi)) + " ms";
}

}  // namespace hostile
