#!/usr/bin/env python3
"""Wrong configurations and command lines for keycast-gateway, keycast-keymgr
and keycast-recv, each run through the real binary, each with the exact
message it must print on stderr and its exit code.

    badconfig.py --build DIR [--only NAME] [--show]

The tables are below, one per binary: a row is (name, config, command line,
exit code, stderr). The config is TOML text written to a file in a fresh
temporary directory (None: no file); in the command line and the expected
stderr, {config} is that file's path and {dir} the directory. A row's config
is the binary's valid BASE config with one thing changed (edit()), so the row
shows only what is wrong. The gateway gets no EAL options at all: its config
is checked before EAL starts, so no row needs hugepages or ports.
--show prints what each binary says instead of checking (for writing rows).
Ends with "N passed, N failed".
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
HELP = "Run with --help for more information."


def edit(base, old, new):
    """base with its one occurrence of old replaced by new."""
    if base.count(old) != 1:
        raise ValueError(f"{old!r} occurs {base.count(old)} times in the base config")
    return base.replace(old, new)


# ------------------------------------------------------------ keycast-gateway

GATEWAY_BASE = """\
mode = "scramble"

[ports]
input = 0
output = 1

[keys]
endpoints = ["127.0.0.1:7700"]
peer_id = "gw1"
token = "gw1-lab-token"

[[channel]]
id = 1
input = "239.1.1.1:5000"
output = "239.2.1.1:5000"
suite = "aes128-ctr"
"""
G = GATEWAY_BASE
GW_ARGS = ["--", "--config", "{config}"]
GW_CHANNEL2 = '\n[[channel]]\nid = 2\ninput = "239.1.1.2:5000"\noutput = "239.2.1.2:5000"\nsuite = "xor"\n'
GW_IPV6 = edit(edit(G, '"239.1.1.1:5000"', '"[ff3e::1:1]:5000"'), '"239.2.1.1:5000"', '"[ff3e::2:1]:5000"')

GATEWAY = [
    ("unknown key", edit(G, "output = 1\n", "output = 1\ncolour = \"blue\"\n"), GW_ARGS, 2,
     "keycast-gateway: {config}:6:1: unknown key 'colour' in [ports]"),
    ("wrong type", edit(G, "input = 0", 'input = "0"'), GW_ARGS, 2,
     "keycast-gateway: {config}:4:9: ports.input: expected an integer, got a string"),
    ("missing required field", edit(G, 'suite = "aes128-ctr"\n', ""), GW_ARGS, 2,
     "keycast-gateway: {config}:12:1: missing key 'suite' in [[channel]]"),
    ("out-of-range value", "burst = 1000\n" + G, GW_ARGS, 2,
     "keycast-gateway: {config}:1:9: burst: must be between 1 and 512, got 1000"),
    ("duplicate channel id", G + edit(GW_CHANNEL2, "id = 2", "id = 1"), GW_ARGS, 2,
     "keycast-gateway: {config}:19:6: channel.id: duplicate channel id 1 (first at line 13)"),
    ("bad address", edit(G, '"239.2.1.1:5000"', '"239.2.1.300:5000"'), GW_ARGS, 2,
     "keycast-gateway: {config}:15:10: channel.output: '239.2.1.300' is not an IPv4 address (names are not "
     "allowed)"),
    ("bad port", edit(G, '"239.2.1.1:5000"', '"239.2.1.1:70000"'), GW_ARGS, 2,
     "keycast-gateway: {config}:15:10: channel.output: port 70000 is out of range (1..65535)"),
    ("not a multicast group", edit(G, '"239.2.1.1:5000"', '"10.0.0.1:5000"'), GW_ARGS, 2,
     "keycast-gateway: {config}:15:10: channel.output: 10.0.0.1 is not a multicast group (IPv4 224.0.0.0/4, "
     "IPv6 ff00::/8)"),
    ("bad suite name", edit(G, '"aes128-ctr"', '"aes512"'), GW_ARGS, 2,
     "keycast-gateway: {config}:16:9: channel.suite: unknown suite \"aes512\", expected one of xor, xor-inv, "
     "aes128-ctr, aes256-ctr, aes128-gcm"),
    ("missing file", None, ["--", "--config", "{dir}/none.toml"], 2,
     "--config: File does not exist: {dir}/none.toml\n" + HELP),
    ("directory as the file", None, ["--", "--config", "{dir}"], 2,
     "--config: File is actually a directory: {dir}\n" + HELP),
    ("TOML syntax error", edit(G, "id = 1", "id = 1 2"), GW_ARGS, 2,
     "keycast-gateway: {config}:13:8: Error while parsing key-value pair: expected a comment or whitespace, saw '2'"),
    ("udp_checksum = false on IPv6", GW_IPV6 + "udp_checksum = false\n", GW_ARGS, 2,
     "keycast-gateway: {config}:17:16: channel.udp_checksum: IPv6 has no optional UDP checksum (RFC 8200): only "
     "an IPv4 output may leave it out"),
    ("descramble option when scrambling", G + "hold_ms = 100\n", GW_ARGS, 2,
     "keycast-gateway: {config}:17:11: channel.hold_ms: only allowed when mode = \"descramble\""),
    ("token and TLS files", edit(G, 'token = "gw1-lab-token"\n', 'token = "gw1-lab-token"\ntls_cert = "c.pem"\n'),
     GW_ARGS, 2,
     "keycast-gateway: {config}:10:9: keys.token: a lab token and TLS files (tls_cert, tls_key, tls_ca) exclude "
     "each other"),
    ("same input twice", G + edit(GW_CHANNEL2, '"239.1.1.2:5000"', '"239.1.1.1:5000"'), GW_ARGS, 2,
     "keycast-gateway: {config}:20:9: channel.input: 239.1.1.1:5000 is already the input of channel 1 (line 14)"),
    ("too many held datagrams", edit(G, 'mode = "scramble"', 'mode = "descramble"') + "hold_datagrams = 5000\n",
     GW_ARGS, 2, "keycast-gateway: {config}: channel 1: hold_datagrams is at most 4096"),
    ("bad command-line flag", G, GW_ARGS + ["--bogus"], 2,
     "The following argument was not expected: --bogus\n" + HELP),
    ("bad command-line value", G, GW_ARGS + ["--idle-exit", "0"], 2,
     "--idle-exit: Value 0 not in range 1 to 86400000\n" + HELP),
    ("no --config", None, ["--"], 2, "--config is required\n" + HELP),
]

# ------------------------------------------------------------- keycast-keymgr

KEYMGR_BASE = """\
[server]
listen = "127.0.0.1:7700"
lab = true
kek_file = "kek"

