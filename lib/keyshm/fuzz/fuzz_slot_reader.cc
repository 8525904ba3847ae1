// libFuzzer target: the input as the mapped bytes of a key object. The reader
// must accept or refuse it without crashing or reading outside it, and every
// snapshot it accepts must hold only valid keys.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "keyshm/keyshm.h"
#include "pktparse/suite.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_snapshot(const keyshm::Snapshot& s) {
  check(s.count <= keyshm::kKeysPerSlot);
  for (const keyshm::Key& k : s.view()) {
    check(k.state != keyshm::KeyState::empty && k.key_length <= keyshm::kMaxMaterial);
    check(pktparse::suite_valid(k.suite));
    for (std::size_t i = k.key_length; i < k.material.size(); ++i) check(k.material[i] == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The reader wants a 64-byte aligned region of exactly this size.
  auto* region = static_cast<std::uint8_t*>(::operator new(size + 1, std::align_val_t{64}));
  if (size) std::memcpy(region, data, size);
  keyshm::Failure why;
  if (const auto r = keyshm::ShmReader::over({region, size}, &why)) {
    keyshm::Snapshot s;
    for (const std::uint32_t ch : r->channel_ids()) {
      if (r->read(ch, s) == keyshm::ReadStatus::ok) check_snapshot(s);
    }
    check(r->read(0xffffffffu, s) == keyshm::ReadStatus::no_channel || !r->channel_ids().empty());
    (void)r->writer_status();
  } else {
    check(!why.message.empty());
  }
  ::operator delete(region, std::align_val_t{64});
  return 0;
}
