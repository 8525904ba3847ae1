// Attacks on framing: frames over the length limit, frames cut short,
// parameters that overrun their frame, and frames sent one byte at a time.
#include <thread>

#include "close_watch.h"
#include "pktparse/bytes.h"
#include "scenario.h"

namespace hostile {

namespace {

struct Case {
  const char* what;
  bool authenticated;
  std::vector<std::uint8_t> bytes;
};

std::vector<std::uint8_t> cat(std::vector<std::uint8_t> a, const std::vector<std::uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A parameter header (type, length) with `value` after it, as bytes.
std::vector<std::uint8_t> param(std::uint16_t type, std::uint16_t length, std::vector<std::uint8_t> value = {}) {
  std::vector<std::uint8_t> p(4);
  pktparse::store_be16(p.data(), type);
  pktparse::store_be16(p.data() + 2, length);
  return cat(p, value);
}

// A frame whose header says exactly the length of `params`.
std::vector<std::uint8_t> raw_frame(std::uint16_t type, const std::vector<std::uint8_t>& params) {
  return cat(frame_header(type, static_cast<std::uint32_t>(params.size())), params);
}

// A frame padded with an unknown parameter (skipped by the spec) to `size` bytes.
std::vector<std::uint8_t> padded(std::vector<std::uint8_t> frame, std::size_t size) {
  if (frame.size() + 4 >= size) return frame;
  const std::size_t pad = size - frame.size() - 4;
  auto params = cat(std::vector<std::uint8_t>(frame.begin() + 7, frame.end()),
                    param(0x7777, static_cast<std::uint16_t>(pad), std::vector<std::uint8_t>(pad, 0)));
  return raw_frame(pktparse::load_be16(frame.data() + 1), params);
}

// Sends each case on a fresh connection, again and again until stopped;
// each must be answered ERROR `code` and closed.
void repeat_cases(const Target& t, const std::vector<Case>& cases, std::uint16_t code, Control& ctl, Findings& f,
                  const std::string& noun) {
  std::size_t tries = 0, right = 0;
  do {
    for (const Case& k : cases) {
      std::string why;
      auto c = k.authenticated ? connect_peer(t, t.attacker, &why) : connect_raw(t, t.attacker);
      ++tries;
      std::string seen = why;
      if (c && answered_then_closed(*c, k.bytes, code, &seen)) {
        ++right;
      } else if (f.wrong.size() < 4) {
        f.wrong.push_back(std::string(k.what) + ": " + seen + " (want ERROR " + std::to_string(code) + ", close)");
      }
    }
    ctl.set_ready();
  } while (!ctl.stopping());
  f.answer = std::to_string(right) + "/" + std::to_string(tries) + " " + noun + " ERROR bad_message + close";
}

}  // namespace

void oversized(const Target& t, const Scale&, Control& ctl, Findings& f) {
  const std::vector<Case> cases = {
      {"HELLO header of 65537 bytes, first frame", false, frame_header(kHello, 65537)},
      // The key manager's own limit: no HELLO needs more than 1024 bytes.
      {"HELLO header of 4096 bytes, first frame", false, frame_header(kHello, 4096)},
      {"KEY_REQUEST header of 4 GiB - 1, first frame", false, frame_header(kKeyRequest, 0xFFFFFFFF)},
      {"KEY_REQUEST header of 65537 bytes, after HELLO", true, frame_header(kKeyRequest, 65537)},
      {"KEY_REQUEST header of 2 GiB, after HELLO", true, frame_header(kKeyRequest, 0x80000000)},
  };
  repeat_cases(t, cases, kBadMessage, ctl, f, "length fields over 65536 (HELLO: over 1024)");
}

void params_overrun(const Target& t, const Scale&, Control& ctl, Findings& f) {
  const std::vector<Case> cases = {
      {"HELLO whose peer_id says 200 bytes, 3 left", false,
       raw_frame(kHello, cat(param(1, 1, {2}), param(2, 200, {'r', 'x', '1'})))},
      {"KEY_REQUEST whose channel_id says 65535 bytes", true, raw_frame(kKeyRequest, param(4, 0xFFFF, {0, 0, 0, 1}))},
      {"KEY_REQUEST with a cut parameter header", true, raw_frame(kKeyRequest, {0, 4, 0})},
      {"KEY_REQUEST whose last parameter overruns by one byte", true,
       raw_frame(kKeyRequest, cat(param(4, 4, {0, 0, 0, 1}), param(5, 5, {0, 0, 0, 1})))},
  };
  repeat_cases(t, cases, kBadMessage, ctl, f, "frames with parameters overrunning");
}

void truncated(const Target& t, const Scale& s, Control& ctl, Findings& f) {
  // Half of a 64 KiB frame, then nothing: an authenticated peer is closed at
  // the idle timeout without an answer; a first frame that is not HELLO is
  // answered unauthenticated; half a HELLO is closed at the idle timeout.
  const auto half_big = cat(frame_header(kKeyRequest, 65536), std::vector<std::uint8_t>(32768, 0));
  const auto hello = hello_frame(t.attacker);
  const std::vector<std::uint8_t> half_hello(hello.begin(), hello.begin() + static_cast<long>(hello.size() / 2));
  CloseWatch silent_close, answered;
  for (std::size_t i = 0; i < s.half_frames; ++i) {
    std::string why;
    switch (i % 3) {
      case 0: {
        auto c = connect_peer(t, t.attacker, &why);
        if (!c) {
          f.expect(false, why);
          continue;
        }
        const auto since = Clock::now();
        f.expect(c->send(half_big), "cannot send half a frame");
        silent_close.add(std::move(c), since);
        break;
      }
      case 1: {
        auto c = connect_raw(t, t.attacker);
        const auto since = Clock::now();
        (void)c->send(half_big);  // may be refused from its header, before all of it is sent
        answered.add(std::move(c), since);
        break;
      }
      default: {
        auto c = connect_raw(t, t.attacker);
        const auto since = Clock::now();
        f.expect(c->send(half_hello), "cannot send half a HELLO");
        silent_close.add(std::move(c), since);
      }
    }
  }
  ctl.set_ready();

  // Meanwhile: a header and a few bytes, then close, as fast as it goes.
  const auto cut = cat(frame_header(kKeyRequest, 100), std::vector<std::uint8_t>(10, 0));
  std::size_t cuts = 0;
  while (!ctl.stopping()) {
    auto c = (cuts % 2) ? connect_peer(t, t.attacker) : connect_raw(t, t.attacker);
    if (c) c->send(cut);
    ++cuts;
    silent_close.poll(Ms(0));
  }
  const auto deadline = Clock::now() + t.idle_close_max() + Ms(1000);
  while ((!silent_close.all_closed() || !answered.all_closed()) && Clock::now() < deadline) {
    silent_close.poll(Ms(10));
    answered.poll(Ms(10));
  }
  const std::string window =
      silent_close.check_window(t.idle_close_min(), t.idle_close_max(), "half-sent frames", f.wrong);
  std::size_t silent_answers = 0, unauthenticated = 0;
  for (auto& e : silent_close.entries())
    if (e.client->ok() && e.client->read(Ms(50))) ++silent_answers;
  f.expect(silent_answers == 0, std::to_string(silent_answers) + " half-sent frames answered before the close");
  std::string first_seen;
  for (auto& e : answered.entries()) {
    const auto a = e.client->read(Ms(200));
    if (is_error(a, kUnauthenticated) && e.closed_at) {
      ++unauthenticated;
    } else if (first_seen.empty()) {
      first_seen = describe(a) + (e.closed_at ? ", closed" : ", open");
    }
  }
  const std::size_t want = answered.entries().size();
  f.expect(unauthenticated == want, std::to_string(want - unauthenticated) +
                                        " half 64 KiB KEY_REQUESTs before HELLO not answered unauthenticated: " +
                                        first_seen);
  f.answer = std::to_string(silent_close.entries().size()) + " half frames closed after " + window +
             " without answer; " + std::to_string(unauthenticated) + "/" + std::to_string(want) +
             " half KEY_REQUESTs before HELLO ERROR unauthenticated; " + std::to_string(cuts) +
             " header-then-close";
}

void slowloris(const Target& t, const Scale& s, Control& ctl, Findings& f) {
  // Frames long enough that one byte per gap cannot finish them within the
  // idle timeout (twice over); unknown parameters are skipped by the spec.
  // Before HELLO the frame stays within what a HELLO may be.
  const std::size_t bytes_in_timeout = static_cast<std::size_t>(t.idle_timeout / s.trickle_gap) + 1;
  const auto slow_hello = padded(hello_frame(t.attacker), std::min<std::size_t>(2 * bytes_in_timeout + 16, 2048));
  const auto slow_request = padded(key_request_frame(t.channel), 2 * bytes_in_timeout + 16);
  f.expect(slow_hello.size() > bytes_in_timeout, "trickle gap too short for a HELLO to outlast the idle timeout");

  CloseWatch watch;
  std::vector<std::size_t> sent;
  for (std::size_t i = 0; i < s.slowloris; ++i) {
    if (i % 2) {
      std::string why;
      auto c = connect_peer(t, t.attacker, &why);
      if (!c) {
        f.expect(false, why);
        continue;
      }
      watch.add(std::move(c), Clock::now());
    } else {
      watch.add(connect_raw(t, t.attacker), Clock::now());
    }
    sent.push_back(0);
  }
  ctl.set_ready();
  auto next = Clock::now();
  const auto deadline = Clock::now() + t.idle_close_max() + Ms(1000);
  while (!watch.all_closed() && Clock::now() < deadline) {
    for (std::size_t i = 0; i < watch.entries().size(); ++i) {
      auto& e = watch.entries()[i];
      const auto& frame = (i % 2) ? slow_request : slow_hello;
      if (e.closed_at || sent[i] >= frame.size()) continue;
      if (e.client->send({frame[sent[i]]})) ++sent[i];
    }
    next += s.trickle_gap;
    while (Clock::now() < next && !watch.all_closed()) watch.poll(std::chrono::duration_cast<Ms>(next - Clock::now()));
  }
  const std::string window = watch.check_window(t.idle_close_min(), t.idle_close_max(), "slow connections", f.wrong);
  std::size_t most = 0, finished = 0;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    most = std::max(most, sent[i]);
    if (sent[i] >= ((i % 2) ? slow_request : slow_hello).size()) ++finished;
  }
  f.expect(finished == 0, std::to_string(finished) + " slow connections finished their frame");
  f.answer = std::to_string(watch.entries().size()) + " connections at 1 byte/" + std::to_string(s.trickle_gap.count()) +
             " ms closed after " + window + " (at most " + std::to_string(most) + " bytes sent)";
}

}  // namespace hostile
