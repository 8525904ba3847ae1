// Small value checks shared by the section readers.
#include "sections.h"

namespace gateway::detail {

std::uint32_t u32(tomlcheck::Table& t, std::string_view key, std::int64_t min, std::int64_t max,
                  std::uint32_t fallback) {
  return static_cast<std::uint32_t>(t.optional_int(key, min, max).value_or(fallback));
}

void check_length(const tomlcheck::Table& t, std::string_view key, const std::string& s, std::size_t min,
                  std::size_t max) {
  if (s.size() < min || s.size() > max)
    t.fail(key, "must be " + std::to_string(min) + " to " + std::to_string(max) + " bytes long, got " +
                    std::to_string(s.size()));
}

void only_when(const tomlcheck::Table& t, std::string_view key, bool allowed, std::string_view condition) {
  if (!allowed && t.contains(key)) t.fail(key, "only allowed when " + std::string(condition));
}

}  // namespace gateway::detail
