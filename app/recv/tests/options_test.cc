// keycast-recv's value parsers and cross-option checks.
#include <gtest/gtest.h>

// GCC 12 warns about short literal assignments to strings at -O3 (GCC bug 105329).
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif

#include "../options.h"

namespace keycast_recv {
namespace {

TEST(RecvOptions, Joins) {
  auto j = parse_join("239.255.1.1:5000");
  ASSERT_TRUE(j);
  EXPECT_TRUE(j->group.is_multicast());
  EXPECT_FALSE(j->source);
  EXPECT_EQ(j->group.to_string(), "239.255.1.1:5000");
  j = parse_join("232.1.1.1:5000@10.0.0.1");
  ASSERT_TRUE(j && j->source);
  j = parse_join("[ff3e::1234]:6000@[2001:db8::1]");
  ASSERT_TRUE(j && j->source);
  EXPECT_EQ(j->group.family(), AF_INET6);
  j = parse_join("127.0.0.1:5000");
  ASSERT_TRUE(j);
  EXPECT_FALSE(j->group.is_multicast());
  for (const char* bad : {"239.255.1.1", "239.255.1.1:0", "host:5000", "239.255.1.1:5000@::1", "127.0.0.1:5000@127.0.0.1",
                          "ff3e::1:5000", ":5000"}) {
    EXPECT_FALSE(parse_join(bad)) << bad;
  }
}

TEST(RecvOptions, Outs) {
  EXPECT_EQ(parse_out("stdout")->kind, OutSpec::Kind::stdout_);
  EXPECT_EQ(parse_out("/tmp/x.ts")->kind, OutSpec::Kind::file);
  EXPECT_EQ(parse_out("udp://239.255.9.9:7000")->kind, OutSpec::Kind::udp);
  EXPECT_FALSE(parse_out("udp://239.255.9.9"));
  EXPECT_FALSE(parse_out("http://x"));
}

TEST(RecvOptions, Plan) {
  Options o;
  o.keymgr = {"127.0.0.1:7000"};
  o.peer = "rx1";
  o.token.assign("t");
  o.joins = {"239.255.1.1:5000", "239.255.1.2:5000"};
  EXPECT_TRUE(make_plan(o).error.empty());
  o.channels = {1};
  EXPECT_NE(make_plan(o).error, "");
  o.channels = {1, 2};
  o.outs = {"a", "b", "c"};
  EXPECT_NE(make_plan(o).error, "");
  o.outs = {"a"};
  const auto p = make_plan(o);
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.out_of_join, (std::vector<std::size_t>{0, 0}));
  o.token.clear();
  EXPECT_NE(make_plan(o).error, "");
  o.token.assign("t");
  o.cert = "c";
  EXPECT_NE(make_plan(o).error, "");
}

}  // namespace
}  // namespace keycast_recv
