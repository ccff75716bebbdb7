import CStrata
import Foundation
import StrataFS
import SystemPackage

/// The server's unix socket, bound by Strata rather than by the transport, so that a live
/// server's socket is never taken over: a socket file no process answers on (a killed server's)
/// is replaced; one that answers, or a path that is not a socket, is refused.
enum UnixListener {
    /// A listening socket at `path`, mode 0660 (the directory decides who reaches it).
    static func listen(at path: String) throws -> Int32 {
        if let m = try? Handle.openDirectory(path: (path as NSString).deletingLastPathComponent).statIfExists(
            Array((path as NSString).lastPathComponent.utf8))
        {
            guard m.type == .socket else {
                throw ServeError("address \(path): exists and is not a socket; not replaced")
            }
            let live = strata_unix_socket_live(path)
            if live == 1 { throw ServeError("address \(path): another server is listening there") }
            guard live == 0 else {
                throw ServeError("address \(path): \(Errno(rawValue: -live)) while probing the socket there")
            }
            if unlink(path) != 0 && errno != ENOENT {
                throw ServeError("address \(path): cannot remove the stale socket: \(Errno(rawValue: errno))")
            }
        }
        let fd = strata_unix_listen(path, 0o660, 1024)
        guard fd >= 0 else { throw ServeError("address \(path): \(Errno(rawValue: -fd))") }
        return fd
    }
}

/// Why `strata serve` could not start.
public struct ServeError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