[[peer]]
id = "gw1"
role = "gateway"
token = "gw1-lab-token"
channels = [1]
feeds = [1]

[[channel]]
id = 1
suite = "aes128-ctr"
lifetime_ms = 10000
"""
K = KEYMGR_BASE
KM_ARGS = ["--config", "{config}", "--state-dir", "{dir}/state"]
KM_CHANNEL2 = '\n[[channel]]\nid = 2\nsuite = "xor"\nkey_length = 16\nlifetime_ms = 10000\n'

KEYMGR = [
    ("unknown key", edit(K, 'kek_file = "kek"\n', 'kek_file = "kek"\nlisten_backlog = 10\n'), KM_ARGS, 2,
     "keycast-keymgr: {config}:5:1: unknown key 'listen_backlog' in [server]"),
    ("wrong type", edit(K, "lifetime_ms = 10000", 'lifetime_ms = "10s"'), KM_ARGS, 2,
     "keycast-keymgr: {config}:16:15: channel.lifetime_ms: expected an integer, got a string"),
    ("missing required field", edit(K, "lifetime_ms = 10000\n", ""), KM_ARGS, 2,
     "keycast-keymgr: {config}:13:1: missing key 'lifetime_ms' in [[channel]]"),
    ("out-of-range value", K + "threshold_x = 1.5\n", KM_ARGS, 2,
     "keycast-keymgr: {config}:17:15: channel.threshold_x: must be between 0 and 1 (exclusive), got 1.5"),
    ("duplicate channel id", K + edit(KM_CHANNEL2, "id = 2", "id = 1"), KM_ARGS, 2,
     "keycast-keymgr: {config}:19:6: channel.id: duplicate channel id 1 (first at line 14)"),
    ("duplicate peer id", edit(K, "\n[[channel]]", '\n[[peer]]\nid = "gw1"\nrole = "receiver"\ntoken = "t"\n'
                                                 '\n[[channel]]'), KM_ARGS, 2,
     "keycast-keymgr: {config}:14:6: peer.id: duplicate peer id 'gw1' (first at line 7)"),
    ("bad address", edit(K, '"127.0.0.1:7700"', '"127.0.0.300:7700"'), KM_ARGS, 2,
     "keycast-keymgr: {config}:2:10: server.listen: '127.0.0.300' is not a valid host name or IPv4 address"),
    ("bad port", edit(K, '"127.0.0.1:7700"', '"127.0.0.1:77000"'), KM_ARGS, 2,
     "keycast-keymgr: {config}:2:10: server.listen: port 77000 is out of range (0..65535)"),
    ("bad suite name", edit(K, '"aes128-ctr"', '"aes512"'), KM_ARGS, 2,
     "keycast-keymgr: {config}:15:9: channel.suite: unknown suite \"aes512\", expected one of xor, xor-inv, "
     "aes128-ctr, aes256-ctr, aes128-gcm"),
    ("key length of the suite", K + edit(KM_CHANNEL2, "key_length = 16", "key_length = 2000"), KM_ARGS, 2,
     "keycast-keymgr: {config}:21:14: channel.key_length: must be between 1 and 1024 for suite xor, got 2000"),
    ("missing file", None, ["--config", "{dir}/none.toml", "--state-dir", "{dir}/state"], 2,
     "--config: File does not exist: {dir}/none.toml\n" + HELP),
    ("TOML syntax error", edit(K, 'role = "gateway"', 'role = "gateway'), KM_ARGS, 2,
     "keycast-keymgr: {config}:8:16: Error while parsing string: it is not closed before the end of the line (a "
     "closing quote is missing)"),
    ("plaintext without the lab switch", edit(K, "lab = true\n", ""), KM_ARGS, 2,
     "keycast-keymgr: {config}:1:1: missing table [tls] (required unless server.lab = true)"),
    ("feeds on a receiver", edit(K, 'role = "gateway"', 'role = "receiver"'), KM_ARGS, 2,
     "keycast-keymgr: {config}:11:9: peer.feeds: only a gateway may feed channels; peer 'gw1' is a receiver"),
    ("unknown channel in a peer", edit(K, "channels = [1]", "channels = [1, 7]"), KM_ARGS, 2,
     "keycast-keymgr: {config}:10:16: peer.channels[1]: unknown channel 7"),
    ("replica settings on a master", edit(K, 'kek_file = "kek"\n', 'kek_file = "kek"\nmaster = "127.0.0.1:7701"\n'),
     KM_ARGS, 2, "keycast-keymgr: {config}:5:10: server.master: only allowed when role = \"replica\""),
    ("bad command-line flag", K, KM_ARGS + ["--bogus"], 2,
     "The following argument was not expected: --bogus\n" + HELP),
    ("serving without --state-dir", K, ["--config", "{config}"], 2,
     "keycast-keymgr: serving needs --config FILE and --state-dir DIR (see --help)"),
    ("accounts in an unknown format", None, ["accounts", "--state-dir", "{dir}", "--format", "xml"], 2,
     "--format: xml not in {{csv,json}}\n" + HELP),
]

# --------------------------------------------------------------- keycast-recv

RECV_BASE = """\
[keymgr]
endpoints = ["127.0.0.1:7700"]
peer = "rx1"
token = "rx1-lab-token"

