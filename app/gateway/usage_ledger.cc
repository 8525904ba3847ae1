// UsageLedger: finished and in-use usage, and the usage file that keeps both.
#include "usage_ledger.h"

#include <algorithm>
#include <utility>

namespace gateway {

UsageLedger::UsageLedger(UsageReports::Send send, UsageReports::Log log, std::unique_ptr<UsageFile> file)
    : reports_(std::move(send), log), log_(std::move(log)), file_(std::move(file)) {
  if (!file_ || file_->stored().empty()) return;
  for (const UsageReport& r : file_->stored()) reports_.add(r, 0);
  log_("usage_file " + file_->path().string() + ": " + std::to_string(file_->stored().size()) +
       " usage report(s) of an earlier run to send");
}

void UsageLedger::finished(const UsageReport& r, std::uint64_t now_ms) {
  in_use_.erase({r.channel_id, r.key_id});
  std::uint32_t& newest = finished_[r.channel_id];
  newest = std::max(newest, r.key_id);
  if (!r.packets) return;
  reports_.add(r, now_ms);
  report_added_ = true;
}

void UsageLedger::in_use(const UsageReport& r) {
  if (!file_ || !r.key_id || !r.packets) return;
  if (auto f = finished_.find(r.channel_id); f != finished_.end() && r.key_id <= f->second) return;
  UsageReport& held = in_use_[{r.channel_id, r.key_id}];
  if (held == r) return;
  held = r;
  counts_grew_ = true;
}

void UsageLedger::tick(std::uint64_t now_ms) {
  if (file_ && (report_added_ || (counts_grew_ && now_ms >= next_save_ms_))) save(now_ms);
  else if (counts_due(now_ms)) next_save_ms_ = now_ms + kSaveMs;  // nothing new: look again in a second
  report_added_ = false;
  const UsageStats before = reports_.stats();
  reports_.send_due(now_ms);
  const UsageStats after = reports_.stats();
  if (file_ && (after.sent != before.sent || after.lost != before.lost)) save(now_ms);
}

void UsageLedger::stop(std::uint64_t now_ms) {
  if (!file_) return reports_.flush();
  save(now_ms);
  std::string why;
  if (!reports_.try_all(&why))
    log_(std::to_string(reports_.waiting().size()) + " usage report(s) not taken at stop (" + why +
         "): kept in usage_file " + file_->path().string() + " for the next start");
  save(now_ms);
}

void UsageLedger::save(std::uint64_t now_ms) {
  std::vector<UsageReport> entries(reports_.waiting().begin(), reports_.waiting().end());
  for (const auto& [channel_key, r] : in_use_) entries.push_back(r);
  counts_grew_ = false;
  next_save_ms_ = now_ms + kSaveMs;
  if (entries == file_->stored()) return;
  std::string why;
  if (file_->store(entries, &why)) {
    if (!save_problem_.empty()) log_("usage_file " + file_->path().string() + ": saved again");
    save_problem_.clear();
    return;
  }
  if (why != save_problem_)
    log_("usage_file " + file_->path().string() + ": cannot save (" + why +
         "): the usage it should hold is kept in memory only until a save succeeds");
  save_problem_ = why;
}

}  // namespace gateway
