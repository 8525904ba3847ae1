// Log lines a peer can cause (refused HELLOs and requests, connections
// closed for malformed frames): at most kLinesPerSecond a second, so a
// hostile peer cannot flood the log. The next line let through says how many
// were held back; the metrics still count every event.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace keymgr {

class PeerLog {
 public:
  static constexpr std::uint32_t kLinesPerSecond = 20;

  // The line to log now (with a note of what was held back), or nothing.
  std::optional<std::string> admit(std::string line, std::uint64_t now_ms);

 private:
  std::uint64_t second_ = 0;
  std::uint32_t admitted_ = 0;  // in second_
  std::uint64_t held_back_ = 0;
};

}  // namespace keymgr
