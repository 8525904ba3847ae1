// place_by_id: where a descrambling channel puts a key fetched by id, and a
// lagging input catching up through keys its notices name ahead of it.
#include "key_by_id.h"

#include <gtest/gtest.h>

#include <optional>

namespace gateway {
namespace {

constexpr std::optional<std::uint32_t> none;

TEST(KeyById, EachPlace) {
  EXPECT_EQ(place_by_id(10, 10, 11, 9), ByIdPlace::held);
  EXPECT_EQ(place_by_id(11, 10, 11, 9), ByIdPlace::held);
  EXPECT_EQ(place_by_id(9, 10, 11, 9), ByIdPlace::held);
  EXPECT_EQ(place_by_id(8, 10, 11, 9), ByIdPlace::too_old);
  EXPECT_EQ(place_by_id(9, 10, none, none), ByIdPlace::previous);
  EXPECT_EQ(place_by_id(11, 10, none, none), ByIdPlace::next);
  EXPECT_EQ(place_by_id(11, 10, 13, none), ByIdPlace::next) << "replaces a next further ahead";
  EXPECT_EQ(place_by_id(12, 10, 11, none), ByIdPlace::step_forward);
  EXPECT_EQ(place_by_id(15, 10, 11, none), ByIdPlace::step_forward);
  EXPECT_EQ(place_by_id(12, 10, none, none), ByIdPlace::new_current);
  EXPECT_EQ(place_by_id(12, 10, 13, none), ByIdPlace::new_current) << "below next";
}

// Ids only, placed as KeyControl::install places the records.
struct Keys {
  std::optional<std::uint32_t> previous, next;
  std::uint32_t current = 0;
  void fetched(std::uint32_t id) {
    switch (place_by_id(id, current, next, previous)) {
      case ByIdPlace::held:
      case ByIdPlace::too_old: return;
      case ByIdPlace::previous: previous = id; return;
      case ByIdPlace::next: next = id; return;
      case ByIdPlace::step_forward:
        previous = current;
        current = *next;
        next = id;
        return;
      case ByIdPlace::new_current:
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
TEST(KeyById, ALaggingInputCatchesUpWithoutLosingAKey) {
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
}  // namespace gateway
