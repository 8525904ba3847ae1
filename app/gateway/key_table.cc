// Key set publication and QSBR reclamation.
#include "key_table.h"

#include <stdexcept>

#include "dpdk.h"

namespace gateway {

KeyTable::KeyTable() {
  const std::size_t size = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);
  qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("keycast_qsbr", size, RTE_CACHE_LINE_SIZE));
  if (!qsbr_ || rte_rcu_qsbr_init(qsbr_, RTE_MAX_LCORE) != 0) {
    rte_free(qsbr_);
    throw std::runtime_error("cannot set up the key table's QSBR state");
  }
}

KeyTable::~KeyTable() {
  for (auto& slot : slots_) {
    KeySet* s = slot.exchange(nullptr, std::memory_order_acq_rel);
    if (s) s->wipe();
    delete s;
  }
  rte_free(qsbr_);
}

void KeyTable::publish(std::uint16_t index, std::unique_ptr<KeySet> set) {
  KeySet* old = slots_[index].exchange(set.release(), std::memory_order_acq_rel);
  if (!old) return;
  rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
  old->wipe();
  delete old;
}

}  // namespace gateway
