#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_roundtrip (corpus/roundtrip/): inputs laid
out as the target reads them (fuzz/fuzz_input.h: each choice in as few
big-endian bytes as its range needs), for every suite with raw, RTP, TS and
RTP+TS payloads, header TLVs and a clear PID. Run from anywhere; it
overwrites the files it owns."""
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "roundtrip")
XOR, XOR_INV, AES128_CTR, AES256_CTR, AES128_GCM = 1, 2, 3, 4, 5
TLV_KEY_REMAINING, TLV_ADDR4, TLV_ADDR6, TLV_NEXT_KEY_ID, TLV_NEXT_KEY_IN = 1, 2, 4, 8, 16


def choice(value: int, lo: int, hi: int) -> bytes:
    span = hi - lo
    n = (span.bit_length() + 7) // 8
    return (value - lo).to_bytes(n, "big") if n else b""


def flag(v: bool) -> bytes:
    return choice(int(v), 0, 1)


def ts_packet(pid: int, cc: int, adaptation: int = 0, scrambled: bool = False) -> bytes:
    """A 188-byte packet and the flag the target reads after it (set: keep
    the scrambling bits as given)."""
    if adaptation:
        hdr = bytes([0x47, pid >> 8, pid & 0xFF, 0x30 | cc, adaptation - 1]) + b"\x00" * (adaptation - 1)
    else:
        hdr = bytes([0x47, pid >> 8, pid & 0xFF, 0x10 | cc])
    pkt = bytearray((hdr + bytes((i * 7) & 0xFF for i in range(188)))[:188])
    if scrambled:
        pkt[3] |= 0x80
    return bytes(pkt) + flag(scrambled)


def roundtrip(suite: int, key_len: int = 16, ts=False, rtp=False, clear_pid=None, tlvs=0, shape=0,
              payload=b"", packets=(), csrcs=0, ext_words=None, evp=True, corrupt_at=30) -> bytes:
    b = choice(suite, 1, 5)
    if suite == XOR:
        b += choice(key_len, 1, 1024)
    elif suite == XOR_INV:
        b += choice(key_len, 1, 512)
    b += choice(0x5C, 0, 255) + choice(7, 1, 2**32 - 1) + flag(evp) + flag(ts) + flag(rtp)
    b += flag(clear_pid is not None) + (choice(clear_pid, 0, 0x1FFF) if clear_pid is not None else b"")
    b += choice(42, 1, 2**32 - 1) + choice(1000, 0, 2**64 - 1) + choice(tlvs, 0, 31)
    if tlvs & TLV_KEY_REMAINING:
        b += choice(1500, 0, 2**32 - 1)
    if tlvs & TLV_NEXT_KEY_ID:
        b += choice(8, 1, 2**32 - 1)
    if tlvs & TLV_NEXT_KEY_IN:
        b += choice(2000, 0, 2**32 - 1)
    b += choice(corrupt_at, 0, 0xFFFF) + choice(0x01, 1, 255) + choice(shape, 0, 3)
    if shape & 1:
        b += choice(csrcs, 0, 15) + flag(ext_words is not None)
        if ext_words is not None:
            b += choice(ext_words, 0, 3)
    if shape & 2:
        b += choice(len(packets), 1, 7) + b"".join(packets)
    else:
        b += payload
    return b


RAW = bytes(range(256)) * 5 + bytes(36)  # 1316 bytes
TS7 = [ts_packet(0x100, i) for i in range(7)]
TS_MIXED = [ts_packet(0x0000, 0), ts_packet(0x1000, 0), ts_packet(0x100, 1, adaptation=8),
            ts_packet(0x101, 2, adaptation=184), ts_packet(0x1FFF, 0)]

FILES = {
    "xor-raw": roundtrip(XOR, 7, payload=RAW),
    "xor-len1024-ts": roundtrip(XOR, 1024, ts=True, shape=2, packets=TS7),
    "xor-ts-already-scrambled": roundtrip(XOR, 16, ts=True, shape=2, packets=[TS7[0], ts_packet(0x100, 1, scrambled=True)]),
    "xor-inv-rtp-ts": roundtrip(XOR_INV, 5, ts=True, rtp=True, shape=3, packets=TS_MIXED, csrcs=2, ext_words=1),
    "xor-inv-len512-raw": roundtrip(XOR_INV, 512, payload=RAW[:333], tlvs=31),
    "aes128-ctr-raw": roundtrip(AES128_CTR, payload=RAW, tlvs=TLV_KEY_REMAINING),
    "aes128-ctr-ts-clear-pid": roundtrip(AES128_CTR, ts=True, shape=2, packets=TS7, clear_pid=0x100, evp=False),
    "aes256-ctr-rtp-ts": roundtrip(AES256_CTR, ts=True, rtp=True, shape=3, packets=TS_MIXED, tlvs=TLV_ADDR6),
    "aes256-ctr-rtp": roundtrip(AES256_CTR, rtp=True, shape=1, payload=RAW[:500], csrcs=15, ext_words=3),
    "aes128-gcm-raw": roundtrip(AES128_GCM, payload=RAW, tlvs=TLV_NEXT_KEY_ID | TLV_NEXT_KEY_IN, corrupt_at=1400),
    "aes128-gcm-rtp-ts-rule": roundtrip(AES128_GCM, ts=True, rtp=True, shape=3, packets=TS7[:2], evp=False,
                                        tlvs=TLV_ADDR4),
    "aes128-gcm-empty": roundtrip(AES128_GCM, payload=b""),
}


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    for name, data in FILES.items():
        with open(os.path.join(OUT, name + ".bin"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
