// Internet checksums (RFC 1071): the one's-complement sum, the IPv4 header
// checksum and the UDP checksum over the IPv4/IPv6 pseudo-header.
//
// Values returned by ones_sum() and fold() are 16-bit sums in network order,
// not inverted; the checksum written to the wire is ~fold(...). When sums over
// pieces are chained through `initial`, every piece but the last must have an
// even length (an odd piece would shift the byte lanes of the next one).
// The header-writing functions trust the length fields they read (IHL, UDP
// length): callers pass headers that parse_frame()/parse_ip() accepted or
// that they built themselves.
#include "pktparse/checksum.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string_view>

#include "checksum_kernels.h"
#include "fastxor/fastxor.h"
#include "pktparse/bytes.h"
#include "pktparse/net.h"

namespace pktparse {

namespace detail {

// Sums in native byte order (RFC 1071 section 2(B): the sum is byte-order
// independent up to a final swap), 2^16 = 1 (mod 0xFFFF) letting the total
// fold at the end. Per block of at most 2^16 32-bit words w: `all` = sum of w
// mod 2^32 and `high` = sum of w >> 16 (exact); the sum of the low halves is
// then exactly all - (high << 16) mod 2^32, as it is below 2^32. Two adds and
// a shift per word: the loop vectorizes into three instructions per vector.
// Built for AVX-512BW, AVX2 and the baseline; the loader picks one by CPUID
// (GCC function multiversioning), so the library needs no -m flags.
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
std::uint16_t portable_sum(const std::uint8_t* p, std::size_t n) noexcept {
  constexpr std::size_t kBlockWords = std::size_t{1} << 16;
  std::uint64_t acc = 0;
  while (n >= 4) {
    const std::size_t words = std::min(n / 4, kBlockWords);
    std::uint32_t all = 0;
    std::uint32_t high = 0;
    for (std::size_t i = 0; i < words; ++i) {
      std::uint32_t w;
      std::memcpy(&w, p + 4 * i, sizeof w);
      all += w;
      high += w >> 16;
    }
    acc += std::uint64_t{static_cast<std::uint32_t>(all - (high << 16))} + high;
    p += 4 * words;
    n -= 4 * words;
  }
  if (n > 0) {
    // Zero-padded tail keeps the byte lanes, so an odd last byte lands in the
    // high half of its 16-bit word in network order.
    std::uint8_t tail[4] = {};
    std::memcpy(tail, p, n);
    std::uint32_t w;
    std::memcpy(&w, tail, sizeof w);
    acc += (w & 0xFFFFu) + (w >> 16);
  }
  return fold64(acc);
}

namespace {

// buf[0, sizeof(T)) ^= ks[0, sizeof(T)), returning the result as a word.
template <class T>
T xor_word(std::uint8_t* buf, const std::uint8_t* ks) noexcept {
  T a;
  T b;
  std::memcpy(&a, buf, sizeof a);
  std::memcpy(&b, ks, sizeof b);
  a = static_cast<T>(a ^ b);
  std::memcpy(buf, &a, sizeof a);
  return a;
}

}  // namespace

// 8-byte words, each adding its two 32-bit halves (2^32 = 1 mod 0xFFFF; no
// carry out of 64 bits below 2^31 words), then 4, 2 and 1 bytes: every
// piece but the last byte starts at an even offset, so the words line up.
std::uint64_t xor_sum_portable(std::uint8_t* buf, const std::uint8_t* ks, std::size_t n) noexcept {
  std::uint64_t acc = 0;
  for (; n >= 8; n -= 8, buf += 8, ks += 8) {
    const auto a = xor_word<std::uint64_t>(buf, ks);
    acc += (a & 0xFFFFFFFFu) + (a >> 32);
  }
  if (n & 4) {
    acc += xor_word<std::uint32_t>(buf, ks);
    buf += 4;
    ks += 4;
  }
  if (n & 2) {
    acc += xor_word<std::uint16_t>(buf, ks);
    buf += 2;
    ks += 2;
  }
  if (n & 1) {  // the first byte of a word, the rest of it zero
    const auto a = xor_word<std::uint8_t>(buf, ks);
    acc += std::endian::native == std::endian::little ? a : std::uint32_t{a} << 8;
  }
  return acc;
}

}  // namespace detail

namespace {

// The vector kernels of the ISA fastxor chose (the widest the CPU has, or
// FASTXOR_IMPL's), chosen once, and their bound (zero, hence the portable
// kernels, for a caller that runs before this file's dynamic initialisation).
struct VectorSum {
  std::uint64_t (*sum)(const std::uint8_t*, std::size_t) noexcept;
  std::uint64_t (*xor_sum)(std::uint8_t*, const std::uint8_t*, std::size_t) noexcept;
  std::size_t max_bytes;
};
VectorSum choose_vector_sum() noexcept {
  const std::string_view isa = fastxor::impl_name();
  if (isa == "avx512") return {detail::even_address_sum_avx512, detail::xor_sum_avx512, detail::kMaxAvx512SumBytes};
  if (isa == "avx2") return {detail::even_address_sum_avx2, detail::xor_sum_avx2, detail::kMaxAvx2SumBytes};
  return {nullptr, nullptr, 0};
}
const VectorSum kVectorSum = choose_vector_sum();

// Native-order sum of [p, p + n) from p, by the fastest kernel this CPU has,
// unfolded (any value that folds to the sum).
std::uint64_t native_sum64(const std::uint8_t* p, std::size_t n) noexcept {
  if (n <= detail::kShortSum) return detail::short_sum64(p, n);
  if (n < kVectorSum.max_bytes) {
    const std::uint64_t s = kVectorSum.sum(p, n);
    return (reinterpret_cast<std::uintptr_t>(p) & 1) ? detail::bswap(detail::fold64(s)) : s;
  }
  return detail::portable_sum(p, n);
}

std::uint16_t native_sum(const std::uint8_t* p, std::size_t n) noexcept { return detail::fold64(native_sum64(p, n)); }

std::uint16_t to_network_order(std::uint16_t native) noexcept {
  if constexpr (std::endian::native == std::endian::little) return detail::bswap(native);
  return native;
}

// Native-order and unfolded. Both pseudo-headers reduce to addresses +
// protocol + UDP length: the zero bytes add nothing and the IPv6 32-bit
// length has a zero upper half.
std::uint64_t pseudo_header_sum64(const std::uint8_t* ip, std::uint16_t udp_len) noexcept {
  const bool v6 = (ip[0] >> 4) == 6;
  return detail::short_sum64(v6 ? ip + 8 : ip + 12, v6 ? 32 : 8) + to_network_order(kIpProtoUdp) +
         std::uint64_t{to_network_order(udp_len)};  // to_network_order is its own inverse
}

// Pseudo-header and datagram as they are, native order, unfolded.
std::uint64_t udp_sum64(const std::uint8_t* ip, const std::uint8_t* udp) noexcept {
  const std::uint16_t len = load_be16(udp + 4);
  return pseudo_header_sum64(ip, len) + native_sum64(udp, len);
}

}  // namespace

namespace detail {

// Pieces of half the bound: even, so their words line up with buf's.
std::uint64_t xor_sum(std::uint8_t* buf, const std::uint8_t* ks, std::size_t n) noexcept {
  if (n < kVectorSum.max_bytes) return kVectorSum.xor_sum(buf, ks, n);
  if (!kVectorSum.xor_sum) return xor_sum_portable(buf, ks, n);
  const std::size_t piece = kVectorSum.max_bytes / 2;
  std::uint64_t acc = 0;
  for (; n > piece; n -= piece, buf += piece, ks += piece) acc += fold64(kVectorSum.xor_sum(buf, ks, piece));
  return acc + fold64(kVectorSum.xor_sum(buf, ks, n));
}

}  // namespace detail

std::uint32_t ones_sum(std::span<const std::uint8_t> bytes, std::uint32_t initial) noexcept {
  const std::uint16_t s = to_network_order(native_sum(bytes.data(), bytes.size()));
  return fold(fold(initial) + std::uint32_t{s});
}

std::uint32_t network_sum(const PayloadSum& sum) noexcept { return to_network_order(detail::fold64(sum.native)); }

void set_ipv4_checksum(std::uint8_t* ip) noexcept {
  const std::size_t ihl = (ip[0] & 0x0Fu) * 4u;
  store_be16(ip + 10, 0);
  store_be16(ip + 10, static_cast<std::uint16_t>(~fold(ones_sum({ip, ihl}))));
}

bool ipv4_checksum_ok(const std::uint8_t* ip) noexcept {
  const std::size_t ihl = (ip[0] & 0x0Fu) * 4u;
  return fold(ones_sum({ip, ihl})) == 0xFFFF;
}

namespace {

// datagram_sum: the pseudo-header and the datagram as they are (native
// order, unfolded). The field's old value is taken out of it (+ its
// complement) rather than zeroed first: the sum's first load would wait for
// that store.
void store_udp_checksum(std::uint8_t* udp, std::uint64_t datagram_sum) noexcept {
  std::uint16_t old_field;
  std::memcpy(&old_field, udp + 6, sizeof old_field);
  const std::uint16_t native = detail::fold64(datagram_sum + static_cast<std::uint16_t>(~old_field));
  auto sum = static_cast<std::uint16_t>(~to_network_order(native));
  store_be16(udp + 6, sum == 0 ? 0xFFFF : sum);
}

}  // namespace

void set_udp_checksum(const std::uint8_t* ip, std::uint8_t* udp) noexcept {
  store_udp_checksum(udp, udp_sum64(ip, udp));
}

void set_udp_checksum(const std::uint8_t* ip, std::uint8_t* udp, std::size_t payload_offset,
                      const PayloadSum& payload) noexcept {
  store_udp_checksum(udp, pseudo_header_sum64(ip, load_be16(udp + 4)) + native_sum64(udp, payload_offset) +
                              detail::fold64(payload.native));
}

void set_udp_pseudo_header_sum(const std::uint8_t* ip, std::uint8_t* udp) noexcept {
  store_be16(udp + 6, to_network_order(detail::fold64(pseudo_header_sum64(ip, load_be16(udp + 4)))));
}

bool udp_checksum_ok(const std::uint8_t* ip, const std::uint8_t* udp) noexcept {
  if (load_be16(udp + 6) == 0) {
    // "No checksum": allowed over IPv4 (RFC 768), not over IPv6 (RFC 8200 8.1).
    return (ip[0] >> 4) != 6;
  }
  return detail::fold64(udp_sum64(ip, udp)) == 0xFFFF;  // the same in either byte order
}

}  // namespace pktparse
