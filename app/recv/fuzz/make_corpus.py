#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_recv_config (corpus/recv_config/):
keycast-recv --config files with every option, and small ones that reach the
errors (missing sections, bad addresses, joins that disagree). Run from
anywhere; it overwrites the files it owns."""
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "recv_config")

KEYMGR = '[keymgr]\nendpoints = ["127.0.0.1:7700"]\npeer = "rx1"\ntoken = "t"\n'
JOIN = '[[join]]\ngroup = "239.255.1.1:5000"\n'

FILES = {
    "every-option": '[keymgr]\nendpoints = ["127.0.0.1:7700", "[::1]:7701"]\nfailover = "round-robin"\n'
                    'peer = "rx1"\ntoken = "rx1-lab-token"\n'
                    '[receive]\niface = "lo"\ntimeout_ms = 500\ncount = 9\nbatch = 64\nhold_timeout_ms = 80\n'
                    'metrics_listen = "127.0.0.1:0"\n'
                    '[[join]]\ngroup = "239.255.1.1:5000"\nchannel = 1\nout = "a.ts"\n'
                    '[[join]]\ngroup = "232.1.1.1:5000@10.0.0.1"\nchannel = 2\nout = "udp://239.1.1.1:6000"\n',
    "tls-ipv6": '[keymgr]\nendpoints = ["[::1]:7700"]\npeer = "rx2"\ncert = "rx2.pem"\nkey = "rx2.key"\n'
                'ca = "ca.pem"\n[[join]]\ngroup = "[ff3e::1234]:5000@2001:db8::1"\nout = "stdout"\n',
    "minimal": KEYMGR + JOIN,
    "parse-error": '[keymgr\nendpoints = ["127.0.0.1:7700"\n',
    "missing-sections": '[receive]\nbatch = 0\n',
    "bad-values": '[keymgr]\nendpoints = ["localhost", 7700]\nfailover = "random"\npeer = 1\n'
                  '[receive]\niface = "no-such-if"\ntimeout_ms = -1\nbatch = 2000\nmetrics_listen = "::1"\n'
                  'extra = 1\n[[join]]\ngroup = "10.0.0.1:5000@10.0.0.2"\nchannel = 0\nout = "udp://x"\n',
    "joins-disagree": KEYMGR + JOIN + 'channel = 1\nout = "a.ts"\n' + JOIN + JOIN + 'out = "a.ts"\n',
}


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    for name, text in FILES.items():
        with open(os.path.join(OUT, name + ".toml"), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
