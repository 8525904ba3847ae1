// The seqs a scrambling gateway may use. wire-format.md section 5: seq never
// repeats under one key, and a scrambler that restarts must prove where its
// counter stood. Every channel's seq starts at first() and counts up by one
// per DATA datagram; a worker uses a seq only below limit().
//
// With a seq_file (seq_file.h) the proof is on disk: at start
// first = max(the clock in Unix ns, the stored mark), and first + block is
// stored durably before any worker starts; the control thread moves the mark
// another block ahead (file write, fsync, rename) before the workers come
// within half a block of it, and only then raises limit. The mark on disk is
// always at or above every seq used, so the next start, after kill -9 or a
// power cut, and whatever the clock says then, begins above all of them.
// If the mark cannot be written in time, the workers reach limit and drop
// (`seq_not_reserved`) rather than reuse a seq: fail closed.
//
// Without a seq_file, first is the clock and there is no limit (the behaviour
// before seq_file): a restart is then safe only while the host's clock never
// goes back, since seq advances by one per datagram, far slower than the
// clock's nanoseconds.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "seq_file.h"

namespace gateway {

class SeqLease {
 public:
  // 2^32 datagrams: more than four minutes of 15 Mpps on one channel per
  // half block; each restart skips at most one block of the 2^64 seqs.
  static constexpr std::uint64_t kBlock = std::uint64_t{1} << 32;

  // clock_ns: the wall clock at start (TscClock::start_unix_ns). Throws
  // std::runtime_error naming the file when it cannot be locked, read or
  // written: the gateway must not start.
  SeqLease(const std::optional<std::filesystem::path>& file, std::uint64_t clock_ns, std::uint64_t block = kBlock);

  std::uint64_t first() const noexcept { return first_; }
  // Workers: load (acquire) once per loop iteration; seqs below are reserved.
  const std::atomic<std::uint64_t>& limit() const noexcept { return limit_; }
  // How seq was chosen at start, for the log.
  const std::string& start_note() const noexcept { return start_note_; }

  // Control thread, every turn: next_seq is the highest next seq the workers
  // published. Once it is within half a block of limit, moves the mark a
  // block further; a failed write is logged (once per reason) and retried
  // every 100 ms.
  void keep_ahead(std::uint64_t next_seq, std::uint64_t now_ms);

 private:
  static constexpr std::uint64_t kRetryMs = 100;

  std::unique_ptr<SeqFile> file_;
  std::uint64_t block_;
  std::uint64_t first_ = 0;
  std::atomic<std::uint64_t> limit_{UINT64_MAX};
  std::uint64_t retry_at_ms_ = 0;
  std::string last_error_;
  std::string start_note_;
};

}  // namespace gateway
