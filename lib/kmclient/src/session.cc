// open_session: connect, HELLO, check the answer.
#include "session.h"

#include "answers.h"
#include "requests.h"

namespace kmclient::detail {

using kmproto::MessageType;

Result<Session> open_session(const ClientConfig& config, SSL_CTX* tls_ctx, const Endpoint& ep, Deadline deadline) {
  const std::string name = ep.to_string();
  auto prefixed = [&](const Error& e, const char* phase) {
    return Error{e.kind, e.code, name + ": " + phase + e.message};
  };
  auto conn = Connection::open(ep, tls_ctx, deadline);
  if (!conn) return prefixed(conn.error(), "");
  if (auto s = (*conn)->send(hello_frame(config), deadline); !s) return prefixed(s.error(), "HELLO: ");
  auto answer = (*conn)->read_frame(deadline);
  // A refused TLS client certificate shows as an alert on the first read.
  if (!answer) return prefixed(answer.error(), "HELLO: ");
  if (auto c = check_answer(*answer, MessageType::hello); !c) return prefixed(c.error(), "");
  if (answer->type == MessageType::error) {
    Error e = error_from(*answer, name);
    e.message = name + ": HELLO refused: " + e.message.substr(name.size() + 2);
    if (e.kind == ErrorKind::answer) e.kind = ErrorKind::unauthenticated;
    return e;
  }
  Session s;
  s.conn = std::move(*conn);
  (void)answer->view().read_u64(kmproto::ParamType::server_time_ms, s.server_time_ms);
  return s;
}

}  // namespace kmclient::detail
