// One attack on the key manager: what it does, the scale it runs at, how it
// tells the runner it is in place, and what it found the key manager to
// answer against what keymgr-protocol.md and the key manager's limits say.
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "target.h"

namespace hostile {

struct Scale {
  std::size_t connections = 10000;  // conns
  std::size_t silent = 100;         // no-hello: connections that say nothing
  std::size_t slowloris = 1000;     // slowloris: connections trickling bytes
  Ms trickle_gap{1000};             // slowloris: one byte per gap per connection
  std::size_t half_frames = 200;    // truncated: connections that stop half-way through a frame
  std::size_t flood_depth = 16384;  // flood: requests in flight
};

// Between the runner and an attack thread.
class Control {
 public:
  void set_ready() { ready_ = true; }
  const std::atomic<bool>& ready() const { return ready_; }
  void stop() { stop_ = true; }
  bool stopping() const { return stop_.load(); }
  // Sleeps for d or until stop(); false if stopped.
  bool sleep(Ms d) const;

 private:
  std::atomic<bool> ready_{false};
  std::atomic<bool> stop_{false};
};

struct Findings {
  std::string answer;              // what the key manager did, in short
  std::vector<std::string> wrong;  // each departure from the documented answer
  std::string note;                // anything the tool changed (fd limits)
  void expect(bool ok, const std::string& what) {
    if (!ok) wrong.push_back(what);
  }
};

enum class Mode { any, lab, tls };

struct Scenario {
  const char* name;
  const char* what;
  Mode mode;
  // Runs the attack: in place, then ctl.set_ready(); keeps it up until
  // ctl.stopping() where it is a repeated one; finishes its checks.
  void (*attack)(const Target&, const Scale&, Control&, Findings&);
  // Connections it holds at once, for the memory bound.
  std::size_t (*held)(const Scale&);
};

// Every scenario, in the order they run.
const std::vector<Scenario>& scenarios();

// The scenarios, by file.
void no_hello(const Target&, const Scale&, Control&, Findings&);
void wrong_token(const Target&, const Scale&, Control&, Findings&);
void wrong_cn(const Target&, const Scale&, Control&, Findings&);
void oversized(const Target&, const Scale&, Control&, Findings&);
void truncated(const Target&, const Scale&, Control&, Findings&);
void params_overrun(const Target&, const Scale&, Control&, Findings&);
void slowloris(const Target&, const Scale&, Control&, Findings&);
void conns(const Target&, const Scale&, Control&, Findings&);
void flood(const Target&, const Scale&, Control&, Findings&);

}  // namespace hostile
