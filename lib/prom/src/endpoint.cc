// Endpoint: the registry, its builders with the prefix, and the exposer.
#include "prom/endpoint.h"

#include <prometheus/exposer.h>

#include <utility>

namespace prom {

Endpoint::Endpoint(std::string prefix)
    : prefix_(std::move(prefix)), registry_(std::make_shared<prometheus::Registry>()) {}

Endpoint::~Endpoint() = default;

prometheus::Family<prometheus::Counter>& Endpoint::counters(const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(prefix_ + name).Help(help).Register(*registry_);
}

prometheus::Family<prometheus::Gauge>& Endpoint::gauges(const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(prefix_ + name).Help(help).Register(*registry_);
}

prometheus::Counter& Endpoint::counter(const std::string& name, const std::string& help) {
  return counters(name, help).Add({});
}

prometheus::Gauge& Endpoint::gauge(const std::string& name, const std::string& help) {
  return gauges(name, help).Add({});
}

void Endpoint::serve(const std::string& bind, std::size_t threads) {
  exposer_ = std::make_unique<prometheus::Exposer>(bind, threads);
  exposer_->RegisterCollectable(registry_);
}

std::uint16_t Endpoint::port() const {
  if (!exposer_) return 0;
  const auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : static_cast<std::uint16_t>(ports.front());
}

}  // namespace prom
