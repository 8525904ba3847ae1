// UsageFile: the usage file's text, parsed and written.
#include "usage_file.h"

#include <charconv>
#include <cstdint>

namespace gateway {

namespace {

constexpr std::string_view kFirstLine = "keycast-gateway usage 1";
constexpr std::size_t kMaxLineBytes = 10 + 1 + 10 + 1 + 20 + 1 + 20;
constexpr std::size_t kMaxUsageFileBytes = kFirstLine.size() + 1 + kMaxUsageEntries * (kMaxLineBytes + 1);

// One decimal field up to the next space (or the end of the line).
template <class T>
bool take_field(std::string_view& line, T& v) {
  const std::size_t end = line.find(' ');
  const std::string_view digits = line.substr(0, end);
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) return false;
  const auto [stop, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || stop != digits.data() + digits.size()) return false;
  line.remove_prefix(end == std::string_view::npos ? line.size() : end + 1);
  return true;
}

bool parse_entry(std::string_view line, UsageReport& r) {
  if (line.empty() || line.back() == ' ') return false;
  return take_field(line, r.channel_id) && r.channel_id != 0 && take_field(line, r.key_id) && r.key_id != 0 &&
         take_field(line, r.packets) && take_field(line, r.bytes) && line.empty();
}

}  // namespace

std::optional<std::vector<UsageReport>> parse_usage(std::string_view text, std::string* why) {
  std::vector<UsageReport> entries;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      *why = "line " + std::to_string(line_no) + " does not end in a newline";
      return std::nullopt;
    }
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    if (line_no == 1) {
      if (line != kFirstLine) {
        *why = "line 1 is not \"" + std::string(kFirstLine) + "\"";
        return std::nullopt;
      }
      continue;
    }
    UsageReport r;
    if (!parse_entry(line, r)) {
      *why = "line " + std::to_string(line_no) +
             " is not \"<channel_id> <key_id> <packets> <bytes>\" (decimal, ids not 0, one space apart)";
      return std::nullopt;
    }
    if (entries.size() == kMaxUsageEntries) {
      *why = "more than " + std::to_string(kMaxUsageEntries) + " entries";
      return std::nullopt;
    }
    entries.push_back(r);
  }
  if (line_no == 0) {
    *why = "empty (a usage file starts with \"" + std::string(kFirstLine) + "\")";
    return std::nullopt;
  }
  return entries;
}

std::string usage_text(std::span<const UsageReport> entries) {
  std::string text(kFirstLine);
  text += '\n';
  for (const UsageReport& r : entries) {
    text += std::to_string(r.channel_id);
    text += ' ';
    text += std::to_string(r.key_id);
    text += ' ';
    text += std::to_string(r.packets);
    text += ' ';
    text += std::to_string(r.bytes);
    text += '\n';
  }
  return text;
}

UsageFile::UsageFile(std::filesystem::path path) : file_(std::move(path), "usage_file", kMaxUsageFileBytes) {
  if (!file_.text()) return;  // first start
  std::string why;
  auto entries = parse_usage(*file_.text(), &why);
  if (!entries)
    throw file_.error(why +
                      ": it holds usage not yet reported to the key manager, so the gateway does not start over it. "
                      "Repair it, or move it away (and bill what it holds by hand)");
  stored_ = std::move(*entries);
}

bool UsageFile::store(std::span<const UsageReport> entries, std::string* why) {
  if (entries.size() > kMaxUsageEntries) {
    *why = std::to_string(entries.size()) + " entries, more than " + std::to_string(kMaxUsageEntries);
    return false;
  }
  if (!file_.replace(usage_text(entries), why)) return false;
  stored_.assign(entries.begin(), entries.end());
  return true;
}

}  // namespace gateway
