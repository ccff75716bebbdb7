import Foundation
import StrataChanges
import StrataFS
import StrataLayers
import StrataSnapshots
import StrataStore
import StrataTestSupport
import Testing

/// `FICLONE` where the filesystem shares extents: on a loop-mounted xfs (made with reflink=1)
/// the native snapshotter's copies are reflinks, so a child of a 64 MiB snapshot takes almost no
/// space. The root filesystem here (ext4) cannot show it.
@Suite(.serialized) struct ReflinkTests {
    /// Makes and mounts a small xfs image for `body`.
    static func withXFS(_ t: TempDirectory, _ body: (String) async throws -> Void) async throws {
        let image = t.at("xfs.img")
        let mnt = t.directory("xfs")
        try await Tool.check("truncate", ["-s", "320M", image])
        try await Tool.check("mkfs.xfs", ["-q", "-m", "reflink=1", image])
        try await Tool.withMount(["-o", "loop", image], at: mnt) { try await body(mnt) }
    }

    static func freeBytes(_ path: String) -> UInt64 {
        var s = statvfs()
        statvfs(path, &s)
        return UInt64(s.f_bavail) * UInt64(s.f_frsize)
    }

    @Test func nativeSnapshotsReflinkOnXFS() async throws {
        guard
            TestEnvironment.requirementsMet(
                tools: ["mkfs.xfs", "mount", "umount", "truncate"], root: true,
                fail: {
                    Issue.record(Comment(rawValue: $0))
                })
        else { return }
        let t = TempDirectory("reflink")
        defer { withExtendedLifetime(t) {} }
        try await Self.withXFS(t) { mnt in
            var g = TreeGenerator(seed: 5)
            try g.populate(TreeBuilder(creating: mnt + "/src"), count: 40)
            _ = mkdir(mnt + "/dst", 0o755)
            var copy = TreeCopy()
            try copy.copy(from: Handle.openDirectory(path: mnt + "/src"), to: Handle.openDirectory(path: mnt + "/dst"))
            #expect(copy.reflinked > 0 && copy.copied == 0, "reflinked \(copy.reflinked), copied \(copy.copied)")
            let comparison = TreeVerifier(times: .nanoseconds, xattrs: .all, owners: true)
            #expect(
                try comparison.firstDifference(
                    Handle.openDirectory(path: mnt + "/src"), Handle.openDirectory(path: mnt + "/dst")) == nil)

            let root = try StateRoot(path: mnt + "/root")
            let s = try root.snapshotter("native")
            _ = try s.prepare("base", parent: nil, labels: [:])
            let baseDir = try #require(try s.mounts("base").first?.source)
            try Data(repeating: 0x5a, count: 64 << 20).write(to: URL(fileURLWithPath: baseDir + "/big"))
            try s.commit("BASE", key: "base", labels: [:])
            sync()
            let before = Self.freeBytes(mnt)
            _ = try s.prepare("child", parent: "BASE", labels: [:])
            sync()
            let used = Int64(before) - Int64(Self.freeBytes(mnt))
            #expect(used < 8 << 20, "the child took \(used) bytes: not reflinked")
        }
    }
}
