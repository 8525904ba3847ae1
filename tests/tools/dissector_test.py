#!/usr/bin/env python3
"""tools/wireshark/keycast.lua against spec/vectors/wire-v1.json, with tshark.

Writes a pcap (Ethernet/IPv4/UDP to 239.2.1.1:5000) holding every vector's
scrambled_udp_payload, the key_notice and every must_reject payload, then:
  1. port 5000 (default preference): every vector decodes to its channel_id,
     key_id, seq, suite, flags, hdr_len, TLV values, payload length and GCM
     tag, with no expert info, and the Info column reads as documented; the
     key_notice decodes to its ids, next key and delay; every must_reject
     datagram carries an error expert info naming its reason;
  2. heuristic only (keycast.udp_port:0, datagrams on port 5000 and 6000):
     every vector and the key_notice are claimed; of the must_reject ones,
     those whose magic/version/hdr_len/length are bad are not claimed, the
     others are claimed with the same error expert info.
Usage: dissector_test.py LUA_SCRIPT SPEC_DIR. Exit 77 (skip) without tshark.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

# must_reject name -> the words its expert info must contain, and whether the
# heuristic (magic, version, type, suite, reserved flags, hdr_len) claims it.
REJECT = {
    "bad-magic": ("Bad magic", False),
    "bad-version": ("Unsupported version", False),
    "zero-channel": ("channel_id is 0", True),
    "hdr-len-not-multiple-of-4": ("not a multiple of 4", False),
    "hdr-len-beyond-datagram": ("beyond the", False),
    "tlv-overruns-header": ("overruns hdr_len", True),
    "ts-flag-with-gcm": ("TS flag set with suite aes128-gcm", True),
    "short": ("shorter than the 24-byte header", False),
}
SUITE_IDS = {"xor": 1, "xor-inv": 2, "aes128-ctr": 3, "aes256-ctr": 4, "aes128-gcm": 5}
FIELDS = [
    "frame.number", "keycast.type", "keycast.suite", "keycast.flags.ts", "keycast.flags.rtp",
    "keycast.hdr_len", "keycast.channel_id", "keycast.key_id", "keycast.seq",
    "keycast.key_remaining_ms", "keycast.keymgr_addr", "keycast.next_key_id",
    "keycast.next_key_in_ms", "keycast.payload.len", "keycast.gcm_tag",
    "_ws.expert.message", "_ws.col.Info",
]


def ipv4_checksum(hdr):
    s = sum(struct.unpack("!10H", hdr))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def frame(payload, dport):
    udp = struct.pack("!HHHH", 40000, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 16, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([239, 2, 1, 1]))
    ip = ip[:10] + struct.pack("!H", ipv4_checksum(ip)) + ip[12:]
    eth = bytes.fromhex("01005e020101") + bytes.fromhex("020000000001") + b"\x08\x00"
    return eth + ip + udp


def write_pcap(path, payloads, dport):
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, p in enumerate(payloads):
            f = frame(p, dport)
            out.write(struct.pack("<IIII", 1700000000 + i, 0, len(f), len(f)))
            out.write(f)


def tshark(lua, pcap, prefs):
    cmd = ["tshark", "-n", "-X", "lua_script:" + lua, "-o", "gui.console_open:NEVER", "-r", pcap,
           "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=|"]
    for p in prefs:
        cmd += ["-o", p]
    for fld in FIELDS:
        cmd += ["-e", fld]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("tshark failed (%d): %s" % (r.returncode, r.stderr))
    if "Lua" in r.stderr and ("error" in r.stderr.lower()):
        sys.exit("keycast.lua raised an error:\n" + r.stderr)
    rows = [dict(zip(FIELDS, line.split("\t"))) for line in r.stdout.splitlines()]
    return rows


failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def check_equal(row, field, want, what):
    got = row.get(field, "")
    if got.startswith("0x"):  # base.HEX fields (type, suite)
        got = str(int(got, 16))
    check(got == str(want), "%s: %s is %r, expected %r" % (what, field, got, str(want)))


def expected_tlvs(v):
    out = {}
    for t in v["tlvs"]:
        raw = bytes.fromhex(t["value"])
        if t["type"] == 1:
            out["keycast.key_remaining_ms"] = int.from_bytes(raw, "big")
        elif t["type"] == 2:
            out["keycast.keymgr_addr"] = "%d.%d.%d.%d:%d" % (*raw[:4], int.from_bytes(raw[4:], "big"))
        elif t["type"] == 4:
            out["keycast.next_key_id"] = int.from_bytes(raw, "big")
        elif t["type"] == 5:
            out["keycast.next_key_in_ms"] = int.from_bytes(raw, "big")
    return out


def check_vector(row, v):
    what = "vector " + v["name"]
    payload = bytes.fromhex(v["scrambled_udp_payload"])
    hdr_len = int.from_bytes(payload[6:8], "big")
    gcm = v["suite"] == "aes128-gcm"
    check_equal(row, "keycast.type", 1, what)
    check_equal(row, "keycast.suite", SUITE_IDS[v["suite"]], what)
    # The header's flags, not the vector's ts/rtp: those describe the channel,
    # and xor-ts-fallback-not-whole-ts is a TS channel sending TS = 0 (§4).
    check_equal(row, "keycast.flags.ts", payload[5] & 1, what)
    check_equal(row, "keycast.flags.rtp", (payload[5] >> 1) & 1, what)
    check(v["rtp"] == bool(payload[5] & 2), what + ": RTP flag differs from the vector's rtp")
    check_equal(row, "keycast.channel_id", v["channel_id"], what)
    check_equal(row, "keycast.key_id", v["key_id"], what)
    check_equal(row, "keycast.seq", v["seq"], what)
    check_equal(row, "keycast.hdr_len", hdr_len, what)
    check_equal(row, "keycast.payload.len", len(payload) - hdr_len - (16 if gcm else 0), what)
    tag = payload[-16:].hex() if gcm else ""
    check(row.get("keycast.gcm_tag", "").replace(":", "") == tag, what + ": gcm_tag")
    tlvs = expected_tlvs(v)
    for fld in ("keycast.key_remaining_ms", "keycast.keymgr_addr", "keycast.next_key_id",
                "keycast.next_key_in_ms"):
        check_equal(row, fld, tlvs.get(fld, ""), what)
    check_equal(row, "_ws.expert.message", "", what)
    check_equal(row, "_ws.col.Info", "DATA ch=%d key=%d seq=%d %s" % (
        v["channel_id"], v["key_id"], v["seq"], v["suite"]), what)


def check_notice(row, n):
    what = "key_notice"
    check_equal(row, "keycast.type", 2, what)
    check_equal(row, "keycast.suite", SUITE_IDS[n["suite"]], what)
    check_equal(row, "keycast.channel_id", n["channel_id"], what)
    check_equal(row, "keycast.key_id", n["current_key_id"], what)
    check_equal(row, "keycast.seq", 0, what)
    check_equal(row, "keycast.next_key_id", n["next_key_id"], what)
    check_equal(row, "keycast.next_key_in_ms", n["next_in_ms"], what)
    check_equal(row, "_ws.expert.message", "", what)
    check_equal(row, "_ws.col.Info", "KEY_NOTICE ch=%d key=%d next=%d in %d ms" % (
        n["channel_id"], n["current_key_id"], n["next_key_id"], n["next_in_ms"]), what)


def check_reject(row, r, heuristic_only):
    name = r["name"]
    words, claimed = REJECT[name]
    what = "must_reject %s%s" % (name, " (heuristic only)" if heuristic_only else "")
    if heuristic_only and not claimed:
        check(row.get("keycast.type", "") == "", what + ": claimed by the heuristic")
        return
    check(words in row.get("_ws.expert.message", ""),
          "%s: expert info %r lacks %r" % (what, row.get("_ws.expert.message", ""), words))
    check("MALFORMED" in row.get("_ws.col.Info", ""), what + ": Info column does not say MALFORMED")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: dissector_test.py LUA_SCRIPT SPEC_DIR")
    lua, spec_dir = sys.argv[1], sys.argv[2]
    if shutil.which("tshark") is None:
        print("tshark not installed: skipped (scripts/install-deps installs it)")
        return 77
    with open(os.path.join(spec_dir, "vectors", "wire-v1.json")) as fh:
        spec = json.load(fh)
    vectors, notice, rejects = spec["vectors"], spec["key_notice"], spec["must_reject"]
    missing = set(r["name"] for r in rejects) - set(REJECT)
    check(not missing, "must_reject entries this test does not know: %s" % sorted(missing))
    rejects = [r for r in rejects if r["name"] in REJECT]
    payloads = ([bytes.fromhex(v["scrambled_udp_payload"]) for v in vectors]
                + [bytes.fromhex(notice["udp_payload"])]
                + [bytes.fromhex(r["udp_payload"]) for r in rejects])

    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        for dport, prefs in ((5000, []), (5000, ["keycast.udp_port:0"]), (6000, ["keycast.udp_port:0"])):
            pcap = os.path.join(tmp, "keycast-%d.pcap" % dport)
            write_pcap(pcap, payloads, dport)
            runs.append((dport, prefs, tshark(lua, pcap, prefs)))

    for dport, prefs, rows in runs:
        heuristic_only = bool(prefs)
        label = "port %d%s" % (dport, ", heuristic only" if heuristic_only else "")
        if len(rows) != len(payloads):
            failures.append("%s: tshark printed %d rows for %d frames" % (label, len(rows), len(payloads)))
            continue
        n = len(failures)
        for v, row in zip(vectors, rows):
            check_vector(row, v)
        check_notice(rows[len(vectors)], notice)
        for r, row in zip(rejects, rows[len(vectors) + 1:]):
            check_reject(row, r, heuristic_only)
        print("%s: %d vectors, key_notice, %d must_reject: %s" % (
            label, len(vectors), len(rejects), "ok" if len(failures) == n else "FAILED"))

    for msg in failures:
        print("FAIL " + msg)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
