// KeyFetcher: key reads from the key manager client or from shared memory.
#include "key_source.h"

#include <chrono>
#include <utility>

#include "log_line.h"

namespace gateway {

namespace {

using kmclient::Error;
using kmclient::ErrorKind;
using kmproto::KeyState;

// A published key as the key manager sends it at now (KeyService's
// record_fields and keymgr-protocol.md section 2): remaining_ms is the
// remaining effective time (the whole lifetime before the start, 0 for a
// previous key), not_before_ms is 0 once the key has started.
kmproto::KeyRecord to_record(std::uint32_t channel_id, const keyshm::Key& k, KeyState state, std::uint64_t now) {
  kmproto::KeyRecord r;
  r.channel_id = channel_id;
  r.key_id = k.key_id;
  r.suite = k.suite;
  r.state = state;
  r.lifetime_ms = k.lifetime_ms;
  const std::uint64_t end = k.not_before_ms + k.lifetime_ms;
  if (state == KeyState::previous || now >= end) r.remaining_ms = 0;
  else r.remaining_ms = k.not_before_ms > now ? k.lifetime_ms : static_cast<std::uint32_t>(end - now);
  r.not_before_ms = k.not_before_ms > now ? k.not_before_ms : 0;
  (void)r.set_material(k.bytes());  // both hold at most 1024 bytes
  return r;
}

std::string channel_text(std::uint32_t id) { return "channel " + std::to_string(id); }

}  // namespace

std::uint64_t KeyFetcher::system_unix_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

KeyFetcher::KeyFetcher(const KeySource& keys, kmclient::KeymgrClient* client, UnixClock unix_ms)
    : client_(client), shm_name_(keys.shm), unix_ms_(std::move(unix_ms)) {}

void KeyFetcher::note(const std::string& line) {
  if (line == last_note_) return;
  last_note_ = line;
  log_line(line);
}

const keyshm::ShmReader* KeyFetcher::reader(Error* why) {
  const std::string path = "/" + shm_name_;
  if (reader_) {
    const keyshm::WriterStatus st = reader_->writer_status();
    if (st == keyshm::WriterStatus::live) return reader_.get();
    note("keys.shm: " + path + ": writer " + std::string(keyshm::to_string(st)) +
         ": reopening it (the keys held stay in use)");
    reader_.reset();
  }
  keyshm::Failure f;
  reader_ = keyshm::ShmReader::open(shm_name_, &f);
  if (!reader_) {
    note("keys.shm: " + f.message + "; retrying");
    *why = Error{f.error == keyshm::OpenError::permissions ? ErrorKind::config : ErrorKind::transport, std::nullopt,
                 "keys.shm: " + f.message};
    return nullptr;
  }
  note("keys.shm: reading keys from shared memory " + path + " (key manager pid " +
       std::to_string(reader_->writer_pid()) + ", " + std::to_string(reader_->channel_ids().size()) + " channel slots)");
  return reader_.get();
}

kmclient::Result<KeyFetcher::Records> KeyFetcher::read(const keyshm::ShmReader& r, std::uint32_t channel_id) {
  keyshm::Snapshot s;
  const keyshm::ReadStatus st = r.read(channel_id, s);
  const std::string where = "keys.shm /" + shm_name_ + ": " + channel_text(channel_id) + ": ";
  switch (st) {
    case keyshm::ReadStatus::ok:
      break;
    case keyshm::ReadStatus::busy:
      busy_ = true;
      return Error{ErrorKind::timeout, std::nullopt, where + "the key manager was mid-update on every attempt"};
    case keyshm::ReadStatus::no_channel:
      return Error{ErrorKind::answer, kmproto::ErrorCode::not_entitled,
                   where + "no slot (is it one of this gateway peer's channels in the key manager config?)"};
    case keyshm::ReadStatus::corrupt:
      return Error{ErrorKind::bad_frame, std::nullopt, where + "the slot holds values that are not a key"};
    case keyshm::ReadStatus::closed:
      return Error{ErrorKind::transport, std::nullopt, where + "the key manager closed the object"};
  }
  const keyshm::Key* cur = s.find(keyshm::KeyState::current);
  const keyshm::Key* next = s.find(keyshm::KeyState::next);
  const keyshm::Key* prev = s.find(keyshm::KeyState::previous);
  const std::uint64_t now = unix_ms_();
  if (next && next->not_before_ms <= now) {  // the slot is older than the switch
    if (cur) prev = cur;
    cur = std::exchange(next, nullptr);
  }
  Records out;
  out.reserve(3);
  if (cur) out.push_back(to_record(channel_id, *cur, KeyState::current, now));
  if (next) out.push_back(to_record(channel_id, *next, KeyState::next, now));
  if (prev) out.push_back(to_record(channel_id, *prev, KeyState::previous, now));
  return out;
}

kmclient::Result<KeyFetcher::Records> KeyFetcher::current_and_next(const keyshm::ShmReader& r,
                                                                   std::uint32_t channel_id) {
  auto keys = read(r, channel_id);
  if (!keys) return keys;
  std::erase_if(*keys, [](const kmproto::KeyRecord& k) { return k.state == KeyState::previous; });
  if (keys->empty())
    return Error{ErrorKind::answer, kmproto::ErrorCode::unknown_key,
                 "keys.shm /" + shm_name_ + ": no key yet on " + channel_text(channel_id)};
  return keys;
}

kmclient::Result<kmproto::KeyRecord> KeyFetcher::by_id(const keyshm::ShmReader& r, std::uint32_t channel_id,
                                                       std::uint32_t key_id) {
  auto keys = read(r, channel_id);
  if (!keys) return keys.error();
  for (kmproto::KeyRecord& k : *keys)
    if (k.key_id == key_id) return std::move(k);
  return Error{ErrorKind::answer, kmproto::ErrorCode::unknown_key,
               "keys.shm /" + shm_name_ + ": key " + std::to_string(key_id) + " of " + channel_text(channel_id) +
                   " is not among its current, next and previous keys"};
}

kmclient::Result<KeyFetcher::Records> KeyFetcher::request_keys(std::uint32_t channel_id) {
  if (!shm()) return client_->request_keys(channel_id);
  busy_ = false;
  Error why;
  const keyshm::ShmReader* r = reader(&why);
  if (!r) return why;
  return current_and_next(*r, channel_id);
}

kmclient::Result<kmproto::KeyRecord> KeyFetcher::request_key(std::uint32_t channel_id, std::uint32_t key_id) {
  if (!shm()) return client_->request_key(channel_id, key_id);
  busy_ = false;
  Error why;
  const keyshm::ShmReader* r = reader(&why);
  if (!r) return why;
  return by_id(*r, channel_id, key_id);
}

kmclient::Result<std::vector<kmclient::Result<KeyFetcher::Records>>> KeyFetcher::request_many(
    std::span<const kmclient::KeyQuery> queries) {
  if (!shm()) return client_->request_many(queries);
  busy_ = false;
  Error why;
  const keyshm::ShmReader* r = reader(&why);
  if (!r) return why;
  std::vector<kmclient::Result<Records>> out;
  out.reserve(queries.size());
  for (const kmclient::KeyQuery& q : queries) {
    if (!q.key_id) {
      out.push_back(current_and_next(*r, q.channel_id));
      continue;
    }
    auto one = by_id(*r, q.channel_id, q.key_id);
    out.push_back(one ? kmclient::Result<Records>(Records{std::move(*one)}) : kmclient::Result<Records>(one.error()));
  }
  return out;
}

}  // namespace gateway
