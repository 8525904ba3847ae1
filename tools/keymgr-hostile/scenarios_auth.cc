// Attacks on authentication: no HELLO, a late HELLO, a wrong token, a
// certificate whose CN is no peer or whose CA is another.
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <thread>

#include "close_watch.h"
#include "scenario.h"

namespace hostile {

namespace {

std::string common_name(const std::string& pem_file) {
  std::FILE* f = std::fopen(pem_file.c_str(), "r");
  if (!f) return {};
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!cert) return {};
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  X509_free(cert);
  return cn;
}

}  // namespace

void no_hello(const Target& t, const Scale& s, Control& ctl, Findings& f) {
  const auto start = Clock::now();
  CloseWatch silent;
  for (std::size_t i = 0; i < s.silent; ++i) {
    // Under TLS half of them do not even start the handshake.
    auto c = (t.lab || i % 2) ? std::make_unique<TestClient>(t.port) : connect_raw(t, t.attacker);
    silent.add(std::move(c), Clock::now());
  }
  auto early_hello = connect_raw(t, t.attacker);
  auto late_hello = connect_raw(t, t.attacker);
  const auto late_since = Clock::now();
  ctl.set_ready();

  std::string first_seen;
  auto first = connect_raw(t, t.attacker);
  const bool first_ok = answered_then_closed(*first, key_request_frame(t.channel), kUnauthenticated, &first_seen);
  f.expect(first_ok, "KEY_REQUEST before HELLO: " + first_seen + " (want ERROR unauthenticated, close)");

  while (Clock::now() < start + t.idle_timeout / 2) silent.poll(Ms(10));
  const bool early_sent = early_hello->send(hello_frame(t.attacker));
  const auto early = early_hello->read();
  f.expect(early_sent && is_answer(early, kHello), "HELLO at half the idle timeout: " + describe(early));

  // By idle_close_max() the key manager must have closed it.
  while (Clock::now() < late_since + t.idle_close_max()) silent.poll(Ms(20));
  (void)late_hello->send(hello_frame(t.attacker));
  const auto late = late_hello->read(Ms(1000));
  f.expect(!late, "HELLO after the idle timeout: " + describe(late) + " (want the connection closed)");
  while (!silent.all_closed() && Clock::now() < start + t.idle_close_max() + Ms(1000)) silent.poll(Ms(20));
  const std::string window = silent.check_window(t.idle_close_min(), t.idle_close_max(), "silent connections", f.wrong);
  f.answer = std::to_string(s.silent) + " silent closed after " + window + "; HELLO at T/2 " +
             (is_answer(early, kHello) ? "answered" : "not answered") + "; HELLO after T " +
             (late ? "answered" : "closed") + "; KEY_REQUEST first: " + first_seen;
}

void wrong_token(const Target& t, const Scale&, Control& ctl, Findings& f) {
  PeerIdentity wrong = t.good, missing = t.good, unknown = t.good, role = t.good;
  wrong.token = t.good.token + "x";
  missing.token.clear();
  unknown.id = "no-such-peer";
  role.role = t.good.role == 1 ? 2 : 1;
  const PeerIdentity* cases[] = {&wrong, &missing, &unknown, &role};
  std::size_t tries = 0, right = 0;
  do {
    for (const PeerIdentity* as : cases) {
      auto c = connect_raw(t, nullptr);
      std::string seen;
      ++tries;
      if (answered_then_closed(*c, hello_frame(*as), kUnauthenticated, &seen)) {
        ++right;
      } else if (f.wrong.size() < 4) {
        f.wrong.push_back("HELLO as " + as->id + " role " + std::to_string(as->role) + " token '" + as->token +
                          "': " + seen + " (want ERROR unauthenticated, close)");
      }
    }
    ctl.set_ready();
  } while (!ctl.stopping());
  f.answer = std::to_string(right) + "/" + std::to_string(tries) +
             " HELLOs (wrong, missing token; unknown peer; wrong role) ERROR unauthenticated + close";
}

void wrong_cn(const Target& t, const Scale&, Control& ctl, Findings& f) {
  const std::string stranger_cn = common_name(t.stranger.cert);
  f.expect(!stranger_cn.empty(), "cannot read the CN of " + t.stranger.cert);
  PeerIdentity stranger{stranger_cn, t.good.role, "", t.stranger};
  PeerIdentity stranger_as_good{t.good.id, t.good.role, "", t.stranger};
  PeerIdentity good_as_attacker{t.attacker.id, t.attacker.role, "", t.good.tls};
  const PeerIdentity* refused_at_hello[] = {&stranger, &stranger_as_good, &good_as_attacker};
  PeerIdentity foreign{t.good.id, t.good.role, "", t.foreign};
  PeerIdentity anonymous{t.good.id, t.good.role, "", TlsIdentity{}};
  const PeerIdentity* refused_in_handshake[] = {&foreign, &anonymous};
  std::size_t tries = 0, right = 0;
  do {
    for (const PeerIdentity* as : refused_at_hello) {
      auto c = connect_raw(t, *as);
      std::string seen;
      ++tries;
      if (answered_then_closed(*c, hello_frame(*as), kUnauthenticated, &seen)) {
        ++right;
      } else if (f.wrong.size() < 4) {
        f.wrong.push_back("certificate " + as->tls.cert + " with HELLO as " + as->id + ": " + seen +
                          " (want ERROR unauthenticated, close)");
      }
    }
    for (const PeerIdentity* as : refused_in_handshake) {
      // TLS 1.3: the client may finish its handshake before the server
      // refuses the certificate; either way nothing is answered.
      auto c = connect_raw(t, *as);
      ++tries;
      std::optional<OwnedFrame> a;
      if (c->ok() && c->send(hello_frame(*as))) a = c->read(Ms(3000));
      if (!a && wait_closed(*c, Ms(3000))) {
        ++right;
      } else if (f.wrong.size() < 4) {
        f.wrong.push_back("certificate '" + as->tls.cert + "' with HELLO as " + as->id + ": " + describe(a) +
                          " (want the handshake refused)");
      }
    }
    ctl.set_ready();
  } while (!ctl.stopping());
  f.answer = std::to_string(right) + "/" + std::to_string(tries) + " refused (CN " + stranger_cn +
             ", CN not peer_id: ERROR unauthenticated + close; other CA, no certificate: handshake refused)";
}

}  // namespace hostile
