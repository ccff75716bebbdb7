import StrataArchive
import StrataFS
import StrataTestSupport
import Testing

/// Device nodes, fifos and xattrs reached through symlinked parents, and symlink loops.
@Suite struct SpecialEntryTests {
    /// Parents that point out of root: absolute, relative escaping, and a host path.
    @Test(arguments: ["/tmp", "../../../../tmp", "hostPath"])
    func nodesThroughSymlinkedParent(_ parent: String) throws {
        let box = try Sandbox("nodes")
        let target = parent == "hostPath" ? box.hostPath + "/tmp" : parent
        try box.recordHost()
        var entries: [Entry] = [.symlink("devs", target), .fifo("devs/fifo", mode: 0o666), .fifo("devs/keep")]
        if TestEnvironment.isRoot {
            entries += [.charDevice("devs/null", major: 1, minor: 3), .blockDevice("devs/loop", major: 7, minor: 0)]
        }
        try box.apply(entries)
        let landed = target.hasPrefix(box.hostPath) ? String(target.dropFirst()) : "tmp"
        #expect(try box.entry("\(landed)/fifo")?.type == .fifo)
        #expect(try box.entry("\(landed)/keep")?.type == .fifo)
        #expect(try box.entry("devs/fifo")?.type == .fifo)
        if TestEnvironment.isRoot {
            let null = try box.entry("\(landed)/null")
            #expect(null?.type == .characterDevice && null?.rdevMajor == 1 && null?.rdevMinor == 3)
            #expect(try box.entry("\(landed)/loop")?.type == .blockDevice)
        }
        #expect(try box.text("etc/passwd") == "all users")
        try box.expectHostUnchanged()
    }

    /// The xattrs of every host decoy (etc/, etc/passwd, tmp/, tmp/keep at each level).
    static func hostXattrs(_ box: Sandbox) throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        var level = ""
        for i in 0...Sandbox.depth {
            for (dir, name) in [("", "etc"), ("etc/", "passwd"), ("", "tmp"), ("tmp/", "keep")] {
                let h = try Handle.openDirectory(path: box.hostPath + "/" + level + dir)
                out[level + dir + name] = try h.xattrNames(Array(name.utf8)).sorted()
            }
            level += "l\(i + 1)/"
        }
        return out
    }

    @Test(arguments: ["/etc", "../../../../../etc", "hostPath"])
    func xattrsThroughSymlinkedParent(_ target: String) throws {
        let box = try Sandbox("xattr")
        let link = target == "hostPath" ? box.hostPath + "/etc" : target
        let landed = target == "hostPath" ? String(link.dropFirst()) : "etc"
        try box.recordHost()
        let before = try Self.hostXattrs(box)
        try box.apply([
            .symlink("x", link),
            .file("x/newfile", "n").xattr("user.strata.evil", "1"),
            .dir("x/newdir").xattr("user.strata.evil", "2"),
            .file("x/passwd", "replaced").xattr("user.strata.evil", "4").xattr("trusted.strata.evil", "5"),
            .link("x/passwd2", "x/passwd").xattr("user.strata.other", "3"),
        ])
        #expect(try Self.hostXattrs(box) == before)
        if box.inRoot.supportsUserXattrs() {
            let dir = try Handle.openDirectory(path: try box.resolve(landed))
            #expect(try dir.xattr(Array("newfile".utf8), key: "user.strata.evil") == Array("1".utf8))
            #expect(try dir.xattr(Array("newdir".utf8), key: "user.strata.evil") == Array("2".utf8))
            #expect(try dir.xattr(Array("passwd2".utf8), key: "user.strata.other") == Array("3".utf8))
            #expect(try dir.xattr(Array("passwd".utf8), key: "user.strata.evil") == Array("4".utf8))
            #expect(try dir.xattr(Array("passwd".utf8), key: "trusted.strata.evil") == nil)
        }
        #expect(try box.text(landed + "/passwd") == "replaced")
        #expect(try box.linkTarget("x") == link)
        try box.expectHostUnchanged()
    }

    /// 300 symlinks in a cycle, a self-loop, a two-link cycle and a 300-link chain: resolving a
    /// parent through them must fail (containerd: "too many links"), promptly.
    static let loops: [BreakoutCase] = [
        BreakoutCase(
            "Cycle300",
            (0..<300).map { Entry.symlink("s\($0)", "s\(($0 + 1) % 300)") } + [.file("s0/x", "x")],
            expect: .all([.fails("s0/x"), .passwdIntact()])),
        BreakoutCase(
            "Cycle300Absolute",
            (0..<300).map { Entry.symlink("s\($0)", "/s\(($0 + 1) % 300)/") } + [.dir("s7/d")],
            expect: .all([.fails("s7/d"), .passwdIntact()])),
        BreakoutCase(
            "SelfLoop", [.symlink("self", "self"), .file("self/x", "x")],
            expect: .all([.fails("self/x"), .passwdIntact()])),
        BreakoutCase(
            "TwoLinkCycle", [.symlink("a", "b/"), .symlink("b", "/a"), .file("a/x", "x")],
            expect: .all([.fails("a/x"), .passwdIntact()])),
        BreakoutCase(
            "Chain300",
            [.dir("end")] + (0..<300).map { Entry.symlink("c\($0)", $0 == 299 ? "end" : "c\($0 + 1)") }
                + [.file("c0/x", "x")],
            expect: .all([.fails("c0/x"), .passwdIntact()])),
        BreakoutCase(
            "HardlinkTargetThroughCycle",
            (0..<300).map { Entry.symlink("s\($0)", "s\(($0 + 1) % 300)") } + [.link("l", "s0/passwd")],
            expect: .all([.fails("entry l"), .passwdIntact()])),
    ]

    @Test(.timeLimit(.minutes(1)), arguments: loops)
    func symlinkLoopFails(_ c: BreakoutCase) throws { try c.run() }
}
