import StrataFS
import StrataTestSupport
import Testing

/// containerd's `TestBreakouts` whiteout cases, plus whiteouts and opaque markers reached
/// through symlinked parents. A whiteout removes a name inside its (root-resolved) directory;
/// names that would remove the directory itself or its parent are refused.
@Suite struct WhiteoutBreakoutTests {
    static let invalid: [BreakoutCase] = [
        ("WhiteoutRootParent", ".wh..."),
        ("WhiteoutParent", "etc/.wh..."),
        ("WhiteoutRoot", ".wh.."),
        ("WhiteoutCurrentDirectory", "etc/.wh.."),
        ("WhiteoutEmptyTarget", "etc/.wh."),
        ("WhiteoutCurrentDirectoryAbsolute", "/etc/.wh.."),
    ].map { name, entry in
        BreakoutCase(
            name, [.dir("etc"), .file(entry)],
            expect: .all([.fails("invalid whiteout name"), .fails(entry), .passwdIntact()]))
    }

    @Test(arguments: invalid)
    func invalidWhiteoutIsRefused(_ c: BreakoutCase) throws { try c.run() }

    static let cases: [BreakoutCase] = [
        BreakoutCase(
            "WhiteoutSymlink",
            prepare: { try $0.inRoot.symlink("localetc", to: "/etc") },
            [.file(".wh.localetc")],
            expect: .all([.absent("localetc"), .passwdIntact(), .type("etc", .directory)])),
        BreakoutCase(
            "WhiteoutSymlinkInLayer",
            [.dir("etc"), .file("/etc/passwd", "all users"), .symlink("/localetc", "/etc"), .file(".wh.localetc")],
            expect: .all([.absent("localetc"), .passwdIntact()])),
        BreakoutCase(
            "WhiteoutSymlinkPath",
            [
                .dir("etc"), .file("etc/whitedout", "x"), .symlink("localetc", "/etc"),
                .file("localetc/.wh.whitedout"),
            ],
            expect: .all([.absent("etc/whitedout"), .passwdIntact(), .symlink("localetc", "/etc")])),
        BreakoutCase(
            "WhiteoutDirectoryName",
            [.file(".wh.etc/somefile", "non-empty")],
            expect: .all([.content(".wh.etc/somefile", "non-empty"), .passwdIntact()])),
        BreakoutCase(
            "WhiteoutDeadSymlinkParent",
            [.dir("etc"), .symlink("localetc", "/dne"), .file("localetc/.wh.etc")],
            expect: .all([.passwdIntact(), .symlink("localetc", "/dne")])),
        BreakoutCase(
            "WhiteoutRelativePath",
            [.dir("etc"), .dir("dne"), .file("dne/../.wh.etc")],
            expect: .all([.absent("etc"), .type("dne", .directory)])),
        // Extras: whiteouts whose parent is a symlink pointing out of root.
        BreakoutCase(
            "WhiteoutThroughEscapingParent",
            [.symlink("up", "../../.."), .file("up/etc/.wh.passwd"), .file("up/tmp/.wh.keep")],
            expect: .all([.absent("etc/passwd"), .type("etc", .directory)])),
        BreakoutCase(
            "WhiteoutThroughHostAbsoluteSymlink",
            prepare: { try $0.inRoot.symlink("hostetc", to: $0.hostPath + "/etc") },
            [.file("hostetc/.wh.passwd")],
            expect: .passwdIntact()),
        BreakoutCase(
            "WhiteoutOfHostAbsoluteSymlinkRemovesOnlyTheLink",
            prepare: { try $0.inRoot.symlink("hostetc", to: $0.hostPath + "/etc") },
            [.file(".wh.hostetc")],
            expect: .all([.absent("hostetc"), .passwdIntact()])),
        // Opaque markers under symlinked parents clear the root-resolved directory only.
        BreakoutCase(
            "OpaqueUnderRelativeEscapingSymlink",
            [.symlink("hostetc", "../../etc"), .file("hostetc/.wh..wh..opq")],
            expect: .all([.type("etc", .directory), .absent("etc/passwd"), .symlink("hostetc", "../../etc")])),
        BreakoutCase(
            "OpaqueUnderAbsoluteSymlink",
            [.symlink("hostetc", "/etc"), .file("hostetc/.wh..wh..opq"), .file("hostetc/new", "kept")],
            expect: .all([.absent("etc/passwd"), .content("etc/new", "kept")])),
        BreakoutCase(
            "OpaqueUnderHostAbsoluteSymlink",
            prepare: { try $0.inRoot.symlink("hosttmp", to: $0.hostPath + "/tmp") },
            [.file("hosttmp/.wh..wh..opq")],
            expect: .passwdIntact()),
        BreakoutCase(
            "OpaqueUnderSymlinkToRoot",
            [.symlink("top", "../../.."), .file("top/.wh..wh..opq")],
            expect: .all([.absent("etc"), .symlink("top", "../../..")])),
        BreakoutCase(
            "OpaqueUnderDeadSymlink",
            [.symlink("dead", "/dne"), .file("dead/.wh..wh..opq")],
            expect: .passwdIntact()),
    ]

    @Test(arguments: cases)
    func whiteout(_ c: BreakoutCase) throws { try c.run() }
}
