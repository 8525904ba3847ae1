// libFuzzer target for the gateway config loader: any bytes either load or
// raise ConfigError; anything else (a crash, another exception) is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gateway_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)gateway::load_gateway_config_string(text, "fuzz.toml");
  } catch (const tomlcheck::ConfigError&) {
  }
  return 0;
}
