// Names of the store's error codes.
#include "store/result.h"

namespace keymgr::store {

const char* store_error_name(StoreError e) noexcept {
  switch (e) {
    case StoreError::ok: return "ok";
    case StoreError::not_found: return "not_found";
    case StoreError::conflict: return "conflict";
    case StoreError::invalid: return "invalid";
    case StoreError::unavailable: return "unavailable";
    case StoreError::corrupt: return "corrupt";
    case StoreError::refused: return "refused";
    case StoreError::internal: return "internal";
  }
  return "unknown";
}

}  // namespace keymgr::store
