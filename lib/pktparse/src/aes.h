// AES behind PreparedKey: the per-key state (an OpenSSL EVP context, and where
// keycast is built with intel-ipsec-mb its expanded keys and GCM key data) and
// the per-datagram CTR and GCM streams over it. Everything the packet path
// calls is here, inline; preparation and the backend choice are in aes.cc.
#pragma once

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "aes_ctr_vaes.h"
#include "aes_gcm_vaes.h"
#include "pktparse/bytes.h"
#include "pktparse/key.h"
#include "pktparse/status.h"
#include "pktparse/suite.h"
#include "secmem/allocator.h"

#ifdef PKTPARSE_HAVE_IPSEC_MB
#include <intel-ipsec-mb.h>
#endif

namespace pktparse::detail {

// One AES key, both ways keyed: EVP always (the fallback), ipsec-mb's key
// schedule when backend is ipsec_mb. Allocated once per PreparedKey, in
// secret memory; the EVP context is in OpenSSL's heap, which keycast's
// binaries put in secret memory too (secmem/openssl_heap.h).
struct AesKey : secmem::InSecretMemory {
  AesKey() = default;
  ~AesKey();
  AesKey(const AesKey&) = delete;
  AesKey& operator=(const AesKey&) = delete;

  Status prepare(Suite s, std::span<const std::uint8_t> material, AesBackend b) noexcept;
  void wipe() noexcept;  // cleanses every key schedule; the EVP context stays allocated

#ifdef PKTPARSE_HAVE_IPSEC_MB
  gcm_key_data gcm;                             // aes128-gcm: round keys and GHASH key powers
  alignas(16) std::uint8_t enc_keys[16 * 15];   // CTR: encryption round keys
  alignas(16) std::uint8_t dec_keys[16 * 15];   // made by the key expansion, unused by CTR
  IMB_KEY_SIZE_BYTES key_size = IMB_KEY_128_BYTES;
  const IMB_MGR* mgr = nullptr;                 // process-wide, for the GCM functions
  // Where vaes_wanted(): CTR by aes_ctr_vaes() over enc_keys, GCM by
  // gcm_vaes_seal()/gcm_vaes_open() over gcm.expanded_keys and these powers of H.
  bool vaes = false;
  alignas(32) std::uint8_t ghash_powers[kGhashPowersBytes];
#endif
  EVP_CIPHER_CTX* evp = nullptr;
  AesBackend backend = AesBackend::evp;
};

#ifdef PKTPARSE_HAVE_IPSEC_MB
// This thread's manager for ipsec-mb's job functions (CTR), which keep
// state in it, made on the thread's first call (about 200 KB; mgr null if
// that failed), and the job the CTR calls fill in: zeroed once here, since
// zeroing its 200 bytes per datagram cost more than the rest of the call
// around the cipher. GCM's direct functions need neither.
struct ImbThread {
  IMB_MGR* mgr = nullptr;
  IMB_JOB job{};
  ~ImbThread();
};
ImbThread& imb_thread() noexcept;
#endif

// AES-CTR keystream from the 16-byte initial counter block, whose last 4 bytes
// count blocks (big-endian). apply/keystream continue where the previous call
// ended; every call but the last must cover whole 16-byte blocks.
class AesCtr {
 public:
  AesCtr(const AesKey& key, const std::uint8_t counter0[16]) noexcept : key_(key) {
    std::memcpy(counter_, counter0, 16);
#ifdef PKTPARSE_HAVE_IPSEC_MB
    if (key.backend == AesBackend::ipsec_mb) {
      if (key.vaes) return;
      imb_ = &imb_thread();
      if (imb_->mgr) return;
      imb_ = nullptr;
    }
#endif
    ok_ = EVP_EncryptInit_ex(key.evp, nullptr, nullptr, nullptr, counter_) == 1;
  }
  // p[0, n) ^= keystream, in place.
  void apply(std::uint8_t* p, std::size_t n) noexcept { run(p, p, n); }
  // out[0, n) = keystream; n <= kChunk.
  void keystream(std::uint8_t* out, std::size_t n) noexcept {
    static constexpr std::uint8_t kZeros[kChunk] = {};
    run(kZeros, out, n);
  }
  static constexpr std::size_t kChunk = 2048;
  bool ok() const noexcept { return ok_; }

