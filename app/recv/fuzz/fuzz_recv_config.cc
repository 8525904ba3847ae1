// libFuzzer target for keycast-recv's --config loader: any bytes either load
// (and then go through make_plan, as main does) or raise ConfigError;
// anything else (a crash, another exception) is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config_file.h"
#include "tomlcheck/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)keycast_recv::make_plan(keycast_recv::load_config_string(text, "fuzz.toml"));
  } catch (const tomlcheck::ConfigError&) {
  }
  return 0;
}
