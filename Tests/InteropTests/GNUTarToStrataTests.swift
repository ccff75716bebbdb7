import StrataChanges
import StrataFS
import StrataLayers
import StrataTestSupport
import Testing

/// One way of writing a layer with GNU tar.
struct GNUTarDialect: Sendable, CustomTestStringConvertible {
    var name: String
    var flags: [String]
    var compression: String
    /// The mtime precision the dialect carries.
    var times: TreeVerifier.Times
    /// Whether the archive stores the sparse file as sparse data.
    var sparse: Bool
    /// USTAR cannot hold long names and link targets or large ids (see `beyond-ustar/`).
    var excludeLongName = false

    var testDescription: String { "\(name) (\(compression))" }

    static let all: [GNUTarDialect] = [
        GNUTarDialect(
            name: "gnu --sparse", flags: ["--format=gnu", "--sparse"], compression: "gzip", times: .seconds,
            sparse: true),
        GNUTarDialect(
            name: "oldgnu --sparse", flags: ["--format=oldgnu", "--sparse"], compression: "none", times: .seconds,
            sparse: true),
        GNUTarDialect(
            name: "pax sparse 0.0", flags: ["--format=pax", "--sparse", "--sparse-version=0.0"], compression: "none",
            times: .nanoseconds, sparse: true),
        GNUTarDialect(
            name: "pax sparse 0.1", flags: ["--format=pax", "--sparse", "--sparse-version=0.1"], compression: "zstd",
            times: .nanoseconds, sparse: true),
        GNUTarDialect(
            name: "pax sparse 1.0 + xattrs",
            flags: ["--format=pax", "--sparse", "--sparse-version=1.0", "--xattrs", "--xattrs-include=*"],
            compression: "gzip", times: .nanoseconds, sparse: true),
        GNUTarDialect(
            name: "ustar", flags: ["--format=ustar"], compression: "gzip", times: .seconds, sparse: false,
            excludeLongName: true),
        GNUTarDialect(
            name: "posix + xattrs", flags: ["--format=posix", "--xattrs", "--xattrs-include=*"], compression: "zstd",
            times: .nanoseconds, sparse: false),
    ]
}

@Suite("GNU tar → Strata")
struct GNUTarToStrataTests {
    static let longName = String(repeating: "L", count: 150)
    static let unicodeName = "ünïcødé ☃ 名前.txt"
    /// A path over 100 bytes whose components fit USTAR's prefix/name split.
    static let deepPath = "deep/" + String(repeating: "a", count: 60) + "/" + String(repeating: "b", count: 60)
    static let sparseName = "sparse.img"
    /// 40 islands of data: GNU sparse extension headers and long PAX maps.
    static let fragmentedName = "fragmented.img"
    /// Nothing but a hole.
    static let holeName = "hole.img"
    static let sparseSize: Int64 = 8 << 20

    /// Files, directories, symlinks, hardlinks, a fifo, a character device, user.* and
    /// security.capability xattrs, owners, set-uid, long and Unicode names, a sparse file, ns times.
    static func buildSource(_ path: String) async throws {
        let t = try TreeBuilder(creating: path)
        try t.directory("d", mode: 0o750)
        try t.file("d/file", "hello\n", mode: 0o640)
        try t.chown("d/file", uid: 1234, gid: 5678)
        try t.setXattr("d/file", "user.comment", Array("strata".utf8))
        try t.setXattr("d/file", "user.binary", [0xFF, 0x00, 0x80, 0x0A])
        try t.hardlink("d/hard", to: "d/file")
        try t.symlink("d/link", to: "file")
        try t.chown("d/link", uid: 42, gid: 43)
        try t.symlink("d/abs", to: "/etc/passwd")
        try t.node("d/fifo", type: .fifo, mode: 0o600)
        try t.directory("d/empty-dir", mode: 0o700)
        try t.file("d/empty", [])
        try t.file("d/big-ids", Array(repeating: 0x78, count: 5000), mode: 0o600)
        try t.chown("d/big-ids", uid: 70000, gid: 70001)
        try t.directory("dev")
        try t.node("dev/null", type: .characterDevice, mode: 0o666, major: 1, minor: 3)
        try t.directory("bin")
        try t.file("bin/ping", "#!/bin/true\n", mode: 0o4755)
        try t.setXattr("bin/ping", "security.capability", TreeGenerator.capability)
        try t.directory("tmp", mode: 0o1777)
        // What USTAR cannot hold: a 150-byte name, a 150-byte link target, an id over 2097151.
        try t.directory("beyond-ustar")
        try t.file("beyond-ustar/" + longName, "long name\n")
        try t.symlink("beyond-ustar/long-link", to: String(repeating: "T", count: 150))
        try t.file("beyond-ustar/huge-ids", "huge ids\n")
        try t.chown("beyond-ustar/huge-ids", uid: 3_000_000, gid: 3_000_001)
        try t.file(unicodeName, "unicode\n")
        try t.directory("deep")
        try t.directory("deep/" + String(repeating: "a", count: 60))
        try t.file(deepPath, "deep\n")
        // A sparse file: 8 MiB with two islands of data, made by truncate and dd seek.
        try await Interop.sh(
            """
            truncate -s \(sparseSize) \(sparseName)
            dd if=/dev/urandom of=\(sparseName) bs=4096 seek=100 count=2 conv=notrunc status=none
            dd if=/dev/urandom of=\(sparseName) bs=4096 seek=1500 count=1 conv=notrunc status=none
            for i in $(seq 0 39); do
                dd if=/dev/urandom of=\(fragmentedName) bs=4096 seek=$((i * 16 + 1)) count=1 conv=notrunc status=none
            done
            truncate -s 4M \(holeName)
            """, in: path)
        var ns: UInt32 = 123_456_789
        for p in [
            "d/file", "d/link", "d/abs", "d/fifo", "d/empty", "d/big-ids", "dev/null", "bin/ping",
            "beyond-ustar/" + longName, "beyond-ustar/long-link", "beyond-ustar/huge-ids",
            unicodeName, deepPath, sparseName, fragmentedName, holeName,
        ] {
            try t.setTime(p, FileTime(seconds: 1_700_000_000, nanoseconds: ns))
            ns = (ns + 111_111_111) % 1_000_000_000
        }
    }

