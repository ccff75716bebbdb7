#!/usr/bin/env python3
"""Apply a deterministic change set to a tree, in place: the upper side of a diff benchmark.

The mix (defaults): 50 files modified (appended to), 500 files added under 20 directories,
50 files deleted, 2 directories of 1-200 files removed, 20 chmods, 5 user xattrs, and 10 new
hardlink + symlink pairs. The same tree and seed always give the same changes.
"""
import argparse
import os
import random
import shutil
import stat
import sys


def collect(root):
    files, dirs = [], []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        filenames.sort()
        for d in dirnames:
            p = os.path.join(dirpath, d)
            if not os.path.islink(p):
                dirs.append(p)
        for f in filenames:
            p = os.path.join(dirpath, f)
            if stat.S_ISREG(os.lstat(p).st_mode):
                files.append(p)
    return files, dirs


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("root")
    ap.add_argument("--seed", type=int, default=1)
    counts = {"modify": 50, "add": 500, "delete": 50, "rmdir": 2, "chmod": 20, "xattr": 5, "links": 10}
    for k, v in counts.items():
        ap.add_argument("--" + k, type=int, default=v)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    files, dirs = collect(a.root)
    per_file = ["modify", "delete", "chmod", "xattr", "links"]
    need = sum(getattr(a, k) for k in per_file)
    if need > len(files):
        for k in per_file:
            setattr(a, k, getattr(a, k) * len(files) // need)
    rnd.shuffle(files)
    pick = iter(files)
    done = dict.fromkeys(counts, 0)
    for _ in range(a.modify):
        with open(next(pick), "ab") as f:
            f.write(b"changed %d\n" % rnd.randrange(1 << 30))
        done["modify"] += 1
    for _ in range(a.delete):
        os.unlink(next(pick))
        done["delete"] += 1
    for _ in range(a.chmod):
        os.chmod(next(pick), 0o600)
        done["chmod"] += 1
    for _ in range(a.xattr):
        try:
            os.setxattr(next(pick), "user.bench", b"1")
            done["xattr"] += 1
        except OSError:
            pass
    for i in range(a.links):
        p = next(pick)
        os.link(p, "%s.hardlink%d" % (p, i))
        os.symlink(os.path.basename(p), "%s.symlink%d" % (p, i))
        done["links"] += 1
    targets = rnd.sample(dirs, min(20, len(dirs))) if dirs else [a.root]
    for i in range(a.add):
        d = targets[i % len(targets)]
        if os.path.isdir(d):
            with open(os.path.join(d, "added-%d.bin" % i), "wb") as f:
                f.write(rnd.randbytes(rnd.choice([100, 4096, 65536])))
            done["add"] += 1
    rnd.shuffle(dirs)
    for d in dirs:
        if done["rmdir"] >= a.rmdir:
            break
        if os.path.isdir(d) and not os.path.islink(d):
            n = sum(len(fn) for _, _, fn in os.walk(d))
            if 1 <= n <= 200:
                shutil.rmtree(d)
                done["rmdir"] += 1
    print(" ".join("%s=%d" % kv for kv in done.items()))


if __name__ == "__main__":
    sys.exit(main())
