// Writer to reader through a real shared-memory object: fields, ordering,
// change detection, wiping, validation of what is published, and shutdown.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <new>

#include "test_keys.h"

namespace keyshm::test {
namespace {

const std::uint32_t kRoundTripChannels[] = {1, 2, 7};

struct Pair {
  std::string name = unique_name("rt");
  std::unique_ptr<ShmWriter> writer;
  std::unique_ptr<ShmReader> reader;
  Pair() {
    Failure why;
    writer = ShmWriter::create(name, kRoundTripChannels, &why);
    EXPECT_TRUE(writer) << why.message;
    if (writer) reader = ShmReader::open(name, &why);
    EXPECT_TRUE(reader) << why.message;
  }
};

TEST(RoundTrip, ReaderSeesWhatWasPublished) {
  Pair p;
  ASSERT_TRUE(p.reader);
  EXPECT_EQ(p.writer->name(), "/" + p.name);
  EXPECT_EQ(p.reader->generation(), p.writer->generation());
  EXPECT_EQ(p.reader->writer_pid(), getpid());
  EXPECT_EQ(std::vector<std::uint32_t>(p.reader->channel_ids().begin(), p.reader->channel_ids().end()),
            std::vector<std::uint32_t>(std::begin(kRoundTripChannels), std::end(kRoundTripChannels)));

  Snapshot s;
  ASSERT_EQ(p.reader->read(7, s), ReadStatus::ok);
  EXPECT_EQ(s.count, 0u);

  // Published in an order other than the reader's (current, next, previous).
  auto keys = rotation(7, 40);
  std::swap(keys[0], keys[2]);
  ASSERT_EQ(p.writer->publish(7, keys), PublishResult::written);
  ASSERT_EQ(p.reader->read(7, s), ReadStatus::ok);
  EXPECT_EQ(snapshot_inconsistency(7, s), "");
  ASSERT_EQ(s.count, 3u);
  EXPECT_EQ(s.keys[0].state, KeyState::current);
  EXPECT_EQ(s.keys[0].key_id, 40u);
  EXPECT_EQ(s.keys[1].state, KeyState::next);
  EXPECT_EQ(s.keys[2].state, KeyState::previous);
  EXPECT_GT(s.publish_ms, 0u);

  ASSERT_EQ(p.reader->read(1, s), ReadStatus::ok);
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(p.reader->read(3, s), ReadStatus::no_channel);
  EXPECT_EQ(p.writer->publish(3, keys), PublishResult::unknown_channel);
}

TEST(RoundTrip, OnlyChangesAreWritten) {
  Pair p;
  ASSERT_TRUE(p.reader);
  ASSERT_EQ(p.writer->publish(1, rotation(1, 5)), PublishResult::written);
  EXPECT_EQ(p.writer->publish(1, rotation(1, 5)), PublishResult::unchanged);
  Snapshot before;
  ASSERT_EQ(p.reader->read(1, before), ReadStatus::ok);
  EXPECT_EQ(p.writer->publish(1, rotation(1, 5)), PublishResult::unchanged);
  Snapshot again;
  ASSERT_EQ(p.reader->read(1, again), ReadStatus::ok);
  EXPECT_EQ(again.publish_ms, before.publish_ms);

  // A changed time alone is a change.
  auto keys = rotation(1, 5);
  keys[1].not_before_ms += 1;
  EXPECT_EQ(p.writer->publish(1, keys), PublishResult::written);
  ASSERT_EQ(p.reader->read(1, again), ReadStatus::ok);
  EXPECT_EQ(again.find(KeyState::next)->not_before_ms, keys[1].not_before_ms);
}

TEST(RoundTrip, RotationMovesStatesNotMaterial) {
  Pair p;
  ASSERT_TRUE(p.reader);
  for (std::uint32_t k = 10; k < 20; ++k) {
    ASSERT_EQ(p.writer->publish(2, rotation(2, k)), PublishResult::written);
    Snapshot s;
    ASSERT_EQ(p.reader->read(2, s), ReadStatus::ok);
    EXPECT_EQ(snapshot_inconsistency(2, s), "") << "at key " << k;
    EXPECT_EQ(s.find(KeyState::current)->key_id, k);
  }
}

TEST(RoundTrip, KeysThatGoAwayAreWiped) {
  Pair p;
  ASSERT_TRUE(p.reader);
  Key secret = make_key(1, 100, KeyState::next);
  const std::vector<std::uint8_t> pattern(64, 0xA5);
  secret.suite = 1;
  ASSERT_TRUE(secret.set_material(pattern));
  const std::vector<Key> with{make_key(1, 99, KeyState::current), secret};
  ASSERT_EQ(p.writer->publish(1, with), PublishResult::written);
  EXPECT_TRUE(object_contains(p.name, pattern));

  ASSERT_EQ(p.writer->publish(1, rotation(1, 99, true)), PublishResult::written);
  EXPECT_FALSE(object_contains(p.name, pattern));
  Snapshot s;
  ASSERT_EQ(p.reader->read(1, s), ReadStatus::ok);
  EXPECT_EQ(s.count, 1u);
  EXPECT_EQ(snapshot_inconsistency(1, s), "");

  ASSERT_EQ(p.writer->publish(1, std::vector<Key>{}), PublishResult::written);
  ASSERT_EQ(p.reader->read(1, s), ReadStatus::ok);
  EXPECT_EQ(s.count, 0u);
}

TEST(RoundTrip, InvalidKeySetsAreRefused) {
  Pair p;
  ASSERT_TRUE(p.reader);
  auto two_currents = rotation(1, 5);
  two_currents[1].state = KeyState::current;
  EXPECT_EQ(p.writer->publish(1, two_currents), PublishResult::invalid);
  auto same_id = rotation(1, 5);
  same_id[1].key_id = 5;
  EXPECT_EQ(p.writer->publish(1, same_id), PublishResult::invalid);
  auto four = rotation(1, 5);
  four.push_back(make_key(1, 9, KeyState::next));
  EXPECT_EQ(p.writer->publish(1, four), PublishResult::invalid);
  Key aes = make_key(1, 5, KeyState::current);
  aes.suite = 3;
  aes.key_length = 17;  // aes128-ctr takes 16 or 32
  EXPECT_EQ(p.writer->publish(1, std::vector<Key>{aes}), PublishResult::invalid);
  Key empty = make_key(1, 5, KeyState::empty);
  EXPECT_EQ(p.writer->publish(1, std::vector<Key>{empty}), PublishResult::invalid);
  Key unknown_suite = make_key(1, 5, KeyState::current);
  unknown_suite.suite = 42;
  EXPECT_EQ(p.writer->publish(1, std::vector<Key>{unknown_suite}), PublishResult::invalid);
}

TEST(RoundTrip, WriterShutdownWipesClosesAndUnlinks) {
  Pair p;
  ASSERT_TRUE(p.reader);
  Key k = make_key(1, 3, KeyState::current);
  const std::vector<std::uint8_t> pattern(48, 0x5A);
  ASSERT_TRUE(k.set_material(pattern));
  ASSERT_EQ(p.writer->publish(1, std::vector<Key>{k}), PublishResult::written);
  EXPECT_EQ(p.reader->writer_status(), WriterStatus::live);
  // A second mapping, to look at the bytes after the name is gone.
  const int fd = shm_open(("/" + p.name).c_str(), O_RDONLY, 0);
  ASSERT_GE(fd, 0);
  const std::size_t size = static_cast<std::size_t>(lseek(fd, 0, SEEK_END));
  void* m = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  ASSERT_NE(m, MAP_FAILED);

  p.writer.reset();
  Snapshot s;
  EXPECT_EQ(p.reader->read(1, s), ReadStatus::closed);
  EXPECT_EQ(p.reader->writer_status(), WriterStatus::closed);
  EXPECT_LT(shm_open(("/" + p.name).c_str(), O_RDONLY, 0), 0);
  EXPECT_EQ(errno, ENOENT);
  const std::string bytes(static_cast<const char*>(m), size);
  EXPECT_EQ(bytes.find(std::string(pattern.begin(), pattern.end())), std::string::npos);
  munmap(m, size);
}

TEST(RoundTrip, MissingNameFailsClearly) {
  Failure why;
  const std::string name = unique_name("missing");
  EXPECT_FALSE(ShmReader::open(name, &why));
  EXPECT_EQ(why.error, OpenError::not_found);
  EXPECT_NE(why.message.find("/" + name), std::string::npos) << why.message;
  EXPECT_NE(why.message.find("no shared-memory object"), std::string::npos) << why.message;
}

TEST(RoundTrip, BadNamesAreRefused) {
  for (const char* name : {"", "a/b", "..", "sp ace", "/"}) {
    Failure why;
    EXPECT_FALSE(ShmReader::open(name, &why)) << name;
    EXPECT_EQ(why.error, OpenError::bad_name) << name;
    EXPECT_FALSE(ShmWriter::create(name, kRoundTripChannels, &why)) << name;
    EXPECT_EQ(why.error, OpenError::bad_name) << name;
  }
  Failure why;
  const std::uint32_t dup[] = {1, 2, 1};
  EXPECT_FALSE(ShmWriter::create(unique_name("dup"), dup, &why));
  EXPECT_EQ(why.error, OpenError::bad_channels);
}

TEST(RoundTrip, ReaderOverCallerMemory) {
  Pair p;
  ASSERT_TRUE(p.reader);
  ASSERT_EQ(p.writer->publish(2, rotation(2, 77)), PublishResult::written);
  const int fd = shm_open(("/" + p.name).c_str(), O_RDONLY, 0);
  ASSERT_GE(fd, 0);
  const std::size_t size = static_cast<std::size_t>(lseek(fd, 0, SEEK_END));
  auto* copy = static_cast<std::uint8_t*>(::operator new(size + 1, std::align_val_t{64}));
  ASSERT_EQ(pread(fd, copy, size, 0), static_cast<ssize_t>(size));
  close(fd);

  Failure why;
  const auto r = ShmReader::over({copy, size}, &why);
  ASSERT_TRUE(r) << why.message;
  Snapshot s;
  ASSERT_EQ(r->read(2, s), ReadStatus::ok);
  EXPECT_EQ(snapshot_inconsistency(2, s), "");
  EXPECT_EQ(r->writer_status(), WriterStatus::live);

  EXPECT_FALSE(ShmReader::over({copy + 8, size - 8}, &why));
  EXPECT_EQ(why.error, OpenError::bad_layout);
  EXPECT_FALSE(ShmReader::over({copy, size - 1}, &why));
  EXPECT_EQ(why.error, OpenError::bad_layout);
  copy[0] = 'X';
  EXPECT_FALSE(ShmReader::over({copy, size}, &why));
  EXPECT_EQ(why.error, OpenError::bad_layout);
  ::operator delete(copy, std::align_val_t{64});
}

}  // namespace
}  // namespace keyshm::test
