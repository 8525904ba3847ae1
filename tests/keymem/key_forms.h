// The byte strings by which a key could be found where it must not be: in a
// process's memory (the key itself in 16-byte windows, its bitwise inverse
// for xor-inv whose expanded pattern holds it, the last AES round key of its
// key schedule) and in a log (the same raw bytes, hex in either case, base64).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace keymem::test {

using Bytes = std::vector<std::uint8_t>;

struct KeyForm {
  std::string what;  // "raw[0..16)", "inverted[16..32)", "last AES round key", "hex", ...
  Bytes bytes;
};

// suite: wire-format.md's number (1 xor, 2 xor-inv, 3 aes128-ctr,
// 4 aes256-ctr, 5 aes128-gcm). Keys shorter than 16 bytes are not supported.
std::vector<KeyForm> memory_forms(std::uint8_t suite, const Bytes& key);
std::vector<KeyForm> log_forms(const Bytes& key);

// The AES key schedule's last round key (FIPS-197 key expansion) of a 16- or
// 32-byte key.
Bytes last_aes_round_key(const Bytes& key);

}  // namespace keymem::test
