#!/usr/bin/env python3
"""The output link of a scrambling gateway goes down for 1.5 s and comes back
while a sender feeds it.

    link_flap.py --build DIR

In a network namespace of its own (root needed, else exit 77, skipped):

  sender.py --clear0=clear1--> keycast-gateway scramble (af_packet in/out) --scr0=scr1--> capture
  keycast-keymgr on 127.0.0.1 (port 0)

`ip link set scr0 down`, 1.5 s (more datagrams than af_packet's TX ring
holds), `up`. Checked: the gateway keeps running and stops cleanly; it logs
the link going down and coming up once each; every datagram it scrambled is
either on the wire or counted as not sent (tx_dropped, the port's oerrors);
nothing on the wire is clear; every DATA datagram on the wire, those after
the link came back among them, decodes (tests/continuity/independent.py, keys
fetched as they appear) to the clear datagram the sender sent. About 10 s.
Ends with "N passed, N failed".
"""

import argparse
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CONTINUITY = os.path.join(ROOT, "tests", "continuity")
sys.path.insert(0, CONTINUITY)
sys.path.insert(0, os.path.join(ROOT, "scripts", "demo-lib"))
import independent  # noqa: E402
import kclab  # noqa: E402
import streams  # noqa: E402

CHANNEL = 1
CLEAR_GROUP, SCRAMBLED_GROUP, PORT = "239.1.1.1", "239.2.1.1", 5000
RATE = 400           # datagrams per second: more than af_packet's TX ring (512) holds in DOWN_FOR
LIFETIME_MS = 2000   # a few key changes during the run, one across the flap
UP_BEFORE, DOWN_FOR, UP_AFTER = 2.0, 1.5, 2.5  # seconds

KEYMGR_CONFIG = f"""[server]
listen = "127.0.0.1:0"
lab = true
kek_file = "kek"

[[peer]]
id = "gw1"
role = "gateway"
token = "gw1-lab-token"
channels = [{CHANNEL}]

[[peer]]
id = "audit"
role = "receiver"
token = "audit-lab-token"
channels = [{CHANNEL}]

[[channel]]
id = {CHANNEL}
suite = "aes128-ctr"
lifetime_ms = {LIFETIME_MS}
"""


def gateway_config(keymgr_port):
    return f"""mode = "scramble"
idle_sleep_us = 100

[ports]
input = 0
output = 1

[keys]
endpoints = ["127.0.0.1:{keymgr_port}"]
peer_id = "gw1"
token = "gw1-lab-token"

[[channel]]
id = {CHANNEL}
input = "{CLEAR_GROUP}:{PORT}"
output = "{SCRAMBLED_GROUP}:{PORT}"
suite = "aes128-ctr"
payload = "raw"
"""


def say(line=""):
    print(line, flush=True)


