// libFuzzer target for the usage file's parser: any bytes either parse or
// are refused with a reason, and what parses is exactly the text usage_text()
// writes for its entries (the format has one spelling per content).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "usage_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string why;
  const auto entries = gateway::parse_usage(text, &why);
  if (!entries) {
    if (why.empty()) std::abort();
    return 0;
  }
  if (gateway::usage_text(*entries) != text) std::abort();
  return 0;
}
