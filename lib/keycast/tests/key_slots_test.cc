// KeySlots: selection among previous/current/next, the switch, grace expiry,
// placement of fetched keys by label and by id.
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
  Select sel(std::uint32_t id) {
    pktparse::PreparedKey* k = nullptr;
    const auto s = slots.select(id, t, k, switched);
    if (s == Select::found) {
      EXPECT_EQ(k->key_id(), id);
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

TEST_F(Slots, NextBeforeAnyCurrent) {
  slots.install(slot(11, t), KeyRole::next, t, 2s);
  EXPECT_EQ(slots.current(), nullptr);
  EXPECT_EQ(sel(11), Select::found);
  EXPECT_TRUE(switched);
  EXPECT_EQ(slots.previous(), nullptr);
}

}  // namespace
}  // namespace keycast::detail
