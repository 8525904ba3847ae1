// pcap reading and writing, host byte order as libpcap writes it.
#include "pcap_file.h"

#include <cstring>
#include <fstream>
#include <stdexcept>

namespace gateway::test {

namespace {

constexpr std::uint32_t kMagic = 0xa1b2c3d4;  // microsecond timestamps
constexpr std::uint32_t kLinkEthernet = 1;

template <typename T>
void put(std::ofstream& out, T v) {
  out.write(reinterpret_cast<const char*>(&v), sizeof v);
}

template <typename T>
T get(const std::vector<char>& b, std::size_t at) {
  T v;
  std::memcpy(&v, b.data() + at, sizeof v);
  return v;
}

}  // namespace

void write_pcap(const std::filesystem::path& path, const std::vector<Frame>& frames) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  put<std::uint32_t>(out, kMagic);
  put<std::uint16_t>(out, 2);
  put<std::uint16_t>(out, 4);
  put<std::int32_t>(out, 0);
  put<std::uint32_t>(out, 0);
  put<std::uint32_t>(out, 65535);
  put<std::uint32_t>(out, kLinkEthernet);
  std::uint32_t usec = 0;
  for (const Frame& f : frames) {
    put<std::uint32_t>(out, 1700000000);
    put<std::uint32_t>(out, usec++);
    put<std::uint32_t>(out, static_cast<std::uint32_t>(f.size()));
    put<std::uint32_t>(out, static_cast<std::uint32_t>(f.size()));
    out.write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
  }
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::vector<Frame> read_pcap(const std::filesystem::path& path, bool cut_tail_ok) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  const std::vector<char> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (b.size() < 24) return {};
  const std::uint32_t magic = get<std::uint32_t>(b, 0);
  if (magic != kMagic && magic != 0xa1b23c4d) throw std::runtime_error(path.string() + ": not a pcap file");
  std::vector<Frame> frames;
  for (std::size_t at = 24; at + 16 <= b.size();) {
    const std::uint32_t len = get<std::uint32_t>(b, at + 8);
    at += 16;
    if (at + len > b.size() && cut_tail_ok) break;
    if (at + len > b.size()) throw std::runtime_error(path.string() + ": truncated record");
    frames.emplace_back(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + len));
    at += len;
  }
  return frames;
}

}  // namespace gateway::test
