/// Extended attributes of one entry, ordered by name so that comparisons and tar records are
/// deterministic.
public struct Xattrs: Sendable, Hashable {
    public private(set) var entries: [(name: String, value: [UInt8])]

    public init(_ entries: [(name: String, value: [UInt8])] = []) {
        self.entries = entries.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    public var isEmpty: Bool { entries.isEmpty }

    public subscript(name: String) -> [UInt8]? {
        entries.first { $0.name == name }?.value
    }

    public static func == (a: Xattrs, b: Xattrs) -> Bool {
        a.entries.count == b.entries.count
            && zip(a.entries, b.entries).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    public func hash(into h: inout Hasher) {
        for e in entries {
            h.combine(e.name)
            h.combine(e.value)
        }
    }
}

/// Which extended attributes a diff compares and writes.
public enum XattrPolicy: String, Sendable, CaseIterable {
    /// Only `security.capability`, exactly as containerd.
    case capability
    /// Every xattr except overlayfs bookkeeping (`trusted.overlay.*`).
    case all

    public static let capabilityName = "security.capability"

    /// Whether the attribute `name` is carried under this policy.
    public func includes(_ name: String) -> Bool {
        switch self {
        case .capability: return name == Self.capabilityName
        case .all: return !name.hasPrefix("trusted.overlay.")
        }
    }
}

/// overlayfs's own attributes of the entries in its layers: bookkeeping, never a file's content.
public enum OverlayXattr {
    /// `y` on a directory whose lower layers' entries are hidden.
    public static let opaque = "trusted.overlay.opaque"
    public static let redirect = "trusted.overlay.redirect"
    public static let metacopy = "trusted.overlay.metacopy"
    public static let opaqueValue = Array("y".utf8)

    /// `trusted.overlay.*`, or `user.overlay.*` as overlayfs writes them with `userxattr`.
    public static func isOverlay(_ name: String) -> Bool {
        name.hasPrefix("trusted.overlay.") || name.hasPrefix("user.overlay.")
    }
}
