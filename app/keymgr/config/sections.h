// Internal: readers of the config's sections. Each reads its table's keys,
// rejects unknown ones, then checks the values; cross-section checks are
// in load.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>

#include "keymgr_config.h"
#include "tomlcheck/table.h"

namespace keymgr::detail {

inline constexpr std::int64_t kU32Max = std::numeric_limits<std::uint32_t>::max();

ServerConfig read_server(tomlcheck::Table& t);
TlsConfig read_tls(tomlcheck::Table& t, const std::filesystem::path& base_dir, ServerRole role);
ChannelConfig read_channel(tomlcheck::Table& t);
PeerConfig read_peer(tomlcheck::Table& t, bool lab);

// A string of min..max bytes, or fail at `key`.
void check_length(const tomlcheck::Table& t, std::string_view key, const std::string& s, std::size_t min,
                  std::size_t max);

}  // namespace keymgr::detail
