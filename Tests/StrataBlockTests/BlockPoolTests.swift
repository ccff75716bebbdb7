import Foundation
import StrataBlock
import StrataFS
import StrataTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The reflink pool: made in a sparse file, loop-mounted where block snapshots live, clones files
/// by sharing extents, and is mounted again after an unmount released its loop device. Needs root,
/// loop devices and mkfs.xfs (CI has them).
@Suite(.serialized) struct BlockPoolTests {
    static func available() -> Bool {
        TestEnvironment.requirementsMet(tools: ["mkfs.xfs"], root: true, fail: { Issue.record(Comment(rawValue: $0)) })
    }

    @Test func aPoolClonesFilesAndIsMountedAgainAfterAnUnmount() throws {
        guard Self.available() else { return }
        let t = TempDirectory("block-pool")
        let pool = BlockPool(root: t.path)
        defer { try? pool.unmount() }
        try pool.create(size: 512 << 20)
        #expect(Mounter.isMountPoint(pool.mountPoint))
        // Sparse: a fresh 512 MiB pool takes the host's disk for its metadata and xfs's log
        // (64 MiB here), not for its free space.
        let fresh = try pool.status()
        #expect(fresh.mounted && fresh.size > 400 << 20 && fresh.free > 300 << 20)
        #expect(fresh.allocated < 128 << 20, "a fresh pool allocated \(fresh.allocated) bytes")

        // Files in the pool are cloned, not copied (the handles closed before the unmount below).
        func cloneInPool() throws -> Handle.CopyMethod {
            let dir = try Handle.openDirectory(path: pool.mountPoint)
            try TreeBuilder(root: dir).sparseFile(
                "image", size: 1 << 30, content: Array(repeating: 7, count: 1 << 20), at: 0)
            let source = try dir.open(Array("image".utf8), flags: O_RDONLY)
            let clone = try dir.open(Array("clone".utf8), flags: O_RDWR | O_CREAT | O_EXCL, mode: 0o600)
            return try clone.copyData(from: source)
        }
        #expect(try cloneInPool() == .reflink)

        // Unmounted (its loop device released with it), then mounted again by the next user.
        try pool.unmount()
        #expect(!Mounter.isMountPoint(pool.mountPoint))
        #expect(!FileManager.default.fileExists(atPath: pool.mountPoint + "/clone"))
        #expect(try pool.ensureMounted())
        #expect(FileManager.default.fileExists(atPath: pool.mountPoint + "/clone"))
        #expect(try pool.ensureMounted() == false, "mounted once, not twice")
        #expect(throws: BlockError.poolExists(pool.image)) { try pool.create(size: 512 << 20) }
    }

    @Test func aPoolIsRefusedOverBlockSnapshotsItWouldHide() throws {
        guard Self.available() else { return }
        let t = TempDirectory("block-pool-hide")
        let pool = BlockPool(root: t.path)
        try FileManager.default.createDirectory(atPath: pool.mountPoint + "/1", withIntermediateDirectories: true)
        #expect(throws: BlockError.self) { try pool.create(size: 512 << 20) }
        #expect(!pool.exists)
        #expect(throws: BlockError.badSize("a block pool needs at least 300 MiB (xfs)")) {
            try BlockPool(root: t.path).create(size: 1 << 20)
        }
    }

    /// `strata block pool init|status`: the status mounts a pool an unmount left detached.
    @Test func theCommandsMakeAndShowThePool() async throws {
        guard Self.available() else { return }
        let t = TempDirectory("block-pool-cli")
        let pool = BlockPool(root: t.path)
        defer { try? pool.unmount() }
        _ = try await StrataCLI.json(t.path, ["block", "pool", "init", "--size", "512M"])
        try pool.unmount()
        let status = try await StrataCLI.json(t.path, ["block", "pool", "status", "--json"])
        #expect(status["mounted"] as? Bool == true)
        #expect((status["size"] as? Int ?? 0) > 400 << 20)
        let again = try await Tool.strata(["--root", t.path, "block", "pool", "init", "--size", "1G"])
        #expect(!again.succeeded && again.stderr.contains("exists already"), "\(again.stderr)")
        let bad = try await Tool.strata(["--root", t.path, "block", "pool", "init", "--size", "12Q"])
        #expect(!bad.succeeded && bad.stderr.contains("not a size"), "\(bad.stderr)")
    }
}
