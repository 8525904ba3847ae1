// Answer checking and ERROR mapping.
#include "answers.h"

#include <cstdio>

namespace kmclient::detail {

using kmproto::MessageType;
using kmproto::ParamType;

std::string message_name(MessageType t) {
  const auto code = static_cast<std::uint16_t>(t);
  const char* answer = kmproto::is_answer(t) ? " answer" : "";
  switch (kmproto::request_of(t)) {
    case MessageType::hello: return std::string("HELLO") + answer;
    case MessageType::key_request: return std::string("KEY_REQUEST") + answer;
    case MessageType::key_generate: return std::string("KEY_GENERATE") + answer;
    case MessageType::key_push: return std::string("KEY_PUSH") + answer;
    case MessageType::subscribe: return std::string("SUBSCRIBE") + answer;
    case MessageType::key_delivery: return std::string("KEY_DELIVERY") + answer;
    case MessageType::usage_report: return std::string("USAGE_REPORT") + answer;
    case MessageType::heartbeat: return std::string("HEARTBEAT") + answer;
    case MessageType::error: return std::string("ERROR") + answer;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "message 0x%04x", code);
  return buf;
}

Result<void> check_answer(const OwnedFrame& f, MessageType request) {
  auto bad = [](std::string what) { return Error{ErrorKind::bad_frame, std::nullopt, std::move(what)}; };
  if (f.type != MessageType::error && f.type != kmproto::answer_of(request))
    return bad("answered " + message_name(request) + " with " + message_name(f.type));
  const kmproto::Frame v = f.view();
  kmproto::ParamIterator params(v.params);
  kmproto::Param p;
  while (params.next(p)) {
  }
  if (params.status() != kmproto::Status::ok)
    return bad(message_name(f.type) + ": " + kmproto::status_text(params.status()));
  kmproto::KeyRecordIterator records(v);
  kmproto::KeyRecord r;
  while (records.next(r)) {
  }
  if (records.status() != kmproto::Status::ok)
    return bad(message_name(f.type) + ": " + kmproto::status_text(records.status()));
  return {};
}

kmproto::ErrorCode error_code_of(const OwnedFrame& f) {
  std::uint16_t code = static_cast<std::uint16_t>(kmproto::ErrorCode::internal);
  (void)f.view().read_u16(ParamType::error_code, code);
  return static_cast<kmproto::ErrorCode>(code);
}

Error error_from(const OwnedFrame& f, const std::string& endpoint) {
  const kmproto::ErrorCode code = error_code_of(f);
  std::string_view text;
  (void)f.view().read_string(ParamType::error_text, text);
  std::string msg = endpoint + ": " + kmproto::error_code_name(code);
  if (!text.empty()) msg.append(": ").append(text);
  const ErrorKind kind = code == kmproto::ErrorCode::unauthenticated ? ErrorKind::unauthenticated : ErrorKind::answer;
  return Error{kind, code, std::move(msg)};
}

std::vector<kmproto::KeyRecord> records_of(const OwnedFrame& f) {
  std::vector<kmproto::KeyRecord> out;
  const kmproto::Frame v = f.view();
  kmproto::KeyRecordIterator it(v);
  kmproto::KeyRecord r;
  while (it.next(r)) out.push_back(r);
  return out;
}

}  // namespace kmclient::detail
