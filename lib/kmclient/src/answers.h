// Reading the key manager's answers: checking them, turning ERROR frames
// into Errors, taking out key records. Texts name message types and error
// codes, never key material.
#pragma once

#include <string>
#include <vector>

#include "kmclient/result.h"
#include "kmproto/key_record.h"
#include "owned_frame.h"

namespace kmclient::detail {

// "KEY_REQUEST", or "message 0x1234".
std::string message_name(kmproto::MessageType t);

// ok if f is an ERROR or the answer to `request`, with well-formed
// parameters and key records; bad_frame otherwise.
Result<void> check_answer(const OwnedFrame& f, kmproto::MessageType request);

// The ERROR frame's code (internal if absent).
kmproto::ErrorCode error_code_of(const OwnedFrame& f);
// An ERROR frame as an Error: "<endpoint>: <code name>: <server's text>".
Error error_from(const OwnedFrame& f, const std::string& endpoint);

std::vector<kmproto::KeyRecord> records_of(const OwnedFrame& f);

}  // namespace kmclient::detail
