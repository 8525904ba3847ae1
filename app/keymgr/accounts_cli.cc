// The accounts listing: time parsing and CSV/JSON output.
#include "accounts_cli.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <iostream>

#include "store/accounts_reader.h"

namespace keymgr {

std::optional<std::uint64_t> parse_time_ms(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) return std::stoull(text);
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M", &tm);
  if (!end) return std::nullopt;
  if (*end == ':') {
    end = strptime(end, ":%S", &tm);
    if (!end) return std::nullopt;
  }
  if (std::string(end) != "Z") return std::nullopt;
  const std::time_t t = timegm(&tm);
  return static_cast<std::uint64_t>(t) * 1000;
}

namespace {
std::string iso_hour(std::int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%MZ", &tm);
  return buf;
}
}  // namespace

int list_accounts(const AccountsQuery& q) {
  store::AccountFilter filter;
  filter.peer_id = q.peer;
  filter.channel_id = q.channel;
  for (const auto& [text, slot] : {std::pair{&q.from, &filter.from_ms}, std::pair{&q.to, &filter.to_ms}}) {
    if (text->empty()) continue;
    const auto t = parse_time_ms(*text);
    if (!t) {
      std::cerr << "keycast-keymgr accounts: bad time '" << *text
                << "': give Unix ms or YYYY-MM-DDTHH:MM[:SS]Z\n";
      return 2;
    }
    *slot = *t;
  }
  auto reader = store::AccountsReader::open(q.state_dirs);
  if (!reader) {
    std::cerr << "keycast-keymgr accounts: " << reader.message() << "\n";
    return 1;
  }
  const auto rows = reader->accounts(filter);
  if (!rows) {
    std::cerr << "keycast-keymgr accounts: " << rows.message() << "\n";
    return 1;
  }
  if (q.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : *rows)
      out.push_back({{"hour", iso_hour(r.hour_ms)}, {"hour_ms", r.hour_ms}, {"peer", r.peer_id},
                     {"channel", r.channel_id}, {"requests", r.requests}, {"packets", r.packets}, {"bytes", r.bytes}});
    std::cout << out.dump(1) << "\n";
  } else {
    std::cout << "hour,peer,channel,requests,packets,bytes\n";
    for (const auto& r : *rows)
      std::cout << iso_hour(r.hour_ms) << ',' << r.peer_id << ',' << r.channel_id << ',' << r.requests << ','
                << r.packets << ',' << r.bytes << '\n';
  }
  return 0;
}

}  // namespace keymgr