def enter_netns(name):
    """This process (and every child it starts from now) into namespace name."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/var/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
            raise OSError(ctypes.get_errno(), f"setns {name}")
    finally:
        os.close(fd)


class Capture(threading.Thread):
    """Every frame arriving on iface, with its arrival time; the key of each
    keycast key id fetched at first sight (later it would have expired)."""

    def __init__(self, iface, keymgr_port):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))  # ETH_P_ALL
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind((iface, 0))
        self.sock.settimeout(0.1)
        self.frames = []       # (monotonic time, frame)
        self.keys = {}
        self.keymgr = independent.LabKeymgr(keymgr_port, "audit", "audit-lab-token")
        self.quit = False

    def run(self):
        while not self.quit:
            try:
                frame = self.sock.recv(65536)
            except socket.timeout:
                continue
            self.frames.append((time.monotonic(), frame))
            u = kclab.parse_udp(frame)
            h = kclab.kc_header(u[2]) if u else None
            if h and (h["channel"], h["key_id"]) not in self.keys:
                self.keys[(h["channel"], h["key_id"])] = self.keymgr.key(h["channel"], h["key_id"])


class Check:
    def __init__(self):
        self.passed, self.failed = 0, 0

    def __call__(self, ok, what, why=""):
        if ok:
            self.passed += 1
            say(f"  ok    {what}")
        else:
            self.failed += 1
            say(f"  FAIL  {what}: {why}")


def run(build, work):
    check = Check()
    procs = kclab.Procs()
    gateway_bin = os.path.join(build, "app/gateway/keycast-gateway")
    keymgr_bin = os.path.join(build, "app/keymgr/keycast-keymgr")
    prefix = f"kcflap{os.getpid()}"
    capture = None
    try:
        kcfg, state = os.path.join(work, "keymgr.toml"), os.path.join(work, "state")
        with open(kcfg, "w") as f:
            f.write(KEYMGR_CONFIG)
        subprocess.run([keymgr_bin, "init", "--config", kcfg, "--state-dir", state], check=True, capture_output=True)
        km = procs.start("keymgr", [keymgr_bin, "--config", kcfg, "--state-dir", state],
                         os.path.join(work, "keymgr.log"))
        keymgr_port = int(km.wait_for(r"listening on 127\.0\.0\.1:(\d+)", 20).group(1))

        gcfg = os.path.join(work, "gateway.toml")
        with open(gcfg, "w") as f:
            f.write(gateway_config(keymgr_port))
        argv = [gateway_bin] + kclab.eal_args(prefix, "0-1", 0, ["net_af_packet0,iface=clear1",
                                                                 "net_af_packet1,iface=scr0"], False)
        gw = procs.start("gateway", argv + ["--", "--config", gcfg], os.path.join(work, "gateway.log"))
        gw.wait_for(r"^keycast-gateway: scrambling: ", 30)

        capture = Capture("scr1", keymgr_port)
        capture.start()
        sender = procs.start("sender", [sys.executable, os.path.join(CONTINUITY, "sender.py"), "clear0", str(RATE),
                                        "3600", f"{CHANNEL}:{CLEAR_GROUP}:raw"], os.path.join(work, "sender.log"))
        sender.wait_for("sending", 10)
        time.sleep(UP_BEFORE)
        subprocess.run(["ip", "link", "set", "scr0", "down"], check=True)
        down_at = time.monotonic()
        say("  scr0 (the gateway's output) down")
        time.sleep(DOWN_FOR)
        subprocess.run(["ip", "link", "set", "scr0", "up"], check=True)
        up_at = time.monotonic()
        say(f"  scr0 up after {up_at - down_at:.1f} s")
        time.sleep(UP_AFTER)
        sender.stop(signal.SIGTERM)
        time.sleep(0.3)   # the last datagrams through
        check(gw.alive(), "the gateway kept running through the flap", "it exited:\n" + kclab.tail(gw.text()))
        rc = gw.stop(signal.SIGTERM)
        capture.quit = True
        capture.join(2)
        check(rc == 0, "the gateway stopped cleanly (exit 0)", f"exit {rc}:\n" + kclab.tail(gw.text()))
        verify(check, gw.text(), sender.text(), capture, up_at)
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        check(False, "the run", str(e))
    finally:
        if capture:
            capture.quit = True
        procs.stop_all()
        kclab.remove_dpdk_runtime(prefix)
    return check


def verify(check, gw_log, sender_log, capture, up_at):
    down_lines = re.findall(r"^keycast-gateway: port 1 \(output\) link down.*$", gw_log, re.M)
    up_lines = re.findall(r"^keycast-gateway: port 1 \(output\) link up$", gw_log, re.M)
    check(len(down_lines) == 1 and len(up_lines) == 1, "the link going down and coming up logged once each",
          f"{len(down_lines)} down, {len(up_lines)} up lines")

    counters = kclab.gateway_counters(gw_log) or {}
    m = re.search(rf"^sent {CHANNEL} (\d+)$", sender_log, re.M)
    sent = int(m.group(1)) if m else -1
    data, notices, clear, other = [], 0, 0, 0
    for t, frame in capture.frames:
        u = kclab.parse_udp(frame)
        if not u:
            continue
        dst, dport, payload = u
        h = kclab.kc_header(payload)
        if (dst, dport) != (SCRAMBLED_GROUP, PORT) or h is None or h["channel"] != CHANNEL:
            other += 1
            clear += payload.startswith(b"KCT") or dst == CLEAR_GROUP
        elif h["type"] == kclab.KC_TYPE_NOTICE:
            notices += 1
        else:
            data.append((t, h, payload))
    scrambled = counters.get("scrambled", 0)
    unsent = counters.get("tx_dropped", 0) + counters.get("port1_oerrors", 0)
    say(f"  sender sent {sent}; gateway rx {counters.get('rx', 0)}, scrambled {scrambled}, notices_sent "
        f"{counters.get('notices_sent', 0)}, tx_dropped {counters.get('tx_dropped', 0)}, port 1 oerrors "
        f"{counters.get('port1_oerrors', 0)}; on the wire {len(data)} DATA + {notices} notices")

    check(clear == 0 and other == 0, "nothing on the wire but keycast datagrams of the scrambled group",
          f"{clear} clear, {other} other UDP frames")
    missed = counters.get("port0_imissed", 0)  # the input ring full: a loaded machine, counted
    check(scrambled + missed == sent, f"every datagram sent was scrambled ({scrambled} of {sent}, {missed} missed)")
    check(unsent > 0, f"what the down link could not take is counted (tx_dropped + oerrors = {unsent})",
          "nothing counted as unsent")
    check(scrambled - len(data) <= unsent,
          f"every scrambled datagram missing from the wire ({scrambled - len(data)}) is counted as unsent ({unsent})")

    clear_payloads = independent.decode([p for _, _, p in data], lambda c, k: capture.keys.get((c, k)))
    bad, after, keys_after = 0, 0, set()
    for (t, h, _), got in zip(data, clear_payloads):
        ident = streams.ident(got, "raw") if got else None
        if ident is None or ident[0] != CHANNEL or got != streams.payload(CHANNEL, ident[1], "raw"):
            bad += 1
        elif t > up_at:
            after += 1
            keys_after.add(h["key_id"])
    check(bad == 0 and len(data) > 0,
          f"every DATA datagram on the wire descrambles to a clear datagram sent ({len(data)})", f"{bad} do not")
    check(after >= RATE * UP_AFTER / 2,
          f"after the link came back: {after} scrambled datagrams, descrambled correctly, keys {sorted(keys_after)}",
          f"only {after}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--keep", action="store_true", help="keep the work directory (configs, logs)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    why = kclab.have_netns()
    if why:
        say(f"link_flap: SKIP: needs root and network namespaces ({why})")
        return 77
    ns = kclab.Netns(f"kcflap{os.getpid()}")
    work = tempfile.mkdtemp(prefix="keycast-link-flap.")
    check = Check()
    try:
        ns.create()
        ns.veth("clear0", "clear1")
        ns.veth("scr0", "scr1")
        enter_netns(ns.name)
        check = run(build, work)
    except (RuntimeError, OSError) as e:
        check(False, "the namespace", str(e))
    finally:
        ns.delete()
        if args.keep or check.failed:
            say(f"link_flap: configs and logs in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    say(f"{check.passed} passed, {check.failed} failed")
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
