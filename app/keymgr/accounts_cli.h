// `keycast-keymgr accounts`: lists usage per hour, peer and channel from a
// state directory, as CSV or JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace keymgr {

struct AccountsQuery {
  std::vector<std::string> state_dirs;  // a master's, then its replicas': listed together
  std::optional<std::string> peer;
  std::optional<std::uint32_t> channel;
  std::string from;  // Unix ms or YYYY-MM-DDTHH:MM[:SS]Z; empty: unbounded
  std::string to;
  std::string format = "csv";
};

int list_accounts(const AccountsQuery& q);

// Unix ms from "1764000000000" or "2026-11-25T12:00Z" / "2026-11-25T12:00:00Z".
std::optional<std::uint64_t> parse_time_ms(const std::string& text);

}  // namespace keymgr
