// ReplayWindow (see replay_window.h).
#include "keycast/replay_window.h"

namespace keycast {

ReplayWindow::Verdict ReplayWindow::check(std::uint64_t seq) const noexcept {
  if (!any_ || seq > top_) return Verdict::fresh;
  if (top_ - seq >= kSize) return Verdict::too_old;
  return (bits_[word(seq)] & bit(seq)) != 0 ? Verdict::replayed : Verdict::fresh;
}

void ReplayWindow::accept(std::uint64_t seq) noexcept {
  if (!any_) {
    bits_.fill(0);
    top_ = seq;
    any_ = true;
  } else if (seq > top_) {
    // The window slides: the words it enters hold no delivered seq yet.
    if (seq / 64 - top_ / 64 >= kWords) {
      bits_.fill(0);
    } else {
      for (std::uint64_t w = top_ / 64 + 1; w <= seq / 64; ++w) bits_[w % kWords] = 0;
    }
    top_ = seq;
  }
  bits_[word(seq)] |= bit(seq);
}

}  // namespace keycast
