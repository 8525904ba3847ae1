// [ports]: the DPDK ports and their rings and mbuf pool.
#include <bit>
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
  const auto output = t.optional_int("output", 0, kU16Max);
  p.rx_descriptors = descriptors(t, "rx_descriptors", p.rx_descriptors);
  p.tx_descriptors = descriptors(t, "tx_descriptors", p.tx_descriptors);
  p.mbufs = u32(t, "mbufs", 1, kU32Max, p.mbufs);
  t.check_unknown_keys();

  if (!input) t.fail_missing("input");
  if (!output) t.fail_missing("output");
  if (*output == *input) t.fail("output", "must differ from ports.input, both are " + std::to_string(*input));
  p.input = static_cast<std::uint16_t>(*input);
  p.output = static_cast<std::uint16_t>(*output);
  // Below this the RX ring cannot even be filled once.
  const std::uint32_t ring_total = std::uint32_t{p.rx_descriptors} + p.tx_descriptors;
  if (p.mbufs < ring_total)
    t.fail("mbufs", "must be at least rx_descriptors + tx_descriptors (" + std::to_string(ring_total) + "), got " +
                        std::to_string(p.mbufs));
  return p;
}

}  // namespace gateway::detail
