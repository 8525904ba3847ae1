// UsageFile and UsageLedger without DPDK: the file's text (every malformed
// form refused with its line), a round trip, and the ledger against a
// scripted key manager: a finished key's report is in the file before it is
// sent, counts of keys in use are saved at most every second, what the key
// manager did not take at stop stays in the file and goes first at the next
// start.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "keymgr_process.h"
#include "text_files.h"
#include "usage_file.h"
#include "usage_ledger.h"

namespace gateway::test {
namespace {

using keymgr::test::TempDir;
using Sent = UsageReports::Sent;

std::string refusal(const std::filesystem::path& file) {
  try {
    UsageFile f(file);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(opened)";
}

TEST(UsageText, RoundTrips) {
  const std::vector<UsageReport> entries = {{1, 10, 5, 6580}, {4294967295u, 4294967295u, UINT64_MAX, UINT64_MAX},
                                            {2, 20, 0, 0}};
  const std::string text = usage_text(entries);
  EXPECT_EQ(text,
            "keycast-gateway usage 1\n1 10 5 6580\n4294967295 4294967295 18446744073709551615 18446744073709551615\n"
            "2 20 0 0\n");
  std::string why;
  const auto back = parse_usage(text, &why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(*back, entries);
  const auto none = parse_usage(usage_text({}), &why);
  ASSERT_TRUE(none) << why;
  EXPECT_TRUE(none->empty());
}

TEST(UsageText, RefusesWhatItDidNotWrite) {
  const std::string first = "keycast-gateway usage 1\n";
  const std::string entry = "is not \"<channel_id> <key_id> <packets> <bytes>\" (decimal, ids not 0, one space apart)";
  std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty (a usage file starts with \"keycast-gateway usage 1\")"},
      {"keycast-gateway usage 2\n", "line 1 is not \"keycast-gateway usage 1\""},
      {"keycast-gateway usage 1", "line 1 does not end in a newline"},
      {first + "1 10 5 6580", "line 2 does not end in a newline"},
      {first + "1 10 5 6580\n\n", "line 3 " + entry},
  };
  for (const char* bad_line : {"1 10 5", "1 10 5 6580 7", "0 10 5 6580", "1 0 5 6580", "1 010 5 6580", "1  10 5 6580",
                               "1 10 5 6580 ", "1 10 -5 6580", "4294967296 10 5 6580", "1 10 5 18446744073709551616",
                               "1 10 5 6580\r"})
    cases.emplace_back(first + bad_line + "\n", "line 2 " + entry);
  for (const auto& [text, want] : cases) {
    std::string why;
    EXPECT_FALSE(parse_usage(text, &why)) << text;
    EXPECT_EQ(why, want) << text;
  }
}

class UsageFileTest : public ::testing::Test {
 protected:
  std::filesystem::path file() const { return dir_.path() / "gw.usage"; }
  TempDir dir_;
};

TEST_F(UsageFileTest, StoresDurablyAndReadsBack) {
  {
    UsageFile f(file());
    EXPECT_TRUE(f.stored().empty());
    EXPECT_FALSE(std::filesystem::exists(file()));
    std::string why;
    ASSERT_TRUE(f.store(std::vector<UsageReport>{{3, 30, 7, 9212}}, &why)) << why;
    struct stat st {};
    ASSERT_EQ(::stat(file().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_FALSE(std::filesystem::exists(file().string() + ".tmp"));
  }
  UsageFile again(file());
  EXPECT_EQ(again.stored(), (std::vector<UsageReport>{{3, 30, 7, 9212}}));
}

TEST_F(UsageFileTest, RefusesAFileItCannotTrust) {
  const std::string name = "usage_file " + file().string() + ": ";
  write(file(), "keycast-gateway usage 1\n1 10 5\n");
  EXPECT_EQ(refusal(file()),
            name +
                "line 2 is not \"<channel_id> <key_id> <packets> <bytes>\" (decimal, ids not 0, one space apart): it "
                "holds usage not yet reported to the key manager, so the gateway does not start over it. Repair it, "
                "or move it away (and bill what it holds by hand)");
  write(file(), usage_text({}), 0640);
  EXPECT_EQ(refusal(file()), name + "mode 0640 allows access by group or others (chmod 600 it)");
  write(file(), usage_text({}));
  UsageFile holder(file());
  EXPECT_EQ(refusal(file()), "usage_file " + file().string() + " is in use by another running keycast-gateway (" +
                                 file().string() + ".lock is locked): two gateways must never share one usage_file");
}

// The key manager as UsageReports sees it; each attempt also records what
// the usage file held at that moment.
struct FakeKeymgr {
  std::deque<Sent> script;  // answers to come; taken once empty
  std::vector<UsageReport> taken;
  std::vector<std::string> file_at_send;
  std::vector<std::string> log;
  std::filesystem::path file;

  UsageLedger make(bool with_file) {
    return UsageLedger(
        [this](const UsageReport& r, std::string* why, std::vector<std::string>*) {
          file_at_send.push_back(std::filesystem::exists(file) ? contents(file) : "");
          Sent s = Sent::taken;
          if (!script.empty()) {
            s = script.front();
            script.pop_front();
          }
          if (s == Sent::taken) taken.push_back(r);
          else *why = "connection refused";
          return s;
        },
        [this](const std::string& line) { log.push_back(line); },
        with_file ? std::make_unique<UsageFile>(file) : nullptr);
  }
};

class UsageLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override { km_.file = dir_.path() / "gw.usage"; }
  std::string text(const std::vector<UsageReport>& entries) const { return usage_text(entries); }
  // Key 10 of channel 1 finished, key 20 of channel 2 in use, and a stop,
  // all while the key manager is away.
  void stop_while_away(UsageLedger& l) {
    km_.script = {Sent::later, Sent::later};
    l.finished({1, 10, 5, 500}, 0);
    l.in_use({2, 20, 3, 300});
    l.tick(0);
    l.stop(0);
  }
  TempDir dir_;
  FakeKeymgr km_;
};

TEST_F(UsageLedgerTest, AFinishedKeyIsInTheFileBeforeItIsSent) {
  UsageLedger l = km_.make(true);
  l.in_use({1, 10, 4, 400});
  l.tick(0);
  EXPECT_EQ(contents(km_.file), text({{1, 10, 4, 400}}));
  l.finished({1, 10, 5, 500}, 10);
  l.tick(10);
  ASSERT_EQ(km_.taken.size(), 1u);
  EXPECT_EQ(km_.file_at_send[0], text({{1, 10, 5, 500}}));  // the report replaced the count
  EXPECT_EQ(contents(km_.file), text({}));                  // taken: gone
}

TEST_F(UsageLedgerTest, CountsOfKeysInUseAreSavedAtMostEverySecond) {
  UsageLedger l = km_.make(true);
  l.in_use({1, 10, 1, 100});
  l.tick(0);
  l.in_use({1, 10, 2, 200});
  l.in_use({2, 20, 1, 50});
  l.tick(999);
  EXPECT_EQ(contents(km_.file), text({{1, 10, 1, 100}}));
  l.tick(1000);
  EXPECT_EQ(contents(km_.file), text({{1, 10, 2, 200}, {2, 20, 1, 50}}));
  // A worker's publication may trail its switch: a finished key's count is not taken up again.
  l.finished({1, 10, 3, 300}, 1001);
  l.in_use({1, 10, 2, 200});
  l.in_use({1, 11, 1, 100});
  l.tick(1001);
  l.tick(2001);
  EXPECT_EQ(km_.taken, (std::vector<UsageReport>{{1, 10, 3, 300}}));
  EXPECT_EQ(contents(km_.file), text({{1, 11, 1, 100}, {2, 20, 1, 50}}));
}

TEST_F(UsageLedgerTest, WhatIsNotTakenAtStopGoesFirstAtTheNextStart) {
  {
    UsageLedger l = km_.make(true);
    stop_while_away(l);
    EXPECT_EQ(l.stats().lost, 0u);
    EXPECT_EQ(l.stats().waiting, 1u);
  }
  EXPECT_EQ(contents(km_.file), text({{1, 10, 5, 500}, {2, 20, 3, 300}}));
  EXPECT_NE(std::find_if(km_.log.begin(), km_.log.end(),
                         [&](const std::string& s) {
                           return s == "1 usage report(s) not taken at stop (connection refused): kept in usage_file " +
                                           km_.file.string() + " for the next start";
                         }),
            km_.log.end());

  UsageLedger next = km_.make(true);
  EXPECT_EQ(next.stats().waiting, 2u);
  next.in_use({2, 20, 1, 100});  // the new run's own count under key 20
  next.tick(0);
  EXPECT_EQ(km_.taken, (std::vector<UsageReport>{{1, 10, 5, 500}, {2, 20, 3, 300}}));
  EXPECT_EQ(contents(km_.file), text({{2, 20, 1, 100}}));
}

TEST_F(UsageLedgerTest, WithoutAFileWhatIsNotTakenAtStopIsGivenUp) {
  UsageLedger l = km_.make(false);
  stop_while_away(l);
  EXPECT_EQ(l.stats().lost, 1u);
  EXPECT_FALSE(std::filesystem::exists(km_.file));
}

}  // namespace
}  // namespace gateway::test
