// libFuzzer target for the seq file's parser: any bytes either parse to a
// mark or are refused, and what parses is the text seq_mark_text() writes
// for that mark (or that text without its newline).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "seq_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto mark = gateway::parse_seq_mark(text);
  if (!mark) return 0;
  const std::string written = gateway::seq_mark_text(*mark);
  if (text != written && std::string(text) + "\n" != written) std::abort();
  if (gateway::parse_seq_mark(written) != mark) std::abort();
  return 0;
}
