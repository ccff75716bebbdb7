/// Why a snapshotter call failed, with containerd's error classes and the key it concerns.
public enum SnapshotError: Error, CustomStringConvertible, Equatable {
    case notFound(String)
    case alreadyExists(String)
    /// containerd: `ErrInvalidArgument` "parent ... is not committed snapshot".
    case parentNotCommitted(key: String, parent: String)
    /// containerd: `ErrFailedPrecondition`: only an Active snapshot may be committed.
    case notActive(String)
    /// containerd: `ErrFailedPrecondition` "cannot remove snapshot with child".
    case hasChildren(String)
    case invalidKey(String)
    /// The backend cannot work here (for example no overlay mount).
    case unavailable(String)

    public var description: String {
        switch self {
        case .notFound(let k): return "snapshot \(k): not found"
        case .alreadyExists(let k): return "snapshot \(k): already exists"
        case .parentNotCommitted(let k, let p): return "snapshot \(k): parent \(p) is not a committed snapshot"
        case .notActive(let k): return "snapshot \(k): is not active"
        case .hasChildren(let k): return "snapshot \(k): cannot remove a snapshot with children"
        case .invalidKey(let k): return "invalid snapshot key \"\(k)\": must be 1 to 1024 characters, no NUL"
        case .unavailable(let why): return why
        }
    }
}
