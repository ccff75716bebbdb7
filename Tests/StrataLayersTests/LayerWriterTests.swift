import StrataCompression
import StrataFS
import StrataLayers
import StrataStreams
import StrataTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The exact entries containerd's ChangeWriter produces (`TestDiffTar` in containerd's
/// `pkg/archive/tar_test.go`).
@Suite struct LayerWriterTests {
    func e(_ name: String, _ type: Character, _ mode: Int64, _ link: String = "") -> ListedEntry {
        ListedEntry(name: name, type: type, mode: mode, link: link)
    }

    func check(_ t: TempDirectory, _ expected: [ListedEntry]) throws {
        let got = try listEntries(layer(t)).map {
            ListedEntry(name: $0.name, type: $0.type, mode: $0.mode, link: $0.link)
        }
        #expect(got == expected)
    }

    @Test func emptyDiff() throws {
        let t = try pair("empty", base: { b in try b.directory("etc") }, change: { _ in })
        try check(t, [])
    }

    @Test func parentInclusion() throws {
        let t = try pair(
            "parents",
            base: { b in
                try b.directory("d1", mode: 0o755)
                try b.directory("d2", mode: 0o770)
            },
            change: { b in
                try b.directory("d1/d", mode: 0o700)
                try b.file("d2/f", "ok")
            })
        try check(t, [e("d1/", "5", 0o755), e("d1/d/", "5", 0o700), e("d2/", "5", 0o770), e("d2/f", "0", 0o644)])
    }

    @Test func hardlinkParentInclusion() throws {
        let t = try pair(
            "hlparents",
            base: { b in
                for d in ["d1", "d4", "d6"] { try b.directory(d) }
                try b.file("d1/f1", "link me")
                try b.file("d4/f1", "link me too")
                try b.file("d6/l1", "")
                try b.file("d6/l2", "")
                for p in ["d1/f1", "d4/f1"] { try b.setTime(p, fixedTime) }
            },
            change: { b in
                try b.directory("d2")
                try b.hardlink("d2/l1", to: "d1/f1")
                try b.directory("d3")
                try b.hardlink("d3/l1", to: "d4/f1")
                try b.remove("d6/l1")
                try b.remove("d6/l2")
            })
        try check(
            t,
            [
                e("d2/", "5", 0o755), e("d2/l1", "0", 0o644), e("d1/", "5", 0o755), e("d1/f1", "1", 0o644, "d2/l1"),
                e("d3/", "5", 0o755), e("d3/l1", "0", 0o644), e("d4/", "5", 0o755), e("d4/f1", "1", 0o644, "d3/l1"),
                e("d6/", "5", 0o755), e("d6/.wh.l1", "0", 0), e("d6/.wh.l2", "0", 0),
            ])
    }

    @Test func updateDirectoryPermission() throws {
        let t = try pair(
            "dirperm",
            base: { b in
                try b.directory("d1", mode: 0o700)
                try b.directory("d2", mode: 0o700)
            },
            change: { b in
                try b.chmod("d1", 0o777)
                try b.directory("d1/d", mode: 0o700)
                try b.file("d2/f", "ok")
            })
        try check(t, [e("d1/", "5", 0o777), e("d1/d/", "5", 0o700), e("d2/", "5", 0o700), e("d2/f", "0", 0o644)])
    }

    @Test func whiteoutIncludesParents() throws {
        let t = try pair(
            "whparents",
            base: { b in
                for d in ["d1", "d2", "d3", "d4", "d5"] { try b.directory(d) }
                for f in ["d1/f1", "d2/f1", "d2/f2", "d3/f1", "d4/f0", "d4/f1", "d5/f1"] {
                    try b.file(f, "")
                    try b.setTime(f, fixedTime)
                }
            },
            change: { b in
                try b.remove("d1/f1")
                try b.remove("d2/f1")
                try b.chmod("d2/f2", 0o777)
                try b.remove("d3/f1")
                try b.file("d3/f2", "")
                try b.chmod("d4/f0", 0o600)
                try b.remove("d4/f1")
                try b.remove("d5")
            })
        try check(
            t,
            [
                e("d1/", "5", 0o755), e("d1/.wh.f1", "0", 0), e("d2/", "5", 0o755), e("d2/.wh.f1", "0", 0),
                e("d2/f2", "0", 0o777), e("d3/", "5", 0o755), e("d3/.wh.f1", "0", 0), e("d3/f2", "0", 0o644),
                e("d4/", "5", 0o755), e("d4/f0", "0", 0o600), e("d4/.wh.f1", "0", 0), e(".wh.d5", "0", 0),
            ])
    }

