// [[channel]]: suite, key length, lifetime, thresholds, rotation, origin.
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>

#include "sections.h"

namespace keymgr::detail {

namespace {

constexpr std::int64_t kU16Max = std::numeric_limits<std::uint16_t>::max();

std::string number(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// "1 and 1024": the suite's key lengths as key_length_ok defines them.
std::string key_range(pktparse::Suite s) {
  std::size_t lo = 0, hi = 0;
  for (std::size_t n = 1; n <= static_cast<std::size_t>(kU16Max); ++n) {
    if (!pktparse::key_length_ok(s, n)) continue;
    if (lo == 0) lo = n;
    hi = n;
  }
  return lo == hi ? std::to_string(lo) : "between " + std::to_string(lo) + " and " + std::to_string(hi);
}

std::string suite_names() {
  std::string out;
  for (std::uint8_t id = 1; pktparse::suite_valid(id); ++id) {
    if (!out.empty()) out += ", ";
    out += pktparse::suite_name(static_cast<pktparse::Suite>(id));
  }
  return out;
}

void check_fraction(const tomlcheck::Table& t, std::string_view key, double v) {
  if (!(v > 0.0 && v < 1.0)) t.fail(key, "must be between 0 and 1 (exclusive), got " + number(v));
}

}  // namespace

ChannelConfig read_channel(tomlcheck::Table& t) {
  ChannelConfig c;
  const auto id = t.optional_int("id", 1, kU32Max);
  const auto suite = t.optional_string("suite");
  const auto key_length = t.optional_int("key_length", 1, kU16Max);
  const auto lifetime = t.optional_int("lifetime_ms", 0, kU32Max);
  c.threshold_x = t.optional_float("threshold_x").value_or(c.threshold_x);
  c.threshold_y = t.optional_float("threshold_y").value_or(c.threshold_y);
  c.rotate_bytes = static_cast<std::uint64_t>(t.optional_int("rotate_bytes", 0).value_or(0));
  c.rotate_datagrams = static_cast<std::uint64_t>(t.optional_int("rotate_datagrams", 0).value_or(0));
  const auto origin = t.optional_string("origin");
  t.check_unknown_keys();

  if (!id) t.fail_missing("id");
  c.id = static_cast<std::uint32_t>(*id);

  if (!suite) t.fail_missing("suite");
  const auto s = pktparse::suite_from_name(*suite);
  if (!s) t.fail("suite", "unknown suite \"" + *suite + "\", expected one of " + suite_names());
  c.suite = *s;

  if (key_length) {
    if (!pktparse::key_length_ok(c.suite, static_cast<std::size_t>(*key_length)))
      t.fail("key_length", "must be " + key_range(c.suite) + " for suite " + *suite + ", got " +
                               std::to_string(*key_length));
    c.key_length = static_cast<std::uint16_t>(*key_length);
  } else if (pktparse::suite_is_xor(c.suite)) {
    t.fail_missing("key_length", "required for suite " + *suite);
  } else {
    c.key_length = c.suite == pktparse::Suite::aes256_ctr ? 32 : 16;
  }

  if (!lifetime) t.fail_missing("lifetime_ms");
  if (*lifetime == 0) t.fail("lifetime_ms", "must be > 0");
  c.lifetime_ms = static_cast<std::uint32_t>(*lifetime);

  check_fraction(t, "threshold_x", c.threshold_x);
  check_fraction(t, "threshold_y", c.threshold_y);
  if (c.threshold_y >= c.threshold_x)
    t.fail(t.contains("threshold_y") ? "threshold_y" : "threshold_x",
           "threshold_y (" + number(c.threshold_y) + ") must be less than threshold_x (" + number(c.threshold_x) +
               ')');

  if (origin && *origin == "gateway") {
    c.origin = KeyOrigin::gateway;
  } else if (origin && *origin != "keymgr") {
    t.fail("origin", "must be \"keymgr\" or \"gateway\", got \"" + *origin + '"');
  }
  return c;
}

}  // namespace keymgr::detail
