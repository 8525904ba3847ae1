// Per-channel key sets, published by the control thread and read lock-free by
// the worker. A KeySet is immutable once published (only the worker's use of
// its cipher contexts changes it); a replaced set is retired through
// rte_rcu_qsbr and wiped once no worker can still hold it.
//
// KeySets live in secret memory (secmem: out of core dumps, wiped again when
// freed), not in DPDK memory: MADV_DONTDUMP applies to whole mappings, and
// rte_malloc's heap shares its pages (hugepages, or the --no-huge area) with
// mbufs and rings; a set is a few KB read by one worker, so NUMA placement
// does not matter for it.
//
// QSBR contract: a worker reports a quiescent state once per loop iteration
// and keeps no KeySet pointer across that report.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "channel_table.h"
#include "pktparse/key.h"
#include "secmem/allocator.h"

struct rte_rcu_qsbr;

namespace gateway {

// Scramble mode uses current and next; descramble mode picks among all three
// by key_id.
struct KeySet : secmem::InSecretMemory {
  pktparse::PreparedKey previous;    // descramble: kept for the grace period after a switch
  pktparse::PreparedKey current;
  pktparse::PreparedKey next;        // next.ready() is false until the next key exists
  std::uint64_t current_end_ms = 0;  // TscClock ms at which the worker switches to next
  std::uint64_t next_end_ms = 0;

  bool has_next() const noexcept { return next.ready(); }
  void wipe() noexcept {
    previous.wipe();
    current.wipe();
    next.wipe();
  }
};

class KeyTable {
 public:
  KeyTable();  // needs no EAL
  ~KeyTable();  // wipes and frees every set; workers must have stopped
  KeyTable(const KeyTable&) = delete;
  KeyTable& operator=(const KeyTable&) = delete;

  // Worker side.
  KeySet* read(std::uint16_t index) const noexcept { return slots_[index].load(std::memory_order_acquire); }
  rte_rcu_qsbr* qsbr() const noexcept { return qsbr_; }

  // Control side: publishes set for the channel, waits until no worker can
  // hold the one it replaces, then wipes and frees that one.
  void publish(std::uint16_t index, std::unique_ptr<KeySet> set);
  bool has(std::uint16_t index) const noexcept { return read(index) != nullptr; }

 private:
  std::array<std::atomic<KeySet*>, kMaxChannels> slots_{};
  rte_rcu_qsbr* qsbr_ = nullptr;
};

}  // namespace gateway
