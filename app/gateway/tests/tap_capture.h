// The kernel side of a gateway's net_tap port. Frames the gateway writes into
// it are read through an AF_PACKET socket opened before the gateway starts
// (so the tap interface it creates is covered from its first frame),
// filtered to that interface and to incoming frames (the kernel's own frames
// on it are outgoing), an 802.1Q tag the kernel took out put back (as libpcap
// does); frames sent on the same socket reach the gateway's port. Root and
// /dev/net/tun are needed: usable() says whether they are there.
#pragma once

#include <string>
#include <vector>

#include "pcap_file.h"

namespace gateway::test {

class TapCapture {
 public:
  static bool usable();
  TapCapture();  // ADD_FAILUREs if the socket cannot be opened
  ~TapCapture();
  TapCapture(const TapCapture&) = delete;
  TapCapture& operator=(const TapCapture&) = delete;

  // A tap interface name unique to this process: "kc<tag><pid>".
  static std::string iface_name(const std::string& tag);
  // Takes iface's index: call once the gateway has created it (it goes away
  // with the gateway).
  void watch(const std::string& iface);
  // Every frame received on the watched interface, read from the socket now
  // (after the gateway stopped: the frames stay queued).
  std::vector<Frame> frames();
  // Sends f out of the watched interface: the gateway's port receives it.
  bool send(const Frame& f);

 private:
  int fd_ = -1;
  int ifindex_ = 0;
};

}  // namespace gateway::test
