// keycast-recv's command line as data, and the parsers for its values.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kmclient/config.h"

namespace keycast_recv {

// An IPv4 or IPv6 socket address.
struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family() const { return ss.ss_family; }
  bool is_multicast() const;
  std::string to_string() const;
};

// GROUP:PORT[@SOURCE]; GROUP may also be a unicast address to bind.
struct JoinSpec {
  std::string text;
  SockAddr group;
  std::optional<SockAddr> source;  // source-specific multicast
};

// stdout, a file, or udp://GROUP:PORT.
struct OutSpec {
  enum class Kind { stdout_, file, udp } kind = Kind::stdout_;
  std::string path;
  SockAddr dest;
};

struct Options {
  std::vector<std::string> keymgr;
  std::string failover = "in-order";
  std::string peer;
  std::string token, cert, key, ca;
  std::vector<std::string> joins;
  std::string iface;
  std::vector<std::uint32_t> channels;
  std::vector<std::string> outs;
  std::uint32_t timeout_ms = 0;
  std::uint64_t count = 0;
  std::uint32_t batch = 32;
  std::uint32_t hold_timeout_ms = 50;
  std::string metrics_listen;
};

// The parsed forms; `error` says what is wrong with the command line.
struct Plan {
  kmclient::ClientConfig keymgr;
  std::vector<JoinSpec> joins;
  std::vector<OutSpec> outs;  // distinct outputs
  std::vector<std::size_t> out_of_join;  // index into outs, per join
  std::vector<std::uint32_t> channels;  // one per join, or empty: learned
  unsigned iface_index = 0;
  std::string metrics_listen;  // HOST:PORT for Prometheus, empty: none
  std::string error;
};

Plan make_plan(const Options& o);

// "ADDR:PORT" / "[V6]:PORT"; port 0 allowed only when allow_zero_port.
std::optional<SockAddr> parse_sockaddr(std::string_view text, bool allow_zero_port = false);
std::optional<SockAddr> parse_ip(std::string_view text);
std::optional<JoinSpec> parse_join(std::string_view text);
// The same group, port and source for two JoinSpecs however they were written.
bool same_join(const JoinSpec& a, const JoinSpec& b);
std::optional<OutSpec> parse_out(std::string_view text);

}  // namespace keycast_recv
