#if canImport(Glibc)
    import Glibc
#endif

/// Builds and edits directory trees by relative path, descriptor-relative underneath. Used by the
/// demo and the tests to make sample trees; paths are trusted (they come from the caller).
public struct TreeBuilder {
    public let root: Handle

    public init(root: Handle) { self.root = root }

    public init(creating path: String) throws {
        mkdir(path, 0o755)
        root = try Handle.openDirectory(path: path)
    }

    /// The parent directory of `path` and its last component; parents must exist.
    public func locate(_ path: String) throws -> (Handle, [UInt8]) {
        let comps = PathName.cleanComponents(PathName.bytes(path))
        return (try root.openDirectory(components: comps.dropLast()), comps.last ?? [])
    }

    public func directory(_ path: String, mode: UInt32 = 0o755) throws {
        let (d, n) = try locate(path)
        if try d.statIfExists(n) == nil { try d.makeDirectory(n, mode: mode) }
        try d.changeMode(n, mode)
    }

    /// Creates or replaces a regular file with `content`.
    public func file(_ path: String, _ content: [UInt8], mode: UInt32 = 0o644) throws {
        let (d, n) = try locate(path)
        try d.removeAll(n)
        let f = try d.open(n, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: mode)
        try content.withUnsafeBytes { try f.write($0) }
        try f.changeMode(mode)
    }

    public func file(_ path: String, _ text: String, mode: UInt32 = 0o644) throws {
        try file(path, Array(text.utf8), mode: mode)
    }

    /// Creates a sparse file of `size` bytes holding `content` at `offset` and holes elsewhere.
    public func sparseFile(_ path: String, size: Int64, content: [UInt8], at offset: Int64) throws {
        let (d, n) = try locate(path)
        try d.removeAll(n)
        let f = try d.open(n, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o644)
        try content.withUnsafeBytes { try f.write($0, at: offset) }
        try f.truncate(to: size)
    }

    public func symlink(_ path: String, to target: String) throws {
        let (d, n) = try locate(path)
        try d.removeAll(n)
        try d.makeSymlink(n, target: PathName.bytes(target))
    }

    public func hardlink(_ path: String, to existing: String) throws {
        let (d, n) = try locate(path)
        let (td, tn) = try locate(existing)
        try d.removeAll(n)
        try d.makeHardLink(n, to: tn, in: td)
    }

    public func node(_ path: String, type: FileType, mode: UInt32 = 0o644, major: UInt32 = 0, minor: UInt32 = 0) throws
    {
        let (d, n) = try locate(path)
        try d.removeAll(n)
        try d.makeNode(n, mode: type.rawValue | mode, major: major, minor: minor)
    }

    public func remove(_ path: String) throws {
        let (d, n) = try locate(path)
        try d.removeAll(n)
    }

    public func chmod(_ path: String, _ mode: UInt32) throws {
        let (d, n) = try locate(path)
        try d.changeMode(n, mode)
    }

    public func chown(_ path: String, uid: UInt32, gid: UInt32) throws {
        let (d, n) = try locate(path)
        try d.changeOwner(n, uid: uid, gid: gid)
    }

    public func setTime(_ path: String, _ t: FileTime) throws {
        let (d, n) = try locate(path)
        try d.setTimes(n, access: t, modification: t)
    }

    /// Gives every entry below the root (not the root itself) the time `t`, so that two trees
    /// built alike match exactly.
    public func setAllTimes(_ t: FileTime) throws {
        func walk(_ dir: Handle) throws {
            for e in try dir.entries() {
                if try dir.stat(e.name).type == .directory { try walk(dir.openDirectory(e.name)) }
                try dir.setTimes(e.name, access: t, modification: t)
            }
        }
        try walk(root)
    }

    public func setXattr(_ path: String, _ key: String, _ value: [UInt8]) throws {
        let (d, n) = try locate(path)
        try d.setXattr(n, key: key, value: value)
    }

    /// Whether this filesystem takes `user.*` xattrs (tmpfs before Linux 6.6 does not).
    public func supportsUserXattrs() -> Bool {
        let probe = ".strata-xattr-probe"
        defer { try? remove(probe) }
        do {
            try file(probe, "")
            try setXattr(probe, "user.strata.probe", [1])
            return true
        } catch { return false }
    }
}
