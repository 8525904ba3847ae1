// GCM anti-replay for one key (as IPsec's, RFC 4303 3.4.3 / RFC 6479): the
// highest seq delivered and a bitmap of the kSize seqs behind it. A seq
// already delivered is a replay; one kSize or more behind the highest is too
// old to tell and dropped too. Fixed size, no allocation. Only an
// authenticated datagram may move the window: check() before the tag is
// verified, accept() after.
#pragma once

#include <array>
#include <cstdint>

namespace keycast {

class ReplayWindow {
 public:
  static constexpr std::uint64_t kSize = 1024;
  enum class Verdict : std::uint8_t { fresh, replayed, too_old };

  Verdict check(std::uint64_t seq) const noexcept;
  void accept(std::uint64_t seq) noexcept;

 private:
  // One word more than kSize needs, so that clearing whole words as the
  // window slides never clears a seq still inside it.
  static constexpr std::uint64_t kWords = kSize / 64 + 1;
  static std::uint64_t word(std::uint64_t seq) noexcept { return (seq / 64) % kWords; }
  static std::uint64_t bit(std::uint64_t seq) noexcept { return std::uint64_t{1} << (seq % 64); }

  std::array<std::uint64_t, kWords> bits_{};
  std::uint64_t top_ = 0;  // highest seq accepted
  bool any_ = false;
};

}  // namespace keycast