    @Test func whiteoutParentRemoval() throws {
        let t = try pair(
            "whremoval",
            base: { b in
                for d in ["d1", "d2", "d3"] { try b.directory(d) }
                try b.file("d1/f1", "")
                try b.file("d2/f1", "")
            },
            change: { b in
                try b.remove("d1")
                try b.remove("d2")
                try b.file("d3/f", "")
                try b.remove("d3/f")
            })
        let got = try listEntries(layer(t)).map(\.name)
        #expect(got.prefix(2) == [".wh.d1", ".wh.d2"])
    }

    @Test func socketsAreSkipped() throws {
        let t = try pair(
            "sockets", base: { _ in },
            change: { b in
                try b.file("f2", "")
                try b.file("f3", "")
            })
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let path = Array(t.at("upper/s0").utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { p in for (i, c) in path.enumerated() { p[i] = c } }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(bound == 0)
        try check(t, [e("f2", "0", 0o644), e("f3", "0", 0o644)])
    }

    /// Whiteouts always carry 1970; later times clamp to the epoch; earlier ones stay.
    @Test func sourceDateEpoch() throws {
        let epoch = FileTime(seconds: 1_642_941_296)  // 2022-01-23T12:34:56Z
        let t = try pair(
            "sde", base: { b in try b.file("f1", "") },
            change: { b in
                try b.remove("f1")
                try b.file("f2", "")
                try b.setTime("f2", FileTime(seconds: 1_640_995_200))
                try b.file("f3", "")
            })
        let got = try listEntries(layer(t, options: DiffOptions(compression: .none, sourceDateEpoch: epoch)))
        #expect(got.map(\.name) == [".wh.f1", "f2", "f3"])
        #expect(got.map(\.mtime) == [0, 1_640_995_200, epoch.seconds])
    }

    @Test(arguments: Compression.allCases)
    func sameTreesGiveIdenticalBytes(_ c: Compression) throws {
        let t = TempDirectory("determinism")
        for side in ["lower", "upper"] {
            var g = TreeGenerator(seed: 7)
            try g.populate(TreeBuilder(creating: t.at(side)), count: 60)
            if side == "upper" { try g.mutate(TreeBuilder(root: t.handle(side)), count: 30) }
        }
        let a = MemorySink()
        let b = MemorySink()
        let options = DiffOptions(compression: c)
        let da = try Differ(options: options).write(lower: t.handle("lower"), upper: t.handle("upper"), to: a)
        let db = try Differ(options: options).write(lower: t.handle("lower"), upper: t.handle("upper"), to: b)
        #expect(a.bytes == b.bytes)
        #expect(da == db)
        #expect(da.mediaType == "application/vnd.oci.image.layer.v1.tar" + c.mediaTypeSuffix)
    }

    /// `--mtime ns` keeps nanoseconds in PAX records; the default truncates like containerd.
    @Test func nanosecondTimesUsePAX() throws {
        let t = try pair(
            "ns", base: { _ in },
            change: { b in
                try b.file("f", "x")
                try b.setTime("f", FileTime(seconds: 1_600_000_000, nanoseconds: 120_000_000))
            })
        let s = try layer(t)
        let ns = try layer(t, options: DiffOptions(compression: .none, nanosecondTimes: true))
        #expect(s.count == 512 * 2 + 1024)
        #expect(String(decoding: ns, as: UTF8.self).contains("mtime=1600000000.12\n"))
        #expect(String(decoding: ns[0..<100], as: UTF8.self).hasPrefix("PaxHeaders.0/f"))
    }
}
