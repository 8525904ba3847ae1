// Names, clocks, key validation and error texts shared by writer and reader.
#include "common.h"

#include <cerrno>
#include <chrono>
#include <cstring>

#include "pktparse/suite.h"

namespace keyshm {

namespace detail {

bool shm_path(std::string_view name, std::string* path, Failure* why) {
  if (!name.empty() && name.front() == '/') name.remove_prefix(1);
  bool ok = !name.empty() && name.size() <= 255 && name != "." && name != "..";
  for (const char c : name)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                c == '-');
  if (!ok)
    return set_failure(why, OpenError::bad_name,
                       "shared-memory name \"" + std::string(name) + "\" must be 1..255 bytes of [A-Za-z0-9._-]");
  path->assign(1, '/');  // not "/" + name: GCC 12 warns falsely (-Wrestrict, PR 105329)
  path->append(name);
  return true;
}

std::uint64_t unix_ms() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

std::uint64_t unix_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

std::string sys_error(const std::string& what) { return what + ": " + std::strerror(errno); }

bool key_valid(std::uint8_t suite, std::uint8_t state, std::uint16_t key_length) noexcept {
  return state >= static_cast<std::uint8_t>(KeyState::current) &&
         state <= static_cast<std::uint8_t>(KeyState::previous) && key_length <= kMaxMaterial &&
         pktparse::suite_valid(suite) && pktparse::key_length_ok(static_cast<pktparse::Suite>(suite), key_length);
}

long find_slot(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& index, std::uint32_t channel_id) noexcept {
  std::size_t lo = 0, hi = index.size();
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (index[mid].first < channel_id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < index.size() && index[lo].first == channel_id ? static_cast<long>(index[lo].second) : -1;
}

bool set_failure(Failure* why, OpenError e, std::string message) {
  if (why) *why = Failure{e, std::move(message)};
  return false;
}

}  // namespace detail

std::string_view to_string(OpenError e) noexcept {
  switch (e) {
    case OpenError::bad_name: return "bad_name";
    case OpenError::not_found: return "not_found";
    case OpenError::permissions: return "permissions";
    case OpenError::bad_layout: return "bad_layout";
    case OpenError::not_ready: return "not_ready";
    case OpenError::exists: return "exists";
    case OpenError::bad_channels: return "bad_channels";
    case OpenError::system: return "system";
  }
  return "?";
}

std::string_view to_string(ReadStatus s) noexcept {
  switch (s) {
    case ReadStatus::ok: return "ok";
    case ReadStatus::busy: return "busy";
    case ReadStatus::no_channel: return "no_channel";
    case ReadStatus::corrupt: return "corrupt";
    case ReadStatus::closed: return "closed";
  }
  return "?";
}

std::string_view to_string(WriterStatus s) noexcept {
  switch (s) {
    case WriterStatus::live: return "live";
    case WriterStatus::closed: return "closed";
    case WriterStatus::restarted: return "restarted";
    case WriterStatus::gone: return "gone";
  }
  return "?";
}

bool valid_name(std::string_view name) noexcept {
  constexpr std::size_t kMaxLen = 255;
  if (name.size() <= kNamePrefix.size() || name.size() > kMaxLen || !name.starts_with(kNamePrefix)) return false;
  for (const char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return false;
  return true;
}

}  // namespace keyshm
