import Foundation
import StrataFS
import StrataSnapshots
import StrataStore
import StrataTestSupport
import Testing

/// One suite of snapshotter rules, run against every backend, as containerd's
/// `snapshots/testsuite` is run against each of its snapshotters. Mounting needs root; the overlay
/// backend needs overlay mounts. Where they are missing the cases say so and skip (CI=true: fail).
@Suite(.serialized) struct SnapshotterConformanceTests {
    /// A fresh state root and the backend under test, or nil when it cannot run here.
    static func open(_ backend: String) throws -> (TempDirectory, LocalSnapshotter)? {
        try openRoot(backend).map { ($0.0, $0.2) }
    }

    /// A fresh state root with the backend under test, or nil when it cannot run here.
    static func openRoot(_ backend: String) throws -> (TempDirectory, StateRoot, LocalSnapshotter)? {
        guard TestEnvironment.requirementsMet(root: true, fail: { Issue.record(Comment(rawValue: $0)) }) else {
            return nil
        }
        if backend == "overlay" && !TestEnvironment.hasOverlay {
            let why = "the overlay backend needs overlay mounts, which this machine lacks"
            if TestEnvironment.isCI { Issue.record(Comment(rawValue: why)) } else { print("SKIPPED: \(why)") }
            return nil
        }
        let t = TempDirectory("snap-\(backend)")
        let root = try StateRoot(path: t.at("root"))
        return (t, root, try root.snapshotter(backend))
    }

    /// Mounts `key` at a new directory for the duration of `body`.
    static func mounted<R>(_ s: LocalSnapshotter, _ key: String, in t: TempDirectory, _ body: (String) throws -> R)
        throws -> R
    {
        let target = t.directory("mnt-\(key.hashValue & 0xffff)")
        try Mounter.mount(try s.mounts(key), at: target)
        defer { try? Mounter.unmount(target, detach: true) }
        return try body(target)
    }

    static func write(_ path: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    static func names(_ path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    @Test(arguments: LocalSnapshotter.backends)
    func layersStackThroughCommits(_ backend: String) throws {
        guard let (t, s) = try Self.open(backend) else { return }
        defer { withExtendedLifetime(t) {} }  // the state root lives in it
        _ = try s.prepare("a", parent: nil, labels: [:])
        try Self.mounted(s, "a", in: t) { try Self.write($0 + "/one", "1") }
        try s.commit("A", key: "a", labels: [:])
        #expect(try s.stat("A").kind == .committed && s.stat("A").parent == nil)
        #expect(throws: SnapshotError.notFound("a")) { try s.stat("a") }

        _ = try s.prepare("b", parent: "A", labels: [:])
        try Self.mounted(s, "b", in: t) { dir throws in
            #expect(try Self.names(dir) == ["one"])
            try Self.write(dir + "/two", "2")
            try FileManager.default.removeItem(atPath: dir + "/one")
        }
        try s.commit("B", key: "b", labels: [:])
        _ = try s.view("v", parent: "B", labels: [:])
        try Self.mounted(s, "v", in: t) { dir throws in
            #expect(try Self.names(dir) == ["two"])
            #expect(throws: (any Error).self) { try Self.write(dir + "/three", "3") }  // read-only
        }
        #expect(
            try s.list().map { "\($0.name):\($0.kind.rawValue):\($0.parent ?? "-")" } == [
                "A:Committed:-", "B:Committed:A", "v:View:B",
            ])
    }

    @Test(arguments: LocalSnapshotter.backends)
    func containerdRulesAreKept(_ backend: String) throws {
        guard let (t, s) = try Self.open(backend) else { return }
        defer { withExtendedLifetime(t) {} }  // the state root lives in it
        _ = try s.prepare("active", parent: nil, labels: [:])
        #expect(throws: SnapshotError.alreadyExists("active")) { try s.prepare("active", parent: nil, labels: [:]) }
        #expect(throws: SnapshotError.notFound("missing")) { try s.prepare("x", parent: "missing", labels: [:]) }
        #expect(throws: SnapshotError.parentNotCommitted(key: "x", parent: "active")) {
            try s.view("x", parent: "active", labels: [:])
        }
        _ = try s.view("view", parent: nil, labels: [:])
        #expect(throws: SnapshotError.notActive("view")) { try s.commit("V", key: "view", labels: [:]) }
        try s.commit("C", key: "active", labels: [:])
        _ = try s.prepare("other", parent: nil, labels: [:])
        #expect(throws: SnapshotError.alreadyExists("C")) { try s.commit("C", key: "other", labels: [:]) }
        #expect(throws: SnapshotError.notActive("C")) { try s.mounts("C") }
        _ = try s.prepare("child", parent: "C", labels: [:])
        #expect(throws: SnapshotError.hasChildren("C")) { try s.remove("C") }
        try s.remove("child")
        try s.remove("C")
        #expect(throws: SnapshotError.notFound("C")) { try s.stat("C") }
        #expect(throws: SnapshotError.invalidKey("")) { try s.prepare("", parent: nil, labels: [:]) }
    }

    @Test(arguments: LocalSnapshotter.backends)
    func labelsUpdateAndCommitReplacesThem(_ backend: String) throws {
        guard let (t, s) = try Self.open(backend) else { return }
        defer { withExtendedLifetime(t) {} }  // the state root lives in it
        _ = try s.prepare("l", parent: nil, labels: ["a": "1", "b": "2"])
        #expect(try s.update("l", labels: ["a": nil, "c": "3"]).labels == ["b": "2", "c": "3"])
        try s.commit("L", key: "l", labels: ["d": "4"])
        #expect(try s.stat("L").labels == ["d": "4"])  // not inherited, as containerd
    }

    @Test(arguments: LocalSnapshotter.backends)
    func usageCountsTheSnapshotsOwnFiles(_ backend: String) throws {
        guard let (t, s) = try Self.open(backend) else { return }
        defer { withExtendedLifetime(t) {} }  // the state root lives in it
        _ = try s.prepare("u", parent: nil, labels: [:])
        try Self.mounted(s, "u", in: t) { dir throws in
            try Data(repeating: 7, count: 1 << 20).write(to: URL(fileURLWithPath: dir + "/big"))
            try FileManager.default.createDirectory(atPath: dir + "/d", withIntermediateDirectories: false)
        }
        let active = try s.usage("u")
        #expect(active.inodes == 2 && active.size >= 1 << 20)
        try s.commit("U", key: "u", labels: [:])
        #expect(try s.usage("U") == active)
    }

    @Test(arguments: LocalSnapshotter.backends)
    func cleanupRemovesDirectoriesWithoutRecords(_ backend: String) throws {
        guard let (t, s) = try Self.open(backend) else { return }
        defer { withExtendedLifetime(t) {} }  // the state root lives in it
        _ = try s.prepare("keep", parent: nil, labels: [:])
        let dir = t.at("root/snapshots/\(backend)")
        for leftover in ["new-1-2", "rm-7", "999"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + leftover, withIntermediateDirectories: false)
        }
        #expect(try s.cleanup() == 3)
        #expect(try Self.names(dir).count == 1)
        _ = try s.mounts("keep")
    }
}
