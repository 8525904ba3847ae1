// The file behind the config's `usage_file` (scramble mode): the usage a
// gateway counted that the key manager has not taken yet, so that neither a
// stop while the key manager is away nor a kill -9 loses what is billed.
// It holds the USAGE_REPORTs waiting (usage_reports.h) and the counts of the
// keys in use as the workers last published them; at the next start every
// entry is sent as a report of its own (the key manager adds them up).
// Text, locked and replaced whole as a StateFile (state_file.h):
//
//   keycast-gateway usage 1
//   <channel_id> <key_id> <packets> <bytes>
//   ...
//
// decimal without leading zeros, one space apart, every line ending in "\n";
// ids 1..2^32-1, counts 0..2^64-1, at most kMaxEntries lines after the first.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "state_file.h"
#include "usage_reports.h"

namespace gateway {

inline constexpr std::size_t kMaxUsageEntries = 1 << 20;

// The entries of a usage file's text; none, with *why naming the line and
// what is wrong with it, if the text is not as above.
std::optional<std::vector<UsageReport>> parse_usage(std::string_view text, std::string* why);
std::string usage_text(std::span<const UsageReport> entries);

class UsageFile {
 public:
  // Takes the lock and reads the entries (none when the file does not exist).
  // Throws std::runtime_error, naming the file and what to do, when
  // StateFile refuses it or its text is not a usage file.
  explicit UsageFile(std::filesystem::path path);

  const std::filesystem::path& path() const noexcept { return file_.path(); }
  const std::vector<UsageReport>& stored() const noexcept { return stored_; }

  // Durably replaces the entries (at most kMaxUsageEntries). On failure
  // returns false, sets *why, and the file keeps its previous entries.
  bool store(std::span<const UsageReport> entries, std::string* why);

 private:
  StateFile file_;
  std::vector<UsageReport> stored_;
};

}  // namespace gateway
