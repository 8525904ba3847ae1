// Names of error kinds.
#include "kmclient/result.h"

namespace kmclient {

const char* error_kind_name(ErrorKind k) noexcept {
  switch (k) {
    case ErrorKind::transport: return "transport";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::bad_frame: return "bad_frame";
    case ErrorKind::answer: return "answer";
    case ErrorKind::unauthenticated: return "unauthenticated";
    case ErrorKind::config: return "config";
  }
  return "unknown";
}

}  // namespace kmclient
