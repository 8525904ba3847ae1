// The key_record parameter (keymgr-protocol.md section 2): one key with its
// place in the channel's rotation. Material lives in the record itself, so
// decoding does not allocate, and is wiped when the record is destroyed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "kmproto/frame.h"
#include "kmproto/param.h"
#include "kmproto/status.h"

namespace kmproto {

inline constexpr std::size_t kKeyRecordFixedLen = 28;  // the fields before the material
inline constexpr std::size_t kMaxKeyMaterialLen = 1024;

enum class KeyState : std::uint8_t { current = 1, next = 2, previous = 3 };

// The fixed fields of a key_record, without the material.
struct KeyRecordFields {
  std::uint32_t channel_id = 0;
  std::uint32_t key_id = 0;
  std::uint8_t suite = 0;  // as in wire-format.md
  KeyState state = KeyState::current;
  std::uint32_t lifetime_ms = 0;
  // Remaining effective time when sent; for a next key, its lifetime.
  std::uint32_t remaining_ms = 0;
  // Unix ms at which the key becomes current; 0 if it already is.
  std::uint64_t not_before_ms = 0;
};

class KeyRecord : public KeyRecordFields {
 public:

  KeyRecord() = default;
  KeyRecord(const KeyRecord&) = default;
  KeyRecord& operator=(const KeyRecord&) = default;
  ~KeyRecord();

  std::span<const std::uint8_t> material() const noexcept { return {material_.data(), material_len_}; }
  // key_length on the wire.
  std::uint16_t key_length() const noexcept { return material_len_; }
  // key_record_material_too_long over 1024 bytes, leaving the record as it was.
  Status set_material(std::span<const std::uint8_t> material) noexcept;

  std::size_t encoded_len() const noexcept { return kKeyRecordFixedLen + material_len_; }

  bool operator==(const KeyRecord& o) const noexcept;

 private:
  std::array<std::uint8_t, kMaxKeyMaterialLen> material_{};
  std::uint16_t material_len_ = 0;
};

// Writes r.encoded_len() bytes (the parameter's value) to out; returns that length.
std::size_t encode_key_record(const KeyRecord& r, std::uint8_t* out) noexcept;
// The same from fields and material held elsewhere (material at most 1024
// bytes): kKeyRecordFixedLen + material.size() bytes.
std::size_t encode_key_record(const KeyRecordFields& f, std::span<const std::uint8_t> material,
                              std::uint8_t* out) noexcept;

// Reads a key_record value: key_record_too_short under 28 bytes,
// key_record_length_mismatch if key_length is not the number of bytes after
// the fixed fields, key_record_material_too_long, key_record_bad_state.
// out is changed only on ok.
Status decode_key_record(std::span<const std::uint8_t> value, KeyRecord& out) noexcept;

// Decodes every key_record of a frame, in order.
class KeyRecordIterator {
 public:
  explicit KeyRecordIterator(const Frame& f) noexcept : params_(f.all(ParamType::key_record)) {}

  // False at the end or at the first record that does not decode; status()
  // then says which.
  bool next(KeyRecord& out) noexcept;
  Status status() const noexcept { return status_ != Status::ok ? status_ : params_.status(); }

 private:
  ParamIterator params_;
  Status status_ = Status::ok;
};

}  // namespace kmproto
