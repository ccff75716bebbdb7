import StrataFS

/// `native`: each snapshot is a full tree; an Active snapshot starts as a copy of its parent,
/// reflinked where the filesystem can share extents. Mounted as bind mounts.
struct NativeBackend: SnapshotBackend {
    var name: String { "native" }
    var contents: [UInt8]? { nil }
    var copiesParent: Bool { true }
    var stacksLayers: Bool { false }

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

    func stackMount(base: String, layers: [Int64]) -> Mount? { nil }
}
