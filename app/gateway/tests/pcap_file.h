// Classic pcap files (microsecond timestamps, Ethernet link type): written by
// the tests as net_pcap input, read back from its tx_pcap output.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace gateway::test {

using Frame = std::vector<std::uint8_t>;

void write_pcap(const std::filesystem::path& path, const std::vector<Frame>& frames);
// Every record's bytes; an absent file reads as no frames. A last record
// cut short throws, unless cut_tail_ok (the writer was killed mid-write):
// then it is left out.
std::vector<Frame> read_pcap(const std::filesystem::path& path, bool cut_tail_ok = false);

}  // namespace gateway::test
