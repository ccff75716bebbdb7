import Foundation

/// containerd's snapshot kinds: a View is read-only, an Active snapshot is writable and may be
/// committed, a Committed one is immutable and may be a parent.
public enum SnapshotKind: String, Codable, Sendable, CaseIterable {
    case view = "View"
    case active = "Active"
    case committed = "Committed"

    /// Parses any case, as containerd's `ParseKind` does.
    public init?(parsing s: String) {
        guard let k = Self.allCases.first(where: { $0.rawValue.lowercased() == s.lowercased() }) else { return nil }
        self = k
    }
}

/// containerd's `snapshots.Info`.
public struct SnapshotInfo: Codable, Equatable, Sendable {
    public var kind: SnapshotKind
    /// The key (Active, View) or name (Committed).
    public var name: String
    /// The committed snapshot under this one; nil for a snapshot on the empty tree.
    public var parent: String?
    public var labels: [String: String]
    public var createdAt: Date
    public var updatedAt: Date
}

/// Disk use of one snapshot's own layer, without its parents: containerd's `snapshots.Usage`.
public struct SnapshotUsage: Codable, Equatable, Sendable {
    public var inodes: Int64
    public var size: Int64

    public init(inodes: Int64 = 0, size: Int64 = 0) {
        self.inodes = inodes
        self.size = size
    }
}

/// A snapshot at its place in the tree of parents and children (`ctr snapshots tree`).
public struct SnapshotTreeNode: Encodable, Sendable {
    /// 0 for a snapshot without a parent (or whose parent is not in the list).
    public var depth: Int
    public var snapshot: SnapshotInfo

    /// `snapshots` in tree order: each parent before its children, depth first, siblings in the
    /// order given (a snapshotter lists by key).
    public static func tree(of snapshots: [SnapshotInfo]) -> [SnapshotTreeNode] {
        let children = Dictionary(grouping: snapshots) { $0.parent ?? "" }
        var nodes: [SnapshotTreeNode] = []
        var pending = (children[""] ?? []).reversed().map { SnapshotTreeNode(depth: 0, snapshot: $0) }
        while let n = pending.popLast() {
            nodes.append(n)
            pending += (children[n.snapshot.name] ?? []).reversed().map {
                SnapshotTreeNode(depth: n.depth + 1, snapshot: $0)
            }
        }
        return nodes
    }
}
