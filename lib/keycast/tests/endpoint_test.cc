// parse_endpoint: host:port, [v6]:port, and what it refuses.
#include <gtest/gtest.h>

#include "keycast/endpoint.h"

namespace keycast {
namespace {

TEST(Endpoint, Parses) {
  auto e = parse_endpoint("127.0.0.1:7000");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 7000);
  e = parse_endpoint("[::1]:7001");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->port, 7001);
  e = parse_endpoint("keymgr.example:7002");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "keymgr.example");
}

TEST(Endpoint, Refuses) {
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", ":7000", "127.0.0.1:0", "127.0.0.1:65536", "::1:7000",
                          "[::1]7000", "[::1]:x", "host:70a"}) {
    EXPECT_FALSE(parse_endpoint(bad)) << bad;
  }
}

}  // namespace
}  // namespace keycast
