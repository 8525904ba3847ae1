// The /keycast/ telemetry commands and the state they read.
#include "telemetry.h"

#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "config/address.h"
#include "dpdk.h"

namespace gateway {

namespace {

struct ChannelText {
  std::string id, input, output, suite;
};

struct State {
  std::mutex mutex;
  std::optional<TelemetryView> view;
  std::vector<ChannelText> text;    // by channel index
  std::vector<ChannelKeyIds> keys;  // by channel index; empty until the first publish
  UsageStats usage;
};

State& state() {
  static State s;
  return s;
}

std::uint64_t left(std::uint64_t end_ms, std::uint64_t now_ms) { return end_ms > now_ms ? end_ms - now_ms : 0; }

// A nested dict, added to d under name (DPDK frees it with d).
rte_tel_data* add_dict(rte_tel_data* d, const std::string& name) {
  rte_tel_data* c = rte_tel_data_alloc();
  if (!c) return nullptr;
  rte_tel_data_start_dict(c);
  if (rte_tel_data_add_dict_container(d, name.c_str(), c, 0) != 0) {
    rte_tel_data_free(c);
    return nullptr;
  }
  return c;
}

int counters_cmd(const char*, const char*, rte_tel_data* d) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (!s.view) return -1;
  const CounterTotals t = sum_counters(s.view->counters);
  rte_tel_data_start_dict(d);
  for (std::size_t i = 0; i < kCounterCount; ++i)
    if (t[i] != 0) rte_tel_data_add_dict_u64(d, counter_name(i), t[i]);
  const UsageStats& u = s.usage;
  const std::pair<const char*, std::uint64_t> usage[] = {{"usage_reports_sent", u.sent},
                                                         {"usage_reports_failed_attempts", u.failed_attempts},
                                                         {"usage_reports_lost", u.lost},
                                                         {"usage_reports_maybe_twice", u.maybe_twice},
                                                         {"usage_reports_waiting", u.waiting}};
  for (const auto& [name, v] : usage)
    if (v != 0) rte_tel_data_add_dict_u64(d, name, v);
  return 0;
}

int channels_cmd(const char*, const char*, rte_tel_data* d) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (!s.view) return -1;
  rte_tel_data_start_dict(d);
  for (const Channel& ch : s.view->channels->channels()) {
    const ChannelText& t = s.text[ch.index];
    rte_tel_data* c = add_dict(d, t.id);
    if (!c) return -1;
    rte_tel_data_add_dict_u64(c, "id", ch.id);
    rte_tel_data_add_dict_string(c, "input", t.input.c_str());
    rte_tel_data_add_dict_string(c, "output", t.output.c_str());
    rte_tel_data_add_dict_string(c, "suite", t.suite.c_str());
    if (ch.index < s.keys.size()) {
      rte_tel_data_add_dict_u64(c, "key_id", s.keys[ch.index].current);
      if (s.keys[ch.index].next) rte_tel_data_add_dict_u64(c, "next_key_id", s.keys[ch.index].next);
    }
    const ChannelStats& st = s.view->channel_stats[ch.index];
    rte_tel_data_add_dict_u64(c, "datagrams", st.datagrams.load(std::memory_order_relaxed));
    if (s.view->mode == Mode::scramble) {
      const KeyUsage u = st.key_usage();
      rte_tel_data_add_dict_u64(c, "worker_key_id", u.key_id);
      rte_tel_data_add_dict_u64(c, "key_datagrams", u.datagrams);
      rte_tel_data_add_dict_u64(c, "key_bytes", u.bytes);
      rte_tel_data_add_dict_u64(c, "seq", st.seq.load(std::memory_order_relaxed));
    }
  }
  return 0;
}

int keys_cmd(const char*, const char*, rte_tel_data* d) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (!s.view) return -1;
  const std::uint64_t now = s.view->clock->now_ms();
  rte_tel_data_start_dict(d);
  for (std::size_t i = 0; i < s.keys.size(); ++i) {
    const ChannelKeyIds& k = s.keys[i];
    rte_tel_data* c = add_dict(d, s.text[i].id);
    if (!c) return -1;
    auto key = [&](const char* id_name, std::uint32_t id, const char* ms_name, std::uint64_t end_ms) {
      if (!id) return;
      rte_tel_data_add_dict_u64(c, id_name, id);
      rte_tel_data_add_dict_u64(c, ms_name, left(end_ms, now));
    };
    key("current_key_id", k.current, "current_remaining_ms", k.current_end_ms);
    key("next_key_id", k.next, "next_remaining_ms", k.next_end_ms);
    key("previous_key_id", k.previous, "previous_remaining_ms", k.previous_until_ms);
  }
  return 0;
}

