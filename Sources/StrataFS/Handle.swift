import CStrata
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// An open file descriptor that Strata owns and closes when the last reference goes.
///
/// Directory handles are the anchor of all filesystem work: every entry is reached with an
/// `*at` call relative to its parent's handle, never by joining strings and following them.
/// `displayPath` is only for messages. A handle is immutable, so threads may share it.
public final class Handle: @unchecked Sendable {
    public let fd: Int32
    public let displayPath: String

    public init(adopting fd: Int32, displayPath: String) {
        self.fd = fd
        self.displayPath = displayPath
    }

    deinit { _ = strata_close(fd) }

    /// The path of a child, for messages only.
    public func childPath(_ name: [UInt8]) -> String {
        let n = String(decoding: name, as: UTF8.self)
        if displayPath.hasSuffix("/") { return displayPath + n }
        return displayPath + "/" + n
    }

    func fail(_ op: String, _ name: [UInt8]?, _ e: Errno) -> FSError {
        FSError(op, path: name.map(childPath) ?? displayPath, errno: e)
    }

    // MARK: Opening

    /// Opens a directory named by a path the user gave (the one place a string path is used).
    public static func openDirectory(path: String) throws(FSError) -> Handle {
        let r = retrying { strata_openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY, 0) }
        switch r {
        case .success(let fd): return Handle(adopting: Int32(fd), displayPath: path)
        case .failure(let e): throw FSError("open", path: path, errno: e)
        }
    }

    /// Opens a file named by a path the user gave.
    public static func openFile(path: String, flags: Int32 = O_RDONLY, mode: UInt32 = 0o644) throws(FSError) -> Handle {
        let r = retrying { strata_openat(AT_FDCWD, path, flags, mode) }
        switch r {
        case .success(let fd): return Handle(adopting: Int32(fd), displayPath: path)
        case .failure(let e): throw FSError("open", path: path, errno: e)
        }
    }

    /// Opens the child directory `name`, refusing to follow a symlink.
    public func openDirectory(_ name: [UInt8]) throws(FSError) -> Handle {
        try open(name, flags: O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
    }

    /// Opens the directory `components` below this one (itself for none), refusing to follow a
    /// symlink at any step.
    public func openDirectory(components: some Sequence<[UInt8]>) throws(FSError) -> Handle {
        var dir = self
        for c in components { dir = try dir.openDirectory(c) }
        return dir
    }

    /// Opens the child `name` with `flags` (`O_NOFOLLOW` is the caller's to add).
    public func open(_ name: [UInt8], flags: Int32, mode: UInt32 = 0) throws(FSError) -> Handle {
        let r = withCName(name) { n in retrying { strata_openat(fd, n, flags, mode) } }
        switch r {
        case .success(let nfd): return Handle(adopting: Int32(nfd), displayPath: childPath(name))
        case .failure(let e): throw fail("open", name, e)
        }
    }

    // MARK: Metadata

    /// `statx` of the child `name`, not following a final symlink.
    public func stat(_ name: [UInt8]) throws(FSError) -> FileMetadata {
        var s = strata_stat()
        let r = withCName(name) { n in retrying { strata_statx(fd, n, strata_at_symlink_nofollow, &s) } }
        if case .failure(let e) = r { throw fail("stat", name, e) }
        guard let m = FileMetadata(s) else { throw fail("stat", name, .invalidArgument) }
        return m
    }

    /// `statx` of the child, or nil when it does not exist.
    public func statIfExists(_ name: [UInt8]) throws(FSError) -> FileMetadata? {
        do { return try stat(name) } catch  where error.errno == .noSuchFileOrDirectory { return nil }
    }

    /// `statx` of this descriptor itself.
    public func stat() throws(FSError) -> FileMetadata {
        var s = strata_stat()
        let r = retrying { strata_statx(fd, "", strata_at_empty_path, &s) }
        if case .failure(let e) = r { throw fail("stat", nil, e) }
        guard let m = FileMetadata(s) else { throw fail("stat", nil, .invalidArgument) }
        return m
    }

    /// The target of the symlink `name`, as raw bytes.
    public func readLink(_ name: [UInt8]) throws(FSError) -> [UInt8] {
        let r = withCName(name) { n in
            Self.filling(initial: 256) { b in
                // A target that fills the buffer may be cut short: ask again with more room.
                retrying { strata_readlinkat(fd, n, b.baseAddress!.assumingMemoryBound(to: CChar.self), b.count) }
                    .flatMap { $0 < b.count ? .success($0) : .failure(.outOfRange) }
            }
        }
        switch r {
        case .success(let bytes): return bytes
        case .failure(let e): throw fail("readlink", name, e)
        }
    }

    /// The bytes a call writes into a buffer: first `initial` bytes, then 16 times more each time
    /// the call fails with ERANGE (too small), up to `limit` bytes, past which ERANGE is the error.
    static func filling(
        initial: Int, limit: Int = 1 << 24, _ call: (UnsafeMutableRawBufferPointer) -> Result<Int, Errno>
    ) -> Result<[UInt8], Errno> {
        var size = initial
        while true {
            var buf = [UInt8](repeating: 0, count: size)
            switch buf.withUnsafeMutableBytes(call) {
            case .success(let n): return .success(Array(buf[..<n]))
            case .failure(.outOfRange) where size < limit: size = min(size * 16, limit)
            case .failure(let e): return .failure(e)
            }
        }
    }

    // MARK: Creating and removing

    public func makeDirectory(_ name: [UInt8], mode: UInt32) throws(FSError) {
        let r = withCName(name) { n in retrying { strata_mkdirat(fd, n, mode) } }
        if case .failure(let e) = r { throw fail("mkdir", name, e) }
    }

    /// `makeDirectory`, where an existing entry of that name is fine (it is not checked to be a
    /// directory: opening it as one does that).
    public func makeDirectoryIfMissing(_ name: [UInt8], mode: UInt32) throws(FSError) {
        let r = withCName(name) { n in retrying { strata_mkdirat(fd, n, mode) } }
        if case .failure(let e) = r, e != .fileExists { throw fail("mkdir", name, e) }
    }

    public func makeNode(_ name: [UInt8], mode: UInt32, major: UInt32, minor: UInt32) throws(FSError) {
        let r = withCName(name) { n in retrying { strata_mknodat(fd, n, mode, major, minor) } }
        if case .failure(let e) = r { throw fail("mknod", name, e) }
    }

    public func makeSymlink(_ name: [UInt8], target: [UInt8]) throws(FSError) {
        let r = withCName(name) { n in withCName(target) { t in retrying { strata_symlinkat(t, fd, n) } } }
        if case .failure(let e) = r { throw fail("symlink", name, e) }
    }

    /// Makes `name` here a hard link to `targetName` in `targetDirectory`, never following a
    /// symlink target (a link to a symlink links the symlink itself).
    public func makeHardLink(_ name: [UInt8], to targetName: [UInt8], in targetDirectory: Handle) throws(FSError) {
        let r = withCName(name) { n in
            withCName(targetName) { t in retrying { strata_linkat(targetDirectory.fd, t, fd, n, 0) } }
        }
        if case .failure(let e) = r { throw fail("link", name, e) }
    }

    public func unlink(_ name: [UInt8], directory: Bool = false) throws(FSError) {
        let flags = directory ? strata_at_removedir : 0
        let r = withCName(name) { n in retrying { strata_unlinkat(fd, n, flags) } }
        if case .failure(let e) = r { throw fail(directory ? "rmdir" : "unlink", name, e) }
    }

    /// Removes the child `name` and everything below it, never following symlinks.
    /// A missing entry is not an error.
    public func removeAll(_ name: [UInt8]) throws(FSError) {
        guard let meta = try statIfExists(name) else { return }
        if meta.type == .directory {
            // Depth first with a stack of its own: a layer may nest directories deeper than any
            // thread's stack (one descriptor a level, so the descriptor limit bounds the depth).
            var stack: [(parent: Handle, name: [UInt8], dir: Handle, left: [DirectoryEntry])] = []
            let top = try openDirectory(name)
            stack.append((self, name, top, try top.entries()))
            while !stack.isEmpty {
                let i = stack.count - 1
                guard let entry = stack[i].left.popLast() else {
                    let done = stack.removeLast()
                    try done.parent.unlinkIfPresent(done.name, directory: true)
                    continue
                }
                let dir = stack[i].dir
                guard let m = try dir.statIfExists(entry.name) else { continue }
                if m.type == .directory {
                    let child = try dir.openDirectory(entry.name)
                    stack.append((dir, entry.name, child, try child.entries()))
                } else {
                    try dir.unlinkIfPresent(entry.name, directory: false)
                }
            }
            return
        }
        try unlinkIfPresent(name, directory: false)
    }

    private func unlinkIfPresent(_ name: [UInt8], directory: Bool) throws(FSError) {
        do { try unlink(name, directory: directory) } catch  where error.errno == .noSuchFileOrDirectory {}
    }

    // MARK: Ownership, mode, times

    public func changeOwner(_ name: [UInt8], uid: UInt32, gid: UInt32) throws(FSError) {
        let r = withCName(name) { n in retrying { strata_fchownat(fd, n, uid, gid, strata_at_symlink_nofollow) } }
        if case .failure(let e) = r { throw fail("chown", name, e) }
    }

    /// chmod of a child that is known not to be a symlink (Linux cannot chmod a symlink).
    public func changeMode(_ name: [UInt8], _ mode: UInt32) throws(FSError) {
        let r = withCName(name) { n in retrying { strata_fchmodat(fd, n, mode) } }
        if case .failure(let e) = r { throw fail("chmod", name, e) }
    }

    public func changeMode(_ mode: UInt32) throws(FSError) {
        if case .failure(let e) = retrying({ strata_fchmod(fd, mode) }) { throw fail("chmod", nil, e) }
    }

    public func changeOwner(uid: UInt32, gid: UInt32) throws(FSError) {
        if case .failure(let e) = retrying({ strata_fchown(fd, uid, gid) }) { throw fail("chown", nil, e) }
    }

    /// Sets access and modification times of the child, not following a symlink.
    public func setTimes(_ name: [UInt8], access: FileTime, modification: FileTime) throws(FSError) {
        let r = withCName(name) { n in
            retrying {
                strata_utimensat(
                    fd, n, access.seconds, Int(access.nanoseconds), modification.seconds,
                    Int(modification.nanoseconds), strata_at_symlink_nofollow)
            }
        }
        if case .failure(let e) = r { throw fail("utimensat", name, e) }
    }
}

/// Calls `body` with `name` as a NUL-terminated C string; a name holding a NUL byte fails with
/// `EINVAL` without calling it (cut at its NUL, `..\0` would reach the kernel as `..`).
@inline(__always)
public func withCName<T>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) -> Result<T, Errno>) -> Result<T, Errno> {
    name.withUnsafeBufferPointer { src in
        if src.contains(0) { return .failure(.invalidArgument) }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: src.count + 1) { buf in
            for i in 0..<src.count { buf[i] = CChar(bitPattern: src[i]) }
            buf[src.count] = 0
            return body(buf.baseAddress!)
        }
    }
}

/// `withCName` for an xattr name.
@inline(__always)
func withCKey<T>(_ key: String, _ body: (UnsafePointer<CChar>) -> Result<T, Errno>) -> Result<T, Errno> {
    withCName(Array(key.utf8), body)
}
