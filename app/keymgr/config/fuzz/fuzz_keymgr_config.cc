// libFuzzer target for the key manager config loader: any bytes either load
// or raise ConfigError; anything else (a crash, another exception) is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "keymgr_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)keymgr::load_keymgr_config_string(text, "fuzz.toml");
  } catch (const tomlcheck::ConfigError&) {
  }
  return 0;
}
