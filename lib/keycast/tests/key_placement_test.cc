// place_key: where a receiver or a descrambling gateway puts a key fetched
// for a channel, and a lagging input catching up through keys its notices
// name ahead of it.
#include "keycast/key_placement.h"

#include <gtest/gtest.h>

#include <optional>

namespace keycast {
namespace {

constexpr std::optional<std::uint32_t> none;

TEST(KeyPlacement, EachPlace) {
  EXPECT_EQ(place_key(10, 10, 11, 9), KeyPlace::held);
  EXPECT_EQ(place_key(11, 10, 11, 9), KeyPlace::held);
  EXPECT_EQ(place_key(9, 10, 11, 9), KeyPlace::held);
  EXPECT_EQ(place_key(8, 10, 11, 9), KeyPlace::too_old);
  EXPECT_EQ(place_key(9, 10, none, none), KeyPlace::previous);
  EXPECT_EQ(place_key(11, 10, none, none), KeyPlace::next);
  EXPECT_EQ(place_key(11, 10, 13, none), KeyPlace::next) << "replaces a next further ahead";
  EXPECT_EQ(place_key(12, 10, 11, none), KeyPlace::step_forward);
  EXPECT_EQ(place_key(15, 10, 11, none), KeyPlace::step_forward);
  EXPECT_EQ(place_key(12, 10, none, none), KeyPlace::new_current);
  EXPECT_EQ(place_key(12, 10, 13, none), KeyPlace::new_current) << "below next";
}

// Ids only, placed as the gateway's KeyControl::install places its records.
struct Keys {
  std::optional<std::uint32_t> previous, next;
  std::uint32_t current = 0;
  void fetched(std::uint32_t id) {
    switch (place_key(id, current, next, previous)) {
      case KeyPlace::held:
      case KeyPlace::too_old: return;
      case KeyPlace::previous: previous = id; return;
      case KeyPlace::next: next = id; return;
      case KeyPlace::step_forward:
        previous = current;
        current = *next;
        next = id;
        return;
      case KeyPlace::new_current:
        previous = current;
        current = id;
        if (next != id + 1) next.reset();
        return;
    }
  }
  bool holds(std::uint32_t id) const { return id == current || id == next || id == previous; }
};

// A descrambler started with its input two keys behind the key manager (the
// af_packet ring kept datagrams from before its keys were loaded): it follows
// key 6 with the key manager's current, 9, as next. Datagrams and notices
// then name 7, 8, 9 and 10 in turn, each fetched by id before the worker's
// switch reaches the control thread: every key fetched stays until the one
// after the next is asked for, so none is fetched twice.
TEST(KeyPlacement, ALaggingInputCatchesUpWithoutLosingAKey) {
  Keys k;
  k.current = 6;
  k.next = 9;
  k.fetched(7);
  EXPECT_EQ(k.next, 7u);
  k.fetched(8);  // the notice of 8 before the input's switch to 7 was reported
  EXPECT_TRUE(k.holds(6) && k.holds(7) && k.holds(8));
  k.fetched(9);
  EXPECT_TRUE(k.holds(7) && k.holds(8) && k.holds(9));
  k.fetched(10);
  EXPECT_TRUE(k.holds(8) && k.holds(9) && k.holds(10));
}

}  // namespace
}  // namespace keycast
