#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_slot_reader (corpus/slot_reader/): key
objects laid out as src/layout.h describes, valid and subtly broken. Run from
anywhere; it overwrites the files it owns."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "slot_reader")
SLOT = 3328
ENTRY = 1088


def header(slots, state=1, magic=b"KCSHM001", version=1, hsize=64, ssize=SLOT):
    return magic + struct.pack("<IIIIII QQ 16x", version, hsize, slots, ssize, 4242, state, 1700000000000000000,
                               1700000000000)


def entry(key_id=0, suite=0, state=0, length=0, lifetime=10000, not_before=1700000000000, fill=None):
    fixed = struct.pack("<IBBHII Q 40x", key_id, suite, state, length, lifetime, 0, not_before)
    material = bytes([fill if fill is not None else (key_id * 7) & 0xFF]) * min(length, 1024)
    return fixed + material.ljust(1024, b"\0")


def slot(channel, entries, seq=2):
    entries = list(entries) + [entry()] * (3 - len(entries))
    return struct.pack("<QII Q 40x", seq, channel, 0, 1700000000123) + b"".join(entries)


def three(key_id, suite=3, length=16):
    return [entry(key_id, suite, 1, length), entry(key_id + 1, suite, 2, length), entry(key_id - 1, suite, 3, length)]


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    files = {
        "valid-two-channels": header(2) + slot(1, three(10)) + slot(2, three(20, suite=1, length=1024)),
        "valid-current-only": header(1) + slot(4, [entry(5, 2, 1, 64)]),
        "valid-closed": header(1, state=2) + slot(1, []),
        "valid-no-slots": header(0),
        "writer-mid-update": header(1) + slot(1, three(10), seq=3),
        "key-length-over-1024": header(1) + slot(1, [entry(1, 1, 1, 0xFFFF, fill=1)]),
        "aes-wrong-length": header(1) + slot(1, [entry(1, 3, 1, 17)]),
        "unknown-suite": header(1) + slot(1, [entry(1, 9, 1, 16)]),
        "unknown-state": header(1) + slot(1, [entry(1, 3, 7, 16)]),
        "two-currents": header(1) + slot(1, [entry(1, 3, 1, 16), entry(2, 3, 1, 16)]),
        "duplicate-channel": header(2) + slot(1, three(10)) + slot(1, three(10)),
        "slots-overrun": header(3) + slot(1, three(10)),
        "slot-count-huge": header(0xFFFFFFFF) + slot(1, three(10)),
        "bad-magic": header(1, magic=b"KCSHM999") + slot(1, three(10)),
        "bad-version": header(1, version=2) + slot(1, three(10)),
        "bad-slot-size": header(1, ssize=64) + slot(1, three(10)),
        "initialising": bytes(64) + slot(1, []),
        "truncated-header": header(1)[:40],
        "empty": b"",
    }
    for name, data in files.items():
        with open(os.path.join(OUT, name + ".bin"), "wb") as out:
            out.write(data)


if __name__ == "__main__":
    main()
