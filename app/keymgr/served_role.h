// The role a key manager serves its state directory in, checked against the
// role the store was last served in (store/key_store.h ServedAs) at start.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "config/keymgr_config.h"
#include "store/key_store.h"

namespace keymgr {

// Records `role` in the store. A replica's store served as a master is a
// promotion (said through `say`; the key service then skips the ids the old
// master may have made). A store a master served is refused to a replica: it
// may hold keys its new master never made, under the same ids. False (and
// said why) if refused or the store cannot be written.
bool take_role(store::KeyStore& store, ServerRole role, const std::string& state_dir, std::uint64_t now_ms,
               const std::function<void(const std::string&)>& say);

}  // namespace keymgr