 private:
  void run(const std::uint8_t* in, std::uint8_t* out, std::size_t n) noexcept {
    if (n == 0) return;
#ifdef PKTPARSE_HAVE_IPSEC_MB
    if (key_.vaes) {
      aes_ctr_vaes(key_.enc_keys, key_.key_size == IMB_KEY_128_BYTES ? 10 : 14, counter_, in, out, n);
      advance(n);
      return;
    }
    if (imb_) {
      IMB_JOB& job = imb_->job;  // every field read for CTR is set here; the rest stay 0
      job.src = in;
      job.dst = out;
      job.cipher_start_src_offset_in_bytes = 0;
      job.msg_len_to_cipher_in_bytes = n;
      job.iv = counter_;
      job.iv_len_in_bytes = 16;
      job.enc_keys = key_.enc_keys;
      job.key_len_in_bytes = key_.key_size;
      job.cipher_mode = IMB_CIPHER_CNTR;
      job.cipher_direction = IMB_DIR_ENCRYPT;
      job.hash_alg = IMB_AUTH_NULL;
      job.chain_order = IMB_ORDER_CIPHER_HASH;
      ok_ &= IMB_SUBMIT_CIPHER_BURST_NOCHECK(imb_->mgr, &job, 1, IMB_CIPHER_CNTR, IMB_DIR_ENCRYPT, key_.key_size) == 1;
      advance(n);
      return;
    }
#endif
    int outl = 0;
    ok_ &= EVP_EncryptUpdate(key_.evp, out, &outl, in, static_cast<int>(n)) == 1;
  }
#ifdef PKTPARSE_HAVE_IPSEC_MB
  // Both CTR kernels other than EVP take the counter block afresh per call:
  // move it past the n bytes' blocks.
  void advance(std::size_t n) noexcept {
    store_be32(counter_ + 12, load_be32(counter_ + 12) + static_cast<std::uint32_t>((n + 15) / 16));
  }
#endif

  const AesKey& key_;
#ifdef PKTPARSE_HAVE_IPSEC_MB
  ImbThread* imb_ = nullptr;
#endif
  alignas(16) std::uint8_t counter_[16];
  bool ok_ = true;
};

// AES-128-GCM of one datagram: 12-byte IV, AAD in up to two pieces (the
// keycast header and the RTP header), the body in place, the tag. ipsec-mb
// does it in one call (a few ns a datagram less than init/update/finalize);
// where the key has `vaes`, gcm_vaes_seal() and gcm_vaes_open() do.
class AesGcm {
 public:
  AesGcm(const AesKey& key, const std::uint8_t iv[12], bool encrypt, const std::uint8_t* aad1, std::size_t n1,
         const std::uint8_t* aad2, std::size_t n2) noexcept
      : key_(key) {
#ifdef PKTPARSE_HAVE_IPSEC_MB
    if (key.backend == AesBackend::ipsec_mb) {
      // ipsec-mb takes the AAD in one piece: as it is when the pieces are
      // adjacent (the header in front of the payload), else gathered here;
      // EVP takes the rare AAD too long to gather.
      const std::uint8_t* aad = aad1;
      if (n2 && aad1 + n1 != aad2) {
        aad = n1 + n2 <= sizeof gathered_ ? gathered_ : nullptr;
        if (aad) {
          std::memcpy(gathered_, aad1, n1);
          std::memcpy(gathered_ + n1, aad2, n2);
        }
      }
      if (aad) {
        imb_ = true;
        iv_ = iv;
        aad_ = aad;
        aad_len_ = n1 + n2;
        return;
      }
    }
#endif
    std::uint8_t iv16[16] = {};
    std::memcpy(iv16, iv, 12);
    ok_ = EVP_CipherInit_ex(key.evp, nullptr, nullptr, nullptr, iv16, encrypt ? 1 : 0) == 1;
    evp_aad(aad1, n1);
    evp_aad(aad2, n2);
  }
  AesGcm(const AesGcm&) = delete;  // aad_ may point into this object
  AesGcm& operator=(const AesGcm&) = delete;

