import CStrata

/// The type of a filesystem entry, from the `S_IFMT` bits of its mode.
public enum FileType: UInt32, Sendable, Hashable {
    case regular = 0o100000
    case directory = 0o040000
    case symlink = 0o120000
    case characterDevice = 0o020000
    case blockDevice = 0o060000
    case fifo = 0o010000
    case socket = 0o140000

    public init?(mode: UInt32) { self.init(rawValue: mode & 0o170000) }
}

/// A point in time with nanosecond precision, as the kernel keeps it.
public struct FileTime: Sendable, Hashable, Comparable {
    public var seconds: Int64
    public var nanoseconds: UInt32

    public init(seconds: Int64, nanoseconds: UInt32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static let epoch = FileTime(seconds: 0)

    /// The time as one integer, as the metadata database stores times; saturated at Int64's
    /// bounds (about the years 1678 and 2262), since a file's time may come from a layer.
    public var nanosecondsSince1970: Int64 {
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, over) = scaled.addingReportingOverflow(Int64(nanoseconds))
        return over ? .max : sum
    }

    public init(nanosecondsSince1970 ns: Int64) {
        let (q, r) = ns.quotientAndRemainder(dividingBy: 1_000_000_000)
        self.init(seconds: r < 0 ? q - 1 : q, nanoseconds: UInt32(r < 0 ? r + 1_000_000_000 : r))
    }

    public static func < (a: FileTime, b: FileTime) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }

    /// The same time with the sub-second part dropped (truncation, as containerd does).
    public var truncatedToSeconds: FileTime { FileTime(seconds: seconds) }
}

/// What `statx` says of one entry, as a value.
public struct FileMetadata: Sendable, Hashable {
    public var type: FileType
    /// Permission bits with set-uid, set-gid and sticky (`mode & 0o7777`).
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var size: UInt64
    public var linkCount: UInt32
    public var inode: UInt64
    public var device: UInt64
    public var rdevMajor: UInt32
    public var rdevMinor: UInt32
    public var modificationTime: FileTime
    public var accessTime: FileTime
    /// The inode's last status change: set by the kernel on every write, chmod, chown, link,
    /// rename or xattr change, and never settable by a user, so it is evidence that an entry was
    /// untouched since a moment (see the native snapshotter's diff).
    public var changeTime: FileTime = .epoch
    /// Bytes allocated on disk; smaller than `size` for sparse files.
    public var allocatedBytes: UInt64

    public var mode: UInt32 { type.rawValue | permissions }
    public var isDirectory: Bool { type == .directory }
    /// A non-directory with more than one name: a member of a hardlink group.
    public var isHardLinked: Bool { type != .directory && linkCount > 1 }

    public init(
        type: FileType, permissions: UInt32, uid: UInt32 = 0, gid: UInt32 = 0, size: UInt64 = 0,
        linkCount: UInt32 = 1, inode: UInt64 = 0, device: UInt64 = 0, rdevMajor: UInt32 = 0,
        rdevMinor: UInt32 = 0, modificationTime: FileTime = .epoch, accessTime: FileTime = .epoch,
        allocatedBytes: UInt64 = 0
    ) {
        self.type = type
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
        self.size = size
        self.linkCount = linkCount
        self.inode = inode
        self.device = device
        self.rdevMajor = rdevMajor
        self.rdevMinor = rdevMinor
        self.modificationTime = modificationTime
        self.accessTime = accessTime
        self.allocatedBytes = allocatedBytes
    }

    init?(_ s: strata_stat) {
        guard let type = FileType(mode: s.mode) else { return nil }
        self.init(
            type: type, permissions: s.mode & 0o7777, uid: s.uid, gid: s.gid, size: s.size,
            linkCount: s.nlink, inode: s.ino,
            device: UInt64(s.dev_major) << 32 | UInt64(s.dev_minor),
            rdevMajor: s.rdev_major, rdevMinor: s.rdev_minor,
            modificationTime: FileTime(seconds: s.mtime_sec, nanoseconds: s.mtime_nsec),
            accessTime: FileTime(seconds: s.atime_sec, nanoseconds: s.atime_nsec),
            allocatedBytes: s.blocks * 512)
        changeTime = FileTime(seconds: s.ctime_sec, nanoseconds: s.ctime_nsec)
    }
}
