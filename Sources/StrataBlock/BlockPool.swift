import Foundation
import StrataFS

#if canImport(Glibc)
    import Glibc
#endif

/// The reflink pool: an xfs filesystem made with `-m reflink=1` in a sparse file under the state
/// root, loop-mounted where the block backend keeps its images (`ROOT/snapshots/block`), so that a
/// snapshot's image is cloned in milliseconds on a host whose own filesystem cannot share extents
/// (ext4). Mounted again, by whichever command needs it, after an unmount or a reboot detached it.
///
/// Guarantees: one mount at a time (every mount and check holds `ROOT/block-pool.lock`, so two
/// processes never attach the file twice, which would corrupt it); the loop device is attached
/// with autoclear, so unmounting the pool releases it.
public struct BlockPool: Sendable {
    /// The pool's file, `ROOT/block-pool.img`.
    public let image: String
    /// Where it is mounted, `ROOT/snapshots/block`.
    public let mountPoint: String
    let lockPath: String

    /// The pool of the state root at `root`.
    public init(root: String) {
        // mountinfo lists the real path: symlinks and `..` resolved.
        let root = URL(fileURLWithPath: root).standardizedFileURL.resolvingSymlinksInPath().path
        image = root + "/block-pool.img"
        mountPoint = root + "/snapshots/block"
        lockPath = root + "/block-pool.lock"
    }

    /// Whether a pool was made here.
    public var exists: Bool { FileManager.default.fileExists(atPath: image) }

    /// Makes a pool of `size` bytes (sparse: it takes space only as images fill it) and mounts
    /// it. Refused when one exists, or when the block backend already keeps images in the
    /// directory the pool would hide.
    public func create(size: Int64) throws {
        guard size >= 300 << 20 else { throw BlockError.badSize("a block pool needs at least 300 MiB (xfs)") }
        try locked {
            guard !exists else { throw BlockError.poolExists(image) }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: mountPoint)) ?? []
            guard entries.isEmpty else {
                throw BlockError.badSize("\(mountPoint) holds block snapshots already: a pool would hide them")
            }
            let partial = image + ".partial"
            _ = unlink(partial)
            do {
                let file = try Handle.openFile(path: partial, flags: O_RDWR | O_CREAT | O_EXCL, mode: 0o600)
                try file.truncate(to: size)
                try FilesystemTool.run("mkfs.xfs", ["-q", "-m", "reflink=1", partial])
                guard rename(partial, image) == 0 else {
                    throw FSError("rename", path: partial, errno: .init(rawValue: errno))
                }
            } catch {
                _ = unlink(partial)
                throw error
            }
            try mountUnlocked()
        }
    }

    /// Mounts the pool when it exists and is not mounted; true when it did.
    @discardableResult
    public func ensureMounted() throws -> Bool {
        guard exists else { return false }
        if Mounter.isMountPoint(mountPoint) { return false }
        return try locked {
            if Mounter.isMountPoint(mountPoint) { return false }
            try mountUnlocked()
            return true
        }
    }

    /// Unmounts the pool (its loop device is released with it).
    public func unmount() throws {
        try locked { if Mounter.isMountPoint(mountPoint) { try Mounter.unmount(mountPoint) } }
    }

    /// What `strata block pool status` shows.
    public struct Status: Codable, Sendable {
        public var image: String
        public var mountPoint: String
        public var mounted: Bool
        /// The filesystem's size, and what is used and free in it (statfs).
        public var size: UInt64
        public var used: UInt64
        public var free: UInt64
        /// What the pool's file takes on the host's disk.
        public var allocated: UInt64
    }

    /// The pool's sizes, mounting it first.
    public func status() throws -> Status {
        guard exists else { throw BlockError.noPool(image) }
        try ensureMounted()
        let fs = try FileManager.default.attributesOfFileSystem(forPath: mountPoint)
        let size = (fs[.systemSize] as? NSNumber)?.uint64Value ?? 0
        let free = (fs[.systemFreeSize] as? NSNumber)?.uint64Value ?? 0
        let allocated = try Handle.openFile(path: image).stat().allocatedBytes
        return Status(
            image: image, mountPoint: mountPoint, mounted: Mounter.isMountPoint(mountPoint), size: size,
            used: size - min(free, size), free: free, allocated: allocated)
    }

    private func mountUnlocked() throws {
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let file = try Handle.openFile(path: image, flags: O_RDWR)
        let loop = try LoopDevice.attach(file, readOnly: false)
        try loop.mount(at: mountPoint, type: "xfs", options: ["rw", "nodev", "nosuid"])
    }

    private func locked<R>(_ body: () throws -> R) throws -> R { try LockFile.exclusively(lockPath, body) }
}
