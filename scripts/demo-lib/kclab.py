"""Shared by scripts/demo and tests/continuity: a network namespace with veth
pairs, child processes with their logs, pcap files, and the counters that
keycast-gateway and keycast-recv print when they stop. Python stdlib only.

Nothing here reads or prints key material: the gateways and receivers never
log it, and the orchestrators only read counters, key ids and payload bytes.
"""

import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

# ---------------------------------------------------------------- pcap files

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
LINKTYPE_ETHERNET = 1


def write_pcap(path, frames):
    """frames: iterable of (timestamp in seconds, frame bytes)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", PCAP_MAGIC_US, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET))
        for ts, frame in frames:
            sec = int(ts)
            usec = int(round((ts - sec) * 1e6))
            if usec >= 1000000:
                sec, usec = sec + 1, usec - 1000000
            f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
            f.write(frame)


def read_pcap(path):
    """Yields (timestamp, frame bytes) of an Ethernet pcap (either byte order,
    micro- or nanosecond timestamps)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    for endian in ("<", ">"):
        magic = struct.unpack(endian + "I", data[:4])[0]
        if magic in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
            break
    else:
        raise ValueError(f"{path}: not a pcap file")
    scale = 1e-9 if magic == PCAP_MAGIC_NS else 1e-6
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        yield sec + frac * scale, data[off:off + incl]
        off += incl


def ip_checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def mcast_mac(group):
    a = socket.inet_aton(group)
    return bytes([0x01, 0x00, 0x5E, a[1] & 0x7F, a[2], a[3]])


def udp_frame(src_ip, dst_ip, sport, dport, payload, ident=0, ttl=16,
              src_mac=b"\x02\x00\x00\x00\x00\x01"):
    """An Ethernet/IPv4/UDP frame to a multicast group, checksums computed."""
    src, dst = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
    ulen = 8 + len(payload)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, ulen)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    csum = ip_checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, ident & 0xFFFF, 0x4000, ttl, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
    return mcast_mac(dst_ip) + src_mac + b"\x08\x00" + ip + udp


def parse_udp(frame):
    """(destination 'a.b.c.d', destination port, UDP payload) of an IPv4/UDP
    frame (802.1Q tags skipped), else None."""
    off = 12
    etype = struct.unpack("!H", frame[off:off + 2])[0]
    while etype in (0x8100, 0x88A8):
        off += 4
        etype = struct.unpack("!H", frame[off:off + 2])[0]
    off += 2
    if etype != 0x0800 or len(frame) < off + 28:
        return None
    ihl = (frame[off] & 0x0F) * 4
    total = struct.unpack("!H", frame[off + 2:off + 4])[0]
    if frame[off + 9] != 17:
        return None
    dst = socket.inet_ntoa(frame[off + 16:off + 20])
    udp = off + ihl
    dport, ulen = struct.unpack("!HH", frame[udp + 2:udp + 6])
    end = min(udp + ulen, off + total)
    return dst, dport, frame[udp + 8:end]


# ------------------------------------------------- keycast header (wire-format.md §2)

KC_MAGIC = b"KC"
KC_TYPE_DATA = 1
KC_TYPE_NOTICE = 2


def kc_header(payload):
    """dict(type, suite, flags, hdr_len, channel, key_id, seq) of a keycast
    datagram, or None when it does not start with the magic."""
    if len(payload) < 24 or payload[:2] != KC_MAGIC:
        return None
    version, typ, suite, flags = payload[2], payload[3], payload[4], payload[5]
    hdr_len = struct.unpack("!H", payload[6:8])[0]
    channel, key_id = struct.unpack("!II", payload[8:16])
    seq = struct.unpack("!Q", payload[16:24])[0]
    return dict(version=version, type=typ, suite=suite, flags=flags, hdr_len=hdr_len,
                channel=channel, key_id=key_id, seq=seq)


def keycast_datagrams(pcap_path, groups=None):
    """[(channel, header dict, payload)] of the keycast datagrams in a pcap, in
    order; groups: optional set of (group, port) to keep."""
    out = []
    for _, frame in read_pcap(pcap_path):
        u = parse_udp(frame)
        if not u or (groups is not None and (u[0], u[1]) not in groups):
            continue
        h = kc_header(u[2])
        if h:
            out.append((h["channel"], h, u[2]))
    return out


def wire_summary(datagrams):
    """{channel: dict(data, notices, keys=[ids in order of first use],
    seq_gaps)} of keycast_datagrams()."""
    out = {}
    for ch, h, _ in datagrams:
        s = out.setdefault(ch, dict(data=0, notices=0, keys=[], seq_gaps=0, last_seq=None))
        if h["type"] == KC_TYPE_NOTICE:
            s["notices"] += 1
            continue
        s["data"] += 1
        if not s["keys"] or s["keys"][-1] != h["key_id"]:
            s["keys"].append(h["key_id"])
        if s["last_seq"] is not None and h["seq"] != s["last_seq"] + 1:
            s["seq_gaps"] += 1
        s["last_seq"] = h["seq"]
    return out


