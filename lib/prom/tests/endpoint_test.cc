// prom::Endpoint: names with the prefix, labelled and plain series, the port
// it serves on (0 before serve), a port already taken as an error, and
// add_delta's rule that counters only move forward.
#include "prom/endpoint.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "prom_scrape.h"

namespace prom {
namespace {

TEST(PromEndpoint, ServesPrefixedSeriesOnAnyFreePort) {
  Endpoint e("keycast_test_");
  EXPECT_EQ(e.name("x_total"), "keycast_test_x_total");
  prometheus::Counter& plain = e.counter("plain_total", "A counter without labels");
  auto& by_reason = e.counters("drops_total", "By reason");
  prometheus::Counter& late = by_reason.Add({{"reason", "late"}});
  prometheus::Gauge& level = e.gauge("level", "A gauge");
  auto& by_which = e.gauges("key_id", "By which");
  by_which.Add({{"which", "next"}}).Set(7);
  EXPECT_EQ(e.port(), 0);

  e.serve("127.0.0.1:0", 1);
  ASSERT_NE(e.port(), 0);
  add_delta(&plain, 5, 0);
  add_delta(&late, 3, 1);
  level.Set(2.5);

  const std::string body = test::scrape(e.port());
  EXPECT_EQ(test::value(body, "keycast_test_plain_total"), 5.0) << body;
  EXPECT_EQ(test::value(body, "keycast_test_drops_total{reason=\"late\"}"), 2.0) << body;
  EXPECT_EQ(test::value(body, "keycast_test_level"), 2.5) << body;
  EXPECT_EQ(test::value(body, "keycast_test_key_id{which=\"next\"}"), 7.0) << body;
  EXPECT_NE(body.find("# HELP keycast_test_drops_total By reason"), std::string::npos) << body;
}

TEST(PromEndpoint, APortAlreadyServedIsAnError) {
  Endpoint first("keycast_test_");
  first.serve("127.0.0.1:0", 1);
  ASSERT_NE(first.port(), 0);
  Endpoint second("keycast_test_");
  EXPECT_THROW(second.serve("127.0.0.1:" + std::to_string(first.port()), 1), std::runtime_error);
  EXPECT_EQ(second.port(), 0);
}

TEST(PromEndpoint, AddDeltaOnlyMovesForward) {
  Endpoint e("keycast_test_");
  prometheus::Counter& c = e.counter("c_total", "c");
  add_delta(&c, 10, 4);
  EXPECT_EQ(c.Value(), 6.0);
  add_delta(&c, 4, 10);  // a counter that went back (a restart's zero) adds nothing
  add_delta(&c, 10, 10);
  EXPECT_EQ(c.Value(), 6.0);
  add_delta(nullptr, 10, 0);  // a series not registered
}

}  // namespace
}  // namespace prom
