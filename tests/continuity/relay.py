#!/usr/bin/env python3
"""Forwards the scrambled groups to other groups with KEY_NOTICE datagrams
dropped on the way: every notice to one set of groups, every other notice to
another. DATA datagrams pass unchanged. Prints its counts at SIGTERM.

    relay.py IN_IFACE_ADDR OUT_IFACE_ADDR IN_GROUP=ALL_DROP_GROUP,HALF_DROP_GROUP ...
"""

import selectors
import signal
import socket
import sys

PORT = 5000
IP_MULTICAST_ALL = 49

stop = False


def on_term(_s, _f):
    global stop
    stop = True


def main():
    in_addr, out_addr = sys.argv[1], sys.argv[2]
    routes = {}
    sel = selectors.DefaultSelector()
    for spec in sys.argv[3:]:
        group, outs = spec.split("=")
        all_drop, half_drop = outs.split(",")
        r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        r.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        r.setsockopt(socket.IPPROTO_IP, IP_MULTICAST_ALL, 0)
        r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        r.bind((group, PORT))
        r.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(group) + socket.inet_aton(in_addr))
        r.setblocking(False)
        sel.register(r, selectors.EVENT_READ, group)
        routes[group] = (all_drop, half_drop)
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(out_addr))
    out.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    out.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    counts = dict(data=0, notices=0, notices_dropped_all=0, notices_dropped_half=0)
    notice_n = 0
    print("relaying", flush=True)
    while not stop:
        for key, _ in sel.select(0.2):
            while True:
                try:
                    d = key.fileobj.recv(65536)
                except BlockingIOError:
                    break
                all_drop, half_drop = routes[key.data]
                is_notice = len(d) >= 4 and d[:2] == b"KC" and d[3] == 2
                if not is_notice:
                    counts["data"] += 1
                    out.sendto(d, (all_drop, PORT))
                    out.sendto(d, (half_drop, PORT))
                    continue
                counts["notices"] += 1
                counts["notices_dropped_all"] += 1
                notice_n += 1
                if notice_n % 2:
                    counts["notices_dropped_half"] += 1
                else:
                    out.sendto(d, (half_drop, PORT))
    print("relay " + " ".join(f"{k}={v}" for k, v in counts.items()), flush=True)


if __name__ == "__main__":
    main()
