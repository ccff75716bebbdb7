import StrataFS
import StrataOverlay

/// `overlay`: each snapshot holds only its own layer (`fs`, plus `work` while Active); an Active
/// snapshot is an overlay mount of its `fs` over its parents' `fs` directories. The format of
/// those directories and the mount options are StrataOverlay's.
struct OverlayBackend: SnapshotBackend {
    var name: String { "overlay" }
    var contents: [UInt8]? { Array("fs".utf8) }
    var copiesParent: Bool { false }
    var stacksLayers: Bool { true }
    /// Extra options every overlay mount gets (`OverlayMount.defaultOptions`).
    var options: [String]

    /// The backend for snapshots in `path`, once an overlay mount there has worked.
    init(checking path: String) throws {
        if let problem = OverlayMount.problem(in: path) {
            throw SnapshotError.unavailable("snapshotter overlay: \(problem); use --snapshotter native")
        }
        options = OverlayMount.defaultOptions
    }

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
        if kind == .active {
            return [
                OverlayMount.mount(
                    lowers: parents.map(fs), upper: (fs(id), "\(base)/\(id)/work"), options: options)
            ]
        }
        if parents.count == 1 { return [Mount(type: "bind", source: fs(parents[0]), options: ["rbind", "ro"])] }
        return [OverlayMount.mount(lowers: parents.map(fs), options: options)]
    }

    func stackMount(base: String, layers: [Int64]) -> Mount? {
        OverlayMount.mount(lowers: layers.map { "\(base)/\($0)/fs" }, options: options)
    }
}
