import SystemPackage

/// A failed filesystem call: which call, on which path, and the errno the kernel gave.
///
/// Every syscall wrapper in Strata throws this, so a message always names the path concerned.
public struct FSError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var path: String
    public var errno: Errno

    public init(_ operation: String, path: String, errno: Errno) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String { "\(operation) \(path): \(errno.description)" }
}

/// Runs a shim call that returns `-errno` on failure, retrying `EINTR` in this one place.
@inline(__always)
func retrying<T: BinaryInteger>(_ body: () -> T) -> Result<T, Errno> {
    while true {
        let r = body()
        if r >= 0 { return .success(r) }
        let code = Int32(truncatingIfNeeded: -Int64(r))
        if code == eintrValue { continue }
        return .failure(Errno(rawValue: code))
    }
}

let eintrValue: Int32 = Errno.interrupted.rawValue