    @Test(arguments: GNUTarDialect.all)
    func gnuTarLayerAppliesLikeGNUTarExtracts(_ dialect: GNUTarDialect) async throws {
        var tools = ["tar", "truncate", "dd"]
        if dialect.compression != "none" { tools.append(dialect.compression) }
        guard Interop.requirements(tools: tools, root: true) else { return }
        let tmp = TempDirectory("gnutar")
        let src = tmp.at("src")
        try await Self.buildSource(src)
        let source = try Interop.stat(src, Self.sparseName)
        try #require(source.allocatedBytes < source.size, "the source file should be sparse on this filesystem")

        let tar = tmp.at("layer.tar")
        let exclude = dialect.excludeLongName ? "--exclude=./beyond-ustar" : ""
        try await Interop.sh(
            "tar -C \(Interop.q(src)) --numeric-owner \(exclude) "
                + dialect.flags.map(Interop.q).joined(separator: " ") + " -cf \(Interop.q(tar)) .")
        if dialect.sparse {
            // The sparse data really is stored sparse (not 8 MiB of zeros).
            let size = try Interop.stat(tmp.path, "layer.tar").size
            #expect(size < 1 << 20, "\(dialect.name): archive of \(size) bytes does not store the file as sparse")
        }
        let layer = try await Interop.compress(tar, dialect.compression)

        let applied = tmp.directory("strata")
        let extracted = tmp.directory("gnutar")
        try await Interop.apply(layer, onto: applied)
        try await Interop.tarExtract(layer, into: extracted, compression: dialect.compression)

        try Interop.expectSameTree(
            extracted, applied, TreeVerifier(times: dialect.times, xattrs: .all, owners: true), dialect.name)
        // The dialect's features really reached the tree (not two equally empty trees).
        let file = try Interop.stat(applied, "d/file")
        #expect(file.uid == 1234 && file.gid == 5678 && file.permissions == 0o640 && file.linkCount == 2)
        #expect(try Interop.stat(applied, "dev/null").type == .characterDevice)
        #expect(try Interop.stat(applied, Self.unicodeName).size == 8)
        #expect(try Interop.stat(applied, Self.deepPath).size == 5)
        if !dialect.excludeLongName {
            #expect(try Interop.stat(applied, "beyond-ustar/" + Self.longName).size == 10)
            #expect(try Interop.stat(applied, "beyond-ustar/huge-ids").uid == 3_000_000)
        }
        if dialect.times == .nanoseconds {
            #expect(
                try Interop.stat(applied, "d/file").modificationTime
                    == FileTime(seconds: 1_700_000_000, nanoseconds: 123_456_789))
        }
        if dialect.flags.contains("--xattrs") {
            let x = try Interop.xattrs(applied, "bin/ping")
            #expect(x["security.capability"] == TreeGenerator.capability)
            #expect(try Interop.xattrs(applied, "d/file")["user.binary"] == [0xFF, 0x00, 0x80, 0x0A])
        }

        #expect(try Interop.stat(applied, Self.sparseName).size == UInt64(Self.sparseSize))
        #expect(try Interop.stat(applied, Self.holeName).size == 4 << 20)
        if dialect.sparse {
            for name in [Self.sparseName, Self.fragmentedName, Self.holeName] {
                let m = try Interop.stat(applied, name)
                #expect(
                    m.allocatedBytes < m.size,
                    "\(dialect.name): Strata wrote \(name) with \(m.allocatedBytes) of \(m.size) bytes allocated")
            }
        }
    }
}
