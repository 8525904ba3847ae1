#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_frame_decoder (corpus/frame_decoder/): each
frame and must_reject entry of keymgr-v1.json as a binary file, and all frames
back to back as one stream. Run from anywhere; it overwrites the files it owns."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "frame_decoder")
DEFAULT_VECTORS = os.path.join(HERE, "..", "..", "..", "..", "shared", "spec", "vectors", "keymgr-v1.json")


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_VECTORS
    with open(path) as f:
        doc = json.load(f)
    os.makedirs(OUT, exist_ok=True)
    stream = b""
    for v in doc["frames"]:
        frame = bytes.fromhex(v["hex"])
        stream += frame
        with open(os.path.join(OUT, v["name"] + ".bin"), "wb") as out:
            out.write(frame)
    for v in doc["must_reject"]:
        with open(os.path.join(OUT, "reject-" + v["name"] + ".bin"), "wb") as out:
            out.write(bytes.fromhex(v["hex"]))
    with open(os.path.join(OUT, "all-frames-pipelined.bin"), "wb") as out:
        out.write(stream)


if __name__ == "__main__":
    main()
