// SeqLease: where seq starts, and the durable reservation ahead of it.
#include "seq_lease.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace gateway {

namespace {

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

std::string seconds(std::uint64_t ns) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(ns) / 1e9);
  return text;
}

}  // namespace

SeqLease::SeqLease(const std::optional<std::filesystem::path>& file, std::uint64_t clock_ns, std::uint64_t block)
    : block_(std::max<std::uint64_t>(block, 2)) {
  if (!file) {
    first_ = clock_ns;
    start_note_ = "seq starts at the clock (" + std::to_string(first_) +
                  "); no seq_file: a restart never reuses a seq only if this host's clock never goes back";
    return;
  }
  file_ = std::make_unique<SeqFile>(*file);
  const std::string name = "seq_file " + file->string();
  const std::optional<std::uint64_t> mark = file_->stored();
  first_ = std::max(clock_ns, mark.value_or(0));
  if (!mark)
    start_note_ = name + ": no mark yet (first start): seq starts at the clock (" + std::to_string(first_) + ")";
  else if (clock_ns >= *mark)
    start_note_ = name + ": seq starts at the clock (" + std::to_string(first_) + "), above the stored mark";
  else
    start_note_ = name + ": the clock is " + seconds(*mark - clock_ns) + " behind the stored mark (" +
                  (*mark - clock_ns <= block_ ? "a restart within one reserved block"
                                              : "the clock was set back, or an earlier run's clock was ahead") +
                  "): seq starts at the stored mark (" + std::to_string(first_) + "), not the clock";
  const std::uint64_t reserve = saturating_add(first_, block_);
  std::string why;
  if (!file_->store(reserve, &why)) throw std::runtime_error(name + ": " + why + ": not starting");
  limit_.store(reserve, std::memory_order_release);
  start_note_ += "; reserved below " + std::to_string(reserve);
  if (reserve - first_ < block_) start_note_ += " (the end of the seq space: every channel needs a new key soon)";
}

void SeqLease::keep_ahead(std::uint64_t next_seq, std::uint64_t now_ms) {
  if (!file_) return;
  const std::uint64_t limit = limit_.load(std::memory_order_relaxed);
  if (limit == UINT64_MAX || saturating_add(next_seq, block_ / 2) < limit || now_ms < retry_at_ms_) return;
  const std::uint64_t reserve = saturating_add(limit, block_);  // workers never pass limit
  std::string why;
  if (file_->store(reserve, &why)) {
    limit_.store(reserve, std::memory_order_release);
    if (!last_error_.empty())
      std::fprintf(stderr, "keycast-gateway: seq_file %s: written again (reserved below %llu)\n",
                   file_->path().c_str(), static_cast<unsigned long long>(reserve));
    last_error_.clear();
    return;
  }
  retry_at_ms_ = now_ms + kRetryMs;
  if (why == last_error_) return;
  last_error_ = why;
  std::fprintf(stderr,
               "keycast-gateway: seq_file %s: %s; datagrams from seq %llu on are dropped (seq_not_reserved) until "
               "it can be written\n",
               file_->path().c_str(), why.c_str(), static_cast<unsigned long long>(limit));
}

}  // namespace gateway
