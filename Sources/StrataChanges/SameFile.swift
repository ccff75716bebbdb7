import StrataFS

/// containerd's rule for "did this entry change?", with Strata's xattr policy.
///
/// Same device and inode: unchanged. Otherwise type, permissions, owner, device numbers and the
/// policy's xattrs must match; directories then count as unchanged whatever their size and times.
/// Other entries must match in size and whole seconds of mtime; when both mtimes have zero
/// nanoseconds (tar truncated them, so they prove nothing) symlink targets or file contents are
/// compared; otherwise the nanoseconds must match. Contents are read only in that ambiguous case.
struct SameFileRule: Sendable {
    var policy: XattrPolicy
    var comparer = ContentComparer()

    func same(
        lower: FileMetadata, lowerDir: Handle, upper: FileMetadata, upperDir: Handle, name: [UInt8],
        lowerXattrs: Xattrs, upperXattrs: Xattrs
    ) throws -> Bool {
        if lower.device == upper.device && lower.inode == upper.inode { return true }
        guard lower.mode == upper.mode, lower.uid == upper.uid, lower.gid == upper.gid,
            lower.rdevMajor == upper.rdevMajor, lower.rdevMinor == upper.rdevMinor,
            lowerXattrs == upperXattrs
        else { return false }
        if upper.type == .directory { return true }
        if lower.size != upper.size { return false }
        if lower.modificationTime.seconds != upper.modificationTime.seconds { return false }
        if lower.modificationTime.nanoseconds == 0 && upper.modificationTime.nanoseconds == 0 {
            switch upper.type {
            case .symlink:
                return try lowerDir.readLink(name) == upperDir.readLink(name)
            case .regular where upper.size > 0:
                return try comparer.equal(lowerDir, name, upperDir, name, size: upper.size)
            default:
                return true
            }
        }
        return lower.modificationTime.nanoseconds == upper.modificationTime.nanoseconds
    }
}
