// For tests: a live process's memory as root sees it — its mappings
// (/proc/PID/maps, with each one's VmFlags from /proc/PID/smaps) and every
// occurrence of some byte patterns in its readable memory (/proc/PID/mem).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "secmem/asan.h"

namespace secmem::test {

// Under AddressSanitizer a process's address space holds terabytes of shadow
// memory: find_in_memory on it would not end. Tests skip such scans there.
#if defined(SECMEM_ASAN)
inline constexpr bool kScanOwnMemory = false;
#else
inline constexpr bool kScanOwnMemory = true;
#endif

struct Mapping {
  std::uintptr_t begin = 0, end = 0;
  std::string perms;  // "rw-p"
  std::string name;   // path, [heap], [stack], or empty
  std::vector<std::string> vm_flags;  // "rd", "wr", "dd" (MADV_DONTDUMP), "lo" (mlocked), ...

  bool has_flag(const std::string& f) const;
  bool excluded_from_dumps() const { return has_flag("dd"); }
  std::string describe() const;  // "7f12...-7f13... rw-p [heap] flags: rd wr mr mw me ac"
};

std::vector<Mapping> read_mappings(pid_t pid);
// The mapping that holds address a, or null.
const Mapping* mapping_of(const std::vector<Mapping>& maps, std::uintptr_t a);

struct Hit {
  std::size_t pattern = 0;  // index into the patterns searched for
  std::uintptr_t address = 0;
};

// Every occurrence of every pattern (each 4 bytes or longer) in pid's
// readable mappings; mappings that cannot be read are skipped. Pass
// getpid() to search this process (the patterns' own storage is then one hit
// each).
std::vector<Hit> find_in_memory(pid_t pid, const std::vector<Mapping>& maps,
                                const std::vector<std::vector<std::uint8_t>>& patterns);

// The same over a byte string (a log): offsets instead of addresses.
std::vector<Hit> find_in_bytes(const std::string& bytes, const std::vector<std::vector<std::uint8_t>>& patterns);

}  // namespace secmem::test
