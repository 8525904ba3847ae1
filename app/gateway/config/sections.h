// Internal: readers of the config's sections. Each reads its table's keys,
// rejects unknown ones, then checks the values; checks across channels are
// in load.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>

#include "gateway_config.h"
#include "tomlcheck/table.h"

namespace gateway::detail {

inline constexpr std::int64_t kU16Max = std::numeric_limits<std::uint16_t>::max();
inline constexpr std::int64_t kU32Max = std::numeric_limits<std::uint32_t>::max();

PortConfig read_ports(tomlcheck::Table& t);
// `raw` is the table `t` reads: keys.endpoints is taken out of it.
KeySource read_keys(tomlcheck::Table& t, const std::filesystem::path& base_dir);
// After mode and keys: which keys a channel may have depends on them.
ChannelConfig read_channel(tomlcheck::Table& t, const GatewayConfig& cfg);

// An optional integer in min..max, or `fallback`.
std::uint32_t u32(tomlcheck::Table& t, std::string_view key, std::int64_t min, std::int64_t max,
                  std::uint32_t fallback);
// A string of min..max bytes, or fail at `key`.
void check_length(const tomlcheck::Table& t, std::string_view key, const std::string& s, std::size_t min,
                  std::size_t max);
// Fails at `key` if it is present: "only allowed when CONDITION".
void only_when(const tomlcheck::Table& t, std::string_view key, bool allowed, std::string_view condition);

}  // namespace gateway::detail
