#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_fastxor_diff (corpus/fastxor_diff/): inputs
laid out as the target reads them (fuzz/fuzz_input.h: each choice in as few
big-endian bytes as its range needs), for pattern lengths around the vector
widths and the 256-byte minimum period, every misalignment class and the
keystream kernel in and out of place. Run from anywhere; it overwrites the
files it owns."""
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fastxor_diff")
MAX_N_PATTERN = 4 * 1024 + 64
MAX_N_KEYSTREAM = 4096 + 64


def choice(value: int, lo: int, hi: int) -> bytes:
    span = hi - lo
    n = (span.bit_length() + 7) // 8
    return (value - lo).to_bytes(n, "big") if n else b""


def pattern(kind: int, length: int, index: int, offset: int, n: int, cuts=(0, 0, 0), seed=7) -> bytes:
    max_len = 512 if kind == 1 else 1024
    b = choice(kind, 0, 2) + choice(length, 1, max_len) + choice(seed, 0, 255)
    b += choice(index, 0, 2**32 - 1) + choice(offset, 0, 63) + choice(n, 0, MAX_N_PATTERN)
    for c in cuts:
        b += choice(min(c, n), 0, n)
    return b + bytes(range(32, 96))


def keystream(offset: int, ks_offset: int, in_place: bool, n: int) -> bytes:
    b = choice(2, 0, 2) + choice(offset, 0, 63) + choice(ks_offset, 0, 63) + choice(int(in_place), 0, 1)
    return b + choice(n, 0, MAX_N_KEYSTREAM) + bytes(range(1, 200))


FILES = {
    "xor-len1-1316": pattern(0, 1, 0, 0, 1316),
    "xor-len3-unaligned": pattern(0, 3, 5, 1, 200, (7, 64, 130)),
    "xor-len64-1316": pattern(0, 64, 63, 32, 1316, (100, 700, 1200)),
    "xor-len255-pieces": pattern(0, 255, 1000, 63, 1000, (1, 2, 999)),
    "xor-len256": pattern(0, 256, 255, 0, 4096),
    "xor-len257": pattern(0, 257, 256, 17, 4160, (257, 514, 4000)),
    "xor-len1000": pattern(0, 1000, 999, 9, 2100, (500, 1000, 1500)),
    "xor-len1024-large-index": pattern(0, 1024, 2**32 - 1, 31, 3000),
    "xor-empty": pattern(0, 5, 3, 3, 0),
    "xor-inv-len1": pattern(1, 1, 1, 0, 300, (1, 2, 3)),
    "xor-inv-len200": pattern(1, 200, 399, 47, 1316, (188, 376, 1128)),
    "xor-inv-len512": pattern(1, 512, 1023, 2, 4160, (1024, 2048, 3072)),
    "keystream-aligned": keystream(0, 0, False, 1316),
    "keystream-misaligned": keystream(13, 50, False, 4160),
    "keystream-in-place": keystream(7, 0, True, 333),
    "keystream-short": keystream(63, 1, False, 31),
}


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    for name, data in FILES.items():
        with open(os.path.join(OUT, name + ".bin"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
