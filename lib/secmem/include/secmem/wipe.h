// secure_wipe: overwrite memory that held a secret, in a way the compiler may
// not drop as a dead store (explicit_bzero); wipe_stack_below: the same for
// the part of a thread's stack the functions it called used.
#pragma once

#include <chrono>
#include <cstddef>

namespace secmem {

void secure_wipe(void* p, std::size_t n) noexcept;

// Overwrites `bytes` of the calling thread's stack below the caller's frame:
// whatever the functions it called left there. Not only their locals: when a
// shared library without BIND_NOW (libstdc++) calls a function for the first
// time, the dynamic linker saves every vector register on the stack while it
// binds it, key bytes a copy just left in them included. For a thread that
// handles key material, after the calls that did, or now and then from its
// loop (StackWipeTimer).
inline constexpr std::size_t kStackWipeBytes = 64 * 1024;  // more than keycast's calls with keys use
void wipe_stack_below(std::size_t bytes = kStackWipeBytes) noexcept;

// For a loop that handles keys: due() calls wipe_stack_below() when a period
// has passed since it last did.
class StackWipeTimer {
 public:
  explicit StackWipeTimer(std::chrono::milliseconds period) noexcept : period_(period) {}
  void due() noexcept {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < period_) return;
    wipe_stack_below();
    last_ = now;
  }

 private:
  std::chrono::milliseconds period_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace secmem
