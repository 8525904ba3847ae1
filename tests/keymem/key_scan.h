// Looks for keys where they must not be: in a live process's memory (stopped
// with SIGSTOP while it is read) and in what a process wrote to its logs.
// Keys it has retired must be nowhere in its memory; keys it may still hold
// only in mappings excluded from core dumps (smaps VmFlag "dd"), and one of
// the keys it must be using (current, or the next if it switched since the
// test looked) at least once, else the scan would prove nothing.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "key_watch.h"

namespace keymem::test {

struct KeyExpectations {
  std::vector<const SeenKey*> retired;    // found nowhere
  std::vector<const SeenKey*> held;       // only in "dd" mappings
  std::vector<std::vector<const SeenKey*>> must_hold_one_of;  // of held: one of each found
};

struct ScanOutcome {
  std::vector<std::string> retired_found;
  std::vector<std::string> held_outside_dd;
  std::vector<std::string> not_found;
  std::size_t mappings = 0, readable_mib = 0;
  std::size_t retired_keys = 0, held_keys = 0, held_hits = 0;
  std::chrono::milliseconds took{0};

  bool clean() const { return retired_found.empty() && held_outside_dd.empty() && not_found.empty(); }
  std::string report() const;
};

ScanOutcome scan_process(pid_t pid, const KeyExpectations& e);
// Scans again (up to tries times, 300 ms apart) while the only problems are
// held keys outside "dd" mappings: a copy on a stack while a key is being
// fetched is transient, a copy that stays is not.
ScanOutcome scan_until_settled(pid_t pid, const KeyExpectations& e, int tries = 3);

// Every form of the keys (key_forms.h log_forms) found in a log, one line each.
std::vector<std::string> keys_in_log(const std::string& name, const std::string& log,
                                     const std::vector<const SeenKey*>& keys);

// The pid of this process's child that runs exe (a path), or -1.
pid_t child_running(const std::string& exe);

std::string key_name(const SeenKey& k);

}  // namespace keymem::test
