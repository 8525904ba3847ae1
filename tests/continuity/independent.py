"""An implementation of ../shared/spec written apart from keycast's C++: the
keycast header, which bytes are scrambled (TS and RTP rules), the keystreams
of every suite, and a lab-mode key manager client (HELLO + KEY_REQUEST by id).
AES comes from the openssl command (ECB over the counter blocks is the CTR
keystream), one call per key. GCM tags are not checked here (keycast's own
descrambler checks them); GCM's keystream starts at counter inc32(J0).

decode(datagrams, key_of) -> [clear payload | None] for DATA datagrams.
"""
import socket
import struct
import subprocess

SUITES = {1: "xor", 2: "xor-inv", 3: "aes128-ctr", 4: "aes256-ctr", 5: "aes128-gcm"}
FLAG_TS, FLAG_RTP = 0x01, 0x02


def header(payload):
    """(type, suite, flags, hdr_len, channel, key_id, seq) or None."""
    if len(payload) < 24 or payload[:2] != b"KC" or payload[2] != 1:
        return None
    typ, suite, flags = payload[3], payload[4], payload[5]
    hdr_len, channel, key_id, seq = struct.unpack("!HIIQ", payload[6:24])
    if hdr_len < 24 or hdr_len % 4 or hdr_len > len(payload):
        return None
    return typ, suite, flags, hdr_len, channel, key_id, seq


def scrambled_ranges(region, flags):
    """[(start, end)] of the region's scrambled bytes in keystream order, and the
    offsets of the TS headers whose scrambling bits the descrambler clears."""
    at = 0
    if flags & FLAG_RTP:
        if len(region) < 12:
            return None, None
        cc, x = region[0] & 0x0F, region[0] & 0x10
        at = 12 + 4 * cc
        if x:
            if len(region) < at + 4:
                return None, None
            at += 4 + 4 * struct.unpack("!H", region[at + 2:at + 4])[0]
        if at > len(region):
            return None, None
    if not flags & FLAG_TS:
        return [(at, len(region))], []
    ranges, ts_headers = [], []
    for p in range(at, len(region), 188):
        pkt = region[p:p + 188]
        if len(pkt) != 188 or pkt[0] != 0x47:
            return None, None
        if pkt[3] >> 6 < 2:
            continue  # clear: does not advance the keystream
        start = 4
        if (pkt[3] >> 4) & 3 == 3:
            start = 5 + pkt[4]
        ts_headers.append(p)
        if start < 188:
            ranges.append((p + start, p + 188))
    return ranges, ts_headers


