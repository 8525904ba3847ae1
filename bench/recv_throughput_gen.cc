// recv-throughput-gen: the sender of bench/recv-throughput. Fetches a
// channel's current key from keycast-keymgr (lab token), scrambles a ring of
// datagrams once with pktparse::scramble (1316-byte payloads: seven TS
// packets with --ts, else raw bytes), then multicasts the ring round and
// round on loopback with sendmmsg (and UDP GSO with --gso, so that one
// sender outpaces one receiver) as fast as the kernel takes them, until
// SIGTERM/SIGINT or --seconds. Prints at exit:
//   recv-throughput-gen: channel=C suite=NAME datagrams=N bytes=B seconds=S
// Exit status: 0 after a run, 2 on bad usage or when the key manager refused.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <string>
#include <vector>

#include "keycast/endpoint.h"
#include "kmclient/client.h"
#include "pktparse/scramble.h"

namespace {

using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t kPayload = 7 * pktparse::kTsPacketLen;  // 1316
constexpr std::size_t kRing = 1024;
constexpr unsigned kBatch = 64;

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

int fail(const std::string& what) {
  std::fprintf(stderr, "recv-throughput-gen: %s\n", what.c_str());
  return 2;
}

// Datagram i's clear payload: seven TS packets on PID 0x100 (continuity
// counter running on) or raw bytes.
void fill_clear(std::uint8_t* p, std::size_t i, bool ts) {
  for (std::size_t k = 0; k < kPayload; ++k) p[k] = static_cast<std::uint8_t>(i * 31 + k);
  if (!ts) return;
  for (std::size_t t = 0; t < 7; ++t) {
    std::uint8_t* pkt = p + t * pktparse::kTsPacketLen;
    pkt[0] = pktparse::kTsSync;
    pkt[1] = 0x01;
    pkt[2] = 0x00;
    pkt[3] = static_cast<std::uint8_t>(0x10 | ((i * 7 + t) & 0x0F));
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"recv-throughput-gen: scrambled 1316-byte datagrams at full speed, for bench/recv-throughput"};
  std::string keymgr, peer = "gw1", token = "gw1-lab-token", to;
  std::uint32_t channel = 0;
  bool ts = false;
  double seconds = 3600;
  std::size_t gso = 1;
  app.add_option("--keymgr", keymgr, "key manager HOST:PORT (lab)")->required();
  app.add_option("--peer", peer, "gateway peer id (default gw1)");
  app.add_option("--token", token, "its lab token (default gw1-lab-token)");
  app.add_option("--channel", channel, "channel whose current key scrambles")->required();
  app.add_option("--to", to, "destination GROUP:PORT (IPv4; sent from lo)")->required();
  app.add_flag("--ts", ts, "MPEG-TS payloads, scrambled as TS (else raw)");
  app.add_option("--seconds", seconds, "stop after this long (default: at SIGTERM)");
  app.add_option("--gso", gso, "datagrams per send, split by the kernel (UDP GSO; default 1: none)")
      ->check(CLI::IsMember({1, 2, 4, 8, 16, 32}));  // 32 x 1336 bytes: within one 64 KiB send
  CLI11_PARSE(app, argc, argv);

  const auto ep = keycast::parse_endpoint(keymgr);
  if (!ep) return fail("--keymgr " + keymgr + ": expected HOST:PORT");
  kmclient::ClientConfig cfg;
  cfg.endpoints.push_back(*ep);
  cfg.role = kmproto::Role::gateway;
  cfg.peer_id = peer;
  cfg.auth_token = token;
  kmclient::KeymgrClient km(cfg);
  const auto recs = km.request_keys(channel);
  if (!recs) return fail("key request for channel " + std::to_string(channel) + ": " + recs.error().message);
  pktparse::PreparedKey key;
  for (const auto& r : *recs) {
    if (r.state != kmproto::KeyState::current) continue;
    if (key.prepare(static_cast<pktparse::Suite>(r.suite), r.key_id, r.material()) != pktparse::Status::ok) {
      return fail("the current key of channel " + std::to_string(channel) + " is unusable");
    }
  }
  if (!key.ready()) return fail("no current key for channel " + std::to_string(channel));

  // The ring: every datagram scrambled once, with its own seq, back to back
  // (all the same length) so that one UDP GSO send carries several.
  pktparse::ChannelRules rules;
  rules.ts = ts;
  pktparse::KcHeader proto;
  proto.channel_id = channel;
  const std::size_t hlen = pktparse::header_len(proto);
  const std::size_t dlen = hlen + kPayload + pktparse::suite_trailer_len(key.suite());
  Bytes ring(kRing * dlen + pktparse::kGcmTagLen);
  for (std::size_t i = 0; i < kRing; ++i) {
    pktparse::KcHeader h = proto;
    h.seq = static_cast<std::uint32_t>(i + 1);
    std::uint8_t* d = ring.data() + i * dlen;
    fill_clear(d + hlen, i, ts);
    if (pktparse::scramble(key, rules, h, d, d + hlen, kPayload) != pktparse::Status::ok) return fail("scramble failed");
  }

  const auto colon = to.rfind(':');
  sockaddr_in dest{};
  dest.sin_family = AF_INET;
  if (colon == std::string::npos || ::inet_pton(AF_INET, to.substr(0, colon).c_str(), &dest.sin_addr) != 1) {
    return fail("--to " + to + ": expected IPv4 GROUP:PORT");
  }
  dest.sin_port = htons(static_cast<std::uint16_t>(std::stoul(to.substr(colon + 1))));
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  in_addr lo{};
  lo.s_addr = htonl(INADDR_LOOPBACK);
  ::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof lo);
  const unsigned char loop = 1;
  ::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&dest), sizeof dest) != 0) return fail("connect " + to);

  // Each message: `per_send` datagrams, split by the kernel (UDP_SEGMENT)
  // when per_send > 1.
  const std::size_t per_send = gso;
  if (per_send > 1) {
    const int seg = static_cast<int>(dlen);
    if (::setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof seg) != 0) return fail("UDP_SEGMENT not supported");
  }
  const std::size_t messages = kRing / per_send;
  std::vector<iovec> iov(messages);
  std::vector<mmsghdr> msgs(messages);
  for (std::size_t i = 0; i < messages; ++i) {
    iov[i] = {ring.data() + i * per_send * dlen, per_send * dlen};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::uint64_t sent = 0;
  std::size_t next = 0;
  const unsigned batch = static_cast<unsigned>(std::min<std::size_t>(kBatch, messages));
  while (!g_stop && Clock::now() < end) {
    const int n = ::sendmmsg(fd, &msgs[next], batch, 0);
    if (n < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR) return fail(std::string("send: ") + std::strerror(errno));
    if (n <= 0) continue;
    sent += static_cast<std::uint64_t>(n) * per_send;
    next = (next + static_cast<std::size_t>(n)) % messages;
    if (next + batch > messages) next = 0;
  }
  const std::uint64_t bytes = sent * dlen;
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  const std::string suite(pktparse::suite_name(key.suite()));
  std::printf("recv-throughput-gen: channel=%u suite=%s datagrams=%llu bytes=%llu seconds=%.3f\n", channel,
              suite.c_str(), static_cast<unsigned long long>(sent),
              static_cast<unsigned long long>(bytes), secs);
  ::close(fd);
  return 0;
}
