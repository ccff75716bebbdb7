import StrataFS

/// What differs between the snapshotter backends: what a new snapshot's directory holds and how
/// it is mounted. Records, rules and the directory life cycle are `LocalSnapshotter`'s.
protocol SnapshotLayout: Sendable {
    var name: String { get }
    /// Fills the new snapshot directory `dir` for a snapshot of `kind` over `parents` (the
    /// immediate parent first, each the parent's own directory).
    func populate(_ dir: Handle, kind: SnapshotKind, parents: [Handle]) throws
    /// Whether an Active snapshot starts as a copy of its parent's tree (whose diff can then use
    /// the copy's change times as evidence).
    var copiesParent: Bool { get }
    /// The mounts of snapshot `id` whose directories live under `base`.
    func mounts(base: String, id: Int64, kind: SnapshotKind, parents: [Int64]) -> [Mount]
    /// The subdirectory holding the snapshot's own files ("fs" for overlay), nil for the directory itself.
    var contents: [UInt8]? { get }
}

/// `native`: each snapshot is a full tree; an Active snapshot starts as a copy of its parent,
/// reflinked where the filesystem can share extents. Mounted as bind mounts.
struct NativeLayout: SnapshotLayout {
    var name: String { "native" }
    var contents: [UInt8]? { nil }

    var copiesParent: Bool { true }

    func populate(_ dir: Handle, kind: SnapshotKind, parents: [Handle]) throws {
        guard kind == .active, let parent = parents.first else { return }
        var copy = TreeCopy()
        try copy.copy(from: parent, to: dir)
    }

    func mounts(base: String, id: Int64, kind: SnapshotKind, parents: [Int64]) -> [Mount] {
        // A View over a parent needs no copy: it is the parent, read-only.
        let source = kind == .view && !parents.isEmpty ? parents[0] : id
        return [Mount(type: "bind", source: "\(base)/\(source)", options: ["rbind", kind == .view ? "ro" : "rw"])]
    }
}

/// `overlay`: each snapshot holds only its own layer (`fs`, plus `work` while Active); an Active
/// snapshot is an overlay mount of its `fs` over its parents' `fs` directories.
struct OverlayLayout: SnapshotLayout {
    var name: String { "overlay" }
    var contents: [UInt8]? { Array("fs".utf8) }
    /// Extra options every overlay mount gets (`index=off` where the kernel has the parameter).
    var options: [String]

    var copiesParent: Bool { false }

    func populate(_ dir: Handle, kind: SnapshotKind, parents: [Handle]) throws {
        try dir.makeDirectory(Array("fs".utf8), mode: 0o755)
        if let parent = parents.first {
            // The new layer's root belongs to whoever owns the parent's, as containerd does.
            let owner = try parent.stat(Array("fs".utf8))
            try dir.changeOwner(Array("fs".utf8), uid: owner.uid, gid: owner.gid)
        }
        if kind == .active { try dir.makeDirectory(Array("work".utf8), mode: 0o711) }
    }

    func mounts(base: String, id: Int64, kind: SnapshotKind, parents: [Int64]) -> [Mount] {
        let fs = { (i: Int64) in "\(base)/\(i)/fs" }
        if parents.isEmpty {
            return [Mount(type: "bind", source: fs(id), options: ["rbind", kind == .view ? "ro" : "rw"])]
        }
        let lower = "lowerdir=" + parents.map(fs).joined(separator: ":")
        if kind == .active {
            return [
                Mount(
                    type: "overlay", source: "overlay",
                    options: ["workdir=\(base)/\(id)/work", "upperdir=\(fs(id))", lower] + options)
            ]
        }
        if parents.count == 1 { return [Mount(type: "bind", source: fs(parents[0]), options: ["rbind", "ro"])] }
        return [Mount(type: "overlay", source: "overlay", options: [lower] + options)]
    }
}
