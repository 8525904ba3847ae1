// Every outcome of parsing, scrambling and descrambling, declared once.
// Each non-ok value is a distinct drop reason (the gateway's drop counters).
#pragma once

#include <cstdint>

namespace pktparse {

#define PKTPARSE_STATUS_LIST(X)                                                      \
  X(ok, "ok")                                                                        \
  /* L2-L4 */                                                                        \
  X(eth_truncated, "Ethernet header truncated")                                      \
  X(vlan_truncated, "802.1Q tag truncated")                                          \
  X(vlan_too_many, "more than two VLAN tags")                                        \
  X(not_ip, "EtherType is neither IPv4 nor IPv6")                                    \
  X(ipv4_truncated, "IPv4 header truncated")                                         \
  X(ipv4_bad_version, "IPv4 version field is not 4")                                 \
  X(ipv4_bad_ihl, "IPv4 header length below 20 bytes")                               \
  X(ipv4_bad_total_length, "IPv4 total length inconsistent with frame")              \
  X(ipv4_bad_checksum, "IPv4 header checksum wrong")                                 \
  X(ipv4_fragment, "IPv4 fragment (never scrambled)")                                \
  X(ipv6_truncated, "IPv6 header truncated")                                         \
  X(ipv6_bad_version, "IPv6 version field is not 6")                                 \
  X(ipv6_bad_payload_length, "IPv6 payload length inconsistent with frame")          \
  X(ipv6_bad_ext_header, "IPv6 extension header truncated or too many")              \
  X(ipv6_fragment, "IPv6 fragment (never scrambled)")                                \
  X(not_udp, "not UDP")                                                              \
  X(udp_truncated, "UDP header truncated")                                           \
  X(udp_bad_length, "UDP length inconsistent with IP length")                        \
  /* keycast header (wire-format.md section 2) */                                    \
  X(kc_truncated, "shorter than a keycast header")                                   \
  X(kc_bad_magic, "keycast magic wrong")                                             \
  X(kc_bad_version, "keycast version unknown")                                       \
  X(kc_bad_type, "keycast type unknown")                                             \
  X(kc_bad_suite, "keycast suite unknown")                                           \
  X(kc_bad_flags, "keycast flags invalid")                                           \
  X(kc_bad_hdr_len, "keycast hdr_len below 24 or not a multiple of 4")              \
  X(kc_hdr_len_beyond_datagram, "keycast hdr_len beyond the datagram")               \
  X(kc_tlv_overrun, "keycast TLV overruns hdr_len")                                  \
  X(kc_bad_tlv_length, "keycast TLV of a known type has the wrong length")           \
  X(kc_zero_channel, "keycast channel_id is 0")                                      \
  X(kc_zero_key, "keycast key_id of a DATA datagram is 0")                           \
  X(kc_ts_with_gcm, "keycast TS flag set with a GCM suite")                          \
  X(kc_notice_incomplete, "KEY_NOTICE without NEXT_KEY_ID")                          \
  X(kc_notice_with_payload, "KEY_NOTICE with bytes after its header")                \
  /* payload region (wire-format.md sections 3 and 4) */                             \
  X(payload_too_short, "payload region shorter than the suite needs")                \
  X(payload_too_long, "datagram would exceed the UDP size limit")                    \
  X(rtp_bad_version, "RTP version is not 2")                                         \
  X(rtp_truncated, "RTP header longer than the payload")                             \
  X(ts_not_whole_packets, "TS flag set but payload is not whole TS packets")         \
  X(ts_bad_adaptation_field, "TS adaptation field longer than the packet")           \
  X(ts_already_scrambled, "input TS packet already has scrambling bits set")         \
  X(ts_parity_mismatch, "TS scrambling bits do not match the key id's parity")       \
  X(gcm_auth_failed, "GCM tag does not verify")                                      \
  /* keys */                                                                         \
  X(key_bad_length, "key material length not allowed for the suite")                \
  X(key_suite_mismatch, "datagram suite differs from the key's suite")              \
  X(key_not_prepared, "key not prepared")                                            \
  X(crypto_error, "OpenSSL call failed")

enum class Status : std::uint8_t {
#define PKTPARSE_STATUS_ENUM(name, text) name,
  PKTPARSE_STATUS_LIST(PKTPARSE_STATUS_ENUM)
#undef PKTPARSE_STATUS_ENUM
};

inline constexpr std::uint8_t kStatusCount = 0
#define PKTPARSE_STATUS_COUNT(name, text) +1
    PKTPARSE_STATUS_LIST(PKTPARSE_STATUS_COUNT)
#undef PKTPARSE_STATUS_COUNT
    ;

// Identifier-style name ("kc_bad_magic"), for counters and metrics.
const char* status_name(Status s) noexcept;
// One line for people ("keycast magic wrong").
const char* status_text(Status s) noexcept;

}  // namespace pktparse