[[join]]
group = "239.2.1.1:5000"
channel = 1
"""
R = RECV_BASE
RX_ARGS = ["--config", "{config}"]
RX_FLAGS = ["--keymgr", "127.0.0.1:7700", "--peer", "rx1", "--token", "rx1-lab-token"]
RX_JOIN2 = '\n[[join]]\ngroup = "239.2.1.2:5000"\nchannel = 2\n'

RECV = [
    ("unknown key", edit(R, 'peer = "rx1"\n', 'peer = "rx1"\nretries = 3\n'), RX_ARGS, 2,
     "keycast-recv: {config}:4:1: unknown key 'retries' in [keymgr]"),
    ("wrong type", edit(R, "channel = 1", 'channel = "1"'), RX_ARGS, 2,
     "keycast-recv: {config}:8:11: join.channel: expected an integer, got a string"),
    ("missing required field", edit(R, 'peer = "rx1"\n', ""), RX_ARGS, 2,
     "keycast-recv: {config}:1:1: missing key 'peer' in [keymgr]"),
    ("out-of-range value", R + "\n[receive]\nbatch = 5000\n", RX_ARGS, 2,
     "keycast-recv: {config}:11:9: receive.batch: must be between 1 and 1024, got 5000"),
    ("duplicate channel id", R + edit(RX_JOIN2, "channel = 2", "channel = 1"), RX_ARGS, 2,
     "keycast-recv: {config}:12:11: join.channel: channel 1 is already received by the [[join]] of line 8 (a "
     "channel is received from one group)"),
    ("same group twice", R + edit(RX_JOIN2, '"239.2.1.2:5000"', '"239.2.1.1:5000"'), RX_ARGS, 2,
     "keycast-recv: {config}:11:9: join.group: 239.2.1.1:5000 is already joined (line 7)"),
    ("same out file twice", edit(R, "channel = 1\n", 'channel = 1\nout = "a.ts"\n') + RX_JOIN2 + 'out = "a.ts"\n',
     RX_ARGS, 2,
     "keycast-recv: {config}:14:7: join.out: a.ts is already written by the [[join]] of line 9 (give each join its "
     "own out, or none for stdout)"),
    ("same group twice on the command line", None, RX_FLAGS + ["--join", "239.2.1.1:5000", "--join", "239.2.1.1:5000"],
     2, "keycast-recv: --join 239.2.1.1:5000 is given twice (see --help)"),
    ("duplicate channel id on the command line", None,
     RX_FLAGS + ["--join", "239.2.1.1:5000", "--join", "239.2.1.2:5000", "--channel", "1", "--channel", "1"], 2,
     "keycast-recv: --channel 1 is given for two joins (239.2.1.1:5000 and 239.2.1.2:5000): a channel is received "
     "from one group (see --help)"),
    ("bad address", edit(R, '"239.2.1.1:5000"', '"239.2.1.300:5000"'), RX_ARGS, 2,
     "keycast-recv: {config}:7:9: join.group: expected GROUP:PORT, [V6]:PORT or GROUP:PORT@SOURCE (source-specific: "
     "a multicast group)"),
    ("bad key manager address", edit(R, '"127.0.0.1:7700"', '"127.0.0.1"'), RX_ARGS, 2,
     "keycast-recv: {config}:2:14: keymgr.endpoints[0]: expected HOST:PORT or [V6]:PORT, got \"127.0.0.1\""),
    ("missing file", None, ["--config", "{dir}/none.toml"], 2,
     "--config: File does not exist: {dir}/none.toml\n" + HELP),
    ("TOML syntax error", edit(R, "[[join]]", "[[join]"), RX_ARGS, 2,
     "keycast-recv: {config}:6:8: Error while parsing table header: expected ']', saw '\\n'"),
    ("channel in one join only", R + edit(RX_JOIN2, "channel = 2\n", ""), RX_ARGS, 2,
     "keycast-recv: {config}:10:1: missing key 'channel' in [[join]] (the first [[join]] has one: give one in every "
     "[[join]] or in none)"),
    ("token and half of TLS", edit(R, 'token = "rx1-lab-token"\n', 'cert = "c.pem"\n'), RX_ARGS, 2,
     "keycast-recv: {config}:1:1: missing key 'token' in [keymgr] (or cert, key and ca for TLS)"),
    ("bad command-line flag", R, RX_ARGS + ["--bogus"], 2,
     "The following argument was not expected: --bogus\n" + HELP),
    ("bad command-line value", R, RX_ARGS + ["--batch", "0"], 2, "keycast-recv: --batch: 1..1024 (see --help)"),
    ("no join", None, RX_FLAGS, 2,
     "keycast-recv: --join is required (or --config with it; see --help)"),
]

BINARIES = [("keycast-gateway", "app/gateway/keycast-gateway", GATEWAY),
            ("keycast-keymgr", "app/keymgr/keycast-keymgr", KEYMGR),
            ("keycast-recv", "app/recv/keycast-recv", RECV)]


def run_row(binary, row):
    name, config, args, code, expected = row
    work = tempfile.mkdtemp(prefix="keycast-badconfig.")
    try:
        path = os.path.join(work, "config.toml")
        if config is not None:
            with open(path, "w") as f:
                f.write(config)
        sub = {"config": path, "dir": work}
        argv = [binary] + [a.format(**sub) for a in args]
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
        return r.returncode, r.stderr.rstrip("\n"), expected.format(**sub), code, work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(os.path.dirname(os.path.dirname(HERE)), "build"))
    ap.add_argument("--only", help="only the rows whose name contains this")
    ap.add_argument("--show", action="store_true", help="print what each binary says instead of checking")
    args = ap.parse_args()
    passed = failed = 0
    for label, rel, table in BINARIES:
        binary = os.path.join(os.path.abspath(args.build), rel)
        if not os.access(binary, os.X_OK):
            print(f"{binary} is missing: build first", file=sys.stderr)
            return 1
        for row in table:
            if args.only and args.only not in row[0]:
                continue
            rc, got, want, code, work = run_row(binary, row)
            what = f"{label}: {row[0]}"
            if args.show:
                print(f"{what}: exit {rc}\n{got.replace(work, '{dir}')}\n")
                continue
            if rc == code and got == want:
                passed += 1
                print(f"  ok    {what}")
            else:
                failed += 1
                print(f"  FAIL  {what}\n        expected exit {code}: {want!r}\n        got exit {rc}: {got!r}")
    if not args.show:
        print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
