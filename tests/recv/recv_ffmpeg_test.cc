// A real MPEG-TS through keycast-recv: ffmpeg makes a few seconds of H.264 +
// AAC (MPEG-2 video + MP2 where libx264 is missing) in MPEG-TS, ChannelSender
// scrambles it as channel 2 (xor, TS rules) in datagrams of seven TS packets
// to loopback multicast, keycast-recv writes the clear stream to stdout, and
// ffprobe, reading that stream from a pipe, must find the original streams;
// the output must be byte-identical to ffmpeg's file. Skipped when ffmpeg or
// ffprobe is missing.
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

#include "channel_sender.h"
#include "keymgr_process.h"
#include "recv_process.h"
#include "test_configs.h"

namespace keycast::test {
namespace {

using keymgr::test::KeymgrProcess;
using keymgr::test::TempDir;
using keymgr::test::free_port;
using namespace std::chrono_literals;

// A shell command's exit status and stdout.
int run(const std::string& cmd, std::string* out) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  return ::pclose(p);
}

bool have(const std::string& tool) {
  std::string out;
  return run("command -v " + tool + " >/dev/null 2>&1", &out) == 0;
}

// "codec_type,codec_name" per stream, as ffprobe reads them from stdin.
std::string streams(const std::filesystem::path& ts) {
  std::string out;
  const int rc = run("cat '" + ts.string() +
                         "' | ffprobe -v error -show_entries stream=codec_type,codec_name -of csv=p=0 -",
                     &out);
  return rc == 0 ? out : "ffprobe failed: " + out;
}

TEST(RecvFfmpeg, RealTransportStreamSurvivesScrambling) {
  if (!have("ffmpeg") || !have("ffprobe")) GTEST_SKIP() << "ffmpeg or ffprobe not installed";
  TempDir dir;
  std::string encoders;
  run("ffmpeg -hide_banner -encoders 2>/dev/null", &encoders);
  const bool x264 = encoders.find("libx264") != std::string::npos;
  const std::string codecs = x264 ? "-c:v libx264 -preset ultrafast -c:a aac" : "-c:v mpeg2video -c:a mp2";
  const auto in = dir.path() / "in.ts";
  std::string log;
  ASSERT_EQ(run("ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc=size=320x240:rate=25:duration=4 "
                "-f lavfi -i sine=frequency=1000:duration=4 " + codecs + " -f mpegts '" + in.string() + "' 2>&1",
                &log),
            0)
      << log;
  const Bytes ts = read_file(in);
  ASSERT_FALSE(ts.empty());
  ASSERT_EQ(ts.size() % pktparse::kTsPacketLen, 0u);
  const std::string original = streams(in);
  ASSERT_NE(original.find("video"), std::string::npos) << original;
  ASSERT_NE(original.find("audio"), std::string::npos) << original;

  keymgr::test::ConfigOptions o;
  o.lifetime_ms = 1000;
  auto km = KeymgrProcess::start(dir.path(), keymgr::test::lab_config(o));
  ASSERT_TRUE(km);
  constexpr std::size_t kDatagram = 7 * pktparse::kTsPacketLen;
  const std::size_t datagrams = (ts.size() + kDatagram - 1) / kDatagram;
  const std::uint16_t port = free_port(SOCK_DGRAM);
  const std::string join = test_group(1) + ":" + std::to_string(port);
  RecvProcess rx({"--keymgr", "127.0.0.1:" + std::to_string(km->port()), "--peer", "rx1", "--token",
                  "rx1-lab-token", "--iface", "lo", "--join", join, "--channel", "2", "--count",
                  std::to_string(datagrams), "--timeout-ms", "20000", "--hold-timeout-ms", "10000"},
                 dir.path());
  ASSERT_TRUE(rx.wait_for_log("receiving on", 10s)) << rx.log();
  ChannelSender s({{km->port()}, 2, true, true, test_group(1), port});
  for (std::size_t off = 0; off < ts.size(); off += kDatagram) {
    const auto end = std::min(ts.size(), off + kDatagram);
    ASSERT_TRUE(s.send_payload(Bytes(ts.begin() + static_cast<std::ptrdiff_t>(off),
                                     ts.begin() + static_cast<std::ptrdiff_t>(end))));
    std::this_thread::sleep_for(2ms);
  }
  ASSERT_EQ(rx.wait(30s), 0) << rx.log();
  const auto out = dir.path() / "recv.stdout";  // keycast-recv's stdout
  const Bytes got = read_file(out);
  EXPECT_EQ(got.size(), ts.size()) << rx.log();
  EXPECT_TRUE(got == ts) << "the transport stream changed on the way\n" << rx.log();
  EXPECT_EQ(streams(out), original);
}

}  // namespace
}  // namespace keycast::test
