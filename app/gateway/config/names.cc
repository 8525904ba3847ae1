// Small helpers of GatewayConfig: look-up and enum names.
#include "gateway_config.h"

namespace gateway {

const ChannelConfig* GatewayConfig::find_channel(std::uint32_t id) const noexcept {
  for (const auto& c : channels)
    if (c.id == id) return &c;
  return nullptr;
}

std::string_view to_string(Mode m) noexcept { return m == Mode::descramble ? "descramble" : "scramble"; }

std::string_view to_string(PayloadKind p) noexcept {
  switch (p) {
    case PayloadKind::raw: return "raw";
    case PayloadKind::ts: return "ts";
    case PayloadKind::rtp: return "rtp";
    case PayloadKind::rtp_ts: return "rtp_ts";
  }
  return "unknown";
}

}  // namespace gateway
