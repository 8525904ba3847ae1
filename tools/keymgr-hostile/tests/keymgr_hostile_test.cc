// keycast-keymgr-hostile against a keycast-keymgr on port 0, in lab mode and
// with TLS client certificates, at a scale that fits a test run: every
// scenario must find the documented answer and the RSS stay within its
// bounds (the tool's exit 0). The good peer's latency is reported, not
// asserted: tests assert behaviour, and a shared 2-CPU runner makes any
// latency ratio noise; the full-scale run by hand (README) asserts it.
#include <sys/resource.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <regex>
#include <set>

#include "keymgr_process.h"
#include "test_configs.h"
#include "test_pki.h"

namespace keymgr::test {
namespace {

constexpr int kConnections = 2000;  // lab: the cap is 2000, so the last ones are refused

struct ToolRun {
  int status = -1;
  std::string output;
};

ToolRun run_tool(const std::string& args) {
  ToolRun r;
  const std::string cmd = std::string(KEYCAST_KEYMGR_HOSTILE_BIN) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.output.append(buf, n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

// The scenario lines of the tool's output, by name, and the verdict of each.
std::map<std::string, std::string> verdicts(const std::string& output) {
  std::map<std::string, std::string> v;
  const std::regex line(R"(^(\S+)\s+(PASS|FAIL) \|)");
  std::istringstream in(output);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (std::regex_search(l, m, line)) v[m[1]] = m[2];
  }
  return v;
}

// Descriptors for the tool's connections and the key manager's (it inherits
// ours); the tool raises the key manager's itself where it may.
bool room_for(rlim_t want) {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return false;
  if (r.rlim_cur >= want) return true;
  if (r.rlim_max != RLIM_INFINITY && r.rlim_max < want) r.rlim_max = want;
  r.rlim_cur = want;
  return setrlimit(RLIMIT_NOFILE, &r) == 0;
}

std::string common_args(const KeymgrProcess& km) {
  return "--config " + km.config_file().string() + " --port " + std::to_string(km.port()) + " --pid " +
         std::to_string(km.pid()) +
         " --silent 50 --slowloris 100 --trickle-gap-ms 100 --half-frames 60 --samples 200 --probe-gap-ms 2"
         " --settle-ms 3000 --latency-advisory";
}

// Every scenario ran and passed; the tool's table is printed either way.
void expect_all_pass(const ToolRun& r, const std::set<std::string>& scenarios) {
  std::cout << r.output;
  const auto v = verdicts(r.output);
  for (const auto& s : scenarios) {
    EXPECT_TRUE(v.count(s)) << "no line for " << s;
    if (v.count(s)) {
      EXPECT_EQ(v.at(s), "PASS") << s;
    }
  }
  EXPECT_EQ(r.status, 0);
}

TEST(KeymgrHostile, LabPeers) {
  if (!room_for(2 * kConnections + 1024)) GTEST_SKIP() << "RLIMIT_NOFILE cannot be raised to " << 2 * kConnections + 1024;
  TempDir dir;
  ConfigOptions o;
  o.server_extra = "idle_timeout_ms = 1000\nmax_connections = " + std::to_string(kConnections) + "\n";
  auto km = KeymgrProcess::start(dir.path(), lab_config(o));
  ASSERT_TRUE(km);
  const ToolRun r = run_tool(common_args(*km) + " --connections " + std::to_string(kConnections + 10));
  expect_all_pass(r, {"no-hello", "wrong-token", "oversized", "truncated", "params-overrun", "slowloris", "conns",
                      "flood"});
}

TEST(KeymgrHostile, TlsPeers) {
  if (!room_for(2048)) GTEST_SKIP() << "RLIMIT_NOFILE cannot be raised to 2048";
  TempDir pki;
  const auto& d = pki.path();
  ASSERT_TRUE(make_ca(d, "ca") && make_ca(d, "other-ca") && make_cert(d, "server", "keycast-keymgr", "ca", kServerCertExt) &&
              make_cert(d, "gw1", "gw1", "ca", kClientCertExt) && make_cert(d, "rx1", "rx1", "ca", kClientCertExt) &&
              make_cert(d, "mallory", "mallory", "ca", kClientCertExt) &&
              make_cert(d, "gw1-other-ca", "gw1", "other-ca", kClientCertExt));
  auto f = [&](const std::string& name) { return (d / name).string(); };
  TempDir dir;
  ConfigOptions o;
  o.lab = false;
  o.server_extra = "idle_timeout_ms = 1000\n";
  o.tls_section = "\n[tls]\ncert = \"" + f("server.pem") + "\"\nkey = \"" + f("server.key") + "\"\nca = \"" +
                  f("ca.pem") + "\"\n";
  auto km = KeymgrProcess::start(dir.path(), lab_config(o));
  ASSERT_TRUE(km);
  const ToolRun r = run_tool(common_args(*km) + " --connections 300 --good gw1 --attacker rx1" +
                         " --good-cert " + f("gw1.pem") + " --good-key " + f("gw1.key") + " --attacker-cert " +
                         f("rx1.pem") + " --attacker-key " + f("rx1.key") + " --stranger-cert " + f("mallory.pem") +
                         " --stranger-key " + f("mallory.key") + " --foreign-cert " + f("gw1-other-ca.pem") +
                         " --foreign-key " + f("gw1-other-ca.key"));
  expect_all_pass(r, {"no-hello", "wrong-cn", "oversized", "truncated", "params-overrun", "slowloris", "conns",
                      "flood"});
}

}  // namespace
}  // namespace keymgr::test
