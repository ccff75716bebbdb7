#!/usr/bin/env python3
"""Give every entry of a tree a deterministic nanosecond mtime, in place (seconds unchanged).

Trees unpacked from ordinary layers have whole-second mtimes, which makes a correct differ
compare contents whenever sizes and seconds agree. This makes the other kind of tree: one
unpacked with `strata apply` of a `--mtime ns` layer.
"""
import os
import sys
import zlib


def main(root):
    count = 0
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        names = filenames + dirnames + ([""] if dirpath == root else [])
        for name in names:
            p = os.path.join(dirpath, name) if name else dirpath
            st = os.lstat(p)
            nanos = zlib.crc32(os.path.relpath(p, root).encode()) % 999_999_999 + 1
            mtime = st.st_mtime_ns - st.st_mtime_ns % 1_000_000_000 + nanos
            os.utime(p, ns=(st.st_atime_ns, mtime), follow_symlinks=False)
            count += 1
    print("nanosecond mtimes on %d entries" % count)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
