// libFuzzer target for the L2-L4 parser: the input is parsed as an Ethernet
// frame and as a bare IP packet; every accepted view must lie inside the
// input, and the bytes it points at are read so ASan sees any overrun.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "pktparse/checksum.h"
#include "pktparse/net.h"

namespace {

void check_view(std::span<const std::uint8_t> in, const pktparse::PacketView& v) {
  const std::size_t end = std::size_t{v.payload_offset} + v.payload_len;
  if (v.l3_offset >= v.l4_offset || std::size_t{v.l4_offset} + 8 != v.payload_offset ||
      end > in.size() || v.vlan_count > 2 || (v.ip_version != 4 && v.ip_version != 6)) {
    std::abort();
  }
  std::uint8_t acc = 0;
  for (std::size_t i = v.l3_offset; i < end; ++i) acc = static_cast<std::uint8_t>(acc ^ in[i]);
  volatile std::uint8_t sink = acc;
  (void)sink;
  // Reads the whole UDP datagram plus the IP addresses: must stay in bounds.
  volatile bool ok = pktparse::udp_checksum_ok(in.data() + v.l3_offset, in.data() + v.l4_offset);
  (void)ok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  pktparse::PacketView v;
  if (pktparse::parse_frame(in, v) == pktparse::Status::ok) check_view(in, v);
  pktparse::PacketView w;
  if (pktparse::parse_ip(in, w) == pktparse::Status::ok) {
    if (w.vlan_count != 0 || w.l3_offset != 0) std::abort();
    check_view(in, w);
  }
  return 0;
}