def xor_keystream(suite, pattern, n):
    out = bytearray(n)
    L = len(pattern)
    for i in range(n):
        k = pattern[i % L]
        if suite == 2 and (i // L) % 2:
            k ^= 0xFF
        out[i] = k
    return bytes(out)


def aes_ecb(key, blocks):
    algo = {16: "-aes-128-ecb", 32: "-aes-256-ecb"}[len(key)]
    r = subprocess.run(["openssl", "enc", algo, "-nopad", "-nosalt", "-K", key.hex()],
                       input=blocks, capture_output=True, check=True)
    return r.stdout


def decode(datagrams, key_of):
    """datagrams: UDP payloads of one channel's DATA datagrams; key_of(channel,
    key_id) -> key material bytes or None. Returns their clear payloads (None
    where a datagram cannot be decoded), the AES ones keyed one openssl call
    per key."""
    plans = []
    for d in datagrams:
        h = header(d)
        if h is None or h[0] != 1:
            plans.append(None)
            continue
        typ, suite, flags, hdr_len, channel, key_id, seq = h
        end = len(d) - (16 if suite == 5 else 0)
        region = bytearray(d[hdr_len:end])
        ranges, ts_headers = scrambled_ranges(region, flags)
        if ranges is None:
            plans.append(None)
            continue
        plans.append(dict(suite=suite, channel=channel, key_id=key_id, seq=seq, region=region,
                          ranges=ranges, ts_headers=ts_headers, n=sum(b - a for a, b in ranges)))
    # Keystreams: xor directly; AES per key, all counter blocks in one call.
    by_key = {}
    for p in plans:
        if p and p["suite"] >= 3:
            by_key.setdefault((p["channel"], p["key_id"]), []).append(p)
    for (channel, key_id), ps in by_key.items():
        key = key_of(channel, key_id)
        if key is None:
            for p in ps:
                p["ks"] = None
            continue
        blocks = bytearray()
        for p in ps:
            first = 2 if p["suite"] == 5 else 0
            iv = struct.pack("!IQ", channel, p["seq"])
            for j in range((p["n"] + 15) // 16):
                blocks += iv + struct.pack("!I", first + j)
        stream = aes_ecb(key, bytes(blocks))
        at = 0
        for p in ps:
            size = (p["n"] + 15) // 16 * 16
            p["ks"] = stream[at:at + p["n"]]
            at += size
    out = []
    for p in plans:
        if p is None:
            out.append(None)
            continue
        if p["suite"] <= 2:
            key = key_of(p["channel"], p["key_id"])
            p["ks"] = xor_keystream(p["suite"], key, p["n"]) if key else None
        if p["ks"] is None:
            out.append(None)
            continue
        region, i = p["region"], 0
        for a, b in p["ranges"]:
            for k in range(a, b):
                region[k] ^= p["ks"][i]
                i += 1
        for t in p["ts_headers"]:
            region[t + 3] &= 0x3F
        out.append(bytes(region))
    return out


class LabKeymgr:
    """HELLO (lab token) and KEY_REQUEST by id over plain TCP."""

    def __init__(self, port, peer_id, token, role=2, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=5)
        self.cache = {}
        answer = self._call(1, [(1, bytes([role])), (2, peer_id.encode()), (3, token.encode())])
        if answer[0] != 0x8001:
            raise RuntimeError(f"HELLO refused: {answer}")

    def _call(self, mtype, params):
        body = b"".join(struct.pack("!HH", t, len(v)) + v for t, v in params)
        self.sock.sendall(struct.pack("!BHI", 1, mtype, len(body)) + body)
        head = self._read(7)
        _, atype, length = struct.unpack("!BHI", head)
        body = self._read(length)
        out, at = [], 0
        while at < len(body):
            t, n = struct.unpack("!HH", body[at:at + 4])
            out.append((t, body[at + 4:at + 4 + n]))
            at += 4 + n
        return atype, out

    def _read(self, n):
        data = b""
        while len(data) < n:
            more = self.sock.recv(n - len(data))
            if not more:
                raise RuntimeError("key manager closed the connection")
            data += more
        return data

    def key(self, channel, key_id):
        if (channel, key_id) not in self.cache:
            atype, params = self._call(2, [(4, struct.pack("!I", channel)), (5, struct.pack("!I", key_id))])
            material = None
            for t, v in params:
                if atype == 0x8002 and t == 0x0A and struct.unpack("!II", v[:8]) == (channel, key_id):
                    material = v[28:28 + struct.unpack("!H", v[10:12])[0]]
            self.cache[(channel, key_id)] = material
        return self.cache[(channel, key_id)]

    def close(self):
        self.sock.close()


def check_vectors(vectors_path):
    """Decodes every vector of wire-v1.json: [names that do not come out clear]."""
    import json
    with open(vectors_path) as f:
        spec = json.load(f)
    bad = []
    for v in spec["vectors"]:
        key = bytes.fromhex(v["key"])
        got = decode([bytes.fromhex(v["scrambled_udp_payload"])], lambda c, k: key)[0]
        if got != bytes.fromhex(v["clear_payload"]):
            bad.append(v["name"])
    return bad


if __name__ == "__main__":
    import sys
    failures = check_vectors(sys.argv[1])
    print("independent decoder: " + (f"FAILED on {failures}" if failures else "every vector decodes"))
    sys.exit(1 if failures else 0)
