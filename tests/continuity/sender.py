#!/usr/bin/env python3
"""Paced clear multicast for the continuity suite: raw Ethernet frames on a
veth (AF_PACKET), RATE datagrams per second per channel, until DURATION
seconds are over or SIGTERM. Prints "sent CHANNEL COUNT" per channel at exit.

    sender.py IFACE RATE DURATION CHANNEL:GROUP:KIND ...
"""

import os
import signal
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts", "demo-lib"))
import kclab  # noqa: E402
import streams  # noqa: E402

SOURCE_IP = "192.0.2.1"
PORT = 5000

stop = False


def on_term(_s, _f):
    global stop
    stop = True


def main():
    iface, rate, duration = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    channels = []
    for spec in sys.argv[4:]:
        ch, group, kind = spec.split(":")
        channels.append((int(ch), group, kind))
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    sent = {ch: 0 for ch, _, _ in channels}
    interval = 1.0 / rate
    spread = interval / len(channels)
    print("sending", flush=True)
    t0 = time.monotonic()
    n = 0
    while not stop:
        base = t0 + n * interval
        if base - t0 >= duration:
            break
        for i, (ch, group, kind) in enumerate(channels):
            due = base + i * spread
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            frame = kclab.udp_frame(SOURCE_IP, group, 4000 + ch, PORT, streams.payload(ch, n, kind), ident=n)
            while True:
                try:
                    s.send(frame)
                    break
                except BlockingIOError:
                    time.sleep(0.0005)
            sent[ch] += 1
        n += 1
    for ch, count in sent.items():
        print(f"sent {ch} {count}", flush=True)


if __name__ == "__main__":
    main()
