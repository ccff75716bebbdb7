import StrataFS

/// The rule for "did this entry change?", with Strata's xattr policy.
///
/// Same device and inode: unchanged. Otherwise type, permissions, owner, device numbers and the
/// policy's xattrs must match; directories then count as unchanged whatever their size and times.
/// What other entries need depends on `check`.
public struct SameFileRule: Sendable {
    /// How much evidence a non-directory needs to count as unchanged.
    public enum Check: Sendable {
        /// containerd's: equal size and mtime seconds; when both mtimes have zero nanoseconds (tar
        /// truncated them, so they prove nothing) symlink targets or contents are compared,
        /// otherwise the nanoseconds must match. Contents are read only in that ambiguous case.
        case containerd
        /// For entries known to have been touched (an overlay copy-up): equal size and full mtime,
        /// then equal symlink targets or contents, since a write can restore size and mtime.
        case contents
        /// For a copy of the lower made at a known moment (a native snapshot): an entry whose
        /// status has not changed since `untouchedSince` (its ctime, which every write, chmod,
        /// chown, link and rename moves forward) is unchanged without a look; any other is checked
        /// as `.contents`.
        case evidence(untouchedSince: FileTime)
    }

    public var policy: XattrPolicy
    public var check = Check.containerd
    var comparer = ContentComparer()

    public init(policy: XattrPolicy, check: Check = .containerd) {
        self.policy = policy
        self.check = check
    }

    /// Unchanged on metadata alone, xattrs unread: the same inode, or (with evidence) an upper
    /// entry untouched since the copy was made.
    public func isUntouched(lower: FileMetadata, upper: FileMetadata) -> Bool {
        if lower.device == upper.device && lower.inode == upper.inode { return true }
        if case .evidence(let watermark) = check, upper.changeTime <= watermark, lower.type == upper.type {
            return true
        }
        return false
    }

    public func same(
        lower: FileMetadata, lowerDir: Handle, upper: FileMetadata, upperDir: Handle, name: [UInt8],
        lowerXattrs: Xattrs, upperXattrs: Xattrs
    ) throws -> Bool {
        if isUntouched(lower: lower, upper: upper) { return true }
        guard lower.mode == upper.mode, lower.uid == upper.uid, lower.gid == upper.gid,
            lower.rdevMajor == upper.rdevMajor, lower.rdevMinor == upper.rdevMinor,
            lowerXattrs == upperXattrs
        else { return false }
        if upper.type == .directory { return true }
        if lower.size != upper.size { return false }
        if lower.modificationTime.seconds != upper.modificationTime.seconds { return false }
        let ambiguous = lower.modificationTime.nanoseconds == 0 && upper.modificationTime.nanoseconds == 0
        if case .containerd = check, !ambiguous {
            return lower.modificationTime.nanoseconds == upper.modificationTime.nanoseconds
        }
        if lower.modificationTime.nanoseconds != upper.modificationTime.nanoseconds { return false }
        switch upper.type {
        case .symlink:
            return try lowerDir.readLink(name) == upperDir.readLink(name)
        case .regular where upper.size > 0:
            return try comparer.equal(lowerDir, name, upperDir, name, size: upper.size)
        default:
            return true
        }
    }
}
