import StrataFS
import StrataTestSupport
import Testing

/// containerd's `TestBreakouts` hardlink cases: a link target resolves inside root (its directory
/// through RootPath, its last component unresolved), so every escape ends at `root/etc/passwd`.
@Suite struct HardlinkBreakoutTests {
    static let same: BreakoutExpectation = .all([.passwdIntact(), .type("etc/passwd", .regular)])

    static let cases: [BreakoutCase] = [
        BreakoutCase(
            "HardlinkRelative",
            [
                .dir("etc"), .dir("breakouts", mode: 0o700), .symlink("breakouts/d1", "../../etc"),
                .link("breakouts/mypasswd", "/breakouts/d1/passwd"),
            ],
            expect: .all([.sameFile("breakouts/mypasswd", "etc/passwd"), same])),
        BreakoutCase(
            "HardlinkDownAndOut",
            [
                .dir("etc"), .dir("breakouts", mode: 0o700), .symlink("breakouts/d1", "../downandout/../../etc"),
                .link("breakouts/mypasswd", "/breakouts/d1/passwd"),
            ],
            expect: .all([.sameFile("breakouts/mypasswd", "etc/passwd"), same])),
        BreakoutCase(
            "HardlinkAbsolute",
            [.dir("etc"), .symlink("localetc", "/etc"), .link("localpasswd", "/localetc/passwd")],
            expect: .all([.sameFile("localpasswd", "etc/passwd"), .type("localpasswd", .regular), same])),
        BreakoutCase(
            "HardlinkRelativeLong",
            [.dir("etc"), .symlink("localetc", "../../../../../../../etc"), .link("localpasswd", "/localetc/passwd")],
            expect: .all([.sameFile("localpasswd", "etc/passwd"), .type("localpasswd", .regular), same])),
        BreakoutCase(
            "HardlinkRelativeUpAndOut",
            [.dir("etc"), .symlink("localetc", "upandout/../../../etc"), .link("localpasswd", "/localetc/passwd")],
            expect: .all([.sameFile("localpasswd", "etc/passwd"), .type("localpasswd", .regular), same])),
        BreakoutCase(
            "HardlinkDirectRelative",
            [.dir("etc"), .link("localpasswd", "../../../../../etc/passwd")],
            expect: .all([.sameFile("localpasswd", "etc/passwd"), .type("localpasswd", .regular), same])),
        BreakoutCase(
            "HardlinkDirectAbsolute",
            [.dir("etc"), .link("localpasswd", "/etc/passwd")],
            expect: .all([.sameFile("localpasswd", "etc/passwd"), .type("localpasswd", .regular), same])),
        BreakoutCase(
            "HardlinkSymlinkBeforeCreateTarget",
            [
                .dir("etc"), .symlink("localpasswd", "/etc/passwd"), .link("localpasswd-dup", "localpasswd"),
                .file("/etc/passwd", "after"),
            ],
            expect: .all([
                .type("localpasswd-dup", .symlink), .sameEntry("localpasswd-dup", "localpasswd"),
                .sameFile("localpasswd-dup", "etc/passwd"), .content("etc/passwd", "after"),
            ])),
        BreakoutCase(
            "HardlinkSymlinkRelative",
            [.dir("etc"), .symlink("passwdlink", "../../../../../etc/passwd"), .link("localpasswd", "/passwdlink")],
            expect: .all([
                .symlink("localpasswd", "../../../../../etc/passwd"), .sameEntry("localpasswd", "passwdlink"),
                .sameFile("localpasswd", "etc/passwd"), same,
            ])),
        BreakoutCase(
            "HardlinkSymlinkAbsolute",
            [.dir("etc"), .symlink("passwdlink", "/etc/passwd"), .link("localpasswd", "/passwdlink")],
            expect: .all([
                .symlink("localpasswd", "/etc/passwd"), .sameEntry("localpasswd", "passwdlink"),
                .sameFile("localpasswd", "etc/passwd"), same,
            ])),
        // A host file (0400) reached through an absolute symlink whose name is itself a host path;
        // hard-linking that symlink with mode 0777 must neither chmod through it nor escape.
        BreakoutCase(
            "HardlinkSymlinkChmod",
            entries: { box in
                let outside = box.hostPath + "/also-exists-outside-root"
                return [.symlink(outside, box.hostPath + "/perm400"), .link("sketchylink", outside, mode: 0o777)]
            },
            expect: .all([.type("sketchylink", .symlink), same])),
        // Extras: link targets that exist only outside root must not be found there.
        BreakoutCase(
            "HardlinkToHostAbsolutePath",
            entries: { box in [.link("steal", box.hostPath + "/perm400")] },
            expect: .fails("entry steal")),
        BreakoutCase(
            "HardlinkToRelativeHostPath",
            [.link("steal", "../../../../../../../../../perm400")],
            expect: .fails("entry steal")),
        BreakoutCase(
            "HardlinkThroughSymlinkToHostDirectory",
            entries: { box in [.symlink("hostdir", box.hostPath), .link("steal", "hostdir/perm400")] },
            expect: .fails("entry steal")),
        BreakoutCase(
            "HardlinkWithModeChangesOnlyTheInRootTarget",
            [.symlink("up", "../../../.."), .link("up/etc/p2", "up/etc/passwd", mode: 0o4777)],
            expect: .all([.sameFile("etc/p2", "etc/passwd"), same])),
    ]

    @Test(arguments: cases)
    func breakout(_ c: BreakoutCase) throws { try c.run() }

    @Test func hardlinkSymlinkChmodKeepsHostMode() throws {
        let box = try Sandbox("perm400")
        try box.recordHost()
        let outside = box.hostPath + "/also-exists-outside-root"
        try box.apply([.symlink(outside, box.hostPath + "/perm400"), .link("sketchylink", outside, mode: 0o777)])
        let host = try Handle.openDirectory(path: box.hostPath)
        #expect(try host.stat(Array("perm400".utf8)).permissions == 0o400)
        #expect(try host.stat(Array("also-exists-outside-root".utf8)).permissions == 0o640)
        try box.expectHostUnchanged()
    }
}
