import Foundation
import StrataBlock
import StrataFS
import StrataTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// ext4 images and their shared mounts: an image is sparse and checks clean; it is mounted once
/// for every user, in this process or another, and unmounted by the last (its loop device with
/// it). Needs root, loop devices and e2fsprogs.
@Suite(.serialized) struct SharedMountTests {
    static func available() -> Bool {
        TestEnvironment.requirementsMet(
            tools: ["mkfs.ext4", "e2fsck", "flock", "losetup"], root: true,
            fail: { Issue.record(Comment(rawValue: $0)) })
    }

    /// Loop devices backed by `image`.
    static func loops(of image: String) async throws -> [String] {
        let r = try await Tool.check("losetup", ["-j", image])
        return r.stdout.split(separator: "\n").map(String.init)
    }

    @Test func anImageIsSparseAndChecksClean() throws {
        guard Self.available() else { return }
        let t = TempDirectory("ext4-image")
        try Ext4Image.create(Array("image".utf8), in: try t.handle("."), size: Ext4Image.defaultSize)
        let meta = try Handle.openFile(path: t.at("image")).stat()
        #expect(meta.size == UInt64(Ext4Image.defaultSize))
        #expect(meta.allocatedBytes < 200 << 20, "a fresh 10 GiB image allocated \(meta.allocatedBytes) bytes")
        try Ext4Image.check(t.at("image"))
        #expect(throws: BlockError.self) { try Ext4Image.create(Array("tiny".utf8), in: try t.handle("."), size: 4096) }
        #expect(!FileManager.default.fileExists(atPath: t.at("tiny")), "nothing is left of a refused image")
    }

    @Test func usersShareOneMountAndTheLastUnmounts() async throws {
        guard Self.available() else { return }
        let t = TempDirectory("shared-mount")
        try Ext4Image.create(Array("image".utf8), in: try t.handle("."), size: 64 << 20)
        let (image, point, lockFile) = (t.at("image"), t.at("mnt"), t.at("image.lock"))
        let options = Ext4Image.writableOptions

        let first = try SharedMount.acquire(image: image, at: point, lockFile: lockFile, options: options)
        try TreeBuilder(root: try first.open()).file("hello", "hi")
        let second = try SharedMount.acquire(image: image, at: point, lockFile: lockFile, options: options)
        #expect(try await Self.loops(of: image).count == 1, "one loop device for both users")
        #expect(FileManager.default.fileExists(atPath: point + "/hello"))

        // Another process using it (a shared lock on the same file) keeps it mounted past ours.
        // (-o: flock itself holds the lock, so killing it lets go.)
        let other = try await Background(["flock", "-s", "-o", lockFile, "sleep", "30"], output: nil)
        try await Task.sleep(for: .milliseconds(300))
        try first.release()
        try second.release()
        #expect(Mounter.isMountPoint(point), "unmounted while another process held it")
        other.kill()
        _ = try await other.wait(seconds: 10)

        // The last user of a fresh acquire unmounts, and the loop device goes with the mount.
        let last = try SharedMount.acquire(image: image, at: point, lockFile: lockFile, options: options)
        #expect(FileManager.default.fileExists(atPath: point + "/hello"))
        try last.release()
        #expect(!Mounter.isMountPoint(point))
        #expect(try await Self.loops(of: image).isEmpty, "the loop device outlived the mount")
        try Ext4Image.check(image)
    }

    @Test func aReadOnlyMountOfAnImageRefusesWrites() throws {
        guard Self.available() else { return }
        let t = TempDirectory("shared-mount-ro")
        try Ext4Image.create(Array("image".utf8), in: try t.handle("."), size: 64 << 20)
        let m = try SharedMount.acquire(
            image: t.at("image"), at: t.at("mnt"), lockFile: t.at("image.lock"), options: Ext4Image.readOnlyOptions)
        defer { try? m.release() }
        #expect(throws: FSError.self) { try TreeBuilder(root: try m.open()).file("x", "no") }
    }
}
