// The file behind the config's `seq_file`: one decimal number and a newline,
// the seq high-water mark of a scrambling gateway (no seq at or above it
// has been used under any key). Replaced whole: a 0600 temporary file
// (<seq_file>.tmp) is written and fsynced, renamed over the file, and the
// directory fsynced, so after kill -9 or a power cut it holds the old mark
// or the new one, never a mix. <seq_file>.lock, flock'ed for the life of the
// process (the kernel drops it when the process dies), keeps a second
// gateway off the same file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace gateway {

class SeqFile {
 public:
  // Takes the lock, then reads the mark: none when the file does not exist
  // (a first start). Throws std::runtime_error, naming the file and what to
  // do, when the lock is held, or the file is not a regular file owned by
  // this user with mode 0600 (or stricter), or holds anything but a mark.
  explicit SeqFile(std::filesystem::path path);
  ~SeqFile();
  SeqFile(const SeqFile&) = delete;
  SeqFile& operator=(const SeqFile&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  const std::optional<std::uint64_t>& stored() const noexcept { return stored_; }

  // Durably replaces the mark. On failure returns false, sets *why, and the
  // file keeps its previous mark.
  bool store(std::uint64_t mark, std::string* why);

 private:
  std::filesystem::path path_;
  int lock_fd_ = -1;
  std::optional<std::uint64_t> stored_;
};

}  // namespace gateway
