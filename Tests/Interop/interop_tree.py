#!/usr/bin/env python3
"""Helpers for the containerd-unpack.sh self-test (stdlib only, run as root).

  interop_tree.py make-python OUT.tar        sample layer written with tarfile
  interop_tree.py make-src    SRC_DIR        sample tree for GNU tar to archive
  interop_tree.py reference   LAYER.tar DIR  naive reference unpack (GNU tar,
                                             then whiteouts applied on an empty base)
  interop_tree.py compare     EXPECTED ACTUAL   exit 1 on any difference
  interop_tree.py dump        DIR            print the tree metadata
"""
import hashlib, io, os, stat, subprocess, sys, tarfile

# VFS_CAP_REVISION_2, effective flag, permitted = CAP_NET_RAW (13), v2 is 20 bytes.
CAP_NET_RAW = bytes.fromhex("01000002" "00200000" "00000000" "00000000" "00000000")
NS1 = "1700000000.123456789"
NS2 = "1700000001.987654321"


def make_python(out):
    def ti(name, typ=tarfile.REGTYPE, mode=0o644, uid=0, gid=0, mtime=NS1, **kw):
        t = tarfile.TarInfo(name)
        t.type, t.mode, t.uid, t.gid = typ, mode, uid, gid
        t.mtime = float(mtime)
        t.pax_headers = {"mtime": mtime}
        for k, v in kw.items():
            setattr(t, k, v)
        return t

    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tf:
        def add(t, data=None):
            if data is not None:
                t.size = len(data)
                tf.addfile(t, io.BytesIO(data))
            else:
                tf.addfile(t)
        add(ti("d", tarfile.DIRTYPE, 0o750, 1000, 1001, NS1))
        add(ti("d/file", mode=0o640, uid=1234, gid=5678, mtime=NS2), b"hello\n")
        add(ti("d/hard", tarfile.LNKTYPE, 0o640, 1234, 5678, NS2, linkname="d/file"))
        add(ti("d/link", tarfile.SYMTYPE, 0o777, 42, 43, "1700000002.25", linkname="file"))
        add(ti("d/fifo", tarfile.FIFOTYPE, 0o600, 7, 8))
        add(ti("d/sub", tarfile.DIRTYPE, 0o755, 0, 0, "1600000000.000000001"))
        add(ti("d/sub/big-uid", mode=0o600, uid=70000, gid=70001), b"x" * 5000)
        add(ti("d/\u00fcn\u00efcode", mode=0o644), b"u")
        add(ti("d/" + "L" * 150, mode=0o644), b"long")
        add(ti("d/.wh.gone", mode=0o644), b"")            # whiteout: must vanish
        add(ti("dev", tarfile.DIRTYPE, 0o755))
        add(ti("dev/null", tarfile.CHRTYPE, 0o666, devmajor=1, devminor=3))
        add(ti("dev/loop0", tarfile.BLKTYPE, 0o660, 0, 6, devmajor=7, devminor=0))
        add(ti("bin", tarfile.DIRTYPE, 0o755))
        t = ti("bin/ping", mode=0o4755)
        t.pax_headers.update({
            "SCHILY.xattr.security.capability": CAP_NET_RAW.decode("latin-1"),
            "SCHILY.xattr.user.comment": "strata",
            "SCHILY.xattr.trusted.strata": "t",
        })
        add(t, b"#!/bin/true\n")
        add(ti("o", tarfile.DIRTYPE, 0o700, 5, 5))
        add(ti("o/before", mode=0o644), b"removed by opaque? no: same layer\n")
        add(ti("o/.wh..wh..opq", mode=0o644), b"")        # opaque marker: must vanish
        add(ti("o/after", mode=0o644), b"kept\n")


