// The file behind the config's `seq_file`: one decimal number and a newline,
// the seq high-water mark of a scrambling gateway (no seq at or above it
// has been used under any key). Locked, checked and replaced whole as a
// StateFile (state_file.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "state_file.h"

namespace gateway {

// The file's text: "N\n", N decimal without sign or leading zeros (but "0"),
// at most 2^64-1; the newline may be missing (an editor's save). None for
// anything else.
std::optional<std::uint64_t> parse_seq_mark(std::string_view text);
std::string seq_mark_text(std::uint64_t mark);

class SeqFile {
 public:
  // Takes the lock, then reads the mark: none when the file does not exist
  // (a first start). Throws std::runtime_error, naming the file and what to
  // do, when StateFile refuses it or it holds anything but a mark.
  explicit SeqFile(std::filesystem::path path);

  const std::filesystem::path& path() const noexcept { return file_.path(); }
  const std::optional<std::uint64_t>& stored() const noexcept { return stored_; }

  // Durably replaces the mark. On failure returns false, sets *why, and the
  // file keeps its previous mark.
  bool store(std::uint64_t mark, std::string* why);

 private:
  StateFile file_;
  std::optional<std::uint64_t> stored_;
};

}  // namespace gateway
