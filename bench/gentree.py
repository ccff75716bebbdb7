#!/usr/bin/env python3
"""Generate a tree, or one chain's change set over it, for the ref merge benchmark.

    gentree.py DIR --entries N      N entries: directories of 100, files of 64-4096 bytes
    gentree.py DIR --chain I        change set I over such a tree: 300 files added under app-I/,
                                    100 files rewritten, 50 deleted, 20 chmods, a directory
                                    removed and made again (opaque on overlay)

Deterministic: the same arguments always give the same tree and the same changes. Standard
library only.
"""
import argparse
import os
import random


def generate(root, entries, rng):
    made, d = 0, 0
    while made < entries:
        path = os.path.join(root, "d%04d" % (d // 100), "e%02d" % (d % 100))
        os.makedirs(path, exist_ok=True)
        made += 1 if d % 100 else 2
        for f in range(min(99, entries - made)):
            with open(os.path.join(path, "f%02d" % f), "wb") as out:
                out.write(rng.randbytes(rng.randint(64, 4096)))
            made += 1
        d += 1


def chain(root, i, rng):
    app = os.path.join(root, "app-%d" % i)
    for n in range(300):
        sub = os.path.join(app, "s%d" % (n // 30))
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, "f%d" % n), "wb") as out:
            out.write(rng.randbytes(rng.randint(64, 4096)))
    tops = sorted(e for e in os.listdir(root) if e.startswith("d"))
    def pick():
        top = os.path.join(root, rng.choice(tops))
        leaf = os.path.join(top, rng.choice(sorted(os.listdir(top))))
        names = sorted(os.listdir(leaf))
        return os.path.join(leaf, rng.choice(names)) if names else None
    for _ in range(100):
        p = pick()
        if p and os.path.isfile(p):
            with open(p, "wb") as out:
                out.write(rng.randbytes(rng.randint(64, 4096)))
    for _ in range(50):
        p = pick()
        if p and os.path.isfile(p):
            os.unlink(p)
    for _ in range(20):
        p = pick()
        if p and os.path.isfile(p):
            os.chmod(p, 0o600)
    top = os.path.join(root, rng.choice(tops))
    leaf = os.path.join(top, sorted(os.listdir(top))[0])
    for name in os.listdir(leaf):
        os.unlink(os.path.join(leaf, name))
    os.rmdir(leaf)
    os.mkdir(leaf)
    with open(os.path.join(leaf, "new-%d" % i), "wb") as out:
        out.write(b"chain %d\n" % i)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--entries", type=int)
    ap.add_argument("--chain", type=int)
    a = ap.parse_args()
    if a.entries:
        generate(a.dir, a.entries, random.Random(1))
    if a.chain:
        chain(a.dir, a.chain, random.Random(1000 + a.chain))


if __name__ == "__main__":
    main()
