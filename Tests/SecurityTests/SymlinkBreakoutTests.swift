import StrataFS
import StrataTestSupport
import Testing

/// containerd's `TestBreakouts` symlink cases (pkg/archive/tar_test.go): symlinks in parent
/// components are followed, but confined to root; a final component is never followed.
@Suite struct SymlinkBreakoutTests {
    static let cases: [BreakoutCase] = [
        BreakoutCase(
            "SymlinkAbsolute",
            [.dir("etc"), .symlink("localetc", "/etc"), .file("/localetc/unbroken", "unbroken")],
            expect: .all([.content("etc/unbroken", "unbroken"), .symlink("localetc", "/etc"), .passwdIntact()])),
        BreakoutCase(
            "SymlinkUpAndOut",
            [.dir("etc"), .symlink("localetc", "/dummy/../etc"), .file("/localetc/unbroken", "unbroken")],
            // RootPath treats the missing `dummy` as a plain name and creates nothing for it.
            expect: .all([.content("etc/unbroken", "unbroken"), .absent("dummy"), .passwdIntact()])),
        BreakoutCase(
            "SymlinkMultipleAbsolute",
            [
                .dir("etc"), .dir("dummy"), .symlink("/dummy/etc", "/etc"), .symlink("localetc", "/dummy/etc"),
                .file("/dummy/etc/unbroken", "unbroken"), .file("/localetc/unbroken2", "unbroken2"),
            ],
            expect: .all([
                .content("etc/unbroken", "unbroken"), .content("etc/unbroken2", "unbroken2"), .passwdIntact(),
            ])),
        BreakoutCase(
            "SymlinkMultipleRelative",
            [
                .dir("etc"), .dir("dummy"), .symlink("/dummy/etc", "../../../etc"), .symlink("localetc", "./dummy/etc"),
                .file("/dummy/etc/unbroken", "unbroken"), .file("/localetc/unbroken2", "unbroken2"),
            ],
            expect: .all([
                .content("etc/unbroken", "unbroken"), .content("etc/unbroken2", "unbroken2"), .passwdIntact(),
            ])),
        BreakoutCase(
            "SymlinkEmptyFile",
            [
                .dir("etc"), .file("etc/emptied", "notempty"), .symlink("localetc", "/etc"),
                .file("/localetc/emptied", ""),
            ],
            expect: .all([.content("etc/emptied", ""), .passwdIntact()])),
        BreakoutCase(
            "SymlinkParentDirectory",
            [.dir("etc"), .symlink("..", "/etc/"), .link("localpasswd", "/etc/passwd")],
            expect: .all([.sameFile("localpasswd", "etc/passwd"), .type("localpasswd", .regular), .passwdIntact()])),
        BreakoutCase(
            "SymlinkEmptyFilename",
            [.dir("etc"), .symlink("", "/etc/"), .link("localpasswd", "/etc/passwd")],
            expect: .all([.sameFile("localpasswd", "etc/passwd"), .type("localpasswd", .regular), .passwdIntact()])),
        BreakoutCase(
            "SymlinkParentRelative",
            [.dir("etc"), .symlink("localetc/sub/..", "/etc/"), .link("/localetc/localpasswd", "/etc/passwd")],
            expect: .all([
                .symlink("localetc", "/etc/"), .sameFile("localetc/localpasswd", "etc/passwd"),
                .sameFile("etc/localpasswd", "etc/passwd"), .absent("localetc/sub"), .passwdIntact(),
            ])),
        BreakoutCase(
            "SymlinkSlashEnded",
            [.dir("etc"), .dir("localetc/"), .link("/localetc/localpasswd", "/etc/passwd")],
            expect: .all([
                .type("localetc", .directory), .sameFile("localetc/localpasswd", "etc/passwd"), .passwdIntact(),
            ])),
        BreakoutCase(
            "SymlinkOverrideDirectory",
            prepare: { try $0.inRoot.directory("localetc") },
            [.symlink("localetc", "/etc"), .link("/localetc/localpasswd", "/etc/passwd")],
            expect: .all([
                .symlink("localetc", "/etc"), .sameFile("localetc/localpasswd", "etc/passwd"),
                .sameFile("etc/localpasswd", "etc/passwd"), .passwdIntact(),
            ])),
        BreakoutCase(
            "SymlinkOverrideDirectoryRelative",
            prepare: { try $0.inRoot.directory("localetc") },
            [.symlink("localetc", "../../etc"), .link("/localetc/localpasswd", "/etc/passwd")],
            expect: .all([
                .symlink("localetc", "../../etc"), .sameFile("localetc/localpasswd", "etc/passwd"),
                .sameFile("etc/localpasswd", "etc/passwd"), .passwdIntact(),
            ])),
        BreakoutCase(
            "DirectoryOverrideSymlink",
            prepare: { try $0.inRoot.symlink("localetc", to: "/etc") },
            [.dir("/localetc/"), .link("/localetc/localpasswd", "/etc/passwd")],
            expect: .all([
                .type("localetc", .directory), .sameFile("localetc/localpasswd", "etc/passwd"),
                .absent("etc/localpasswd"), .passwdIntact(),
            ])),
        BreakoutCase(
            "DirectoryOverrideSymlinkAndHardlink",
            [
                .symlink("localetc", "etc"), .link("/localetc/localpasswd", "/etc/passwd"), .dir("/localetc/"),
                .file("/localetc/localpasswd", "different"),
            ],
            expect: .all([
                .type("localetc", .directory), .notSameFile("localetc/localpasswd", "etc/passwd"),
                .content("localetc/localpasswd", "different"), .passwdIntact(),
            ])),
    ]

