import CStrata
import Foundation
import SystemPackage

/// Mounts and unmounts what snapshotters describe: overlay and bind mounts, as containerd's
/// `mount.All` does for them. Needs CAP_SYS_ADMIN.
public enum Mounter {
    /// Mounts `mounts` at `target`, in order (one each here: containerd's snapshotters return one).
    public static func mount(_ mounts: [Mount], at target: String) throws {
        for m in mounts {
            switch m.type {
            case "bind":
                let readOnly = m.options.contains("ro")
                let recursive = m.options.contains("rbind")
                let flags = strata_ms_bind | (recursive ? strata_ms_rec : 0)
                try call("mount \(m.source)", target) { strata_mount(m.source, target, nil, flags, nil) }
                if readOnly {
                    try call("remount read-only", target) {
                        strata_mount(nil, target, nil, strata_ms_remount | strata_ms_bind | strata_ms_rdonly, nil)
                    }
                }
            case "overlay":
                // `ro` and `rw` are mount flags, as containerd reads them; the rest is overlayfs' own
                // data (`OverlayMount` in StrataOverlay writes it).
                let data = m.options.filter { $0 != "ro" && $0 != "rw" }.joined(separator: ",")
                let flags = m.options.contains("ro") ? strata_ms_rdonly : 0
                try call("mount overlay", target) { strata_mount("overlay", target, "overlay", flags, data) }
            default:
                // Mounts may come from a gRPC client (the Diff service): no other type is mounted.
                throw UnsupportedMount(type: m.type)
            }
        }
    }

    /// Mounts the filesystem of type `type` (ext4, xfs) on the block device `device` at `target`.
    /// `ro`, `rw`, `nodev`, `nosuid`, `noexec` and `noatime` in `options` are mount flags, the rest
    /// the filesystem's own data (`noload`). For Strata's own images only: a client's mounts go
    /// through `mount`, which refuses every type but bind and overlay.
    public static func mountDevice(_ device: String, at target: String, type: String, options: [String]) throws {
        let flagOf: [String: UInt] = [
            "ro": strata_ms_rdonly, "nodev": strata_ms_nodev, "nosuid": strata_ms_nosuid, "noexec": strata_ms_noexec,
            "noatime": strata_ms_noatime, "rw": 0,
        ]
        let flags = options.compactMap { flagOf[$0] }.reduce(0, |)
        let data = options.filter { flagOf[$0] == nil }.joined(separator: ",")
        try call("mount \(type) \(device)", target) { strata_mount(device, target, type, flags, data) }
    }

    /// Unmounts `target` (lazily with `detach`). A busy mount is retried for up to 2.5 s, as
    /// containerd's `mount.Unmount` does: a process that just left it may not have let go yet.
    public static func unmount(_ target: String, detach: Bool = false) throws {
        let flags = detach ? strata_mnt_detach : 0
        var r = strata_umount(target, flags)
        for _ in 0..<50 where r == -EBUSY {
            usleep(50_000)
            r = strata_umount(target, flags)
        }
        try call("umount", target) { r }
    }

    /// Whether something is mounted at `path` (an absolute path, as mountinfo lists it).
    public static func isMountPoint(_ path: String) -> Bool {
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return false }
        return table.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 && unescape(fields[4]) == path
        }
    }

    /// Detaches every mount at or under `path`, deepest first: what a process killed between a
    /// mount and its unmount leaves in a directory about to be removed.
    public static func detachAll(under path: String) {
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return }
        let points = table.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let point = unescape(fields[4])
            return point == path || point.hasPrefix(path + "/") ? point : nil
        }
        for p in points.sorted(by: { $0.count > $1.count }) { _ = strata_umount(p, strata_mnt_detach) }
    }

    /// mountinfo's octal escapes (`\040` for a space).
    private static func unescape(_ field: Substring) -> String {
        var bytes: [UInt8] = []
        var u = Array(field.utf8)[...]
        while let b = u.popFirst() {
            if b == UInt8(ascii: "\\"), u.count >= 3,
                let v = UInt8(String(decoding: u.prefix(3), as: UTF8.self), radix: 8)
            {
                bytes.append(v)
                u = u.dropFirst(3)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func call(_ op: String, _ path: String, _ body: () -> Int32) throws {
        let r = body()
        if r < 0 { throw FSError(op, path: path, errno: Errno(rawValue: -r)) }
    }
}

/// A mount of a type Strata does not perform: only bind and overlay mounts are.
public struct UnsupportedMount: Error, CustomStringConvertible {
    public var type: String

    public init(type: String) { self.type = type }

    public var description: String { "mount type \(type) is not supported" }
}
