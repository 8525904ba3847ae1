// [[peer]]: identity, role, token, entitlements, shared-memory name.
#include <cstdint>
#include <limits>
#include <set>
#include <string>

#include "keyshm/keyshm.h"
#include "sections.h"

namespace keymgr::detail {

namespace {

std::vector<std::uint32_t> channel_list(const tomlcheck::Table& t, std::string_view key,
                                        const std::vector<std::int64_t>& ids) {
  std::vector<std::uint32_t> out;
  std::set<std::int64_t> seen;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!seen.insert(ids[i]).second) t.fail(key, i, "channel " + std::to_string(ids[i]) + " is listed twice");
    out.push_back(static_cast<std::uint32_t>(ids[i]));
  }
  return out;
}

void check_shm_name(const tomlcheck::Table& t, const std::string& name) {
  if (!keyshm::valid_name(name))
    t.fail("shm", "must be \"keycast-\" followed by [A-Za-z0-9._-], at most 255 bytes in all, got \"" + name +
                      '"');
}

}  // namespace

PeerConfig read_peer(tomlcheck::Table& t, bool lab) {
  PeerConfig p;
  const auto id = t.optional_string("id");
  const auto role = t.optional_string("role");
  const auto token = t.optional_string("token");
  const auto channels = t.optional_int_array("channels", 1, kU32Max);
  const auto feeds = t.optional_int_array("feeds", 1, kU32Max);
  const auto shm = t.optional_string("shm");
  t.check_unknown_keys();

  if (!id) t.fail_missing("id");
  p.id = *id;
  check_length(t, "id", p.id, 1, 64);

  if (!role) t.fail_missing("role");
  if (*role == "gateway") {
    p.role = PeerRole::gateway;
  } else if (*role == "receiver") {
    p.role = PeerRole::receiver;
  } else if (*role == "replica") {
    p.role = PeerRole::replica;
  } else if (*role == "admin") {
    p.role = PeerRole::admin;
  } else {
    t.fail("role", "must be one of gateway, receiver, replica, admin, got \"" + *role + '"');
  }

  if (token) {
    p.token = *token;
    check_length(t, "token", p.token, 1, 256);
  } else if (lab) {
    t.fail_missing("token", "required for every peer when server.lab = true");
  }

  if (channels) p.channels = channel_list(t, "channels", *channels);
  const std::string not_gateway = "peer '" + p.id + "' is a " + std::string(to_string(p.role));
  if (feeds) {
    if (p.role != PeerRole::gateway) t.fail("feeds", "only a gateway may feed channels; " + not_gateway);
    p.feeds = channel_list(t, "feeds", *feeds);
  }
  if (shm) {
    if (p.role != PeerRole::gateway) t.fail("shm", "only a gateway has a shared-memory object; " + not_gateway);
    check_shm_name(t, *shm);
    p.shm = *shm;
  }
  return p;
}

}  // namespace keymgr::detail
