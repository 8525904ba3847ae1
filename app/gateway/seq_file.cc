// SeqFile: the seq mark's text.
#include "seq_file.h"

#include <charconv>
#include <string_view>

namespace gateway {

namespace {
constexpr std::size_t kMaxSeqFileBytes = 32;  // 20 digits and a newline, with room to see "too long"
}  // namespace

std::optional<std::uint64_t> parse_seq_mark(std::string_view digits) {
  if (!digits.empty() && digits.back() == '\n') digits.remove_suffix(1);
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return v;
}

std::string seq_mark_text(std::uint64_t mark) { return std::to_string(mark) + "\n"; }

SeqFile::SeqFile(std::filesystem::path path) : file_(std::move(path), "seq_file", kMaxSeqFileBytes) {
  if (!file_.text()) return;  // first start
  stored_ = parse_seq_mark(*file_.text());
  if (!stored_)
    throw file_.error(
        "does not hold a seq mark (one decimal number): the seq this gateway used last cannot be proven, so it "
        "does not start. Restore the file, or remove it once every channel has moved to a key this gateway never "
        "used (seq then starts at the clock)");
}

bool SeqFile::store(std::uint64_t mark, std::string* why) {
  if (!file_.replace(seq_mark_text(mark), why)) return false;
  stored_ = mark;
  return true;
}

}  // namespace gateway
