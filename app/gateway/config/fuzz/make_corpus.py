#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_gateway_config (corpus/gateway_config/): the
lab gateway configs under config/ and the demo's descramble one as they are,
and small ones that reach the other options and the errors (bad types,
ranges, addresses, duplicates). Run from anywhere; it overwrites the files it
owns."""
import glob
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "gateway_config")
CONFIG = os.path.join(HERE, "..", "..", "..", "..", "config")
# The demo's scramble config adds no coverage to the lab's.
DEMO_DESCRAMBLE = os.path.join(CONFIG, "demo", "gateway-descramble-demo.toml")

KEYS = '[keys]\nendpoints = ["127.0.0.1:7700"]\npeer_id = "gw1"\ntoken = "t"\n'
PORTS = "[ports]\ninput = 0\noutput = 1\n"
CHANNEL = '[[channel]]\nid = 1\ninput = "239.1.1.1:5000"\noutput = "239.2.1.1:5000"\nsuite = "xor"\n'

FILES = {
    "parse-error": 'mode = "scramble"\nmode = [\n[ports\n',
    "bad-channel": 'mode = "scramble"\n' + PORTS + KEYS +
                   '[[channel]]\nid = 1\ninput = "239.1.1.1:5000"\noutput = "[ff3e::1]:5000"\nsuite = "xor"\n'
                   'clear_pids = [256, 256]\n' + CHANNEL,
    "bad-keys": 'mode = "scramble"\n' + PORTS +
                '[keys]\nendpoints = ["127.0.0.1:7700", 7701, "[::g]:1"]\npeer_id = "gw1"\ntoken = "t"\n'
                'tls_ca = "ca.pem"\n',
    "shm-descramble": 'mode = "descramble"\n' + PORTS + '[keys]\nshm = "keycast-gw1"\nstartup_timeout_ms = 500\n'
                      '[[channel]]\nid = 1\ninput = "239.2.1.1:5000"\noutput = "239.1.1.1:5000"\nsuite = "xor"\n'
                      'payload = "rtp"\nhold_datagrams = 1\nhold_ms = 1\nfetch_at = 0.999\n',
    "tls-ipv6-ssm": 'mode = "scramble"\nworker_lcores = [3, 1]\nburst = 512\ntx_drain_us = 1\nidle_sleep_us = 5\n'
                    'metrics_listen = "[::1]:0"\n'
                    '[ports]\ninputs = [2, 3]\noutput = 0\nrx_descriptors = 64\ntx_descriptors = 16384\n'
                    'mbufs = 16448\n'
                    '[keys]\nendpoints = ["[::1]:7700", "10.0.0.9:1"]\nfailover = "round_robin"\npeer_id = "gw9"\n'
                    'tls_cert = "gw9.pem"\ntls_key = "/abs/gw9.key"\ntls_ca = "sub/ca.pem"\n'
                    '[[channel]]\nid = 4294967295\ninput = "[ff3e::1]:1"\ninput_source = "2001:db8::7"\n'
                    'output = "[ff05::2]:65535"\nttl = 255\nudp_checksum = false\nsuite = "aes256-ctr"\n'
                    'payload = "rtp_ts"\nclear_pids = [8191, 0, 256]\nnotice_interval_ms = 7\n'
                    'tlv_key_remaining = false\ntlv_keymgr_addr = true\n',
    "gateway-origin": 'mode = "scramble"\n' + PORTS + KEYS + CHANNEL +
                      'origin = "gateway"\nkey_length = 1024\nlifetime_ms = 200\nnext_key_at = 0.75\n',
    "bad-types": 'mode = 1\nburst = "x"\nworker_lcores = [1, 1]\n[ports]\ninput = -1\ninputs = [0]\noutput = 70000\n'
                 '[keys]\nendpoints = []\nfailover = "sideways"\n[[channel]]\nid = 0\ninput = "1.2.3.4:0"\n'
                 'output = "239.2.1.1"\nsuite = "rot13"\npayload = "mp4"\nttl = 256\nfetch_at = 1.5\n'
                 'input_source = "ff3e::1"\nunknown = true\n',
    "state-files": 'mode = "scramble"\nseq_file = "state/gw.seq"\nusage_file = "/var/lib/keycast/gw.usage"\n' +
                   PORTS + KEYS + CHANNEL,
    "duplicate-inputs": 'mode = "descramble"\n' + PORTS + KEYS + CHANNEL + CHANNEL.replace("id = 1", "id = 2"),
}


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(CONFIG, "gateway-*.toml"))) + [DEMO_DESCRAMBLE]:
        shutil.copyfile(path, os.path.join(OUT, os.path.basename(path)))
    for name, text in FILES.items():
        with open(os.path.join(OUT, name + ".toml"), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
