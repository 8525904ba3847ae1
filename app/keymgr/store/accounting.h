// Accounting value types: the updates the server records (one request served,
// a key fetched, a gateway's usage report) and the rows listed per hour.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace keymgr::store {

inline constexpr std::int64_t kHourMs = 3'600'000;

// A KEY_REQUEST returned key_id of channel_id to peer_id (a receiver).
struct FetchOp {
  std::string peer_id;
  std::uint32_t channel_id = 0;
  std::uint32_t key_id = 0;
  std::uint64_t now_ms = 0;
};

// n KEY_REQUESTs that returned key material.
struct RequestsOp {
  std::string peer_id;
  std::uint32_t channel_id = 0;
  std::uint64_t n = 1;
  std::uint64_t now_ms = 0;
};

// A USAGE_REPORT: a gateway sent packets/bytes under a key.
struct UsageOp {
  std::string gateway_id;
  std::uint32_t channel_id = 0;
  std::uint32_t key_id = 0;
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::uint64_t now_ms = 0;
};

using AccountingOp = std::variant<FetchOp, RequestsOp, UsageOp>;

// Every field optional. Time range: hours that overlap [from_ms, to_ms).
struct AccountFilter {
  std::optional<std::string> peer_id{};
  std::optional<std::uint32_t> channel_id{};
  std::optional<std::uint64_t> from_ms{};
  std::optional<std::uint64_t> to_ms{};
};

// One (hour, peer, channel). For a gateway, packets/bytes are what it
// reported; for a receiver, the usage under the keys it fetched, in the hour
// the usage was reported.
struct AccountRow {
  std::int64_t hour_ms = 0;
  std::string peer_id;
  std::uint32_t channel_id = 0;
  std::uint64_t requests = 0;
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
};

}  // namespace keymgr::store
