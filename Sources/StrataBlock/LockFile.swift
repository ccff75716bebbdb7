import StrataFS

#if canImport(Glibc)
    import Glibc
#endif

/// Decisions two processes must not take at once (mount this file or not), made under an
/// exclusive `flock` on a lock file. The lock goes with the descriptor: a process that dies lets
/// go of it.
enum LockFile {
    /// Runs `body` holding the lock file at `path` (made when missing) exclusively.
    static func exclusively<R>(_ path: String, _ body: () throws -> R) throws -> R {
        let lock = try Handle.openFile(path: path, flags: O_RDWR | O_CREAT | O_CLOEXEC, mode: 0o600)
        _ = try lock.lock(exclusive: true, wait: true)
        return try body()
    }
}