template <typename T>
void add_u64_list(rte_tel_data* d, const char* name, const std::vector<T>& values) {
  rte_tel_data* list = rte_tel_data_alloc();
  if (!list) return;
  rte_tel_data_start_array(list, RTE_TEL_U64_VAL);
  for (const T v : values) rte_tel_data_add_array_u64(list, v);
  if (rte_tel_data_add_dict_container(d, name, list, 0) != 0) rte_tel_data_free(list);
}

int mode_cmd(const char*, const char*, rte_tel_data* d) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (!s.view) return -1;
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_string(d, "mode", s.view->mode == Mode::scramble ? "scramble" : "descramble");
  add_u64_list(d, "worker_lcores", s.view->worker_lcores);
  add_u64_list(d, "input_ports", s.view->input_ports);
  rte_tel_data_add_dict_u64(d, "output_port", s.view->output_port);
  rte_tel_data_add_dict_u64(d, "channels", s.view->channels->size());
  return 0;
}

int workers_cmd(const char*, const char*, rte_tel_data* d) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (!s.view) return -1;
  rte_tel_data_start_dict(d);
  for (std::size_t i = 0; i < s.view->counters.size() && i < s.view->worker_lcores.size(); ++i) {
    rte_tel_data* w = add_dict(d, std::to_string(s.view->worker_lcores[i]));
    if (!w) return -1;
    const WorkerLoad l = load_of(*s.view->counters[i]);
    rte_tel_data_add_dict_u64(w, "busy_frames", l.frames);
    rte_tel_data_add_dict_u64(w, "busy_cycles", l.cycles);
    rte_tel_data_add_dict_u64(w, "cycles_per_frame", l.cycles_per_frame());
  }
  return 0;
}

void register_once() {
  static const bool done = [] {
    struct Cmd {
      const char* name;
      telemetry_cb fn;
      const char* help;
    };
    const Cmd cmds[] = {
        {"/keycast/counters", counters_cmd,
         "Every non-zero gateway counter, summed over workers, and usage report counts. No parameters."},
        {"/keycast/channels", channels_cmd,
         "Per channel: groups, suite, key ids, datagrams, and (scramble) seq. No parameters."},
        {"/keycast/keys", keys_cmd, "Per channel: current/next/previous key ids and ms left. No parameters."},
        {"/keycast/mode", mode_cmd, "Mode, worker lcore, ports, channel count. No parameters."},
        {"/keycast/workers", workers_cmd,
         "Per worker lcore: frames and TSC cycles from RX burst to TX buffer, cycles per frame. No parameters."},
    };
    for (const Cmd& c : cmds)
      if (rte_telemetry_register_cmd(c.name, c.fn, c.help) != 0)
        std::fprintf(stderr, "keycast-gateway: warning: telemetry command %s not registered\n", c.name);
    return true;
  }();
  (void)done;
}

}  // namespace

Telemetry::Telemetry(TelemetryView view) {
  register_once();
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.text.assign(view.channels->size(), {});
  for (const Channel& ch : view.channels->channels()) {
    ChannelText& t = s.text[ch.index];
    t.id = std::to_string(ch.id);
    t.input = to_string(IpPort{ch.in_addr, ch.in_port});
    t.output = to_string(IpPort{ch.out_addr, ch.out_port});
    t.suite = std::string(pktparse::suite_name(ch.suite));
  }
  s.keys.clear();
  s.usage = {};
  s.view = std::move(view);
}

Telemetry::~Telemetry() {
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.view.reset();
  s.keys.clear();
}

void Telemetry::publish(std::vector<ChannelKeyIds> keys, const UsageStats& usage) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  s.keys = std::move(keys);
  s.usage = usage;
}

}  // namespace gateway
