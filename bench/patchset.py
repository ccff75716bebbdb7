#!/usr/bin/env python3
"""Large files and their edits, for the patch benchmark.

    patchset.py base DIR [--mb N]      three files of N MiB (default 512) of random bytes
    patchset.py edit DIR               the edits, in place, on a copy of such a base:
        inplace.bin  256 writes of 4 KiB at random offsets (1 MiB of new bytes)
        shifted.bin  1 MiB inserted in the middle (everything after it moves)
        appended.bin 1 MiB appended

Deterministic; standard library only.
"""
import os
import random
import sys


def main():
    mode, d = sys.argv[1], sys.argv[2]
    mb = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--mb" else 512
    rng = random.Random(7)
    if mode == "base":
        os.makedirs(d, exist_ok=True)
        for name in ("inplace.bin", "shifted.bin", "appended.bin"):
            with open(os.path.join(d, name), "wb") as f:
                for _ in range(mb):
                    f.write(rng.randbytes(1 << 20))
        return
    p = os.path.join(d, "inplace.bin")
    size = os.path.getsize(p)
    with open(p, "r+b") as f:
        for _ in range(256):
            f.seek(rng.randrange(0, size - 4096) & ~4095)
            f.write(rng.randbytes(4096))
    p = os.path.join(d, "shifted.bin")
    with open(p, "rb") as f:
        data = f.read()
    with open(p, "wb") as f:
        f.write(data[: len(data) // 2] + rng.randbytes(1 << 20) + data[len(data) // 2 :])
    with open(os.path.join(d, "appended.bin"), "ab") as f:
        f.write(rng.randbytes(1 << 20))
    for name in ("inplace.bin", "shifted.bin", "appended.bin"):
        os.utime(os.path.join(d, name), (1700000000, 1700000000))


if __name__ == "__main__":
    main()
