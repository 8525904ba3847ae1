// Decoding frames from a byte stream and reading their parameters.
#include "kmproto/frame.h"

#include "pktparse/bytes.h"

namespace kmproto {

namespace {

template <typename T>
Status read_int(const Frame& f, ParamType t, T& out) noexcept {
  const auto value = f.find(t);
  if (!value) return Status::param_missing;
  if (value->size() != sizeof(T)) return Status::param_bad_length;
  out = pktparse::load_be<T>(value->data());
  return Status::ok;
}

Status decode_one(std::span<const std::uint8_t> buf, Frame& out, std::size_t& consumed) noexcept {
  if (buf.empty()) return Status::need_more;
  if (buf[0] != kVersion) return Status::bad_version;
  if (buf.size() < kHeaderLen) return Status::need_more;
  const std::uint32_t message_length = pktparse::load_be32(buf.data() + 3);
  if (message_length > kMaxMessageLength) return Status::length_over_limit;
  if (buf.size() - kHeaderLen < message_length) return Status::need_more;

  const auto params = buf.subspan(kHeaderLen, message_length);
  ParamIterator it(params);
  for (Param p; it.next(p);) {
  }
  if (it.status() != Status::ok) return it.status();
  out = {static_cast<MessageType>(pktparse::load_be16(buf.data() + 1)), params};
  consumed = kHeaderLen + message_length;
  return Status::ok;
}

}  // namespace

std::optional<std::span<const std::uint8_t>> Frame::find(ParamType t) const noexcept {
  ParamIterator it(params, t);
  Param p;
  if (it.next(p)) return p.value;
  return std::nullopt;
}

Status Frame::read_u8(ParamType t, std::uint8_t& out) const noexcept { return read_int(*this, t, out); }
Status Frame::read_u16(ParamType t, std::uint16_t& out) const noexcept { return read_int(*this, t, out); }
Status Frame::read_u32(ParamType t, std::uint32_t& out) const noexcept { return read_int(*this, t, out); }
Status Frame::read_u64(ParamType t, std::uint64_t& out) const noexcept { return read_int(*this, t, out); }

Status Frame::read_bytes(ParamType t, std::span<const std::uint8_t>& out) const noexcept {
  const auto value = find(t);
  if (!value) return Status::param_missing;
  out = *value;
  return Status::ok;
}

Status Frame::read_string(ParamType t, std::string_view& out) const noexcept {
  std::span<const std::uint8_t> bytes;
  const Status s = read_bytes(t, bytes);
  if (s == Status::ok) out = {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  return s;
}

Status FrameDecoder::decode(std::span<const std::uint8_t> buf, Frame& out, std::size_t& consumed) noexcept {
  consumed = 0;
  if (failure_ != Status::ok) return failure_;
  const Status s = decode_one(buf, out, consumed);
  if (s != Status::ok && s != Status::need_more) failure_ = s;
  return s;
}

}  // namespace kmproto
