// The keys a descrambling channel asks the key manager for by id (its worker
// met datagrams under them and does not hold them): up to kMax at once, each
// tried kTries times with a doubling backoff, then given up (its held
// datagrams time out). A need beyond kMax displaces the key tried most, and
// says which. Control thread only.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace gateway {

class WantedKeys {
 public:
  static constexpr std::size_t kMax = 4;
  static constexpr unsigned kTries = 4;
  static constexpr std::uint64_t kBackoffMs = 20;  // after the first failed try; doubled per try

  // What an attempt came to.
  enum class Outcome : std::uint8_t {
    got,        // the key arrived: no longer wanted
    failed,     // a try that failed
    busy,       // nothing asked (the connection is busy): again at the next tick
    held_off,   // nothing asked (the fetcher holds off after a timeout): again after kBackoffMs
  };

  // Wants key_id, due at once, unless it is wanted already (false). When all
  // kMax are taken the one tried most goes: *displaced says which (else 0).
  bool add(std::uint32_t key_id, std::uint64_t now_ms, std::uint32_t* displaced);
  bool contains(std::uint32_t key_id) const noexcept;
  void remove(std::uint32_t key_id) noexcept;
  // The ids due for an attempt at now_ms.
  std::vector<std::uint32_t> due(std::uint64_t now_ms) const;
  // Records an attempt; true when the key is given up (failed kTries times).
  bool after(std::uint32_t key_id, Outcome o, std::uint64_t now_ms) noexcept;
  // Tries made for key_id so far (0 when not wanted).
  unsigned tries(std::uint32_t key_id) const noexcept;
  bool empty() const noexcept;

 private:
  struct Want {
    std::uint32_t key_id = 0;  // 0: free
    unsigned tries = 0;
    std::uint64_t due_ms = 0;
  };
  Want* find(std::uint32_t key_id) noexcept;
  const Want* find(std::uint32_t key_id) const noexcept;

  std::array<Want, kMax> wants_{};
};

}  // namespace gateway
