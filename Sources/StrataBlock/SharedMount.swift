import StrataFS

#if canImport(Glibc)
    import Glibc
#endif

/// A filesystem image mounted once, at one place, and shared by every process that uses it, as
/// vHive's `DeviceSnapshot.Mount`/`UnMount` share a device: the first user mounts it, the last
/// one to let go unmounts it, and never while another still holds it. Two mounts of one image
/// file (two loop devices, two kernels' views of the same blocks) would corrupt it.
///
/// The count is the kernel's: each user holds a shared `flock` on the image's users file
/// (`LOCK`) for as long as it uses the mount; mounting and unmounting are decided under an
/// exclusive `flock` on `LOCK.mount`, and whoever, letting go, can then take the users file
/// exclusively is the last. A process that dies lets go of its locks with its descriptors.
public final class SharedMount: @unchecked Sendable {
    public let mountPoint: String
    private let users: Handle
    private let mutexFile: String
    private var released = false

    private init(mountPoint: String, users: Handle, mutexFile: String) {
        self.mountPoint = mountPoint
        self.users = users
        self.mutexFile = mutexFile
    }

    /// The mounted tree's root, for `*at` calls below it. Every handle under the mount must be
    /// closed before `release`, or the last user's unmount finds it busy.
    public func open() throws -> Handle { try Handle.openDirectory(path: mountPoint) }

    /// Uses the ext4 image at `image`, mounted at `mountPoint` (made when missing) with
    /// `options` by the first user; `lockFile` (and `lockFile.mount`) count the users.
    public static func acquire(image: String, at mountPoint: String, lockFile: String, options: [String]) throws
        -> SharedMount
    {
        let mutexFile = lockFile + ".mount"
        return try LockFile.exclusively(mutexFile) {
            let users = try Handle.openFile(path: lockFile, flags: O_RDWR | O_CREAT | O_CLOEXEC, mode: 0o600)
            if !Mounter.isMountPoint(mountPoint) {
                if mkdir(mountPoint, 0o700) != 0 && errno != EEXIST {
                    throw FSError("mkdir", path: mountPoint, errno: .init(rawValue: errno))
                }
                let readOnly = options.contains("ro")
                let file = try Handle.openFile(path: image, flags: (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC)
                let loop = try LoopDevice.attach(file, readOnly: readOnly)
                try loop.mount(at: mountPoint, type: "ext4", options: options)
            }
            _ = try users.lock(exclusive: false, wait: true)  // never waits: releasers hold the mutex
            return SharedMount(mountPoint: mountPoint, users: users, mutexFile: mutexFile)
        }
    }

    /// Lets go; the last user unmounts (its loop device is released with the mount).
    public func release() throws {
        guard !released else { return }
        released = true
        try LockFile.exclusively(mutexFile) {
            try users.unlock()
            // Another user, in this process or another, still holds it: not ours to unmount.
            guard try users.lock(exclusive: true, wait: false) else { return }
            defer { _ = try? users.unlock() }
            if Mounter.isMountPoint(mountPoint) { try Mounter.unmount(mountPoint) }
        }
    }

    deinit { try? release() }
}
