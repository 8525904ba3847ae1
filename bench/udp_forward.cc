// udp-forward: the reference of bench/recv-throughput, the kernel's plain UDP
// receive -> send of the same traffic keycast-recv gets. Joins GROUP:PORT and
// writes every datagram, untouched, to the same kind of output keycast-recv
// writes to, with keycast-recv's own socket and output code (app/recv
// join_socket, Output and signals): recvmmsg batches (blocking for the first datagram)
// -> one writev or sendmmsg per batch. Nothing else: no parsing, no keys.
// Prints "socket_datagrams N" and "written N" to stderr on SIGUSR1 and at
// exit (SIGTERM/SIGINT). Exit status: 0, 1 on a socket or output error, 2 on
// bad usage.
#include <net/if.h>
#include <sys/socket.h>

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <vector>

#include "join_socket.h"
#include "output.h"
#include "signals.h"

namespace {

using keycast_recv::g_stop;
using keycast_recv::g_usr1;

void report(std::uint64_t received, std::uint64_t written) {
  std::cerr << "udp-forward counters:\n  socket_datagrams " << received << "\n  written " << written << "\n";
  std::cerr.flush();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"udp-forward: recvmmsg -> writev/sendmmsg of one UDP group, the reference of bench/recv-throughput"};
  std::string join_text, out_text = "stdout", iface;
  std::uint32_t batch = 32;
  app.add_option("--join", join_text, "GROUP:PORT[@SOURCE] to receive")->required();
  app.add_option("--out", out_text, "stdout, FILE or udp://GROUP:PORT (as keycast-recv --out)");
  app.add_option("--iface", iface, "interface to join on");
  app.add_option("--batch", batch, "datagrams per recvmmsg (default 32)")->check(CLI::Range(1, 1024));
  CLI11_PARSE(app, argc, argv);
  const auto join = keycast_recv::parse_join(join_text);
  const auto sink = keycast_recv::parse_out(out_text);
  const unsigned iface_index = iface.empty() ? 0 : ::if_nametoindex(iface.c_str());
  if (!join || !sink || (!iface.empty() && iface_index == 0)) {
    std::cerr << "udp-forward: bad --join, --out or --iface\n";
    return 2;
  }
  std::string error;
  keycast_recv::Output out;
  const int fd = keycast_recv::open_join(*join, iface_index, &error);
  if (fd < 0 || !out.open(*sink, iface_index, &error)) {
    std::cerr << "udp-forward: " << error << "\n";
    return 1;
  }
  keycast_recv::install_signals();
  std::cerr << "udp-forward: receiving on " << join_text << " -> " << out.name() << "\n";

  constexpr std::size_t kMax = 65536;
  std::vector<std::uint8_t> buf(kMax * batch);
  std::vector<iovec> iov(batch);
  std::vector<mmsghdr> msgs(batch);
  std::uint64_t received = 0;
  while (!g_stop) {
    if (g_usr1) {
      g_usr1 = 0;
      report(received, out.written());
    }
    for (std::size_t k = 0; k < batch; ++k) {
      iov[k] = {buf.data() + k * kMax, kMax};
      msgs[k] = {};
      msgs[k].msg_hdr.msg_iov = &iov[k];
      msgs[k].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::recvmmsg(fd, msgs.data(), batch, MSG_WAITFORONE, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::cerr << "udp-forward: receive: " << std::strerror(errno) << "\n";
      return 1;
    }
    received += static_cast<std::uint64_t>(n);
    for (int k = 0; k < n; ++k) out.add({buf.data() + static_cast<std::size_t>(k) * kMax, msgs[k].msg_len});
    if (!out.flush(&error)) {
      std::cerr << "udp-forward: " << error << "\n";
      return 1;
    }
  }
  report(received, out.written());
  return 0;
}
