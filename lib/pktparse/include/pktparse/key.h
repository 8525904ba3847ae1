// A key prepared for the packet path: the xor pattern expanded (and laid out
// over whole TS packets, below), or the AES key schedule made once (OpenSSL
// EVP, or intel-ipsec-mb where keycast is built with it and the CPU has its
// VAES path), so per datagram only the IV changes.
// Material is wiped when the key is wiped, reprepared or destroyed; a
// PreparedKey made with new (std::make_unique) and its AES state live in
// secret memory (secmem: out of core dumps, wiped again when freed).
//
// A PreparedKey carries cipher state: it is used by one thread at a time (the
// channel's owner), and is neither copyable nor shareable across threads.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "fastxor/fastxor.h"
#include "pktparse/payload.h"
#include "pktparse/status.h"
#include "pktparse/suite.h"
#include "secmem/allocator.h"

namespace pktparse {

namespace detail {
struct AesKey;
}

// The implementation of the AES suites. Both give the same bytes.
enum class AesBackend : std::uint8_t { evp, ipsec_mb };
std::string_view aes_backend_name(AesBackend b) noexcept;  // "evp", "ipsec-mb"
// The backend of AES keys prepared from now on: ipsec-mb when built with it and
// the CPU takes its AVX2 or AVX-512 VAES path, else EVP. PKTPARSE_AES=evp|ipsec-mb
// (read once) chooses among those available. On ipsec-mb's AVX2 path with
// VAES and VPCLMULQDQ, CTR and GCM run keycast's own 256-bit VAES kernels
// over ipsec-mb's key schedule (PKTPARSE_VAES=off: ipsec-mb's instead; =on:
// keycast's wherever the CPU has them, also beside ipsec-mb's AVX-512 path).
AesBackend aes_backend() noexcept;
// For tests and benchmarks: AES keys prepared after this call use b. False, and
// nothing changes, when b is not available in this build or on this CPU.
bool force_aes_backend(AesBackend b) noexcept;
// Called once by a packet thread before its first datagram: makes the
// thread's own AES state (ipsec-mb's per-thread manager), which otherwise
// is made by the first AES-CTR datagram. False if it could not be made (then
// that thread's CTR datagrams go through EVP).
bool prepare_packet_thread() noexcept;
// Initialises the crypto libraries for AES keys now rather than at the first
// key's preparation: OpenSSL reads its configuration and loads its provider's
// ciphers on first use (milliseconds; 30-50 under ASan, more on a loaded
// machine), ipsec-mb probes the CPU. A process that must use its first key
// as soon as it arrives (a receiver joining a channel) calls this at start.
void warm_up_aes() noexcept;

class PreparedKey : public secmem::InSecretMemory {
 public:
  PreparedKey() = default;
  ~PreparedKey();
  PreparedKey(const PreparedKey&) = delete;
  PreparedKey& operator=(const PreparedKey&) = delete;

  // Not for the packet path: allocates the AES state on first use.
  Status prepare(Suite suite, std::uint32_t key_id, std::span<const std::uint8_t> material) noexcept;
  void wipe() noexcept;

  bool ready() const noexcept { return ready_; }
  Suite suite() const noexcept { return suite_; }
  std::uint32_t key_id() const noexcept { return key_id_; }
  const fastxor::Pattern& pattern() const noexcept { return pattern_; }
  // xor suites: the XOR that scrambles (and descrambles) up to
  // kTsKeystreamPackets TS packets that all carry payload only and are all
  // scrambled, as one buffer: per packet, the scrambling bits of this key's
  // parity in header byte 3 and the keystream, continued from packet to
  // packet, over its 184 payload bytes. Empty for the AES suites.
  static constexpr std::size_t kTsKeystreamPackets = 7;  // 1316 bytes: the usual IPTV datagram
  std::span<const std::uint8_t> ts_keystream() const noexcept {
    return {ts_keystream_, suite_is_xor(suite_) && ready_ ? sizeof ts_keystream_ : 0};
  }
  const detail::AesKey* aes() const noexcept { return aes_; }  // AES suites, once prepared
  AesBackend backend() const noexcept;  // of an AES key: the one it was prepared with

 private:
  void lay_out_ts_keystream(std::uint32_t key_id) noexcept;

  fastxor::Pattern pattern_;
  alignas(64) std::uint8_t ts_keystream_[kTsKeystreamPackets * kTsPacketLen] = {};
  detail::AesKey* aes_ = nullptr;
  Suite suite_ = Suite::xor_pattern;
  std::uint32_t key_id_ = 0;
  bool ready_ = false;
};

}  // namespace pktparse
