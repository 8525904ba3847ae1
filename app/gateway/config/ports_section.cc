// [ports]: the DPDK ports and their rings and mbuf pool.
#include <algorithm>
#include <bit>
#include <vector>
#include <string>

#include "sections.h"

namespace gateway::detail {

namespace {

constexpr std::int64_t kMinDescriptors = 64;
constexpr std::int64_t kMaxDescriptors = 16384;

std::uint16_t descriptors(tomlcheck::Table& t, std::string_view key, std::uint16_t fallback) {
  const auto n = t.optional_int(key, kMinDescriptors, kMaxDescriptors);
  if (n && !std::has_single_bit(static_cast<std::uint64_t>(*n)))
    t.fail(key, "must be a power of two, got " + std::to_string(*n));
  return static_cast<std::uint16_t>(n.value_or(fallback));
}

}  // namespace

PortConfig read_ports(tomlcheck::Table& t) {
  PortConfig p;
  const auto input = t.optional_int("input", 0, kU16Max);
  const auto inputs = t.optional_int_array("inputs", 0, kU16Max);
  const auto output = t.optional_int("output", 0, kU16Max);
  p.rx_descriptors = descriptors(t, "rx_descriptors", p.rx_descriptors);
  p.tx_descriptors = descriptors(t, "tx_descriptors", p.tx_descriptors);
  p.mbufs = u32(t, "mbufs", 1, kU32Max, p.mbufs);
  p.udp_checksum_offload = t.optional_bool("udp_checksum_offload").value_or(p.udp_checksum_offload);
  t.check_unknown_keys();

  if (input && inputs) t.fail("inputs", "give either ports.input or ports.inputs, not both");
  if (!input && !inputs) t.fail_missing("input", "or inputs = [N, ...]");
  if (!output) t.fail_missing("output");
  if (inputs && inputs->empty()) t.fail("inputs", "must list at least one port");
  p.inputs.clear();
  if (input) p.inputs.push_back(static_cast<std::uint16_t>(*input));
  for (std::size_t i = 0; inputs && i < inputs->size(); ++i) {
    const auto port = static_cast<std::uint16_t>((*inputs)[i]);
    if (std::find(p.inputs.begin(), p.inputs.end(), port) != p.inputs.end())
      t.fail("inputs", i, "port " + std::to_string(port) + " is listed twice");
    p.inputs.push_back(port);
  }
  if (std::find(p.inputs.begin(), p.inputs.end(), *output) != p.inputs.end())
    t.fail("output", "must differ from the input ports, both have " + std::to_string(*output));
  p.output = static_cast<std::uint16_t>(*output);
  // Below this the RX ring cannot even be filled once.
  const std::uint32_t ring_total = std::uint32_t{p.rx_descriptors} + p.tx_descriptors;
  if (p.mbufs < ring_total)
    t.fail("mbufs", "must be at least rx_descriptors + tx_descriptors (" + std::to_string(ring_total) + "), got " +
                        std::to_string(p.mbufs));
  return p;
}

}  // namespace gateway::detail
