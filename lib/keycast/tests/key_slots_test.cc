// KeySlots: selection among previous/current/next, the switch, grace expiry,
// placement of fetched keys by label and by id, ids too old or too far ahead
// to fetch.
#include <gtest/gtest.h>

#include "fake_key_source.h"
#include "key_slots.h"

namespace keycast::detail {
namespace {

using namespace std::chrono_literals;
using Select = KeySlots::Select;

SlotKey slot(std::uint32_t id, Clock::time_point t, std::uint32_t remaining_ms = 10000) {
  SlotKey k;
  k.key = std::make_unique<pktparse::PreparedKey>();
  const auto m = test::material_for(id);
  EXPECT_EQ(k.key->prepare(pktparse::Suite::aes128_ctr, id, m), pktparse::Status::ok);
  k.lifetime_ms = 10000;
  k.remaining_ms = remaining_ms;
  k.received = t;
  return k;
}

class Slots : public ::testing::Test {
 protected:
  // Selects as the receiver does for a datagram that descrambles: under the
  // next key, switches to it.
  Select sel(std::uint32_t id) {
    SlotKey* k = nullptr;
    switched = false;
    const auto s = slots.select(id, t, k);
    if (s == Select::found || s == Select::found_next) {
      EXPECT_EQ(k->id(), id);
    }
    if (s == Select::found_next) {
      slots.switch_to_next(t);
      switched = true;
      return Select::found;
    }
    return s;
  }
  KeySlots slots;
  Clock::time_point t = Clock::time_point{} + 1000s;
  bool switched = false;
};

TEST_F(Slots, CurrentNextPrevious) {
  slots.install(slot(10, t, 4000), KeyRole::current, t, 2s);
  slots.install(slot(11, t), KeyRole::next, t, 2s);
  EXPECT_EQ(slots.current_end(), t + 4000ms);
  EXPECT_EQ(sel(10), Select::found);
  EXPECT_FALSE(switched);
  EXPECT_EQ(sel(12), Select::unknown);
  EXPECT_EQ(sel(11), Select::found);
  EXPECT_TRUE(switched);
  EXPECT_EQ(slots.current()->id(), 11u);
  EXPECT_EQ(slots.previous()->id(), 10u);
  EXPECT_EQ(slots.next(), nullptr);
  EXPECT_EQ(slots.current_end(), t + 10000ms);
  t += 1999ms;
  EXPECT_EQ(sel(10), Select::found);  // late datagram within grace
  t += 1ms;
  EXPECT_EQ(sel(10), Select::expired);
  EXPECT_EQ(slots.previous(), nullptr);
  EXPECT_EQ(sel(10), Select::expired);
  EXPECT_EQ(sel(9), Select::too_old);
}

// Just joined, the key manager already a key ahead of the sender: the key
// before current is asked for (unknown), not dropped; behind a previous key,
// older ones are too old.
TEST_F(Slots, KeyBeforeCurrentIsUnknownUntilThereIsAPrevious) {
  slots.install(slot(10, t), KeyRole::current, t, 2s);
  EXPECT_EQ(sel(9), Select::unknown);
  slots.install(slot(9, t), KeyRole::previous, t, 2s);
  EXPECT_EQ(sel(9), Select::found);
  EXPECT_EQ(sel(8), Select::too_old);
}

// Without a previous key, only the key just before current may be in use:
// anything older is never fetched.
TEST_F(Slots, KeysFarInThePastAreTooOldEvenWithoutAPrevious) {
  slots.install(slot(10, t), KeyRole::current, t, 2s);
  EXPECT_EQ(sel(9), Select::unknown);
  EXPECT_EQ(sel(8), Select::too_old);
  EXPECT_EQ(sel(1), Select::too_old);
}

// A sender moves +1 per crypto-period: ids beyond the window past the newest
// key held are not fetched. With no key at all (joining), any id may be.
TEST_F(Slots, IdsBeyondTheWindowAreTooFarAhead) {
  KeySlots narrow(4);
  SlotKey* k = nullptr;
  EXPECT_EQ(narrow.select(1000, t, k), Select::unknown);
  narrow.install(slot(10, t), KeyRole::current, t, 2s);
  EXPECT_EQ(narrow.select(14, t, k), Select::unknown);
  EXPECT_EQ(narrow.select(15, t, k), Select::too_far_ahead);
  narrow.install(slot(11, t), KeyRole::next, t, 2s);
  EXPECT_EQ(narrow.select(15, t, k), Select::unknown);
  EXPECT_EQ(narrow.select(16, t, k), Select::too_far_ahead);
  EXPECT_EQ(narrow.select(0xFFFFFFFFu, t, k), Select::too_far_ahead);
  slots.install(slot(10, t), KeyRole::current, t, 2s);
  EXPECT_EQ(sel(26), Select::unknown);  // the default window: 16
  EXPECT_EQ(sel(27), Select::too_far_ahead);
}

// The next key is found but stays next until the caller switches (after the
// datagram descrambled).
TEST_F(Slots, NextIsOnlyFoundUntilTheCallerSwitches) {
  slots.install(slot(10, t), KeyRole::current, t, 2s);
  slots.install(slot(11, t), KeyRole::next, t, 2s);
  SlotKey* k = nullptr;
  EXPECT_EQ(slots.select(11, t, k), Select::found_next);
  EXPECT_EQ(slots.current()->id(), 10u);
  EXPECT_EQ(slots.next()->id(), 11u);
  slots.switch_to_next(t);
  EXPECT_EQ(slots.current()->id(), 11u);
  EXPECT_EQ(slots.previous()->id(), 10u);
}

TEST_F(Slots, PlacesByIdOnceCurrentExists) {
  slots.install(slot(10, t), KeyRole::current, t, 2s);
  slots.install(slot(10, t), KeyRole::current, t, 2s);  // duplicate
  slots.install(slot(9, t), KeyRole::current, t, 2s);   // older: previous
  slots.install(slot(11, t), KeyRole::current, t, 2s);  // newer: next
  EXPECT_EQ(slots.previous()->id(), 9u);
  EXPECT_EQ(slots.current()->id(), 10u);
  EXPECT_EQ(slots.next()->id(), 11u);
  slots.install(slot(12, t), KeyRole::next, t, 2s);  // beyond next: step forward
  EXPECT_EQ(slots.previous()->id(), 10u);
  EXPECT_EQ(slots.current()->id(), 11u);
  EXPECT_EQ(slots.next()->id(), 12u);
}

// The key manager's current key, fetched by the receiver itself while its
// own current key has ended (the key manager away, then back with ids
// skipped), is not yet the sender's: it waits as next, and the current key
// stays current until a datagram under the new one comes. (Made current at
// once, it retired the sender's key, which the sender may use for longer than
// the grace: continuity's rxjoin8 lost datagrams that way. The descrambling
// gateway places keys it fetched by id, for a datagram or notice of the
// input, as app/gateway/key_by_id.h says.)
TEST_F(Slots, AKeyBeyondCurrentPlusOneWaitsAsNextUntilADatagramUsesIt) {
  slots.install(slot(83, t, 0), KeyRole::current, t, 2s);
  slots.install(slot(110, t), KeyRole::current, t + 1s, 2s);
  EXPECT_EQ(slots.current()->id(), 83u);
  EXPECT_EQ(slots.next()->id(), 110u);
  t += 5s;  // longer than the grace: the sender is still on 83
  EXPECT_EQ(sel(83), Select::found);
  EXPECT_FALSE(switched);
  EXPECT_EQ(sel(110), Select::found);
  EXPECT_TRUE(switched);
  EXPECT_EQ(slots.previous()->id(), 83u);
}

TEST_F(Slots, NextBeforeAnyCurrent) {
  slots.install(slot(11, t), KeyRole::next, t, 2s);
  EXPECT_EQ(slots.current(), nullptr);
  EXPECT_EQ(sel(11), Select::found);
  EXPECT_TRUE(switched);
  EXPECT_EQ(slots.previous(), nullptr);
}

}  // namespace
}  // namespace keycast::detail
