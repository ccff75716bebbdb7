import StrataTestSupport

/// The Python (stdlib `tarfile`) program that writes the sample layers of `PythonTarfileToStrataTests`:
/// `python3 - FORMAT KIND OUT.tar` with FORMAT pax|gnu|ustar and KIND tree|whiteouts.
enum PythonTarfileScript {
    /// The mtime of every whiteout-layer entry (whole seconds, so every format carries it exactly).
    static let whiteoutTime: Int64 = 1_700_000_000

    static let source = #"""
        import io, sys, tarfile

        fmt_name, kind, out = sys.argv[1:]
        fmt = {"pax": tarfile.PAX_FORMAT, "gnu": tarfile.GNU_FORMAT, "ustar": tarfile.USTAR_FORMAT}[fmt_name]
        pax = fmt == tarfile.PAX_FORMAT
        # VFS_CAP_REVISION_2, effective, permitted = CAP_NET_RAW (as TreeGenerator.capability).
        CAP = bytes.fromhex("0100000200200000000000000000000000000000")

        def ti(name, typ=tarfile.REGTYPE, mode=0o644, uid=0, gid=0, mtime="1700000000", xattrs=None, **kw):
            t = tarfile.TarInfo(name)
            t.type, t.mode, t.uid, t.gid = typ, mode, uid, gid
            t.mtime = int(mtime.split(".")[0])
            t.uname = t.gname = ""
            if pax:
                t.pax_headers = {"mtime": mtime}
                for k, v in (xattrs or {}).items():
                    # surrogateescape keeps arbitrary bytes (tarfile then writes hdrcharset=BINARY)
                    t.pax_headers["SCHILY.xattr." + k] = v.decode("utf-8", "surrogateescape")
            for k, v in kw.items():
                setattr(t, k, v)
            return t

        # PAX layers start with a global header, which readers ignore.
        globals_ = {"comment": "written by python tarfile"} if pax else None
        with tarfile.open(out, "w", format=fmt, encoding="utf-8", pax_headers=globals_) as tf:
            def add(t, data=None):
                if data is not None:
                    t.size = len(data)
                    tf.addfile(t, io.BytesIO(data))
                else:
                    tf.addfile(t)

            if kind == "tree":
                add(ti("d", tarfile.DIRTYPE, 0o750, 1000, 1001, "1700000000.5"))
                add(ti("d/file", mode=0o640, uid=1234, gid=5678, mtime="1700000001.987654321",
                       xattrs={"user.comment": b"strata", "user.binary": b"\xff\x00\x80\n"}), b"hello\n")
                add(ti("d/hard", tarfile.LNKTYPE, 0o640, 1234, 5678, "1700000001.987654321", linkname="d/file"))
                add(ti("d/link", tarfile.SYMTYPE, 0o777, 42, 43, "1700000002.25", linkname="file"))
                add(ti("d/fifo", tarfile.FIFOTYPE, 0o600, 7, 8, "1700000003.000000001"))
                add(ti("d/sub", tarfile.DIRTYPE, 0o755, 0, 0, "1600000000.000000001"))
                add(ti("d/sub/big-uid", mode=0o600, uid=70000, gid=70001, mtime="1700000004.123"), b"x" * 5000)
                add(ti("d/\u00fcn\u00efc\u00f8d\u00e9 \u2603", mtime="1700000005.1"), b"unicode\n")
                add(ti("d/empty", mtime="1700000006.2"), b"")
                if fmt != tarfile.USTAR_FORMAT:
                    add(ti("d/" + "L" * 150, mtime="1700000007.3"), b"long name\n")
                    add(ti("d/long-link", tarfile.SYMTYPE, 0o777, mtime="1700000007.4", linkname="T" * 120))
                    add(ti("d/huge-ids", mode=0o644, uid=3000000, gid=3000001, mtime="1700000007.5"), b"base-256 or PAX ids\n")
                deep = "deep/" + "a" * 60
                add(ti("deep", tarfile.DIRTYPE, 0o755))
                add(ti(deep, tarfile.DIRTYPE, 0o755))
                add(ti(deep + "/" + "b" * 60, mtime="1700000008.5"), b"deep\n")
                add(ti("dev", tarfile.DIRTYPE, 0o755))
                add(ti("dev/null", tarfile.CHRTYPE, 0o666, mtime="1700000009.6", devmajor=1, devminor=3))
                add(ti("dev/loop0", tarfile.BLKTYPE, 0o660, 0, 6, "1700000009.7", devmajor=7, devminor=0))
                add(ti("bin", tarfile.DIRTYPE, 0o755))
                add(ti("bin/ping", mode=0o4755, mtime="1700000010.8",
                       xattrs={"security.capability": CAP, "user.comment": b"strata"}), b"#!/bin/true\n")
                add(ti("tmp", tarfile.DIRTYPE, 0o1777))
            elif kind == "whiteouts":
                add(ti(".wh.gone"), b"")                   # a file of the lower tree
                add(ti(".wh.gonedir"), b"")                # a populated directory of the lower tree
                add(ti(".wh.never"), b"")                  # names nothing: no effect
                add(ti("o", tarfile.DIRTYPE, 0o700, 5, 5))
                add(ti("o/kept", mode=0o600, uid=7, gid=7), b"replaced in this layer\n")
                add(ti("o/newdir", tarfile.DIRTYPE, 0o750))
                add(ti("o/newdir/x", mode=0o644), b"x\n")
                add(ti("o/.wh..wh..opq"), b"")             # hides what the lower put in o/
                add(ti("o/after", mode=0o640, uid=1, gid=2), b"after the marker\n")
                add(ti("p/new", mode=0o644), b"new in an untouched dir\n")
                add(ti("q/.wh.gone-too"), b"")             # whiteout in a dir with no header of its own
            else:
                sys.exit("unknown kind " + kind)
        """#
}