    @Test(arguments: cases)
    func breakout(_ c: BreakoutCase) throws { try c.run() }

    /// Symlinks meant to carry a later entry out of root: the last component is replaced, never
    /// followed; parent components resolve inside root.
    static let writeThrough: [BreakoutCase] = [
        BreakoutCase(
            "FileOverAbsoluteSymlink",
            [.symlink("evil", "/etc/passwd"), .file("evil", "pwned")],
            expect: .all([.type("evil", .regular), .content("evil", "pwned"), .passwdIntact()])),
        BreakoutCase(
            "FileOverRelativeEscapingSymlink",
            [.symlink("evil", "../../../etc/passwd"), .file("evil", "pwned", mode: 0o777)],
            expect: .all([.type("evil", .regular), .content("evil", "pwned"), .passwdIntact()])),
        BreakoutCase(
            "FileOverPreexistingHostSymlink",
            prepare: { try $0.inRoot.symlink("evil", to: $0.hostPath + "/etc/passwd") },
            [.file("evil", "pwned", mode: 0o777)],
            expect: .all([.type("evil", .regular), .content("evil", "pwned"), .passwdIntact()])),
        BreakoutCase(
            "FileThroughRelativeEscapingParent",
            [.symlink("up", "../../.."), .file("up/etc/passwd", "pwned"), .file("up/tmp/dropped", "x")],
            expect: .all([
                .content("etc/passwd", "pwned"), .content("tmp/dropped", "x"), .symlink("up", "../../.."),
            ])),
        BreakoutCase(
            "FileThroughAbsoluteRootParent",
            [.symlink("up", "/"), .dir("up/etc"), .file("up/etc/shadow", "pwned")],
            expect: .all([.content("etc/shadow", "pwned"), .passwdIntact()])),
        BreakoutCase(
            "FileThroughPreexistingHostSymlinkParent",
            prepare: { try $0.inRoot.symlink("hosttmp", to: $0.hostPath + "/tmp") },
            [.file("hosttmp/owned", "pwned"), .file("hosttmp/keep", "pwned")],
            expect: .all([.content("hosttmp/owned", "pwned"), .content("hosttmp/keep", "pwned"), .passwdIntact()])),
        BreakoutCase(
            "HardlinkThroughEscapingParent",
            [.symlink("up", "../../.."), .link("up/etc/passwdlink", "up/etc/passwd")],
            expect: .all([.sameFile("etc/passwdlink", "etc/passwd"), .passwdIntact()])),
        BreakoutCase(
            "DirectoryThroughEscapingParent",
            [.symlink("up", "../../../.."), .dir("up/newdir", mode: 0o777), .dir("up/etc", mode: 0o700)],
            expect: .all([.type("newdir", .directory), .type("etc", .directory), .passwdIntact()])),
    ]

    @Test(arguments: writeThrough)
    func writeThroughSymlink(_ c: BreakoutCase) throws { try c.run() }
}
