// TapCapture: see tap_capture.h.
#include "tap_capture.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace gateway::test {

bool TapCapture::usable() { return ::geteuid() == 0 && ::access("/dev/net/tun", R_OK | W_OK) == 0; }

TapCapture::TapCapture() {
  fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd_ < 0) {
    ADD_FAILURE() << "AF_PACKET socket: " << std::strerror(errno);
    return;
  }
  const int rcvbuf = 32 << 20;
  (void)::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  // The kernel takes an 802.1Q tag out of the frame into this ancillary data.
  const int on = 1;
  (void)::setsockopt(fd_, SOL_PACKET, PACKET_AUXDATA, &on, sizeof on);
}

TapCapture::~TapCapture() {
  if (fd_ >= 0) ::close(fd_);
}

std::string TapCapture::iface_name(const std::string& tag) {
  return "kc" + tag + std::to_string(::getpid() % 100000);
}

void TapCapture::watch(const std::string& iface) {
  ifindex_ = static_cast<int>(::if_nametoindex(iface.c_str()));
  EXPECT_NE(ifindex_, 0) << iface << " does not exist";
}

std::vector<Frame> TapCapture::frames() {
  std::vector<Frame> out;
  Frame buf(65536);
  for (;;) {
    sockaddr_ll from{};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(tpacket_auxdata))];
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = fd_ < 0 ? -1 : ::recvmsg(fd_, &msg, 0);
    if (n < 0) break;
    if (ifindex_ == 0 || from.sll_ifindex != ifindex_ || from.sll_pkttype == PACKET_OUTGOING) continue;
    Frame f(buf.begin(), buf.begin() + n);
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
      tpacket_auxdata aux;
      std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
      if (!(aux.tp_status & TP_STATUS_VLAN_VALID) || f.size() < 12) continue;
      const std::uint16_t tpid = (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux.tp_vlan_tpid : ETH_P_8021Q;
      const std::uint8_t tag[4] = {static_cast<std::uint8_t>(tpid >> 8), static_cast<std::uint8_t>(tpid),
                                   static_cast<std::uint8_t>(aux.tp_vlan_tci >> 8),
                                   static_cast<std::uint8_t>(aux.tp_vlan_tci)};
      f.insert(f.begin() + 12, std::begin(tag), std::end(tag));  // back where it was, as libpcap does
    }
    out.push_back(std::move(f));
  }
  return out;
}

bool TapCapture::send(const Frame& f) {
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = ifindex_;
  to.sll_halen = 6;
  if (f.size() >= 6) std::memcpy(to.sll_addr, f.data(), 6);
  const ssize_t n = fd_ < 0 || ifindex_ == 0
                        ? -1
                        : ::sendto(fd_, f.data(), f.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  EXPECT_EQ(n, static_cast<ssize_t>(f.size())) << "send on the tap interface: " << std::strerror(errno);
  return n == static_cast<ssize_t>(f.size());
}

}  // namespace gateway::test
