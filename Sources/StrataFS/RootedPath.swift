/// A path from outside Strata (a tar entry's name or hard link target, a patch's or a journal's
/// path), checked once, before any system call sees it: the one door through which such names
/// reach the filesystem.
///
/// Guarantees: every component is non-empty and holds neither `/` nor NUL, and none is `.` or
/// `..`; so, resolved from a root with `InRootResolver` (or opened component by component with
/// `O_NOFOLLOW`), it names something inside that root. A NUL byte is refused, never cut at: the
/// kernel would read `..\0` as `..`, which the lexical cleaning does not see.
public struct RootedPath: Hashable, Sendable, CustomStringConvertible {
    /// The cleaned components, from the root down.
    public let components: [[UInt8]]

    /// The root itself.
    public static let root = RootedPath(checked: [])

    /// Cleans `raw` lexically as if it were rooted at `/` (containerd's rule for layer entries:
    /// empty and `.` components vanish, `..` removes the previous component and stops at the
    /// root). Throws when `raw` holds a NUL byte.
    public init(cleaning raw: [UInt8]) throws(PathError) {
        guard !raw.contains(0) else { throw PathError(raw, "holds a NUL byte") }
        components = PathName.cleanComponents(raw)
    }

    /// Takes `raw` as a relative path that must already be clean (what Strata itself writes, as
    /// in patches and journals): an empty, `.` or `..` component, or a NUL byte, is refused. A
    /// leading `/` is allowed (the root); `/` alone is the root.
    public init(strict raw: [UInt8]) throws(PathError) {
        guard !raw.contains(0) else { throw PathError(raw, "holds a NUL byte") }
        var parts = raw.split(separator: PathName.slash, omittingEmptySubsequences: false).map(Array.init)
        if parts.first == [] { parts.removeFirst() }
        if parts == [[]] { parts = [] }
        for p in parts where p.isEmpty || p == [PathName.dot] || p == [PathName.dot, PathName.dot] {
            throw PathError(raw, "has an empty, '.' or '..' component")
        }
        components = parts
    }

    /// One component below `parent`; throws unless `name` is a single valid component.
    public init(_ parent: RootedPath, appending name: [UInt8]) throws(PathError) {
        try Self.checkComponent(name)
        components = parent.components + [name]
    }

    private init(checked: [[UInt8]]) { components = checked }

    /// Components a resolver met on disk (directory names, cleaned symlink targets): the kernel
    /// gives no NUL, `/`, `.` or `..` there.
    init(resolved: [[UInt8]]) { components = resolved }

    /// Throws unless `name` can be one component: non-empty, no `/` or NUL, not `.` or `..`.
    public static func checkComponent(_ name: [UInt8]) throws(PathError) {
        guard !name.isEmpty, !name.contains(0), !name.contains(PathName.slash), name != [PathName.dot],
            name != [PathName.dot, PathName.dot]
        else { throw PathError(name, "is not a single name") }
    }

    public var isRoot: Bool { components.isEmpty }
    /// The last component; nil for the root.
    public var base: [UInt8]? { components.last }
    /// The directory holding this entry (the root holds itself).
    public var parent: RootedPath { RootedPath(checked: Array(components.dropLast())) }
    /// The path with a leading `/`, as bytes.
    public var bytes: [UInt8] { PathName.absolute(components) }
    public var description: String { PathName.display(bytes) }
}

/// A name from outside that `RootedPath` refused; it names the name.
public struct PathError: Error, CustomStringConvertible, Sendable, Equatable {
    public var path: String
    public var reason: String

    public init(_ raw: [UInt8], _ reason: String) {
        path = PathName.displayShowingNUL(raw)
        self.reason = reason
    }

    public var description: String { "invalid path \"\(path)\": it \(reason)" }
}
