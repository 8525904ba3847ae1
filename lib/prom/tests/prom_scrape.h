// Reading a Prometheus endpoint on 127.0.0.1 in tests (lib/prom's own, the
// key manager's, the gateway's, keycast-recv's): GET /metrics over HTTP/1.0
// and one series' value.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace prom::test {

// GET /metrics over HTTP/1.0; the body, empty on any failure.
std::string scrape(std::uint16_t port);

// The value of one series ("name" or "name{label=\"x\"}"), nullopt if absent.
std::optional<double> value(const std::string& body, const std::string& series);

// Scrapes until done(body) holds or 5 s pass; returns the last body.
std::string scrape_until(std::uint16_t port, const std::function<bool(const std::string&)>& done);

}  // namespace prom::test
