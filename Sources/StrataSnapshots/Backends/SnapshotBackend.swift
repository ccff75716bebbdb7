import StrataFS

/// What differs between the snapshotter backends: what a new snapshot's directory holds and how
/// it is mounted. Records, rules and the directory life cycle are `LocalSnapshotter`'s; each
/// backend's format lives in its own folder here (`Native/`, `Overlay/`).
protocol SnapshotBackend: Sendable {
    var name: String { get }
    /// Fills the new snapshot directory `dir` for a snapshot of `kind` over `parents` (the
    /// immediate parent first, each the parent's own directory).
    func populate(_ dir: Handle, kind: SnapshotKind, parents: [Handle]) throws
    /// Whether an Active snapshot starts as a copy of its parent's tree (whose diff can then use
    /// the copy's change times as evidence).
    var copiesParent: Bool { get }
    /// Whether a snapshot holds only its own layer, shown over its parents' by a stacking mount;
    /// such layers can also be stacked in any order (`LocalSnapshotter.stack`).
    var stacksLayers: Bool { get }
    /// The mounts of snapshot `id` whose directories live under `base`.
    func mounts(base: String, id: Int64, kind: SnapshotKind, parents: [Int64]) -> [Mount]
    /// A read-only mount of the own layers of `layers` (the top first), for a backend that
    /// stacks layers.
    func stackMount(base: String, layers: [Int64]) -> Mount?
    /// The subdirectory holding the snapshot's own files ("fs" for overlay), nil for the directory itself.
    var contents: [UInt8]? { get }
}

/// The backends, by containerd's names.
enum SnapshotBackends {
    static let names = ["overlay", "native"]

    /// The backend `name`, whose snapshots live in the directory `path`; refused with the reason
    /// when it cannot work there.
    static func named(_ name: String, at path: String) throws -> any SnapshotBackend {
        switch name {
        case "native": return NativeBackend()
        case "overlay": return try OverlayBackend(checking: path)
        default: throw unknown(name)
        }
    }

    static func unknown(_ name: String) -> SnapshotError {
        .unavailable("unknown snapshotter \(name) (overlay or native)")
    }
}
