// Key set publication and QSBR reclamation.
#include "key_table.h"

#include <cstdlib>
#include <stdexcept>

#include "dpdk.h"

namespace gateway {

// The QSBR state is this process's own: the ordinary heap, so the table also
// works without the EAL (tests).
KeyTable::KeyTable() {
  constexpr std::size_t line = RTE_CACHE_LINE_SIZE;
  const std::size_t size = (rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE) + line - 1) / line * line;
  qsbr_ = static_cast<rte_rcu_qsbr*>(std::aligned_alloc(line, size));
  if (!qsbr_ || rte_rcu_qsbr_init(qsbr_, RTE_MAX_LCORE) != 0) {
    std::free(qsbr_);
    throw std::runtime_error("cannot set up the key table's QSBR state");
  }
}

KeyTable::~KeyTable() {
  for (auto& slot : slots_) {
    KeySet* s = slot.exchange(nullptr, std::memory_order_acq_rel);
    if (s) s->wipe();
    delete s;
  }
  std::free(qsbr_);
}

void KeyTable::publish(std::uint16_t index, std::unique_ptr<KeySet> set) {
  KeySet* old = slots_[index].exchange(set.release(), std::memory_order_acq_rel);
  if (!old) return;
  // rte_rcu_qsbr_synchronize() without a thread id, from the header's inline
  // functions: compiled here, so ThreadSanitizer sees their acquire loads.
  rte_rcu_qsbr_check(qsbr_, rte_rcu_qsbr_start(qsbr_), true);
  old->wipe();
  delete old;
}

}  // namespace gateway
