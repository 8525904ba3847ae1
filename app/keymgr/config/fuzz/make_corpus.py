#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_keymgr_config (corpus/keymgr_config/): the
key manager configs under config/ as they are, and small ones that reach the
other options and the errors (bad types, ranges, references, duplicates). Run
from anywhere; it overwrites the files it owns."""
import glob
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "keymgr_config")
CONFIG = os.path.join(HERE, "..", "..", "..", "..", "config")

SERVER = '[server]\nlisten = "127.0.0.1:7700"\nlab = true\nkek_file = "kek"\n'

FILES = {
    "parse-error": '[server\nlisten = "127.0.0.1:7700\n[[channel]]\nid = 1\n',
    "bad-channel": SERVER + '[[channel]]\nid = 1\nsuite = "xor"\nkey_length = 2000\nlifetime_ms = 0\n'
                            'threshold_x = 0.2\n',
    "bad-peer": SERVER + '[[channel]]\nid = 1\nsuite = "aes128-ctr"\nlifetime_ms = 10000\n'
                         '[[peer]]\nid = "rx1"\nrole = "receiver"\ntoken = "t"\nchannels = [1, 9]\n'
                         'shm = "keycast-rx1"\nlistne = 1\n',
    "bad-server": '[server]\nlisten = "::1:99999"\nrole = "replica"\nlab = "yes"\n[[peer]]\nid = "rx1"\n'
                  'feeds = [1, 1]\n',
    "tls": '[server]\nlisten = "[::1]:7700"\nkek_file = "kek"\n[tls]\ncert = "c.pem"\nkey = "k.pem"\nca = "ca.pem"\n'
           '[[peer]]\nid = "gw1"\nrole = "gateway"\nchannels = [1]\nfeeds = [1]\nshm = "keycast-gw1"\n'
           '[[channel]]\nid = 1\nsuite = "aes256-ctr"\nlifetime_ms = 60000\nthreshold_x = 0.6\nthreshold_y = 0.3\n'
           'rotate_bytes = 1000000\nrotate_datagrams = 5\norigin = "gateway"\n',
    "server-options": SERVER + 'grace_ms = 0\nmax_connections = 5\nidle_timeout_ms = 100\nrequest_rate = 10\n'
                               'request_burst = 1\nmetrics_listen = "127.0.0.1:0"\nretention_days = 400\n'
                               '[[channel]]\nid = 1\nsuite = "aes128-ctr"\nlifetime_ms = 10000\n',
    "duplicates": SERVER + '[[channel]]\nid = 1\nsuite = "xor-inv"\nkey_length = 512\nlifetime_ms = 100\n'
                           '[[channel]]\nid = 1\nsuite = "aes128-gcm"\nlifetime_ms = 100\n'
                           '[[peer]]\nid = "a"\nrole = "gateway"\ntoken = "t"\nshm = "keycast-a"\n'
                           '[[peer]]\nid = "a"\nrole = "receiver"\ntoken = "t"\nshm = "keycast-a"\n',
}


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(CONFIG, "keymgr-*.toml")) +
                       glob.glob(os.path.join(CONFIG, "demo", "keymgr-*.toml"))):
        shutil.copyfile(path, os.path.join(OUT, os.path.basename(path)))
    for name, text in FILES.items():
        with open(os.path.join(OUT, name + ".toml"), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
