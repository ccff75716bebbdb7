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
    /// Every xattr except overlayfs' own in its `trusted.overlay.*` form (containerd's rule): the
    /// one overlay fact below StrataOverlay, kept here so that every reader of xattrs leaves them
    /// out alike.
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
