#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_frame (corpus/frame/): small Ethernet
frames and bare IP packets, valid and malformed, with correct checksums.
Run from anywhere; it overwrites the files it owns."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "frame")


def csum(b: bytes) -> int:
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def udp(src_ip: bytes, dst_ip: bytes, payload: bytes, sport=5000, dport=1234) -> bytes:
    length = 8 + len(payload)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    if len(src_ip) == 4:
        pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 17, length)
    else:
        pseudo = src_ip + dst_ip + struct.pack("!I3xB", length, 17)
    c = 0xFFFF - csum(pseudo + hdr + payload) or 0xFFFF
    return hdr[:6] + struct.pack("!H", c) + payload


V4_SRC, V4_DST = bytes([192, 0, 2, 1]), bytes([239, 1, 2, 3])
V6_SRC = bytes.fromhex("20010db8000000000000000000000001")
V6_DST = bytes.fromhex("ff3e0000000000000000000000001234")


def ipv4(l4: bytes, options=b"", proto=17, frag=0x4000) -> bytes:
    ihl = 20 + len(options)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl // 4, 0, ihl + len(l4), 0x1234, frag, 64,
                      proto, 0, V4_SRC, V4_DST) + options
    c = 0xFFFF - csum(hdr)
    return hdr[:10] + struct.pack("!H", c) + hdr[12:] + l4


def ipv6(l4: bytes, exts=(), proto=17) -> bytes:
    """exts: (type, len field) pairs, each (len + 1) * 8 bytes long."""
    chain = b""
    types = [t for t, _ in exts] + [proto]
    for i, (_, n) in enumerate(exts):
        chain += bytes([types[i + 1], n]) + bytes((n + 1) * 8 - 2)
    body = chain + l4
    return struct.pack("!IHBB16s16s", 0x60012345, len(body), types[0], 33, V6_SRC, V6_DST) + body


def eth(l3: bytes, ethertype: int, tags=(), pad_to=0) -> bytes:
    f = bytes.fromhex("01005e010203020000000001")
    for tpid, tci in tags:
        f += struct.pack("!HH", tpid, tci)
    f += struct.pack("!H", ethertype) + l3
    return f + bytes(max(0, pad_to - len(f)))


def main() -> None:
    pl = b"keycast seed payload"
    u4 = udp(V4_SRC, V4_DST, pl)
    u6 = udp(V6_SRC, V6_DST, pl)
    v4 = ipv4(u4)
    v6 = ipv6(u6)
    v6_ext = ipv6(u6, [(0, 0), (43, 1), (60, 0)])
    bad_ext = bytearray(eth(ipv6(u6, [(60, 0)]), 0x86DD))
    bad_ext[14 + 40 + 1] = 9  # Destination Options longer than the payload
    seeds = {
        "ipv4_udp": eth(v4, 0x0800),
        "ipv4_vlan": eth(v4, 0x0800, [(0x8100, 0x0064)]),
        "ipv4_qinq": eth(v4, 0x0800, [(0x88A8, 0x0010), (0x8100, 0x0064)]),
        "ipv4_options": eth(ipv4(u4, options=b"\x01" * 8), 0x0800),
        "ipv4_padded": eth(ipv4(udp(V4_SRC, V4_DST, b"x")), 0x0800, pad_to=60),
        "ipv4_fragment": eth(ipv4(u4, frag=0x2000), 0x0800),
        "ipv4_truncated": eth(v4, 0x0800)[:40],
        "ipv6_udp": eth(v6, 0x86DD),
        "ipv6_ext_qinq": eth(v6_ext, 0x86DD, [(0x88A8, 1), (0x8100, 2)]),
        "ipv6_fragment": eth(ipv6(u6, [(0, 0), (44, 0)]), 0x86DD),
        "ipv6_bad_ext_len": bad_ext,
        "three_tags": eth(v4, 0x0800, [(0x88A8, 1), (0x8100, 2), (0x8100, 3)]),
        "raw_ipv4": v4,
        "raw_ipv6_ext": v6_ext,
    }
    os.makedirs(OUT, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(OUT, name + ".bin"), "wb") as f:
            f.write(bytes(data))


if __name__ == "__main__":
    main()
