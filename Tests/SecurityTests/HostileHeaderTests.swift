import StrataArchive
import StrataFS
import StrataTestSupport
import Testing

/// Issue 23's one-entry layers. Before the fix, NUL bytes in PAX names reached the kernel cut at
/// the NUL (`..\0` read as `..`) and climbed out of ROOT, and absurd numbers trapped the process.
/// ROOT sits eight levels deep in a sentinel tree (`Sandbox`), so every climb lands on decoys
/// that `expectHostUnchanged` watches.
@Suite struct HostileHeaderTests {
    static let nul: [UInt8] = [0]
    static let dotDotNUL: [UInt8] = Array("..".utf8) + nul

    /// A PAX `path` holding NUL bytes, on each kind of entry that once escaped.
    static let nulPaths: [(String, [UInt8], UInt8)] = [
        (
            "file climbing",
            Array("d/".utf8) + Array(repeating: dotDotNUL + [0x2F], count: 3).flatMap { $0 } + Array("tmp/x".utf8), 0x30
        ),
        ("whiteout of the parent", Array(".wh.".utf8) + dotDotNUL, 0x30),
        ("directory", dotDotNUL, 0x35),
        ("symlink", dotDotNUL, 0x32),
    ]

    @Test(arguments: nulPaths.indices)
    func nulInPAXPathIsRefusedNamingTheEntry(_ i: Int) throws {
        let (label, path, type) = Self.nulPaths[i]
        let box = try Sandbox("nul-\(i)")
        let layer =
            RawTar.pax([RawTar.record("path", path)])
            + RawTar.header("placeholder", type: type, size: type == 0x30 ? 5 : 0, linkname: type == 0x32 ? "/" : "")
            + (type == 0x30 ? RawTar.padded(Array("owned".utf8)) : []) + RawTar.end
        #expect(throws: TarError.self, "\(label)") { try box.apply(bytes: layer) }
        do { try box.apply(bytes: layer) } catch {
            #expect("\(error)".contains("NUL"), "\(label): \(error)")
            #expect("\(error)".contains("\\0"), "\(label): the entry is named with its NUL shown: \(error)")
        }
        try box.expectHostUnchanged()
    }

    /// `linkpath` and `GNU.sparse.name` are names too.
    @Test(arguments: ["linkpath", "GNU.sparse.name"])
    func nulInOtherNameRecordsIsRefused(_ key: String) throws {
        let box = try Sandbox("nul-" + key)
        let value = Array(repeating: Self.dotDotNUL + [0x2F], count: 9).flatMap { $0 } + Array("perm400".utf8)
        let layer =
            RawTar.pax([RawTar.record("path", Array("victim".utf8)), RawTar.record(key, value)])
            + RawTar.header("victim", type: key == "linkpath" ? 0x31 : 0x30) + RawTar.end
        #expect {
            try box.apply(bytes: layer)
        } throws: { error in
            "\(error)".contains("NUL") && "\(error)".contains("\\0/perm400")
        }
        try box.expectHostUnchanged()
    }

    /// A NUL can reach no system call, whatever a caller passes: the C-string conversion refuses
    /// it rather than cutting there, and `RootedPath` refuses it before that.
    @Test func nulNeverReachesTheKernel() throws {
        let box = try Sandbox("nul-kernel")
        try box.recordHost()
        #expect(throws: FSError.self) { try box.root.makeDirectory(Self.dotDotNUL, mode: 0o777) }
        #expect(throws: FSError.self) { try box.root.changeMode(Self.dotDotNUL, 0o777) }
        #expect(throws: FSError.self) { try box.root.setXattr([0x2E], key: "user.a\u{0}b", value: [1]) }
        #expect(throws: PathError.self) { try RootedPath(cleaning: Array("a/".utf8) + Self.dotDotNUL) }
        #expect(throws: PathError.self) { try RootedPath(strict: Array("a/../b".utf8)) }
        #expect(try RootedPath(cleaning: Array("/../a/./b/..//c".utf8)).description == "/a/c")
        try box.expectHostUnchanged()
    }

    /// `(uid_t)-1` (4294967295, or -1 in base-256) leaves the id as it is, as chown(2) and
    /// containerd's Lchown do; an id beyond 32 bits is refused, naming the entry.
    @Test func ownerMinusOneLeavesTheOwnerAndLargerIdsAreRefused() throws {
        guard TestEnvironment.requirementsMet(root: true, fail: { Issue.record(Comment(rawValue: $0)) }) else { return }
        let box = try Sandbox("uid-minus-one")
        let keep =
            RawTar.header(
                "kept", size: 1,
                numbers: [
                    RawTar.uidField: RawTar.base256(4_294_967_295, width: 8),
                    RawTar.gidField: RawTar.base256(-1, width: 8),
                ]) + RawTar.padded([0x41])
        try box.apply(bytes: keep + RawTar.end)
        #expect(try box.entry("kept")?.uid == 0)
        #expect(try box.entry("kept")?.gid == 0)
        let wide = RawTar.header("wide", numbers: [RawTar.uidField: RawTar.base256(1 << 32, width: 8)]) + RawTar.end
        #expect {
            try box.apply(bytes: wide)
        } throws: { error in
            "\(error)".contains("entry wide") && "\(error)".contains("owner id 4294967296")
        }
        try box.expectHostUnchanged()
    }

    /// A sparse map that writes out of order or past its file is refused, naming the entry.
    @Test func sparseMapOutOfRangeIsRefused() throws {
        let box = try Sandbox("sparse-map")
        let layer =
            RawTar.pax([
                RawTar.record("path", Array("sparse".utf8)), RawTar.record("GNU.sparse.realsize", Array("100".utf8)),
                RawTar.record("GNU.sparse.map", Array("50,10,0,10".utf8)),
            ]) + RawTar.header("sparse", size: 20) + RawTar.padded([UInt8](repeating: 0x42, count: 20)) + RawTar.end
        #expect {
            try box.apply(bytes: layer)
        } throws: { error in
            "\(error)".contains("sparse") && "\(error)".contains("out of order")
        }
        try box.expectHostUnchanged()
    }

    /// Times far from now cannot overflow the nanosecond arithmetic: it saturates.
    @Test func nanosecondTimesSaturate() {
        #expect(FileTime(seconds: .max / 2).nanosecondsSince1970 == .max)
        #expect(FileTime(seconds: .min / 2).nanosecondsSince1970 == .min)
        #expect(FileTime(seconds: 9_223_372_036, nanoseconds: 999_999_999).nanosecondsSince1970 == .max)
        #expect(FileTime(seconds: -3, nanoseconds: 5).nanosecondsSince1970 == -2_999_999_995)
    }
}

