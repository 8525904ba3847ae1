// Names of the protocol's error codes.
#include "kmproto/protocol.h"

namespace kmproto {

const char* error_code_name(ErrorCode c) noexcept {
  switch (c) {
#define KMPROTO_ERROR_CODE_CASE(name, code) \
  case ErrorCode::name:                     \
    return #name;
    KMPROTO_ERROR_CODE_LIST(KMPROTO_ERROR_CODE_CASE)
#undef KMPROTO_ERROR_CODE_CASE
  }
  return "unknown";
}

}  // namespace kmproto
