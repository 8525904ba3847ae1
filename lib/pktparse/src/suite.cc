// Suite names and key-length rules.
#include "pktparse/suite.h"

#include "fastxor/fastxor.h"

namespace pktparse {

namespace {
struct SuiteInfo {
  Suite suite;
  std::string_view name;
  std::size_t min_key;
  std::size_t max_key;
};
constexpr SuiteInfo kSuites[] = {
    {Suite::xor_pattern, "xor", 1, fastxor::kMaxPatternLen},
    {Suite::xor_inv, "xor-inv", 1, fastxor::kMaxInvertingPatternLen},
    {Suite::aes128_ctr, "aes128-ctr", 16, 16},
    {Suite::aes256_ctr, "aes256-ctr", 32, 32},
    {Suite::aes128_gcm, "aes128-gcm", 16, 16},
};

const SuiteInfo* info(Suite s) noexcept {
  for (const auto& i : kSuites)
    if (i.suite == s) return &i;
  return nullptr;
}
}  // namespace

bool suite_valid(std::uint8_t id) noexcept { return info(static_cast<Suite>(id)) != nullptr; }

std::string_view suite_name(Suite s) noexcept {
  const auto* i = info(s);
  return i ? i->name : std::string_view("unknown");
}

std::optional<Suite> suite_from_name(std::string_view name) noexcept {
  for (const auto& i : kSuites)
    if (i.name == name) return i.suite;
  return std::nullopt;
}

bool key_length_ok(Suite s, std::size_t len) noexcept {
  const auto* i = info(s);
  return i && len >= i->min_key && len <= i->max_key;
}

}  // namespace pktparse
