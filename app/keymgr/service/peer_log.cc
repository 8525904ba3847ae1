// PeerLog (see peer_log.h).
#include "peer_log.h"

namespace keymgr {

std::optional<std::string> PeerLog::admit(std::string line, std::uint64_t now_ms) {
  if (now_ms / 1000 != second_) {
    second_ = now_ms / 1000;
    admitted_ = 0;
  }
  if (admitted_ == kLinesPerSecond) {
    ++held_back_;
    return std::nullopt;
  }
  ++admitted_;
  if (held_back_) {
    line += " (" + std::to_string(held_back_) + " more such lines were not logged)";
    held_back_ = 0;
  }
  return line;
}

}  // namespace keymgr
