// keycast-recv --config FILE: the command line's options from TOML, every
// value checked where it stands (lib/tomlcheck: "FILE:LINE:COL: what").
//
//   [keymgr]
//   endpoints = ["127.0.0.1:7700", "127.0.0.1:7701"]   # failover order
//   failover = "in-order"                              # or "round-robin"
//   peer = "rx1"
//   token = "rx1-lab-token"                            # lab; or cert, key, ca (PEM files)
//
//   [receive]                                          # optional, defaults as the flags'
//   iface = "lo"
//   timeout_ms = 0
//   count = 0
//   batch = 32
//   hold_timeout_ms = 50
//   metrics_listen = "127.0.0.1:9710"
//
//   [[join]]                                           # one or more
//   group = "239.255.1.1:5000"                         # GROUP:PORT[@SOURCE], [V6]:PORT
//   channel = 1                                        # all joins or none
//   out = "ch1.ts"                                     # all joins, or none (stdout)
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "options.h"

namespace keycast_recv {

// Throws tomlcheck::ConfigError.
Options load_config(const std::filesystem::path& file);
// The same from text; messages name it `name`.
Options load_config_string(std::string_view text, std::string name);

// The file's options with those given on the command line (given(flag))
// taken from `flags` instead; --join brings its own --channel and --out.
Options merge(Options file, const Options& flags, const std::function<bool(const char*)>& given);

}  // namespace keycast_recv
