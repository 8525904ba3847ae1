// Encoding, decoding and wiping key records.
#include "kmproto/key_record.h"

#include <algorithm>

#include "pktparse/bytes.h"
#include "secmem/wipe.h"

namespace kmproto {

namespace {
bool is_key_state(std::uint8_t s) noexcept {
  return s == static_cast<std::uint8_t>(KeyState::current) || s == static_cast<std::uint8_t>(KeyState::next) ||
         s == static_cast<std::uint8_t>(KeyState::previous);
}
}  // namespace

KeyRecord::~KeyRecord() { secmem::secure_wipe(material_.data(), material_.size()); }

Status KeyRecord::set_material(std::span<const std::uint8_t> material) noexcept {
  if (material.size() > kMaxKeyMaterialLen) return Status::key_record_material_too_long;
  std::copy(material.begin(), material.end(), material_.begin());
  if (material.size() < material_len_) secmem::secure_wipe(material_.data() + material.size(), material_len_ - material.size());
  material_len_ = static_cast<std::uint16_t>(material.size());
  return Status::ok;
}

bool KeyRecord::operator==(const KeyRecord& o) const noexcept {
  return channel_id == o.channel_id && key_id == o.key_id && suite == o.suite && state == o.state &&
         lifetime_ms == o.lifetime_ms && remaining_ms == o.remaining_ms && not_before_ms == o.not_before_ms &&
         std::ranges::equal(material(), o.material());
}

std::size_t encode_key_record(const KeyRecordFields& f, std::span<const std::uint8_t> material,
                              std::uint8_t* out) noexcept {
  pktparse::store_be32(out, f.channel_id);
  pktparse::store_be32(out + 4, f.key_id);
  out[8] = f.suite;
  out[9] = static_cast<std::uint8_t>(f.state);
  pktparse::store_be16(out + 10, static_cast<std::uint16_t>(material.size()));
  pktparse::store_be32(out + 12, f.lifetime_ms);
  pktparse::store_be32(out + 16, f.remaining_ms);
  pktparse::store_be64(out + 20, f.not_before_ms);
  std::ranges::copy(material, out + kKeyRecordFixedLen);
  return kKeyRecordFixedLen + material.size();
}

std::size_t encode_key_record(const KeyRecord& r, std::uint8_t* out) noexcept {
  return encode_key_record(r, r.material(), out);
}

Status decode_key_record(std::span<const std::uint8_t> value, KeyRecord& out) noexcept {
  if (value.size() < kKeyRecordFixedLen) return Status::key_record_too_short;
  const std::uint8_t* p = value.data();
  const std::size_t key_length = pktparse::load_be16(p + 10);
  if (key_length != value.size() - kKeyRecordFixedLen) return Status::key_record_length_mismatch;
  if (key_length > kMaxKeyMaterialLen) return Status::key_record_material_too_long;
  if (!is_key_state(p[9])) return Status::key_record_bad_state;

  out.channel_id = pktparse::load_be32(p);
  out.key_id = pktparse::load_be32(p + 4);
  out.suite = p[8];
  out.state = static_cast<KeyState>(p[9]);
  out.lifetime_ms = pktparse::load_be32(p + 12);
  out.remaining_ms = pktparse::load_be32(p + 16);
  out.not_before_ms = pktparse::load_be64(p + 20);
  return out.set_material(value.subspan(kKeyRecordFixedLen));
}

bool KeyRecordIterator::next(KeyRecord& out) noexcept {
  if (status_ != Status::ok) return false;
  Param p;
  if (!params_.next(p)) return false;
  status_ = decode_key_record(p.value, out);
  return status_ == Status::ok;
}

}  // namespace kmproto
