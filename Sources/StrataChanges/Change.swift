import StrataFS

/// What happened to one path between the lower and the upper tree (containerd's `ChangeKind`).
public enum ChangeKind: String, Sendable, Hashable {
    case add
    case modify
    case delete
    /// A hardlinked file that did not change. Reported only so that layer writers can rebuild
    /// hardlink groups; `strata changes` does not print it.
    case unmodified
    /// A directory whose lower contents are all hidden (an overlayfs opaque directory), reported
    /// after the directory's own event and before its children; layers write it as `.wh..wh..opq`.
    case opaque

    /// The letter `docker diff` uses: A, C or D.
    public var letter: String {
        switch self {
        case .add: return "A"
        case .modify: return "C"
        case .delete: return "D"
        case .unmodified: return "U"
        case .opaque: return "O"
        }
    }
}

/// One event of the change stream.
///
/// Events arrive in tar order: a depth-first walk with names sorted bytewise, so a directory comes
/// before its children and every event can be applied in the order received. A deleted directory
/// is one delete event; its children are not reported.
public struct Change: Sendable {
    public var kind: ChangeKind
    /// The path from the tree's root, with a leading `/` (`/etc/hosts`).
    public var path: [UInt8]
    /// The upper entry's metadata; for a delete, the lower entry's.
    public var metadata: FileMetadata
    /// The symlink target, for symlinks in the upper tree.
    public var linkTarget: [UInt8]?
    /// The upper entry's xattrs that the comparer's policy carries.
    public var xattrs: Xattrs
    /// The upper entry's parent directory, to read its content with `*at` calls; nil for deletes.
    public var directory: Handle?
    /// The last path component.
    public var name: [UInt8]

    public init(
        kind: ChangeKind, path: [UInt8], metadata: FileMetadata, linkTarget: [UInt8]? = nil,
        xattrs: Xattrs = Xattrs(), directory: Handle? = nil, name: [UInt8]
    ) {
        self.kind = kind
        self.path = path
        self.metadata = metadata
        self.linkTarget = linkTarget
        self.xattrs = xattrs
        self.directory = directory
        self.name = name
    }

    public var pathString: String { PathName.display(path) }
}

/// Whether a walk goes on after an event.
public enum WalkDecision: Sendable {
    case proceed
    case stop
}

/// Receives the change stream. Returning `.stop` ends the walk early without error.
public protocol ChangeSink {
    mutating func handle(_ change: Change) throws -> WalkDecision
}
