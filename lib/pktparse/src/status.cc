// Names and texts of the Status values.
#include "pktparse/status.h"

namespace pktparse {

namespace {
constexpr const char* kNames[] = {
#define PKTPARSE_STATUS_NAME(name, text) #name,
    PKTPARSE_STATUS_LIST(PKTPARSE_STATUS_NAME)
#undef PKTPARSE_STATUS_NAME
};
constexpr const char* kTexts[] = {
#define PKTPARSE_STATUS_TEXT(name, text) text,
    PKTPARSE_STATUS_LIST(PKTPARSE_STATUS_TEXT)
#undef PKTPARSE_STATUS_TEXT
};
}  // namespace

const char* status_name(Status s) noexcept {
  const auto i = static_cast<std::uint8_t>(s);
  return i < kStatusCount ? kNames[i] : "unknown";
}

const char* status_text(Status s) noexcept {
  const auto i = static_cast<std::uint8_t>(s);
  return i < kStatusCount ? kTexts[i] : "unknown status";
}

}  // namespace pktparse
