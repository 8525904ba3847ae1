// SeqLease and SeqFile without DPDK: where seq starts (clock, stored mark),
// the mark written before use and moved ahead before the workers reach it, a
// failed write that holds the limit, and the files it refuses to trust.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "keymgr_process.h"
#include "text_files.h"
#include "seq_file.h"
#include "seq_lease.h"

namespace gateway::test {
namespace {

using keymgr::test::TempDir;

constexpr std::uint64_t kClock = 1'700'000'000'000'000'000ULL;  // Unix ns
constexpr std::uint64_t kHour = 3'600'000'000'000ULL;

std::string refusal(const std::filesystem::path& file) {
  try {
    SeqLease lease(file, kClock);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(started)";
}

class SeqLeaseTest : public ::testing::Test {
 protected:
  std::filesystem::path file() const { return dir_.path() / "gw.seq"; }
  TempDir dir_;
};

TEST_F(SeqLeaseTest, WithoutFileStartsAtTheClockWithNoLimit) {
  SeqLease lease(std::nullopt, kClock);
  EXPECT_EQ(lease.first(), kClock);
  EXPECT_EQ(lease.limit().load(), UINT64_MAX);
  EXPECT_NE(lease.start_note().find("no seq_file: a restart never reuses a seq only if this host's clock never goes back"),
            std::string::npos);
  lease.keep_ahead(UINT64_MAX - 1, 0);
  EXPECT_FALSE(std::filesystem::exists(file()));
}

TEST_F(SeqLeaseTest, FirstStartReservesABlockOnDiskBeforeUse) {
  SeqLease lease(file(), kClock, 1000);
  EXPECT_EQ(lease.first(), kClock);
  EXPECT_EQ(lease.limit().load(), kClock + 1000);
  EXPECT_EQ(contents(file()), std::to_string(kClock + 1000) + "\n");
  EXPECT_EQ(std::filesystem::status(file()).permissions(), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_NE(lease.start_note().find("no mark yet (first start): seq starts at the clock"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(file().string() + ".tmp"));
}

// The clock set back an hour after a run: the next run starts at the mark,
// above every seq the first one could have used.
TEST_F(SeqLeaseTest, RestartWithTheClockSetBackStartsAtTheMark) {
  std::uint64_t used_below = 0;
  {
    SeqLease lease(file(), kClock, 1000);
    used_below = lease.limit().load();
  }
  SeqLease again(file(), kClock - kHour, 1000);
  EXPECT_EQ(again.first(), used_below);
  EXPECT_EQ(again.limit().load(), used_below + 1000);
  EXPECT_NE(again.start_note().find("the clock is 3600.0 s behind the stored mark (the clock was set back, or an "
                                     "earlier run's clock was ahead): seq starts at the stored mark (" +
                                     std::to_string(used_below) + "), not the clock"),
            std::string::npos)
      << again.start_note();
}

TEST_F(SeqLeaseTest, QuickRestartStartsAtTheMark) {
  { SeqLease lease(file(), kClock, 1000); }
  SeqLease again(file(), kClock + 10, 1000);
  EXPECT_EQ(again.first(), kClock + 1000);
  EXPECT_NE(again.start_note().find("the clock is 0.0 s behind the stored mark (a restart within one reserved block)"),
            std::string::npos)
      << again.start_note();
}

TEST_F(SeqLeaseTest, RestartWithTheClockAheadStartsAtTheClock) {
  { SeqLease lease(file(), kClock, 1000); }
  SeqLease again(file(), kClock + kHour, 1000);
  EXPECT_EQ(again.first(), kClock + kHour);
  EXPECT_NE(again.start_note().find("seq starts at the clock (" + std::to_string(kClock + kHour) + "), above the stored mark"),
            std::string::npos);
}

TEST_F(SeqLeaseTest, MovesTheMarkAheadBeforeTheWorkersReachIt) {
  SeqLease lease(file(), kClock, 1000);
  lease.keep_ahead(kClock + 499, 0);  // more than half a block left
  EXPECT_EQ(lease.limit().load(), kClock + 1000);
  EXPECT_EQ(contents(file()), std::to_string(kClock + 1000) + "\n");
  lease.keep_ahead(kClock + 500, 0);
  EXPECT_EQ(lease.limit().load(), kClock + 2000);
  EXPECT_EQ(contents(file()), std::to_string(kClock + 2000) + "\n");
}

// The directory gone: the limit stays where the disk proves it, retried
// every 100 ms, raised once the mark is written again.
TEST_F(SeqLeaseTest, AFailedWriteHoldsTheLimit) {
  const std::filesystem::path sub = dir_.path() / "state";
  std::filesystem::create_directory(sub);
  SeqLease lease(sub / "gw.seq", kClock, 1000);
  std::filesystem::remove_all(sub);
  testing::internal::CaptureStderr();
  lease.keep_ahead(kClock + 900, 10);
  lease.keep_ahead(kClock + 900, 20);
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(lease.limit().load(), kClock + 1000);
  EXPECT_NE(log.find("datagrams from seq " + std::to_string(kClock + 1000) + " on are dropped (seq_not_reserved)"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("dropped", log.find("dropped") + 1), std::string::npos) << "logged once: " << log;

  std::filesystem::create_directory(sub);
  lease.keep_ahead(kClock + 900, 50);  // before the retry time
  EXPECT_EQ(lease.limit().load(), kClock + 1000);
  testing::internal::CaptureStderr();
  lease.keep_ahead(kClock + 900, 110);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("written again"), std::string::npos);
  EXPECT_EQ(lease.limit().load(), kClock + 2000);
  EXPECT_EQ(contents(sub / "gw.seq"), std::to_string(kClock + 2000) + "\n");
}

TEST_F(SeqLeaseTest, StopsAtTheEndOfTheSeqSpace) {
  SeqLease lease(file(), UINT64_MAX - 10, 1000);
  EXPECT_EQ(lease.limit().load(), UINT64_MAX);
  EXPECT_NE(lease.start_note().find("the end of the seq space"), std::string::npos);
}

TEST_F(SeqLeaseTest, SecondGatewayOnTheSameFileIsRefused) {
  SeqLease first(file(), kClock, 1000);
  EXPECT_EQ(refusal(file()), "seq_file " + file().string() + " is in use by another running keycast-gateway (" +
                                 file().string() + ".lock is locked): two gateways must never share one seq_file");
}

TEST_F(SeqLeaseTest, RefusesAFileItCannotTrust) {
  const std::string name = "seq_file " + file().string() + ": ";
  const std::string unproven =
      "does not hold a seq mark (one decimal number): the seq this gateway used last cannot be proven, so it does "
      "not start. Restore the file, or remove it once every channel has moved to a key this gateway never used "
      "(seq then starts at the clock)";
  for (const char* bad : {"", "\n", "12x\n", "-1\n", "0012\n", " 12\n", "12\n\n", "18446744073709551616\n",
                          "123456789012345678901234567890\n"}) {
    write(file(), bad);
    EXPECT_EQ(refusal(file()), name + unproven) << '"' << bad << '"';
  }
  write(file(), "12\n", 0644);
  EXPECT_EQ(refusal(file()), name + "mode 0644 allows access by group or others (chmod 600 it)");
  std::filesystem::remove(file());
  std::filesystem::create_directory(file());
  EXPECT_EQ(refusal(file()), name + "not a regular file");
  std::filesystem::remove(file());
  write(dir_.path() / "elsewhere", "12\n");
  std::filesystem::create_symlink(dir_.path() / "elsewhere", file());
  EXPECT_EQ(refusal(file()), name + "cannot open: Too many levels of symbolic links");
  const std::filesystem::path nowhere = dir_.path() / "missing" / "gw.seq";
  EXPECT_EQ(refusal(nowhere), "seq_file " + nowhere.string() + ": cannot open its lock file " + nowhere.string() +
                                  ".lock: No such file or directory (does the directory exist?)");
}

TEST(SeqMarkText, ReadsWhatItWritesWithOrWithoutTheNewline) {
  for (std::uint64_t mark : {std::uint64_t{0}, std::uint64_t{7}, std::uint64_t{10}, kClock, UINT64_MAX}) {
    const std::string text = seq_mark_text(mark);
    EXPECT_EQ(text, std::to_string(mark) + "\n");
    EXPECT_EQ(parse_seq_mark(text), mark);
    EXPECT_EQ(parse_seq_mark(text.substr(0, text.size() - 1)), mark);
  }
  EXPECT_EQ(parse_seq_mark("+7\n"), std::nullopt);
}

TEST_F(SeqLeaseTest, ReadsTheLargestMark) {
  write(file(), "18446744073709551615\n");
  SeqLease lease(file(), kClock, 1000);
  EXPECT_EQ(lease.first(), UINT64_MAX);
  EXPECT_EQ(lease.limit().load(), UINT64_MAX);
}

}  // namespace
}  // namespace gateway::test
