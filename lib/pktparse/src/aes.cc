// AES key preparation and wiping for both backends, and the choice between
// them: intel-ipsec-mb (when built with it, and only on the paths it was
// measured faster on) or OpenSSL EVP.
#include "aes.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string_view>

#include "secmem/wipe.h"

namespace pktparse {

namespace detail {

namespace {

const EVP_CIPHER* evp_cipher(Suite s) noexcept {
  switch (s) {
    case Suite::aes128_ctr: return EVP_aes_128_ctr();
    case Suite::aes256_ctr: return EVP_aes_256_ctr();
    case Suite::aes128_gcm: return EVP_aes_128_gcm();
    case Suite::xor_pattern:
    case Suite::xor_inv: break;
  }
  return nullptr;
}

#ifdef PKTPARSE_HAVE_IPSEC_MB
// Where ipsec-mb beat EVP (keycast-bench, 1316-byte CTR and GCM): its AVX-512
// VAES path (Sapphire Rapids: CTR 2.9x, GCM 4.2x) and its AVX2 path (Zen3:
// CTR 1.9x, GCM 1.6x). Its AVX-512 path without VAES and its SSE/AVX paths
// were never measured here: EVP there.
bool imb_arch_ok(IMB_MGR* m, IMB_ARCH arch) noexcept {
  if (imb_get_errno(m) != 0) return false;
  constexpr std::uint64_t kVaes = IMB_FEATURE_VAES | IMB_FEATURE_VPCLMULQDQ;
  return arch == IMB_ARCH_AVX2 || (arch == IMB_ARCH_AVX512 && (m->features & kVaes) == kVaes);
}

// The process-wide manager: its GCM function pointers are all the packet path
// reads from it. Null where ipsec-mb would not take a path it is faster on.
const IMB_MGR* imb_global_mgr() noexcept {
  static IMB_MGR* const mgr = [] {
    IMB_MGR* m = alloc_mb_mgr(0);
    if (!m) return m;
    IMB_ARCH arch = IMB_ARCH_NONE;
    init_mb_mgr_auto(m, &arch);
    if (!imb_arch_ok(m, arch)) {
      free_mb_mgr(m);
      return static_cast<IMB_MGR*>(nullptr);
    }
    return m;
  }();
  return mgr;
}

// keycast's VAES CTR and GCM kernels where ipsec-mb runs its AVX2 path on a
// CPU with VAES and VPCLMULQDQ: there its CTR and GCM do one block per
// instruction (Zen3, keycast-bench at 1316 bytes: a whole keycast CTR
// scramble on these kernels ran 1.3-1.6x, a GCM one 1.2-1.5x, the bare
// ipsec-mb call); its AVX-512 VAES path does four. PKTPARSE_VAES=off keeps
// ipsec-mb's own (to compare them); PKTPARSE_VAES=on takes keycast's on
// every CPU that has AVX2, VAES and VPCLMULQDQ, also where ipsec-mb runs its
// AVX-512 path (so that the tests run the kernels of a Zen3 on any such CPU).
bool vaes_wanted(const IMB_MGR* m) noexcept {
  static const int mode = [] {  // -1 off, 1 on, 0 the default
    const std::string_view e = std::getenv("PKTPARSE_VAES") ? std::getenv("PKTPARSE_VAES") : "";
    return e == "off" ? -1 : e == "on" ? 1 : 0;
  }();
  constexpr std::uint64_t kVaes = IMB_FEATURE_AVX2 | IMB_FEATURE_VAES | IMB_FEATURE_VPCLMULQDQ;
  const bool cpu = (m->features & kVaes) == kVaes;
  return mode > 0 ? cpu : mode == 0 && m->used_arch == IMB_ARCH_AVX2 && cpu;
}
#endif

bool available(AesBackend b) noexcept {
#ifdef PKTPARSE_HAVE_IPSEC_MB
  if (b == AesBackend::ipsec_mb) return imb_global_mgr() != nullptr;
#endif
  return b == AesBackend::evp;
}

// The default, from PKTPARSE_AES if set, else the fastest available.
AesBackend default_backend() noexcept {
  static const AesBackend b = [] {
    const AesBackend best = available(AesBackend::ipsec_mb) ? AesBackend::ipsec_mb : AesBackend::evp;
    const char* forced = std::getenv("PKTPARSE_AES");
    if (!forced || !*forced) return best;
    for (AesBackend c : {AesBackend::evp, AesBackend::ipsec_mb}) {
      if (aes_backend_name(c) != forced) continue;
      if (available(c)) return c;
      std::fprintf(stderr, "pktparse: PKTPARSE_AES=%s is not available here; using %s\n", forced,
                   aes_backend_name(best).data());
      return best;
    }
    std::fprintf(stderr, "pktparse: PKTPARSE_AES=%.32s is unknown (evp|ipsec-mb); using %s\n", forced,
                 aes_backend_name(best).data());
    return best;
  }();
  return b;
}

std::atomic<int> g_forced{-1};  // force_aes_backend(), or -1

}  // namespace

#ifdef PKTPARSE_HAVE_IPSEC_MB
ImbThread::~ImbThread() {
  if (mgr) free_mb_mgr(mgr);
}

ImbThread& imb_thread() noexcept {
  thread_local ImbThread t;
  if (!t.mgr) [[unlikely]] {
    t.mgr = alloc_mb_mgr(0);
    if (t.mgr) init_mb_mgr_auto(t.mgr, nullptr);
  }
  return t;
}
#endif

AesKey::~AesKey() {
  wipe();
  EVP_CIPHER_CTX_free(evp);
}

void AesKey::wipe() noexcept {
  if (evp) EVP_CIPHER_CTX_reset(evp);  // cleanses OpenSSL's key schedule
#ifdef PKTPARSE_HAVE_IPSEC_MB
  secmem::secure_wipe(&gcm, sizeof gcm);
  secmem::secure_wipe(enc_keys, sizeof enc_keys);
  secmem::secure_wipe(dec_keys, sizeof dec_keys);
  secmem::secure_wipe(ghash_powers, sizeof ghash_powers);
  vaes = false;
#endif
  backend = AesBackend::evp;
}

Status AesKey::prepare(Suite s, std::span<const std::uint8_t> material, AesBackend b) noexcept {
  wipe();
  if (!evp && !(evp = EVP_CIPHER_CTX_new())) return Status::crypto_error;
  // EVP is keyed for ipsec-mb keys too: it takes what ipsec-mb cannot (see AesGcm, AesCtr).
  if (EVP_EncryptInit_ex(evp, evp_cipher(s), nullptr, material.data(), nullptr) != 1) {
    EVP_CIPHER_CTX_reset(evp);
    return Status::crypto_error;
  }
#ifdef PKTPARSE_HAVE_IPSEC_MB
  if (b == AesBackend::ipsec_mb && (mgr = imb_global_mgr())) {
    vaes = vaes_wanted(mgr);
    if (s == Suite::aes128_gcm) {
      IMB_AES128_GCM_PRE(mgr, material.data(), &gcm);
      if (vaes) ghash_vaes_prepare(gcm.expanded_keys, ghash_powers);
    } else if (s == Suite::aes128_ctr) {
      key_size = IMB_KEY_128_BYTES;
      IMB_AES_KEYEXP_128(mgr, material.data(), enc_keys, dec_keys);
    } else {
      key_size = IMB_KEY_256_BYTES;
      IMB_AES_KEYEXP_256(mgr, material.data(), enc_keys, dec_keys);
    }
    backend = AesBackend::ipsec_mb;
  }
#else
  (void)b;
#endif
  return Status::ok;
}

}  // namespace detail

std::string_view aes_backend_name(AesBackend b) noexcept { return b == AesBackend::ipsec_mb ? "ipsec-mb" : "evp"; }

AesBackend aes_backend() noexcept {
  const int f = detail::g_forced.load(std::memory_order_relaxed);
  return f < 0 ? detail::default_backend() : static_cast<AesBackend>(f);
}

bool force_aes_backend(AesBackend b) noexcept {
  if (!detail::available(b)) return false;
  detail::g_forced.store(static_cast<int>(b), std::memory_order_relaxed);
  return true;
}

bool prepare_packet_thread() noexcept {
#ifdef PKTPARSE_HAVE_IPSEC_MB
  if (aes_backend() == AesBackend::ipsec_mb) return detail::imb_thread().mgr != nullptr;
#endif
  return true;
}

void warm_up_aes() noexcept {
  constexpr std::uint8_t kZeros[32] = {};
  for (const Suite s : {Suite::aes128_ctr, Suite::aes256_ctr, Suite::aes128_gcm}) {
    detail::AesKey k;
    (void)k.prepare(s, kZeros, aes_backend());
  }
}

}  // namespace pktparse