/// The same inputs through `strata apply`, where a trap would show as a signal: each must be a
/// clear error naming the entry or field, with nothing changed outside ROOT.
@Suite struct TrapFreeTests {
    let cli = BadInputTests()

    static let cases: [(String, [UInt8], [String], [String])] = [
        (
            "size Int64.max on a whiteout",
            RawTar.pax([RawTar.record("size", Array("9223372036854775807".utf8))]) + RawTar.header(".wh.gone")
                + RawTar.end, ["gone", "size 9223372036854775807 is out of range"], []
        ),
        (
            "size Int64.max under --dry-run",
            RawTar.pax([RawTar.record("size", Array("9223372036854775807".utf8))]) + RawTar.header("file")
                + RawTar.end, ["file", "out of range"], ["--dry-run"]
        ),
        (
            "PAX record length near Int64.max",
            RawTar.pax([RawTar.record("path", Array("long".utf8)), Array("9223372036854775807 path=x\n".utf8)])
                + RawTar.header("file") + RawTar.end, ["entry long", "malformed record"], []
        ),
        (
            "PAX mtime Int64.min and a half",
            RawTar.pax([
                RawTar.record("path", Array("timed".utf8)),
                RawTar.record("mtime", Array("-9223372036854775808.5".utf8)),
            ]) + RawTar.header("timed") + RawTar.end, ["timed", "bad time"], []
        ),
        (
            "a sparse map whose end overflows",
            RawTar.pax([
                RawTar.record("path", Array("sparse".utf8)), RawTar.record("GNU.sparse.size", Array("1".utf8)),
                RawTar.record("GNU.sparse.map", Array("4611686018427387904,4611686018427387904".utf8)),
            ]) + RawTar.header("sparse") + RawTar.end, ["sparse", "out of order or range"], []
        ),
        (
            "PAX records past 1 MiB for one entry",
            RawTar.pax([RawTar.record("path", Array("big".utf8))])
                + RawTar.pax(
                    Array(repeating: RawTar.record("comment", [UInt8](repeating: 0x61, count: 60_000)), count: 18))
                + RawTar.header("big") + RawTar.end, ["entry big", "more than the 1048576 allowed"], []
        ),
        (
            "a malformed record after the path",
            RawTar.pax([RawTar.record("path", Array("victim".utf8)), Array("5 x\n".utf8)]) + RawTar.header("victim")
                + RawTar.end, ["victim", "malformed record"], []
        ),
        (
            "base-256 owner beyond 32 bits",
            RawTar.header("wide", numbers: [RawTar.uidField: RawTar.base256(-7, width: 8)]) + RawTar.end,
            ["entry wide", "owner id -7"], []
        ),
    ]

    @Test(arguments: cases.indices)
    func oneEntryCannotTrap(_ i: Int) async throws {
        let (label, layer, mentions, extra) = Self.cases[i]
        // Owners are only applied as root; elsewhere the out-of-range owner is never looked at.
        if label.contains("owner"),
            !TestEnvironment.requirementsMet(root: true, fail: { Issue.record(Comment(rawValue: $0)) })
        {
            return
        }
        let (box, r) = try await cli.apply(layer, "trap-\(i)", extra)
        #expect(r.status == 1, "\(label): exit \(r.status) (a trap exits by signal)")
        try cli.expectFailure(box, r, mentions: mentions)
    }
}
