// Classic pcap files (microsecond timestamps, Ethernet link type): written by
// the tests as net_pcap input, read back from its tx_pcap output.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace gateway::test {

using Frame = std::vector<std::uint8_t>;

void write_pcap(const std::filesystem::path& path, const std::vector<Frame>& frames);
// Every record's bytes; an absent file reads as no frames.
std::vector<Frame> read_pcap(const std::filesystem::path& path);

}  // namespace gateway::test
