// What a scrambling gateway owes the key manager in usage (control thread):
// the reports of finished keys, waiting until taken (UsageReports), and the
// counts so far under the keys in use, which the workers publish as they go
// but report only when a key is finished. With a usage file (usage_file.h)
// both are kept there, so that a stop while the key manager is away or a
// kill -9 loses none of it: the file is rewritten before a new report is
// sent, after a send changed what waits, and at most every kSaveMs while
// the counts of keys in use grow. The entries a previous run left in it are
// sent first. Without a file, what is still waiting at stop is given up.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "usage_file.h"
#include "usage_reports.h"

namespace gateway {

class UsageLedger {
 public:
  static constexpr std::uint64_t kSaveMs = 1000;

  // file may be null (no usage_file configured).
  UsageLedger(UsageReports::Send send, UsageReports::Log log, std::unique_ptr<UsageFile> file);

  // A finished key's usage: its worker switched away from it, or stopped.
  void finished(const UsageReport& r, std::uint64_t now_ms);
  // True when the counts of the keys in use are to be saved: a usage file,
  // and its periodic save due. Then in_use() for every channel, then tick().
  bool counts_due(std::uint64_t now_ms) const noexcept { return file_ && now_ms >= next_save_ms_; }
  // What went out so far under the key a channel's worker uses now (as it
  // last published it). Ignored for a key already finished on the channel.
  void in_use(const UsageReport& r);
  // Saves (when due) and sends the waiting reports (when due).
  void tick(std::uint64_t now_ms);
  // After the workers' last events: one last attempt for everything
  // waiting. What is not taken stays in the file for the next start, or
  // without a file is given up (logged with its figures).
  void stop(std::uint64_t now_ms);

  UsageStats stats() const { return reports_.stats(); }

 private:
  void save(std::uint64_t now_ms);

  UsageReports reports_;
  UsageReports::Log log_;
  std::unique_ptr<UsageFile> file_;
  std::map<std::pair<std::uint32_t, std::uint32_t>, UsageReport> in_use_;  // (channel, key) not finished
  std::unordered_map<std::uint32_t, std::uint32_t> finished_;  // channel -> newest finished key id
  bool report_added_ = false;                                // saved before it is sent
  bool counts_grew_ = false;
  std::uint64_t next_save_ms_ = 0;
  std::string save_problem_;  // the last save failure, logged once
};

}  // namespace gateway
