import CStrata
import StrataFS
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// A loop device: a file seen as a block device, as a filesystem image is mounted. Attached with
/// autoclear, so the kernel releases the device when the last user lets go (this handle closed
/// and every mount of it unmounted): nothing is left attached by a process that dies.
public struct LoopDevice: Sendable {
    /// The open device (`/dev/loopN`); closing it, once mounted, leaves the mount in charge.
    public let device: Handle
    public let path: String

    /// Attaches `file` (an image, opened read-write unless `readOnly`).
    public static func attach(_ file: Handle, readOnly: Bool) throws(FSError) -> LoopDevice {
        var number: Int32 = -1
        switch retryingLoop({ strata_loop_attach(file.fd, readOnly ? 1 : 0, &number) }) {
        case .success(let fd):
            let path = "/dev/loop\(number)"
            return LoopDevice(device: Handle(adopting: fd, displayPath: path), path: path)
        case .failure(let e):
            throw FSError("attach a loop device to", path: file.displayPath, errno: e)
        }
    }

    /// Mounts the filesystem of type `type` on this device at `target` (`Mounter.mountDevice`'s
    /// options).
    public func mount(at target: String, type: String, options: [String]) throws {
        try Mounter.mountDevice(path, at: target, type: type, options: options)
    }

    private static func retryingLoop(_ body: () -> Int32) -> Result<Int32, Errno> {
        while true {
            let r = body()
            if r >= 0 { return .success(r) }
            if r == -EINTR { continue }
            return .failure(Errno(rawValue: -r))
        }
    }
}