  // Encrypts p[0, n) in place and writes the tag (constructed with encrypt).
  Status seal(std::uint8_t* p, std::size_t n, std::uint8_t* tag) noexcept {
#ifdef PKTPARSE_HAVE_IPSEC_MB
    if (imb_ && key_.vaes) {
      gcm_vaes_seal(key_.gcm.expanded_keys, key_.ghash_powers, iv_, aad_, aad_len_, p, n, tag);
      return Status::ok;
    }
    if (imb_) {
      gcm_context_data ctx;
      IMB_AES128_GCM_ENC(key_.mgr, &key_.gcm, &ctx, p, p, n, iv_, aad_, aad_len_, tag, kGcmTagLen);
      return Status::ok;
    }
#endif
    evp_update(p, n);
    int outl = 0;
    std::uint8_t none[16];
    ok_ &= EVP_CipherFinal_ex(key_.evp, none, &outl) == 1;
    ok_ &= EVP_CIPHER_CTX_ctrl(key_.evp, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagLen), tag) == 1;
    return ok_ ? Status::ok : Status::crypto_error;
  }

  // Decrypts p[0, n) in place; gcm_auth_failed unless tag is the one it
  // makes (constructed without encrypt).
  Status open(std::uint8_t* p, std::size_t n, const std::uint8_t* tag) noexcept {
#ifdef PKTPARSE_HAVE_IPSEC_MB
    if (imb_ && key_.vaes) {
      std::uint8_t expected[kGcmTagLen];
      gcm_vaes_open(key_.gcm.expanded_keys, key_.ghash_powers, iv_, aad_, aad_len_, p, n, expected);
      return CRYPTO_memcmp(expected, tag, kGcmTagLen) == 0 ? Status::ok : Status::gcm_auth_failed;
    }
    if (imb_) {
      gcm_context_data ctx;
      std::uint8_t expected[kGcmTagLen];
      IMB_AES128_GCM_DEC(key_.mgr, &key_.gcm, &ctx, p, p, n, iv_, aad_, aad_len_, expected, kGcmTagLen);
      return CRYPTO_memcmp(expected, tag, kGcmTagLen) == 0 ? Status::ok : Status::gcm_auth_failed;
    }
#endif
    evp_update(p, n);
    if (!ok_) return Status::crypto_error;
    std::uint8_t expected[kGcmTagLen];
    std::memcpy(expected, tag, kGcmTagLen);
    if (EVP_CIPHER_CTX_ctrl(key_.evp, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagLen), expected) != 1)
      return Status::crypto_error;
    int outl = 0;
    std::uint8_t none[16];
    return EVP_CipherFinal_ex(key_.evp, none, &outl) == 1 ? Status::ok : Status::gcm_auth_failed;
  }

 private:
  void evp_aad(const std::uint8_t* p, std::size_t n) noexcept {
    int outl = 0;
    if (n) ok_ &= EVP_CipherUpdate(key_.evp, nullptr, &outl, p, static_cast<int>(n)) == 1;
  }
  void evp_update(std::uint8_t* p, std::size_t n) noexcept {
    int outl = 0;
    ok_ &= EVP_CipherUpdate(key_.evp, p, &outl, p, static_cast<int>(n)) == 1;
  }

  const AesKey& key_;
  bool ok_ = true;
#ifdef PKTPARSE_HAVE_IPSEC_MB
  bool imb_ = false;
  const std::uint8_t* iv_ = nullptr;
  const std::uint8_t* aad_ = nullptr;
  std::size_t aad_len_ = 0;
  std::uint8_t gathered_[512];
#endif
};

}  // namespace pktparse::detail
