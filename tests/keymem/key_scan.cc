// Key scans over lib/secmem's proc_memory helpers.
#include "key_scan.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "proc_memory.h"

namespace keymem::test {

namespace {

using secmem::test::Hit;
using secmem::test::Mapping;

// The patterns of a list of keys, and which key and form each one is.
struct Patterns {
  std::vector<Bytes> bytes;
  std::vector<std::pair<const SeenKey*, std::string>> whose;

  void add(const SeenKey* k, std::vector<KeyForm> forms) {
    for (auto& f : forms) {
      bytes.push_back(std::move(f.bytes));
      whose.emplace_back(k, std::move(f.what));
    }
  }
};

std::string where(std::uintptr_t a, const std::vector<Mapping>& maps) {
  std::ostringstream s;
  s << "0x" << std::hex << a << std::dec << " in ";
  const Mapping* m = secmem::test::mapping_of(maps, a);
  s << (m ? m->describe() : std::string("no mapping"));
  return s.str();
}

// SIGSTOP for the scope: the process does not change while it is read.
class Stopped {
 public:
  explicit Stopped(pid_t pid) : pid_(pid) {
    ::kill(pid_, SIGSTOP);
    for (int i = 0; i < 200; ++i) {  // until /proc says it stopped (T), at most 1 s
      std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
      std::string line;
      std::getline(stat, line);
      const auto close = line.rfind(')');
      if (close == std::string::npos || close + 2 >= line.size() || line[close + 2] == 'T') break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ~Stopped() { ::kill(pid_, SIGCONT); }
  Stopped(const Stopped&) = delete;
  Stopped& operator=(const Stopped&) = delete;

 private:
  pid_t pid_;
};

}  // namespace

std::string key_name(const SeenKey& k) {
  return "channel " + std::to_string(k.channel) + " key " + std::to_string(k.key_id) + " (suite " +
         std::to_string(k.suite) + ")";
}

std::string ScanOutcome::report() const {
  std::string s = "scanned " + std::to_string(mappings) + " mappings (" + std::to_string(readable_mib) +
                  " MiB readable) in " + std::to_string(took.count()) + " ms for " + std::to_string(retired_keys) +
                  " retired keys and " + std::to_string(held_keys) + " held ones (found " + std::to_string(held_hits) +
                  " times)\n";
  for (const auto& l : retired_found) s += "  retired key still in memory: " + l + "\n";
  for (const auto& l : held_outside_dd) s += "  key outside MADV_DONTDUMP memory: " + l + "\n";
  for (const auto& l : not_found) s += "  key it must hold not found (the scan would prove nothing): " + l + "\n";
  return s;
}

ScanOutcome scan_process(pid_t pid, const KeyExpectations& e) {
  Patterns retired, held;
  for (const SeenKey* k : e.retired) retired.add(k, memory_forms(k->suite, k->material));
  for (const SeenKey* k : e.held) held.add(k, memory_forms(k->suite, k->material));
  const std::size_t n_retired = retired.bytes.size();
  std::vector<Bytes> all = retired.bytes;
  all.insert(all.end(), held.bytes.begin(), held.bytes.end());

  ScanOutcome out;
  const auto t0 = Clock::now();
  std::vector<Mapping> maps;
  std::vector<Hit> hits;
  {
    Stopped stopped(pid);
    maps = secmem::test::read_mappings(pid);
    hits = secmem::test::find_in_memory(pid, maps, all);
  }
  out.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  out.mappings = maps.size();
  for (const Mapping& m : maps)
    if (!m.perms.empty() && m.perms[0] == 'r') out.readable_mib += (m.end - m.begin) >> 20;
  out.retired_keys = e.retired.size();
  out.held_keys = e.held.size();

  std::vector<const SeenKey*> seen;
  for (const Hit& h : hits) {
    if (h.pattern < n_retired) {
      const auto& [k, what] = retired.whose[h.pattern];
      out.retired_found.push_back(key_name(*k) + " " + what + " at " + where(h.address, maps));
      continue;
    }
    const auto& [k, what] = held.whose[h.pattern - n_retired];
    seen.push_back(k);
    ++out.held_hits;
    const Mapping* m = secmem::test::mapping_of(maps, h.address);
    if (!m || !m->excluded_from_dumps())
      out.held_outside_dd.push_back(key_name(*k) + " " + what + " at " + where(h.address, maps));
  }
  for (const auto& any : e.must_hold_one_of) {
    const bool found = std::any_of(any.begin(), any.end(),
                                   [&](const SeenKey* k) { return std::find(seen.begin(), seen.end(), k) != seen.end(); });
    if (!found && !any.empty()) out.not_found.push_back(key_name(*any.front()) + " or the key after it");
  }
  return out;
}

ScanOutcome scan_until_settled(pid_t pid, const KeyExpectations& e, int tries) {
  ScanOutcome out = scan_process(pid, e);
  for (int i = 1; i < tries && !out.clean() && out.retired_found.empty() && out.not_found.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    out = scan_process(pid, e);
  }
  return out;
}

std::vector<std::string> keys_in_log(const std::string& name, const std::string& log,
                                     const std::vector<const SeenKey*>& keys) {
  Patterns p;
  for (const SeenKey* k : keys) p.add(k, log_forms(k->material));
  std::vector<std::string> out;
  for (const Hit& h : secmem::test::find_in_bytes(log, p.bytes)) {
    const auto& [k, what] = p.whose[h.pattern];
    out.push_back(name + ": " + key_name(*k) + " as " + what + " at offset " + std::to_string(h.address));
  }
  return out;
}

pid_t child_running(const std::string& exe) {
  const auto want = std::filesystem::weakly_canonical(exe);
  std::error_code ec;
  for (const auto& d : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = d.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(d.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid != ::getpid()) continue;
    if (std::filesystem::read_symlink(d.path() / "exe", ec) == want) return static_cast<pid_t>(std::stoi(name));
  }
  return -1;
}

}  // namespace keymem::test
