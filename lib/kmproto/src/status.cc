// Names and texts of the Status values.
#include "kmproto/status.h"

namespace kmproto {

namespace {
constexpr const char* kNames[] = {
#define KMPROTO_STATUS_NAME(name, text) #name,
    KMPROTO_STATUS_LIST(KMPROTO_STATUS_NAME)
#undef KMPROTO_STATUS_NAME
};
constexpr const char* kTexts[] = {
#define KMPROTO_STATUS_TEXT(name, text) text,
    KMPROTO_STATUS_LIST(KMPROTO_STATUS_TEXT)
#undef KMPROTO_STATUS_TEXT
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

}  // namespace kmproto
