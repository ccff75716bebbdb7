import StrataChanges
import StrataFS
import StrataTestSupport
import Testing

/// The change stream, against continuity's `fs/diff_test.go` catalogue.
@Suite struct ChangesTests {
    @Test func simpleDiff() throws {
        let t = try pair(
            "simple",
            base: { b in
                try b.directory("etc")
                for (n, c) in [
                    ("hosts", "mydomain 10.0.0.1"), ("profile", "PATH=/usr/bin"), ("unchanged", "foo"),
                    ("unexpected", "#!/bin/sh"),
                ] {
                    try b.file("etc/" + n, c)
                    try b.setTime("etc/" + n, fixedTime)
                }
            },
            change: { b in
                try b.file("etc/hosts", "mydomain 10.0.0.120")
                try b.chmod("etc/profile", 0o666)
                try b.remove("etc/unexpected")
                try b.directory("root", mode: 0o700)
                try b.file("root/.bashrc", "PATH=/usr/sbin:/usr/bin")
            })
        #expect(
            try changes(t) == ["C /etc/hosts", "C /etc/profile", "D /etc/unexpected", "A /root", "A /root/.bashrc"])
    }

    @Test func nestedDeletionIsOneDeletePerTree() throws {
        let t = try pair(
            "nested",
            base: { b in
                try b.directory("d0")
                try b.directory("d1")
                try b.directory("d1/d2")
                try b.file("d1/d2/f1", "x")
                try b.file("d0/f", "y")
            },
            change: { b in
                try b.remove("d0")
                try b.remove("d1")
            })
        #expect(try changes(t) == ["D /d0", "D /d1"])
    }

    @Test func directoryReplacedByFileReportsNoChildDeletes() throws {
        let t = try pair(
            "dirreplace",
            base: { b in
                try b.directory("dir1")
                try b.directory("dir1/f2")
                try b.file("dir1/f2/f3", "x")
            },
            change: { b in
                try b.file("dir1/f11", "new")
                try b.remove("dir1/f2")
                try b.file("dir1/f2", "now a file")
            })
        #expect(try changes(t) == ["A /dir1/f11", "C /dir1/f2"])
    }

    @Test func fileReplacedByDirectory() throws {
        let t = try pair(
            "filereplace", base: { b in try b.file("dir1", "file") },
            change: { b in
                try b.remove("dir1")
                try b.directory("dir1")
                try b.directory("dir1/dir2")
                try b.file("dir1/dir2/f1", "x")
            })
        #expect(try changes(t) == ["C /dir1", "A /dir1/dir2", "A /dir1/dir2/f1"])
    }

    @Test func separatorSortsBeforeEveryByte() throws {
        let t = try pair(
            "order", base: { _ in },
            change: { b in
                try b.directory("dir1")
                try b.file("dir1/1", "")
                try b.file("dir1-1", "")
                try b.file("dir1-before", "")
            })
        #expect(try changes(t) == ["A /dir1", "A /dir1/1", "A /dir1-1", "A /dir1-before"])
    }

    @Test func removeTreeWithDashedSibling() throws {
        let t = try pair(
            "dash",
            base: { b in
                try b.directory("dir1")
                try b.file("dir1/f", "")
                try b.directory("dir1-before")
                try b.file("dir1-before/f", "")
            }, change: { b in try b.remove("dir1") })
        #expect(try changes(t) == ["D /dir1"])
    }

    /// containerd's nanosecond rule (`TestUpdateWithSameTime`).
    @Test(arguments: [
        (
            "modified-time", "abc", "abc", FileTime(seconds: 100, nanoseconds: 1),
            FileTime(seconds: 100, nanoseconds: 2), true
        ),
        (
            "no-change-nano", "abc", "abc", FileTime(seconds: 100, nanoseconds: 7),
            FileTime(seconds: 100, nanoseconds: 7), false
        ),
        (
            "same-time-other-content", "abc", "xyz", FileTime(seconds: 100, nanoseconds: 7),
            FileTime(seconds: 100, nanoseconds: 7), false
        ),
        ("truncated-one-side", "abc", "abc", FileTime(seconds: 100, nanoseconds: 7), FileTime(seconds: 100), true),
        ("truncated-both-same", "abc", "abc", FileTime(seconds: 100), FileTime(seconds: 100), false),
        ("truncated-both-differ", "abc", "xyz", FileTime(seconds: 100), FileTime(seconds: 100), true),
        ("empty-whole-seconds", "", "", FileTime(seconds: 100), FileTime(seconds: 100), false),
    ])
    func nanosecondRule(_ name: String, _ a: String, _ b: String, _ ta: FileTime, _ tb: FileTime, _ changed: Bool)
        throws
    {
        let t = try pair("time", base: { x in try x.file("f", a) }, change: { x in try x.file("f", b) })
        try TreeBuilder(root: t.handle("lower")).setTime("f", ta)
        try TreeBuilder(root: t.handle("upper")).setTime("f", tb)
        #expect(try changes(t) == (changed ? ["C /f"] : []), "\(name)")
    }

    /// Setting a symlink's own times to the same value on both sides (`TestLchtimes`).
    @Test(arguments: [FileTime(seconds: 0), FileTime(seconds: 0, nanoseconds: 42)])
    func symlinkOwnTimesAreSetWithoutFollowing(_ time: FileTime) throws {
        let t = try pair(
            "lchtimes",
            base: { b in
                try b.directory("dir1", mode: 0o700)
                try b.symlink("dir1/sym", to: "foo")
            }, change: { _ in })
        for side in ["lower", "upper"] { try TreeBuilder(root: t.handle(side)).setTime("dir1/sym", time) }
        #expect(try changes(t) == [])
        let meta = try t.handle("upper").openDirectory(Array("dir1".utf8)).stat(Array("sym".utf8))
        #expect(meta.modificationTime == time)
    }

    @Test func symlinkRetargetWithSameTimeIsChange() throws {
        let t = try pair(
            "retarget",
            base: { b in
                try b.symlink("link", to: "aaa")
                try b.setTime("link", FileTime(seconds: 100))
            },
            change: { b in
                try b.symlink("link", to: "bbb")
                try b.setTime("link", FileTime(seconds: 100))
            })
        #expect(try changes(t) == ["C /link"])
    }

    @Test func directoryMtimeAloneIsNoChange() throws {
        let t = try pair(
            "dirtime", base: { b in try b.directory("d") }, change: { b in try b.setTime("d", FileTime(seconds: 5)) })
        #expect(try changes(t) == [])
    }

    @Test func userXattrsCountOnlyUnderAll() throws {
        let probe = TempDirectory("probe")
        guard try TreeBuilder(creating: probe.at("x")).supportsUserXattrs() else { return }
        let t = try pair(
            "xattr",
            base: { b in
                try b.file("f", "x")
                try b.setTime("f", fixedTime)
            }, change: { b in try b.setXattr("f", "user.k", [1, 2]) })
        #expect(try changes(t, policy: .capability) == [])
        #expect(try changes(t, policy: .all) == ["C /f"])
    }

    @Test func unchangedHardlinksAreReportedForWriters() throws {
        let t = try pair(
            "hl",
            base: { b in
                try b.file("a", "x")
                try b.setTime("a", fixedTime)
            }, change: { b in try b.hardlink("b", to: "a") })
        var c = Collector()
        try TreeComparer().compare(lower: t.handle("lower"), upper: t.handle("upper"), into: &c)
        #expect(c.lines == ["U /a", "A /b"])
    }

    @Test func sinkCanStopTheWalk() throws {
        struct StopAfterOne: ChangeSink {
            var seen = 0
            mutating func handle(_ c: Change) throws -> WalkDecision {
                seen += 1
                return .stop
            }
        }
        let t = try pair(
            "stop", base: { _ in },
            change: { b in
                try b.file("a", "")
                try b.file("b", "")
            })
        var s = StopAfterOne()
        let completed = try TreeComparer().compare(lower: t.handle("lower"), upper: t.handle("upper"), into: &s)
        #expect(!completed)
        #expect(s.seen == 1)
    }
}
