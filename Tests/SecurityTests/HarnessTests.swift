import StrataFS
import StrataTestSupport
import Testing

/// The harness itself must be able to see a breakout, or every test above proves nothing.
@Suite struct HarnessTests {
    @Test func hostSnapshotSeesChangesOutsideRootOnly() throws {
        let box = try Sandbox("harness")
        try box.recordHost()
        try box.inRoot.file("etc/passwd", "changed inside")  // inside root: not a host change
        try box.expectHostUnchanged()
        for (path, change) in [
            ("etc/passwd", "content"), ("l1/l2/l3/tmp/keep", "content"), ("perm400", "mode"),
            ("l1/l2/l3/l4/l5/l6/l7/l8/etc/new", "add"),
        ] {
            let before = try box.hostSnapshot()
            switch change {
            case "mode": try box.host.chmod(path, 0o644)
            default: try box.host.file(path, "changed")
            }
            #expect(try box.hostSnapshot() != before, "a \(change) change of \(path) outside root must be seen")
            try box.recordHost()
        }
    }

    @Test func resolveStaysInsideRoot() throws {
        let box = try Sandbox("resolve")
        try box.inRoot.symlink("abs", to: "/etc")
        try box.inRoot.symlink("rel", to: "../../../../../../../../../../etc")
        try box.inRoot.symlink("host", to: box.hostPath + "/etc")
        try box.inRoot.symlink("missing", to: "nothere/../../etc")
        try box.inRoot.symlink("loop", to: "loop")
        #expect(try box.resolve("abs/passwd") == box.rootPath + "/etc/passwd")
        #expect(try box.resolve("rel/passwd") == box.rootPath + "/etc/passwd")
        #expect(try box.resolve("missing/passwd") == box.rootPath + "/etc/passwd")
        #expect(try box.resolve("host/passwd") == box.rootPath + box.hostPath + "/etc/passwd")
        #expect(try box.resolve("../../..") == box.rootPath)
        #expect(try box.text("abs/passwd") == "all users")
        #expect(try box.metadata("host/passwd") == nil)
        #expect(throws: FSError.self) { try box.resolve("loop/x") }
    }
}