# ------------------------------------------------------- network namespace

def have_netns():
    """'' when this process can make network namespaces, else why not."""
    if os.geteuid() != 0:
        return "not root"
    if shutil.which("ip") is None:
        return "no ip(8) (iproute2)"
    name = f"kcprobe{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if r.returncode != 0:
        return "ip netns add failed: " + r.stderr.strip()
    try:
        r = subprocess.run(["ip", "-n", name, "link", "add", "p0", "type", "veth", "peer", "name", "p1"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return "no veth support: " + r.stderr.strip()
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return ""


class Netns:
    """A network namespace of our own: loopback up, IPv6 off (no stray
    router/neighbour solicitations on the veths), no reverse-path filter."""

    def __init__(self, name):
        self.name = name
        self.made = False

    def sh(self, *argv, check=True):
        r = subprocess.run(["ip", "-n", self.name] + list(argv), capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"ip -n {self.name} {' '.join(argv)}: {r.stderr.strip()}")
        return r

    def exec_argv(self, argv):
        return ["ip", "netns", "exec", self.name] + list(argv)

    def run(self, argv, check=True):
        r = subprocess.run(self.exec_argv(argv), capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} in {self.name}: {r.stderr.strip()}")
        return r

    def sysctl(self, key, value):
        self.run(["sysctl", "-q", "-w", f"{key}={value}"])

    def create(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
        r = subprocess.run(["ip", "netns", "add", self.name], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"ip netns add {self.name}: {r.stderr.strip()}")
        self.made = True
        self.sh("link", "set", "lo", "up")
        for k in ("all", "default"):
            self.sysctl(f"net.ipv6.conf.{k}.disable_ipv6", 1)
            self.sysctl(f"net.ipv4.conf.{k}.rp_filter", 0)
        self.sysctl("net.ipv4.igmp_max_memberships", 200)

    def veth(self, a, b, addr_b=None, mtu=1500):
        """A veth pair a<->b, both up, promiscuous (DPDK's af_packet reads
        multicast the kernel did not join); b optionally with an address."""
        self.sh("link", "add", a, "mtu", str(mtu), "type", "veth", "peer", "name", b, "mtu", str(mtu))
        for dev in (a, b):
            self.sh("link", "set", dev, "up", "promisc", "on")
            self.sysctl(f"net.ipv4.conf.{dev}.rp_filter", 0)
        if addr_b:
            self.sh("addr", "add", addr_b, "dev", b)

    def drop_egress(self, dev):
        """Nothing leaves dev (IGMP reports of receivers joined on it would
        otherwise reach a DPDK af_packet reader on the same device)."""
        # A zero-length FIFO: frames are dropped at enqueue, before packet
        # taps see them (tc actions are not available on every kernel).
        self.run(["tc", "qdisc", "replace", "dev", dev, "root", "pfifo", "limit", "0"])

    def delete(self):
        if self.made:
            subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
            self.made = False


# ------------------------------------------------------------- processes

class Proc:
    """A child in a session of its own (Ctrl-C reaches only the orchestrator,
    which stops children in order); stdout+stderr to a log file."""

    def __init__(self, name, argv, log_path, env=None, stdout_path=None):
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.log = open(log_path, "wb")
        out = open(stdout_path, "wb") if stdout_path else self.log
        self.p = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=self.log,
                                  start_new_session=True, env=env)
        if stdout_path:
            out.close()
        self.started = time.monotonic()

    @property
    def pid(self):
        return self.p.pid

    def text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        return self.p.poll() is None

    def wait_for(self, pattern, timeout):
        """Waits until the log matches pattern; raises with the log's tail if
        the process exits or time runs out."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = rx.search(self.text())
            if m:
                return m
            if not self.alive():
                raise RuntimeError(f"{self.name} exited ({self.p.returncode}) before /{pattern}/:\n"
                                   + tail(self.text()))
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: no /{pattern}/ within {timeout} s:\n" + tail(self.text()))

    def send(self, sig):
        if self.alive():
            try:
                os.kill(self.p.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Signals and waits; SIGKILL after timeout. Returns the exit code."""
        if self.alive():
            self.send(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.send(signal.SIGKILL)
                self.p.wait()
        self.log.close()
        return self.p.returncode

    def wait(self, timeout=None):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


def tail(text, lines=15):
    return "\n".join("    " + l for l in text.rstrip().splitlines()[-lines:])


class Procs:
    """Every child started, stopped in reverse order by stop_all (idempotent)."""

    def __init__(self):
        self.procs = []

    def start(self, *a, **kw):
        p = Proc(*a, **kw)
        self.procs.append(p)
        return p

    def stop_all(self, timeout=5.0):
        for p in reversed(self.procs):
            if p.alive():
                p.stop(signal.SIGTERM, timeout)
            elif not p.log.closed:
                p.log.close()


def install_stop_handlers():
    """SIGTERM/SIGHUP end the orchestrator like Ctrl-C does, so its finally
    blocks clean up."""
    def raise_interrupt(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGINT, raise_interrupt)
    signal.signal(signal.SIGTERM, raise_interrupt)
    signal.signal(signal.SIGHUP, raise_interrupt)


# ----------------------------------------------------------------- DPDK

def eal_args(prefix, lcores, main_lcore, vdevs, huge):
    a = ["--no-pci", "--file-prefix", prefix, "-l", lcores, "--main-lcore", str(main_lcore),
         "--log-level", "lib.eal:error"]
    a += ["--huge-unlink"] if huge else ["--no-huge", "-m", "512"]
    for v in vdevs:
        a += ["--vdev", v]
    return a


def remove_dpdk_runtime(prefix):
    shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)


# ------------------------------------------------------------- counters

# Gateway counters that are outcomes, not drops or faults (app/gateway/counters.h).
GATEWAY_OUTCOMES = {"rx", "tx", "scrambled", "descrambled", "notices_sent", "notices_received",
                    "unknown_key_requests", "key_resyncs", "held", "released",
                    "key_requests_rate_limited"}  # a fetch not asked for, as keycast-recv's: losses show as hold_*
# keycast-recv counters that are outcomes (lib/keycast receiver.h, app/recv report.cc).
RECV_OUTCOMES = {"socket_datagrams", "received", "descrambled", "held", "released", "notices",
                 "key_requests", "keys_fetched", "written", "fetch_answers", "fetch_latency_avg_us",
                 "fetch_latency_max_us", "keymgr_addr_honoured", "first_clear_after_us",
                 "fetch_failures",  # a failed fetch is retried; lost datagrams show as drop.*
                 "key_requests_rate_limited"}  # a fetch put off by the per-channel limit, not a loss


def gateway_counters(log_text):
    """{name: value} from the 'keycast-gateway: counters:' block printed at stop."""
    out = {}
    i = log_text.rfind("keycast-gateway: counters:")
    if i < 0:
        return None
    for line in log_text[i:].splitlines()[1:]:
        m = re.match(r"^\s+(\w+)\s+(\d+)\s+\(", line)
        if not m:
            break
        out[m.group(1)] = int(m.group(2))
    # The ports' own drops, printed just before: "port 0 dropped: imissed 3 (...), ierrors 0, ..."
    for m in re.finditer(r"keycast-gateway: port (\d+) dropped: (.*)", log_text):
        for name, value in re.findall(r"(\w+) (\d+)", m.group(2)):
            if int(value):
                out[f"port{m.group(1)}_{name}"] = int(value)
    return out


def recv_counters(log_text):
    """{name: value} from the last 'keycast-recv counters:' block."""
    i = log_text.rfind("keycast-recv counters:")
    if i < 0:
        return None
    out = {}
    for line in log_text[i:].splitlines()[1:]:
        m = re.match(r"^\s+([\w.]+)\s+(\d+)\s*$", line)
        if not m:
            break
        out[m.group(1)] = int(m.group(2))
    return out


# Frames on a shared segment that belong to no channel (the kernel's own IPv6
# neighbour discovery, MLD, ...): dropped and counted, never channel traffic.
GATEWAY_FOREIGN = {"not_ip", "not_udp", "not_a_channel"}


def gateway_drops(counters):
    """Drops of channel traffic the gateway saw (foreign frames left out; the
    ports' own drops, port<N>_*, include what arrived before it polled, so
    the byte-identical checks judge losses, not these)."""
    return {k: v for k, v in counters.items()
            if k not in GATEWAY_OUTCOMES and k not in GATEWAY_FOREIGN and not k.startswith("port") and v}


def recv_drops(counters):
    return {k: v for k, v in counters.items()
            if k not in RECV_OUTCOMES and k != "dropped" and v}


def switches(log_text, mode):
    """[(channel, from_key, to_key)] the gateway logged: the scrambler's worker
    switches, or the descrambler's input switches."""
    pat = (r"channel (\d+): switched from key (\d+) to (\d+)" if mode == "scramble"
           else r"channel (\d+): input switched from key (\d+) to (\d+)")
    return [tuple(int(x) for x in m.groups()) for m in re.finditer(pat, log_text)]


def fmt_counts(d):
    return ", ".join(f"{k} {v}" for k, v in sorted(d.items())) if d else "none"


def die(msg, code=1):
    print(msg, file=sys.stderr)
    sys.exit(code)
