// prom: the Prometheus endpoint of keycast's programs (prometheus-cpp). One
// registry whose series share a prefix ("keycast_gateway_", ...), served by
// prometheus::Exposer on its own HTTP thread once everything is registered.
// The metric objects are atomic: the program's thread adds what it counted
// since the last update (add_delta) while the HTTP thread reads them, so the
// HTTP thread never touches the program's own counters.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace prometheus {
class Exposer;
}

namespace prom {

class Endpoint {
 public:
  explicit Endpoint(std::string prefix);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // prefix + name.
  std::string name(const std::string& suffix) const { return prefix_ + suffix; }
  prometheus::Registry& registry() noexcept { return *registry_; }

  // Families whose series take labels.
  prometheus::Family<prometheus::Counter>& counters(const std::string& name, const std::string& help);
  prometheus::Family<prometheus::Gauge>& gauges(const std::string& name, const std::string& help);
  // One series without labels.
  prometheus::Counter& counter(const std::string& name, const std::string& help);
  prometheus::Gauge& gauge(const std::string& name, const std::string& help);

  // Starts serving /metrics on bind ("IP:PORT" or "[IPv6]:PORT", port 0 for
  // any free one) with `threads` HTTP threads. Throws std::runtime_error if it
  // cannot listen there.
  void serve(const std::string& bind, std::size_t threads);
  // The port served, 0 before serve().
  std::uint16_t port() const;

 private:
  std::string prefix_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;  // after registry_: stops serving before it goes
};

// Adds now - before to c: the program's counters only grow, and a counter
// that did not move (or a null c, a series not registered) is left alone.
inline void add_delta(prometheus::Counter* c, std::uint64_t now, std::uint64_t before) {
  if (c && now > before) c->Increment(static_cast<double>(now - before));
}

}  // namespace prom
