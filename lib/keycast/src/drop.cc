// Names of the drop reasons, from the one list in drop.h.
#include "keycast/drop.h"

namespace keycast {

namespace {
constexpr const char* kNames[] = {
#define KEYCAST_DROP_NAME(name, text) #name,
    KEYCAST_DROP_LIST(KEYCAST_DROP_NAME)
#undef KEYCAST_DROP_NAME
};
constexpr const char* kTexts[] = {
#define KEYCAST_DROP_TEXT(name, text) text,
    KEYCAST_DROP_LIST(KEYCAST_DROP_TEXT)
#undef KEYCAST_DROP_TEXT
};
static_assert(sizeof kNames / sizeof kNames[0] == kDropCount);
}  // namespace

const char* drop_name(Drop d) noexcept {
  const auto i = static_cast<std::size_t>(d);
  return i < kDropCount ? kNames[i] : "unknown";
}

const char* drop_text(Drop d) noexcept {
  const auto i = static_cast<std::size_t>(d);
  return i < kDropCount ? kTexts[i] : "unknown";
}

}  // namespace keycast
