// Key forms for the memory and log scans, with a FIPS-197 key expansion of
// our own (OpenSSL keeps its schedules private).
#include "key_forms.h"

#include <array>
#include <stdexcept>

namespace keymem::test {

namespace {

constexpr std::uint8_t kXorInv = 2, kAes128Ctr = 3, kAes256Ctr = 4, kAes128Gcm = 5;

std::uint8_t rotl8(std::uint8_t x, int s) { return static_cast<std::uint8_t>(x << s | x >> (8 - s)); }

// The S-box: multiplicative inverse in GF(2^8), then the affine map.
std::array<std::uint8_t, 256> make_sbox() {
  std::array<std::uint8_t, 256> s{};
  std::uint8_t p = 1, q = 1;
  do {
    p = static_cast<std::uint8_t>(p ^ (p << 1) ^ ((p & 0x80) ? 0x1b : 0));  // p * 3
    q = static_cast<std::uint8_t>(q ^ (q << 1));                            // q / 3
    q = static_cast<std::uint8_t>(q ^ (q << 2));
    q = static_cast<std::uint8_t>(q ^ (q << 4));
    if (q & 0x80) q ^= 0x09;
    s[p] = static_cast<std::uint8_t>(q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4) ^ 0x63);
  } while (p != 1);
  s[0] = 0x63;
  return s;
}

std::string hex(const std::uint8_t* p, std::size_t n, const char* digits) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

std::string base64(const Bytes& b) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s;
  for (std::size_t i = 0; i < b.size(); i += 3) {
    const std::uint32_t v = std::uint32_t{b[i]} << 16 | (i + 1 < b.size() ? std::uint32_t{b[i + 1]} << 8 : 0) |
                            (i + 2 < b.size() ? b[i + 2] : 0);
    s += kAlphabet[v >> 18 & 63];
    s += kAlphabet[v >> 12 & 63];
    s += i + 1 < b.size() ? kAlphabet[v >> 6 & 63] : '=';
    s += i + 2 < b.size() ? kAlphabet[v & 63] : '=';
  }
  return s;
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

void windows(const std::string& name, const Bytes& b, std::vector<KeyForm>& out) {
  for (std::size_t at = 0; at + 16 <= b.size(); at += 16)
    out.push_back({name + "[" + std::to_string(at) + ".." + std::to_string(at + 16) + ")",
                   Bytes(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + 16))});
}

}  // namespace

Bytes last_aes_round_key(const Bytes& key) {
  if (key.size() != 16 && key.size() != 32) throw std::invalid_argument("AES keys are 16 or 32 bytes");
  static const auto sbox = make_sbox();
  const std::size_t nk = key.size() / 4, rounds = nk + 6, words = 4 * (rounds + 1);
  Bytes w(4 * words);
  std::copy(key.begin(), key.end(), w.begin());
  std::uint8_t rcon = 1;
  for (std::size_t i = nk; i < words; ++i) {
    std::array<std::uint8_t, 4> t = {w[4 * i - 4], w[4 * i - 3], w[4 * i - 2], w[4 * i - 1]};
    if (i % nk == 0) {
      t = {static_cast<std::uint8_t>(sbox[t[1]] ^ rcon), sbox[t[2]], sbox[t[3]], sbox[t[0]]};
      rcon = static_cast<std::uint8_t>(rcon << 1 ^ ((rcon & 0x80) ? 0x1b : 0));
    } else if (nk > 6 && i % nk == 4) {
      for (auto& x : t) x = sbox[x];
    }
    for (std::size_t j = 0; j < 4; ++j) w[4 * i + j] = static_cast<std::uint8_t>(w[4 * (i - nk) + j] ^ t[j]);
  }
  return Bytes(w.end() - 16, w.end());
}

std::vector<KeyForm> memory_forms(std::uint8_t suite, const Bytes& key) {
  if (key.size() < 16) throw std::invalid_argument("keys under 16 bytes are not supported");
  std::vector<KeyForm> out;
  windows("raw", key, out);
  if (suite == kXorInv) {
    Bytes inv(key);
    for (auto& b : inv) b = static_cast<std::uint8_t>(~b);
    windows("inverted", inv, out);
  }
  if (suite == kAes128Ctr || suite == kAes256Ctr || suite == kAes128Gcm)
    out.push_back({"last AES round key", last_aes_round_key(key)});
  return out;
}

std::vector<KeyForm> log_forms(const Bytes& key) {
  std::vector<KeyForm> out;
  windows("raw", key, out);
  out.push_back({"hex", text(hex(key.data(), key.size(), "0123456789abcdef"))});
  out.push_back({"HEX", text(hex(key.data(), key.size(), "0123456789ABCDEF"))});
  for (std::size_t at = 0; at + 16 <= key.size() && key.size() > 16; at += 16) {
    out.push_back({"hex window", text(hex(key.data() + at, 16, "0123456789abcdef"))});
    out.push_back({"HEX window", text(hex(key.data() + at, 16, "0123456789ABCDEF"))});
  }
  out.push_back({"base64", text(base64(key))});
  return out;
}

}  // namespace keymem::test
