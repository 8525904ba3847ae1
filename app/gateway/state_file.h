// A small state file a gateway keeps across restarts (seq_file, usage_file):
// locked for the life of the process, read whole at start, replaced whole.
// <path>.lock, flock'ed (the kernel drops the lock when the process dies),
// keeps a second gateway off the same file. The file must be a regular file
// owned by this user with mode 0600 (or stricter). A replacement writes a
// 0600 temporary file (<path>.tmp), fsyncs it, renames it over the file and
// fsyncs the directory: after kill -9 or a power cut the file holds the old
// text or the new, never a mix.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace gateway {

class StateFile {
 public:
  // label names the file in messages ("seq_file /var/lib/x.seq"). Takes the
  // lock and reads the file: no text when it does not exist (a first start).
  // Throws std::runtime_error, naming the file and what to do, when the
  // lock is held, the file is not as above, or it is longer than max_bytes.
  StateFile(std::filesystem::path path, std::string label, std::size_t max_bytes);
  ~StateFile();
  StateFile(const StateFile&) = delete;
  StateFile& operator=(const StateFile&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  const std::string& label() const noexcept { return label_; }
  const std::optional<std::string>& text() const noexcept { return text_; }

  // Durably replaces the text. On failure returns false, sets *why, and the
  // file keeps its previous text (or, if only the directory sync failed,
  // the caller must not count on either).
  bool replace(const std::string& text, std::string* why);

  // An error about this file, for the caller's own checks of its text.
  std::runtime_error error(const std::string& what) const;

 private:
  std::filesystem::path path_;
  std::string label_;
  int lock_fd_ = -1;
  std::optional<std::string> text_;
};

}  // namespace gateway
