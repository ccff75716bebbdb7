import Foundation
import StrataFS
import StrataTestSupport
import Testing

/// Entry names are cleaned lexically as if rooted at `/`: absolute names and `..` components
/// land inside root; names that clean to root itself (or are empty) are skipped, as containerd
/// skips them ("resolved to root").
@Suite struct EntryNameTests {
    static let landing: [(String, String)] = [
        ("/etc/x", "etc/x"),
        ("../../x", "x"),
        ("../../../../../../../../../../../../etc/escaped", "etc/escaped"),
        ("/../etc/y", "etc/y"),
        ("etc/../../z", "z"),
        ("./../w", "w"),
        ("//etc///v", "etc/v"),
        ("..//..//tmp/t", "tmp/t"),
        ("etc/passwd/../../../../u", "u"),
    ]

    @Test(arguments: landing)
    func hostileNameLandsInsideRoot(_ name: String, _ landsAt: String) throws {
        try BreakoutCase(
            name, [.file(name, "payload", mode: 0o4755)],
            expect: .all([.content(landsAt, "payload"), .mode(landsAt, 0o4755), .passwdIntact()])
        ).run()
    }

    static let otherKinds: [BreakoutCase] = [
        BreakoutCase(
            "DirectoryDotDotName", [.dir("../../newdir/", mode: 0o700)],
            expect: .all([.type("newdir", .directory), .mode("newdir", 0o700)])),
        BreakoutCase(
            "HardlinkDotDotNameAndTarget", [.link("../../hl", "../../etc/passwd")],
            expect: .all([.sameFile("hl", "etc/passwd"), .passwdIntact()])),
        BreakoutCase(
            "SymlinkDotDotName", [.symlink("../../sl", "/etc/passwd")],
            expect: .all([.symlink("sl", "/etc/passwd"), .sameFile("sl", "etc/passwd")])),
        BreakoutCase(
            "FifoAbsoluteName", [.fifo("/../../etc/fifo")],
            expect: .all([.type("etc/fifo", .fifo), .passwdIntact()])),
    ]

    @Test(arguments: otherKinds)
    func otherKindsWithHostileNames(_ c: BreakoutCase) throws { try c.run() }

    /// Entries whose name resolves to root, or is empty: skipped (root keeps its mode, no link,
    /// no node replaces it), and later entries still apply.
    static let rootNames: [BreakoutCase] = [
        ("DirSlash", Entry.dir("/", mode: 0o777)),
        ("DirDot", Entry.dir(".", mode: 0o700)),
        ("DirDotDot", Entry.dir("../..", mode: 0o777)),
        ("DirEmpty", Entry.dir("", mode: 0o777)),
        ("SymlinkDotDot", Entry.symlink("..", "/etc")),
        ("SymlinkEmpty", Entry.symlink("", "/")),
        ("SymlinkSlash", Entry.symlink("/", "../../etc")),
        ("FileEmpty", Entry.file("", "x")),
        ("FileDotSlash", Entry.file("./", "x")),
        ("HardlinkDotDot", Entry.link("..", "/etc/passwd")),
        ("FifoDot", Entry.fifo(".", mode: 0o777)),
    ].map { name, entry in
        BreakoutCase(
            name, [entry, .file("after", "applied")],
            expect: .all([
                .type("", .directory), .mode("", 0o755), .passwdIntact(), .content("after", "applied"),
            ]))
    }

    @Test(arguments: rootNames)
    func nameResolvingToRootIsSkipped(_ c: BreakoutCase) throws { try c.run() }

    /// containerd's `SymlinkOverridePath`: a directory is replaced by a symlink to `/`, a file is
    /// written through it, then the directory comes back. The host's `/tmp` never gets the file.
    @Test func symlinkOverridePath() throws {
        let name = "breakout-" + UUID().uuidString
        let box = try Sandbox("SymlinkOverridePath")
        try box.recordHost()
        try box.apply([
            .dir("foo"), .dir("foo/tmp"), .file("foo/tmp/" + name, bytes: [0, 1, 2]),
            .symlink("foo", "/"),
            .file("foo/tmp/" + name, bytes: [3, 4, 5]),
            .dir("foo"), .dir("foo/tmp"), .file("foo/tmp/" + name, bytes: [6, 7, 8]),
        ])
        #expect(try box.contents("foo/tmp/" + name) == [6, 7, 8])
        #expect(try box.contents("tmp/" + name) == [3, 4, 5])
        #expect(try box.entry("foo")?.type == .directory)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/" + name))
        #expect(!FileManager.default.fileExists(atPath: NSTemporaryDirectory() + "/" + name))
        try box.expectHostUnchanged()
    }
}
