// Mappings from /proc/PID/{maps,smaps} and a pattern search over
// /proc/PID/mem: a bitmap of the patterns' first two bytes decides at each
// offset whether a full compare is worth doing.
#include "proc_memory.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <sstream>

#include "secmem/wipe.h"

namespace secmem::test {

namespace {

class Matcher {
 public:
  explicit Matcher(const std::vector<std::vector<std::uint8_t>>& patterns) : patterns_(patterns) {
    for (std::uint32_t k = 0; k < patterns.size(); ++k) {
      const auto& p = patterns[k];
      if (p.size() < 4) throw std::invalid_argument("patterns must be at least 4 bytes");
      const std::uint16_t first = key(p.data());
      bits_[first / 64] |= std::uint64_t{1} << (first % 64);
      by_key_.push_back({first, k});
      longest_ = std::max(longest_, p.size());
    }
    std::sort(by_key_.begin(), by_key_.end());
  }
  std::size_t longest() const { return longest_; }

  // Hits starting in buf[0, starts) (buf holds longest()-1 more bytes where
  // the memory goes on); base is buf[0]'s address or offset.
  void scan(const std::uint8_t* buf, std::size_t len, std::size_t starts, std::uintptr_t base,
            std::vector<Hit>& out) const {
    for (std::size_t i = 0; i < starts && i + 2 <= len; ++i) {
      const std::uint16_t k = key(buf + i);
      if (!(bits_[k / 64] >> (k % 64) & 1)) [[likely]] continue;
      const auto same = std::equal_range(by_key_.begin(), by_key_.end(), std::pair<std::uint16_t, std::uint32_t>{k, 0},
                                         [](const auto& a, const auto& b) { return a.first < b.first; });
      for (auto it = same.first; it != same.second; ++it) {
        const auto& p = patterns_[it->second];
        if (i + p.size() <= len && std::memcmp(buf + i, p.data(), p.size()) == 0) out.push_back({it->second, base + i});
      }
    }
  }

 private:
  // A pattern's first two bytes: a bitmap of them fits in L1.
  static std::uint16_t key(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

  const std::vector<std::vector<std::uint8_t>>& patterns_;
  std::array<std::uint64_t, 65536 / 64> bits_{};
  std::vector<std::pair<std::uint16_t, std::uint32_t>> by_key_;  // (key, pattern index), sorted
  std::size_t longest_ = 4;
};

}  // namespace

bool Mapping::has_flag(const std::string& f) const {
  return std::find(vm_flags.begin(), vm_flags.end(), f) != vm_flags.end();
}

std::string Mapping::describe() const {
  std::ostringstream s;
  s << std::hex << begin << "-" << end << std::dec << " " << perms << " " << (name.empty() ? "[anon]" : name)
    << " flags:";
  for (const auto& f : vm_flags) s << " " << f;
  return s.str();
}

std::vector<Mapping> read_mappings(pid_t pid) {
  std::vector<Mapping> maps;
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmFlags:", 0) == 0) {
      if (maps.empty()) continue;
      std::istringstream f(line.substr(8));
      for (std::string flag; f >> flag;) maps.back().vm_flags.push_back(flag);
      continue;
    }
    // A mapping's first line: "begin-end perms offset dev inode [name]".
    const auto dash = line.find('-');
    const auto space = line.find(' ');
    if (dash == std::string::npos || space == std::string::npos || dash > space) continue;
    if (line.find(':') < space) continue;  // "Size:  4 kB" and the like
    Mapping m;
    try {
      m.begin = std::stoull(line.substr(0, dash), nullptr, 16);
      m.end = std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
    } catch (const std::exception&) {
      continue;
    }
    std::istringstream rest(line.substr(space + 1));
    std::string offset, dev, inode;
    rest >> m.perms >> offset >> dev >> inode;
    std::getline(rest >> std::ws, m.name);
    maps.push_back(std::move(m));
  }
  return maps;
}

const Mapping* mapping_of(const std::vector<Mapping>& maps, std::uintptr_t a) {
  for (const auto& m : maps)
    if (a >= m.begin && a < m.end) return &m;
  return nullptr;
}

std::vector<Hit> find_in_memory(pid_t pid, const std::vector<Mapping>& maps,
                                const std::vector<std::vector<std::uint8_t>>& patterns) {
  std::vector<Hit> hits;
  if (patterns.empty()) return hits;
  const Matcher matcher(patterns);
  const int fd = ::open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open /proc/" + std::to_string(pid) + "/mem: " + std::strerror(errno));
  constexpr std::size_t kStep = 1 << 20;
  const std::size_t overlap = matcher.longest() - 1;
  std::vector<std::uint8_t> buf(kStep + overlap);
  for (const Mapping& m : maps) {
    if (m.perms.empty() || m.perms[0] != 'r' || m.name == "[vvar]" || m.name == "[vsyscall]") continue;
    for (std::uintptr_t at = m.begin; at < m.end; at += kStep) {
      const std::size_t want = std::min<std::uintptr_t>(kStep + overlap, m.end - at);
      const ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(at));
      if (n <= 0) break;  // unreadable (a guard, an I/O mapping): skip the rest
      const auto got = static_cast<std::size_t>(n);
      matcher.scan(buf.data(), got, std::min(got, kStep), at, hits);
    }
  }
  ::close(fd);
  // Searching this process: what buf read of itself is no hit, and what it
  // holds must not be found by the next search.
  const auto own = reinterpret_cast<std::uintptr_t>(buf.data());
  std::erase_if(hits, [&](const Hit& h) { return h.address >= own && h.address < own + buf.size(); });
  secure_wipe(buf.data(), buf.size());
  return hits;
}

std::vector<Hit> find_in_bytes(const std::string& bytes, const std::vector<std::vector<std::uint8_t>>& patterns) {
  std::vector<Hit> hits;
  if (patterns.empty()) return hits;
  const Matcher matcher(patterns);
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  matcher.scan(p, bytes.size(), bytes.size(), 0, hits);
  return hits;
}

}  // namespace secmem::test
