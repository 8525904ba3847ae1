"""The continuity suite's clear streams: datagram n of channel c is a pure
function of (c, n), so the sender makes it and the checker remakes it.

Raw channels carry 1316 bytes starting "KCT" + channel + n; TS channels carry
7 TS packets (PID 0x100, payload only, scrambling bits 00, continuity counter
running) whose first payload bytes hold the same channel + n.
"""

import random
import struct

DATAGRAM = 1316
TS = 188
TS_PER_DATAGRAM = 7
PID = 0x100

_fill = {}


def _filler(channel):
    if channel not in _fill:
        rng = random.Random(0x4B43 + channel)
        _fill[channel] = bytes(rng.getrandbits(8) for _ in range(8192))
    return _fill[channel]


def payload(channel, n, kind):
    fill = _filler(channel)
    off = (n * 131) % 4096
    if kind == "raw":
        head = b"KCT" + struct.pack("!BI", channel, n)
        return head + fill[off:off + DATAGRAM - len(head)]
    out = bytearray()
    for i in range(TS_PER_DATAGRAM):
        cc = (n * TS_PER_DATAGRAM + i) & 0x0F
        hdr = bytes([0x47, (PID >> 8) & 0x1F, PID & 0xFF, 0x10 | cc])
        body = struct.pack("!BIB", channel, n, i) + fill[off + i * 184:off + i * 184 + 184 - 6]
        out += hdr + body
    return bytes(out)


def ident(chunk, kind):
    """(channel, n) a clear datagram claims to be, or None."""
    if kind == "raw":
        if len(chunk) < 8 or chunk[:3] != b"KCT":
            return None
        return struct.unpack("!BI", chunk[3:8])
    if len(chunk) < 10 or chunk[0] != 0x47:
        return None
    ch, n, _ = struct.unpack("!BIB", chunk[4:10])
    return ch, n
