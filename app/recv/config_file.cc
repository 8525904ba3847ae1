// load_config (see config_file.h): sections into Options, each value parsed
// with options.h's parsers so that a bad one is reported at its line.
#include "config_file.h"

#include <string>
#include <utility>
#include <vector>

#include "keycast/endpoint.h"
#include "tomlcheck/document.h"

namespace keycast_recv {

namespace {

void read_keymgr(tomlcheck::Table t, Options& o) {
  const auto endpoints = t.optional_string_array("endpoints");
  if (!endpoints || endpoints->empty()) t.fail_missing("endpoints", "at least one HOST:PORT");
  for (std::size_t i = 0; i < endpoints->size(); ++i) {
    const auto& e = (*endpoints)[i];
    if (!keycast::parse_endpoint(e.text)) t.fail("endpoints", i, "expected HOST:PORT or [V6]:PORT, got \"" + e.text + '"');
    o.keymgr.push_back(e.text);
  }
  if (auto f = t.optional_string("failover")) {
    if (*f != "in-order" && *f != "round-robin") t.fail("failover", "must be \"in-order\" or \"round-robin\"");
    o.failover = *f;
  }
  o.peer = t.required_string("peer");
  o.token = t.optional_string("token").value_or("");
  o.cert = t.optional_string("cert").value_or("");
  o.key = t.optional_string("key").value_or("");
  o.ca = t.optional_string("ca").value_or("");
  if (o.token.empty() && (o.cert.empty() || o.key.empty() || o.ca.empty())) {
    t.fail_missing("token", "or cert, key and ca for TLS");
  }
  t.check_unknown_keys();
}

void read_receive(tomlcheck::Table t, Options& o) {
  o.iface = t.optional_string("iface").value_or("");
  o.timeout_ms = static_cast<std::uint32_t>(t.optional_int("timeout_ms", 0, UINT32_MAX).value_or(0));
  o.count = static_cast<std::uint64_t>(t.optional_int("count", 0).value_or(0));
  o.batch = static_cast<std::uint32_t>(t.optional_int("batch", 1, 1024).value_or(o.batch));
  o.hold_timeout_ms =
      static_cast<std::uint32_t>(t.optional_int("hold_timeout_ms", 0, UINT32_MAX).value_or(o.hold_timeout_ms));
  if (auto m = t.optional_string("metrics_listen")) {
    if (!parse_sockaddr(*m, true)) t.fail("metrics_listen", "expected IP:PORT or [V6]:PORT (port 0: any free one)");
    o.metrics_listen = *m;
  }
  t.check_unknown_keys();
}

std::string line_of(const tomlcheck::Table& t, std::string_view key) {
  return "line " + std::to_string(t.where(key).line);
}

void read_joins(std::vector<tomlcheck::Table> joins, Options& o) {
  std::vector<JoinSpec> specs;
  for (std::size_t i = 0; i < joins.size(); ++i) {
    auto& t = joins[i];
    const std::string group = t.required_string("group");
    const auto spec = parse_join(group);
    if (!spec) {
      t.fail("group", "expected GROUP:PORT, [V6]:PORT or GROUP:PORT@SOURCE (source-specific: a multicast group)");
    }
    o.joins.push_back(group);
    if (const auto ch = t.optional_int("channel", 1, UINT32_MAX)) {
      if (o.channels.size() != i) t.fail("channel", "give a channel in every [[join]] or in none");
      for (std::size_t k = 0; k < o.channels.size(); ++k)
        if (o.channels[k] == *ch)
          t.fail("channel", "channel " + std::to_string(*ch) + " is already received by the [[join]] of " +
                                line_of(joins[k], "channel") + " (a channel is received from one group)");
      o.channels.push_back(static_cast<std::uint32_t>(*ch));
    } else if (!o.channels.empty()) {
      t.fail_missing("channel", "the first [[join]] has one: give one in every [[join]] or in none");
    }
    if (const auto out = t.optional_string("out")) {
      if (o.outs.size() != i) t.fail("out", "give an out in every [[join]] or in none (stdout)");
      const auto spec_out = parse_out(*out);
      if (!spec_out) t.fail("out", "expected stdout, a file name or udp://GROUP:PORT");
      if (spec_out->kind != OutSpec::Kind::udp)
        for (std::size_t k = 0; k < o.outs.size(); ++k)
          if (o.outs[k] == *out)
            t.fail("out", *out + " is already written by the [[join]] of " + line_of(joins[k], "out") +
                              " (give each join its own out, or none for stdout)");
      o.outs.push_back(*out);
    } else if (!o.outs.empty()) {
      t.fail_missing("out", "the first [[join]] has one: give one in every [[join]] or in none");
    }
    for (std::size_t k = 0; k < specs.size(); ++k)
      if (same_join(specs[k], *spec))
        t.fail("group", group + " is already joined (" + line_of(joins[k], "group") + ')');
    specs.push_back(*spec);
    t.check_unknown_keys();
  }
}

Options load(const tomlcheck::Document& doc) {
  auto root = doc.root();
  Options o;
  read_keymgr(root.required_table("keymgr"), o);
  if (auto r = root.optional_table("receive")) read_receive(std::move(*r), o);
  read_joins(root.required_table_array("join"), o);
  root.check_unknown_keys();
  return o;
}

}  // namespace

Options load_config(const std::filesystem::path& file) { return load(tomlcheck::Document::from_file(file)); }

Options load_config_string(std::string_view text, std::string name) {
  return load(tomlcheck::Document::from_string(text, std::move(name)));
}

Options merge(Options o, const Options& f, const std::function<bool(const char*)>& given) {
  if (given("--keymgr")) o.keymgr = f.keymgr;
  if (given("--failover")) o.failover = f.failover;
  if (given("--peer")) o.peer = f.peer;
  if (given("--token")) o.token = f.token;
  if (given("--cert")) o.cert = f.cert;
  if (given("--key")) o.key = f.key;
  if (given("--ca")) o.ca = f.ca;
  if (given("--join")) {
    o.joins = f.joins;
    o.channels = f.channels;
    o.outs = f.outs;
  } else {
    if (given("--channel")) o.channels = f.channels;
    if (given("--out")) o.outs = f.outs;
  }
  if (given("--iface")) o.iface = f.iface;
  if (given("--timeout-ms")) o.timeout_ms = f.timeout_ms;
  if (given("--count")) o.count = f.count;
  if (given("--batch")) o.batch = f.batch;
  if (given("--hold-timeout-ms")) o.hold_timeout_ms = f.hold_timeout_ms;
  if (given("--metrics-listen")) o.metrics_listen = f.metrics_listen;
  return o;
}

}  // namespace keycast_recv
