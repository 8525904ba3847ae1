// libFuzzer target: keycast header parsing, and re-encoding what parsed.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "pktparse/keycast_header.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pktparse::KcHeader h;
  if (pktparse::parse_header({data, size}, h) != pktparse::Status::ok) return 0;
  if (h.hdr_len > size) std::abort();
  // What parsed re-encodes to a header that parses to the same fields.
  std::vector<std::uint8_t> out(pktparse::header_len(h));
  pktparse::encode_header(h, out.data());
  pktparse::KcHeader again;
  const auto s = pktparse::parse_header(out, again);
  if (s != pktparse::Status::ok || again.channel_id != h.channel_id || again.key_id != h.key_id ||
      again.seq != h.seq || again.tlvs != h.tlvs || again.flags != h.flags)
    std::abort();
  return 0;
}