def make_src(src):
    os.makedirs(src)
    os.chmod(src, 0o755)
    j = lambda *p: os.path.join(src, *p)
    os.makedirs(j("d/sub"))
    with open(j("d/file"), "w") as f:
        f.write("hello\n")
    os.chown(j("d/file"), 1234, 5678)
    os.chmod(j("d/file"), 0o640)
    os.link(j("d/file"), j("d/hard"))
    os.symlink("file", j("d/link"))
    os.lchown(j("d/link"), 42, 43)
    os.mkfifo(j("d/fifo"), 0o600)
    with open(j("d/.wh.gone"), "w"):
        pass
    os.makedirs(j("o"))
    for n in ("before", ".wh..wh..opq", "after"):
        with open(j("o", n), "w") as f:
            f.write(n)
    os.makedirs(j("dev"))
    os.mknod(j("dev/null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.chmod(j("dev/null"), 0o666)
    os.makedirs(j("bin"))
    with open(j("bin/ping"), "w") as f:
        f.write("#!/bin/true\n")
    os.chmod(j("bin/ping"), 0o4755)
    os.setxattr(j("bin/ping"), "user.comment", b"strata")
    os.setxattr(j("bin/ping"), "trusted.strata", b"t")
    os.setxattr(j("bin/ping"), "security.capability", CAP_NET_RAW)  # after chmod
    os.chmod(j("d"), 0o750)
    os.chown(j("d"), 1000, 1001)
    # ns timestamps, deepest first so directory times stick
    for p, ns in [("d/link", 1700000002_250000000), ("d/file", 1700000001_987654321),
                  ("d/fifo", NSI(NS1)), ("d/sub", 1600000000_000000001), ("d", NSI(NS1)),
                  ("o", NSI(NS1)), ("bin/ping", NSI(NS1)), ("bin", NSI(NS1)), ("dev/null", NSI(NS1)),
                  ("dev", NSI(NS1)), ("", NSI(NS2))]:
        os.utime(j(p), ns=(ns, ns), follow_symlinks=False)


def NSI(s):
    a, b = s.split(".")
    return int(a) * 10**9 + int(b.ljust(9, "0"))


def reference(layer, dest):
    """Unpack with GNU tar, then apply whiteouts as on an empty lower layer.

    containerd (archive/tar_unix.go setxattr) deliberately never sets trusted.*
    xattrs from a layer ("admin attributes from archive not supported"), so
    they are dropped from the reference too. containerd also ignores the
    layer's root entry ("./" "resolved to root"): the snapshot root stays
    0755 root:root with mtime = unpack time, so the reference root is reset."""
    os.makedirs(dest, exist_ok=True)
    subprocess.run(["tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "--same-owner",
                    "-p", "-xf", layer, "-C", dest], check=True)
    os.chown(dest, 0, 0)
    os.chmod(dest, 0o755)
    for k in os.listxattr(dest):
        os.removexattr(dest, k)
    for root, dirs, files in os.walk(dest):
        for n in files:
            if n.startswith(".wh."):
                st = os.lstat(root)
                os.unlink(os.path.join(root, n))
                os.utime(root, ns=(st.st_atime_ns, st.st_mtime_ns))
        for n in [""] + dirs + files:
            p = os.path.join(root, n) if n else root
            if not os.path.lexists(p):
                continue
            for k in os.listxattr(p, follow_symlinks=False):
                if k.startswith("trusted."):
                    os.removexattr(p, k, follow_symlinks=False)


def scan(top):
    out, inodes = {}, {}
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for n in [""] + sorted(dirs + files) if root == top else sorted(dirs + files):
            p = os.path.join(root, n) if n else root
            rel = os.path.relpath(p, top)
            st = os.lstat(p)
            e = {"type": stat.S_IFMT(st.st_mode), "mode": oct(stat.S_IMODE(st.st_mode)),
                 "uid": st.st_uid, "gid": st.st_gid}
            e["mtime_ns"] = st.st_mtime_ns
            if stat.S_ISREG(st.st_mode):
                e["sha"] = hashlib.sha256(open(p, "rb").read()).hexdigest()[:16]
                key = (st.st_dev, st.st_ino)
                e["link_group"] = inodes.setdefault(key, rel)
            if stat.S_ISLNK(st.st_mode):
                e["target"] = os.readlink(p)
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                e["rdev"] = (os.major(st.st_rdev), os.minor(st.st_rdev))
            if not stat.S_ISLNK(st.st_mode):
                e["xattrs"] = {k: os.getxattr(p, k).hex() for k in sorted(os.listxattr(p))}
            out[rel] = e
    return out


def compare(exp_dir, act_dir):
    """The root directory's mtime is not compared (it is the unpack time)."""
    exp, act = scan(exp_dir), scan(act_dir)
    exp["."].pop("mtime_ns")
    act["."].pop("mtime_ns")
    bad = 0
    for rel in sorted(set(exp) | set(act)):
        a, b = exp.get(rel), act.get(rel)
        if a != b:
            bad += 1
            if a is None or b is None:
                print(f"  {rel}: {'missing' if b is None else 'unexpected'}")
            else:
                diffs = {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}
                print(f"  {rel}: expected/actual {diffs}")
    return bad


def main():
    cmd = sys.argv[1]
    if cmd == "make-python":
        make_python(sys.argv[2])
    elif cmd == "make-src":
        make_src(sys.argv[2])
    elif cmd == "reference":
        reference(sys.argv[2], sys.argv[3])
    elif cmd == "compare":
        sys.exit(1 if compare(sys.argv[2], sys.argv[3]) else 0)
    elif cmd == "dump":
        for rel, e in scan(sys.argv[2]).items():
            print(rel, e)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
