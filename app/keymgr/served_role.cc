// take_role (see served_role.h).
#include "served_role.h"

namespace keymgr {

bool take_role(store::KeyStore& store, ServerRole role, const std::string& state_dir, std::uint64_t now_ms,
               const std::function<void(const std::string&)>& say) {
  const auto last = store.served_as();
  if (!last) {
    say(last.message());
    return false;
  }
  const auto now = role == ServerRole::master ? store::ServedAs::master : store::ServedAs::replica;
  if (*last == store::ServedAs::master && now == store::ServedAs::replica) {
    say(state_dir + " was served by a master: a replica needs a state directory of its own, made by "
        "`keycast-keymgr init` and filled from its new master (this one may hold keys that master never made, "
        "under the same ids); keep " + state_dir + " for its accounts");
    return false;
  }
  if (const auto r = store.record_served_as(now, now_ms); !r) {
    say(r.message());
    return false;
  }
  if (!*last && now == store::ServedAs::master) {
    const auto version = store.current_version();
    if (version && *version > 0)
      say(state_dir + " has no record of the role it was served in (a store of a key manager from before that "
          "was recorded): taken as a master's, and recorded so. Had a replica served it, the keys made here do not "
          "skip the ids its old master may have made (a replica's store is promoted safely once it has been served "
          "as that replica by this version)");
  }
  if (*last == store::ServedAs::replica && now == store::ServedAs::master) {
    const auto version = store.current_version();
    say("promoted: " + state_dir + " was a replica's, at version " + (version ? std::to_string(*version) : "?") +
        "; from now on this key manager makes keys, each channel's first past any the old master may have made");
  }
  return true;
}

}  // namespace keymgr
