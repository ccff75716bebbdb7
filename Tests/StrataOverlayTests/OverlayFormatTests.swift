import StrataChanges
import StrataFS
import StrataOverlay
import StrataTestSupport
import Testing

/// overlayfs' format as StrataOverlay reads and writes it: whiteouts, opaque directories, the
/// upper-directory walk, mount descriptions. Writing whiteouts and `trusted.*` xattrs needs root.
@Suite struct OverlayFormatTests {
    func needsRoot() -> Bool {
        TestEnvironment.requirementsMet(root: true) { Issue.record(Comment(rawValue: $0)) }
    }

    @Test func mountDescription() {
        let ro = OverlayMount.mount(lowers: ["/l/2", "/l/1"], options: ["index=off"])
        #expect(ro == Mount(type: "overlay", source: "overlay", options: ["lowerdir=/l/2:/l/1", "index=off"]))
        let rw = OverlayMount.mount(lowers: ["/l/1"], upper: ("/u", "/w"), options: [])
        #expect(rw.options == ["workdir=/w", "upperdir=/u", "lowerdir=/l/1"])
        #expect(OverlayXattr.isOverlay("trusted.overlay.opaque") && OverlayXattr.isOverlay("user.overlay.redirect"))
        #expect(!OverlayXattr.isOverlay("security.capability"))
    }

    @Test func whiteoutsAndOpaqueDirectories() throws {
        guard needsRoot() else { return }
        let t = TempDirectory("overlay-format")
        let dir = try Handle.openDirectory(path: t.directory("upper"))
        try OverlayUpper.writeWhiteout(Array("gone".utf8), in: dir, owner: (uid: 7, gid: 8))
        let m = try dir.stat(Array("gone".utf8))
        #expect(OverlayUpper.isWhiteout(m) && m.uid == 7 && m.gid == 8)
        try dir.makeDirectory(Array("d".utf8), mode: 0o755)
        #expect(try !OverlayUpper.isOpaque(Array("d".utf8), in: dir))
        try OverlayUpper.makeOpaque(dir.openDirectory(Array("d".utf8)))
        #expect(try OverlayUpper.isOpaque(Array("d".utf8), in: dir))
        #expect(!OverlayUpper.isWhiteout(try dir.stat(Array("d".utf8))))
    }

    /// The walk reports a whiteout over a lower entry as a delete, drops one over nothing, reports
    /// an opaque directory's `.opaque` before its children, and refuses a redirect it cannot read.
    @Test func upperDirectoryWalk() throws {
        guard needsRoot() else { return }
        let t = TempDirectory("overlay-walk")
        let lower = try TreeBuilder(creating: t.at("lower"))
        try lower.file("a", "lower a")
        try lower.directory("d")
        try lower.file("d/old", "old")
        let upper = try TreeBuilder(creating: t.at("upper"))
        try upper.directory("d")
        try upper.file("d/new", "new")
        let u = try t.handle("upper")
        try OverlayUpper.writeWhiteout(Array("a".utf8), in: u)
        try OverlayUpper.writeWhiteout(Array("never".utf8), in: u)
        try OverlayUpper.makeOpaque(u.openDirectory(Array("d".utf8)))
        var sink = Collector()
        try UpperDirComparer().compare(lower: t.handle("lower"), upper: u, into: &sink)
        #expect(sink.lines == ["D /a", "C /d", "O /d", "A /d/new"])

        try u.setXattr(Array("d".utf8), key: OverlayXattr.redirect, value: Array("/x".utf8))
        var again = Collector()
        #expect(throws: UpperDirError.self) {
            try UpperDirComparer().compare(lower: t.handle("lower"), upper: u, into: &again)
        }
    }
}

/// What overlay mounts say about their layers, and when an upper directory holds exactly a
/// diff's changes (the Diff service's rule for another snapshotter's mounts).
@Suite struct OverlayDirectoriesTests {
    func overlay(_ options: String...) -> [Mount] { [Mount(type: "overlay", source: "overlay", options: options)] }

    @Test func mountsAreRead() {
        #expect(
            OverlayDirectories(
                overlay("workdir=/s/3/work", "upperdir=/s/3/fs", "lowerdir=/s/2/fs:/s/1/fs", "index=off"))
                == OverlayDirectories(upper: "/s/3/fs", lowers: ["/s/2/fs", "/s/1/fs"]))
        #expect(
            OverlayDirectories([Mount(type: "bind", source: "/s/1/fs", options: ["ro", "rbind"])])
                == OverlayDirectories(upper: nil, lowers: ["/s/1/fs"]))
        // Unknown options (user xattrs, id maps), no lowers, or two mounts: not read.
        #expect(OverlayDirectories(overlay("lowerdir=/a:/b", "userxattr")) == nil)
        #expect(OverlayDirectories(overlay("upperdir=/u", "workdir=/w")) == nil)
        #expect(OverlayDirectories(overlay("lowerdir=/a::/b")) == nil)
        #expect(OverlayDirectories(overlay("lowerdir=/a") + overlay("lowerdir=/b")) == nil)
        #expect(OverlayDirectories([Mount(type: "tmpfs", source: "tmpfs", options: [])]) == nil)
    }

    @Test func theUpperDirectoryIsTheDiffOnlyWhenTheLowersAreTheSame() {
        let active = overlay("workdir=/s/3/work", "upperdir=/s/3/fs", "lowerdir=/s/2/fs:/s/1/fs")
        let parentView = overlay("lowerdir=/s/2/fs:/s/1/fs")
        #expect(OverlayDirectories.layer(of: active, over: parentView)?.layer == "/s/3/fs")
        // containerd 1.6 gives a one-parent View as a bind mount of that parent.
        let single = overlay("workdir=/s/2/work", "upperdir=/s/2/fs", "lowerdir=/s/1/fs")
        let bind = [Mount(type: "bind", source: "/s/1/fs", options: ["ro", "rbind"])]
        #expect(OverlayDirectories.layer(of: single, over: bind)?.layer == "/s/2/fs")
        // A committed snapshot's View over its parent's (BuildKit): the top lowerdir is the layer.
        let committed = overlay("lowerdir=/s/3/fs:/s/2/fs:/s/1/fs")
        #expect(OverlayDirectories.layer(of: committed, over: parentView)?.layer == "/s/3/fs")
        #expect(OverlayDirectories.layer(of: committed, over: parentView)?.lowers == ["/s/2/fs", "/s/1/fs"])
        // Another base, or a writable lower: walk both trees.
        #expect(OverlayDirectories.layer(of: active, over: bind) == nil)
        #expect(OverlayDirectories.layer(of: committed, over: bind) == nil)
        #expect(OverlayDirectories.layer(of: active, over: active) == nil)
        #expect(OverlayDirectories.layer(of: parentView, over: []) == nil)
    }
}
