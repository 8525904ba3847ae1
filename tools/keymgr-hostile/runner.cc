// run_scenario: attack thread, latency probe, RSS sampler, verdict.
#include "runner.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "rss_sampler.h"

namespace hostile {

namespace {

// Per connection the key manager may hold a 4 KiB read buffer, a 64 KiB+
// one while a large frame arrives, up to its output limit for a peer that
// does not read, plus socket and TLS state: 128 KiB is generous for the
// many-connection attacks, whose peers send small frames; 16 MiB covers the
// attacks on one or two connections (output limit 4 MiB, written and
// pending) and the allocator's slack. After the attack the key manager must
// be back within 8 MiB (or 10%) of where it started: what it keeps for good
// (the connection table, rate-limit buckets, allocator caches) is small.
// Where it is not (the secret-memory pool and glibc's heap keep freed
// blocks for reuse), a second run of the same attack must not raise the peak
// by more than that slack: memory is then bounded by the largest attack, and
// does not grow with the number of attacks.
constexpr std::uint64_t kPerConnectionKib = 128;
constexpr std::uint64_t kFixedKib = 16 << 10;
constexpr std::uint64_t kAfterSlackKib = 8 << 10;

void lower_priority() { setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10); }

// User plus system CPU seconds of a process (0 without one).
double cpu_seconds(pid_t pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;
  double utime = 0, stime = 0;
  fields >> utime >> stime;
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// RSS once it has settled to `bound` or `settle` passed.
std::uint64_t settled_rss(pid_t pid, std::uint64_t bound, Ms settle) {
  const auto end = std::chrono::steady_clock::now() + settle;
  std::uint64_t rss = rss_kib(pid);
  while (rss > bound && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(Ms(100));
    rss = rss_kib(pid);
  }
  return rss;
}

struct Attempt {
  Findings findings;
  Latency latency;
  std::uint64_t rss_peak = 0;
  double cpu_share = 0;
};

// The attack, and the good peer's latency once it is in place. measure
// false: the attack alone, as short as it goes (for its memory).
Attempt attempt(const Scenario& s, const Target& t, const Scale& scale, const Bounds& b, bool measure) {
  Attempt a;
  RssSampler sampler(t.pid);
  const double cpu0 = cpu_seconds(t.pid);
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<LatencyProbe> probe;
  if (measure) {
    probe = std::make_unique<LatencyProbe>(t);  // first, so that the attack cannot crowd it out
    if (!probe->ok()) a.latency.wrong.push_back("good peer before the attack: " + probe->why());
  }
  Control ctl;
  if (!measure) ctl.stop();
  std::atomic<bool> done{false}, ready_or_done{false};
  std::thread attack([&] {
    // An attacker elsewhere does not share the key manager's CPU: here it
    // yields to it and to the good peer.
    lower_priority();
    s.attack(t, scale, ctl, a.findings);
    done = true;
  });
  std::thread watcher([&] {
    while (!ctl.ready().load() && !done.load()) std::this_thread::sleep_for(Ms(5));
    ready_or_done = true;
  });
  if (probe && probe->ok()) {
    probe->keep_alive_until(ready_or_done);
    a.latency = probe->measure(b.samples, b.gap);
  }
  ctl.stop();
  watcher.join();
  attack.join();
  probe.reset();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  a.cpu_share = wall > 0 ? (cpu_seconds(t.pid) - cpu0) / wall : 0;
  a.rss_peak = std::max(sampler.peak_kib(), rss_kib(t.pid));
  return a;
}

bool too_slow(const Latency& l, double reference_us, const Bounds& b) {
  return l.samples && reference_us > 0 && l.median_us > b.latency_factor * reference_us;
}

}  // namespace

bool Control::sleep(Ms d) const {
  const auto end = std::chrono::steady_clock::now() + d;
  while (!stopping() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(Ms(5));
  return !stopping();
}

Result measure_quiet(const Target& t, const Bounds& b) {
  Result r;
  r.name = "quiet";
  r.findings.answer = "no attack";
  LatencyProbe probe(t);
  if (!probe.ok()) {
    r.wrong.push_back(probe.why());
    return r;
  }
  r.latency = probe.measure(b.samples, b.gap);
  r.wrong = r.latency.wrong;
  r.rss_before = r.rss_peak = r.rss_after = rss_kib(t.pid);
  return r;
}

Result run_scenario(const Scenario& s, const Target& t, const Scale& scale, const Latency& quiet, const Bounds& b) {
  Result r;
  r.name = s.name;
  r.rss_before = rss_kib(t.pid);
  Attempt a = attempt(s, t, scale, b, true);
  r.findings = a.findings;
  r.latency = a.latency;
  r.rss_peak = a.rss_peak;
  r.cpu_share = a.cpu_share;
  r.wrong = a.findings.wrong;
  if (too_slow(r.latency, quiet.median_us, b)) {
    // The machine may be busier than when the quiet figure was taken (other
    // jobs on a shared host, whose CPU share the attack's own CPU use eats
    // into): the attack is judged against the worse of two quiet figures,
    // and runs a second time before it is said to be too slow.
    r.quiet_again_us = measure_quiet(t, b).latency.median_us;
    if (too_slow(r.latency, std::max(quiet.median_us, r.quiet_again_us), b)) {
      Attempt again = attempt(s, t, scale, b, true);
      r.first_median_us = r.latency.median_us;
      r.latency = again.latency;
      r.rss_peak = std::max(r.rss_peak, again.rss_peak);
      r.wrong.insert(r.wrong.end(), again.findings.wrong.begin(), again.findings.wrong.end());
    }
  }
  r.wrong.insert(r.wrong.end(), r.latency.wrong.begin(), r.latency.wrong.end());
  const double reference = std::max(quiet.median_us, r.quiet_again_us);
  if (too_slow(r.latency, reference, b)) {
    char line[200];
    std::snprintf(line, sizeof line, "good peer's median latency %.0f us (%.0f us the first time), over %.1fx the quiet %.0f us",
                  r.latency.median_us, r.first_median_us, b.latency_factor, reference);
    if (b.latency_advisory) r.slow = line;
    else r.wrong.push_back(line);
  }

  if (t.pid > 0) {
    const std::uint64_t slack = std::max(kAfterSlackKib, r.rss_before / 10);
    r.rss_peak_bound = r.rss_before + s.held(scale) * kPerConnectionKib + kFixedKib;
    r.rss_after_bound = r.rss_before + slack;
    r.rss_after = settled_rss(t.pid, r.rss_after_bound, b.settle);
    if (r.rss_peak > r.rss_peak_bound)
      r.wrong.push_back("RSS peak " + std::to_string(r.rss_peak >> 10) + " MiB over the bound " +
                        std::to_string(r.rss_peak_bound >> 10) + " MiB");
    if (r.rss_after > r.rss_after_bound) {
      r.rss_repeat_peak = attempt(s, t, scale, b, false).rss_peak;
      if (r.rss_repeat_peak > r.rss_peak + slack)
        r.wrong.push_back("RSS stays up after the attack (" + std::to_string(r.rss_after >> 10) +
                          " MiB) and a second run raised the peak from " + std::to_string(r.rss_peak >> 10) +
                          " to " + std::to_string(r.rss_repeat_peak >> 10) + " MiB");
    }
  }
  return r;
}

std::string format_line(const Result& r, const Latency& quiet) {
  char head[64], lat[200], rss[96];
  std::snprintf(head, sizeof head, "%-14s %s", r.name.c_str(), r.pass() ? "PASS" : "FAIL");
  const double ratio = quiet.median_us > 0 ? r.latency.median_us / quiet.median_us : 0;
  std::snprintf(lat, sizeof lat, "latency us median/p99 quiet %.0f/%.0f attacked %.0f/%.0f (%.2fx, n=%zu)",
                quiet.median_us, quiet.p99_us, r.latency.median_us, r.latency.p99_us, ratio, r.latency.samples);
  std::snprintf(rss, sizeof rss, "RSS MiB before/peak/after %.1f/%.1f/%.1f", static_cast<double>(r.rss_before) / 1024,
                static_cast<double>(r.rss_peak) / 1024, static_cast<double>(r.rss_after) / 1024);
  std::string s = std::string(head) + " | " + r.findings.answer + " | " + lat + " | " + rss;
  if (r.rss_repeat_peak) {
    char kept[96];
    std::snprintf(kept, sizeof kept, " (kept for reuse: a second run peaked at %.1f)",
                  static_cast<double>(r.rss_repeat_peak) / 1024);
    s += kept;
  }
  if (r.name != "quiet") s += " | keymgr CPU " + std::to_string(static_cast<int>(r.cpu_share * 100 + 0.5)) + "%";
  if (r.quiet_again_us > 0) s += " | quiet again " + std::to_string(static_cast<long>(r.quiet_again_us)) + " us";
  if (r.first_median_us > 0)
    s += " | ran twice, first median " + std::to_string(static_cast<long>(r.first_median_us)) + " us";
  if (!r.findings.note.empty()) s += " | " + r.findings.note;
  if (!r.slow.empty()) s += "\n    slow (advisory): " + r.slow;
  for (const auto& w : r.wrong) s += "\n    wrong: " + w;
  return s;
}

}  // namespace hostile
