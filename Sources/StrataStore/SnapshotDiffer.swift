import StrataChanges
import StrataContent
import StrataFS
import StrataLayers
import StrataOCI
import StrataOverlay
import StrataSnapshots

/// containerd's `CreateDiff` for snapshots: the layer of one snapshot's changes over its parent
/// (or over another snapshot), written into the content store.
///
/// Against its own parent an overlay snapshot is diffed from its upper directory alone and a
/// native one by a walk that trusts only entries untouched since its copy was made; any other pair
/// is diffed by walking both whole trees. The blob is stored only whole and checked, labelled with
/// its diffID (`containerd.io/uncompressed`) and, with a lease, held by it; without a lease or a
/// `containerd.io/gc.root` label it is collectable.
public struct SnapshotDiffer {
    public let root: StateRoot
    public let snapshotter: LocalSnapshotter
    public var options: DiffOptions
    public var labels: [String: String] = [:]
    public var lease: String?
    /// The ingest ref the layer is written under (containerd's `DiffRequest.ref`); a new one
    /// when nil.
    public var ref: String?
    public var onProgress: ((LayerProgress) throws -> Void)?

    /// What a snapshot is diffed against.
    public enum Base: Sendable, Equatable {
        /// Its own parent (the empty tree for a snapshot without one).
        case parent
        /// The empty tree: the layer holds the whole tree.
        case scratch
        /// Another committed snapshot.
        case snapshot(String)
    }

    public init(root: StateRoot, snapshotter: LocalSnapshotter, options: DiffOptions = DiffOptions()) {
        self.root = root
        self.snapshotter = snapshotter
        self.options = options
    }

    /// Diffs snapshot `key` against `base` into the content store.
    public func diff(_ key: String, against base: Base = .parent) throws -> (Descriptor, DiffMethod) {
        let layers = try snapshotter.layers(key)
        let base: String? =
            switch base {
            case .parent: layers.parent
            case .scratch: nil
            case .snapshot(let k): k
            }
        if base == layers.parent, let own = layers.own {
            if layers.isOverlayUpper {
                do {
                    let d = try snapshotter.withTree(base) { lower in try store(.overlayUpper(lower: lower, upper: own))
                    }
                    return (d, .overlayUpper)
                } catch is UpperDirError {
                    // redirect_dir or metacopy entries (an upper written by other mount options):
                    // only the merged trees say what changed.
                }
            } else {
                let copiedAt = base == nil ? nil : layers.copiedAt
                let d = try snapshotter.withTree(base) { lower in
                    try store(.trees(lower: lower, upper: own, copiedAt: copiedAt))
                }
                return (d, copiedAt == nil ? .trees : .evidence)
            }
        }
        let d = try snapshotter.withTree(base) { lower in
            try snapshotter.withTree(key) { upper in
                guard let upper else { throw SnapshotError.notFound(key) }
                return try store(.trees(lower: lower, upper: upper))
            }
        }
        return (d, .trees)
    }

    /// Writes the layer of `source` into an ingest and commits it; a layer already stored is kept,
    /// and gets the labels and the lease.
    public func store(_ source: ChangeSource) throws -> Descriptor {
        var differ = Differ(options: options)
        differ.onProgress = onProgress
        let writer = try root.content.writer(ref: ref ?? "diff-\(UInt64.random(in: 0...UInt64.max))", lease: lease)
        let descriptor: Descriptor
        do {
            descriptor = try differ.write(source, to: writer)
        } catch {
            writer.abort()
            throw error
        }
        var labels = labels
        labels[Annotations.uncompressed] = descriptor.annotations?[Annotations.uncompressed]
        do {
            try writer.commit(size: descriptor.size, expected: descriptor.digest, labels: labels)
        } catch ContentError.alreadyExists(let digest) {
            try root.content.label(digest, labels.mapValues { Optional($0) })
            if let lease { try root.content.hold(digest, lease: lease) }
        }
        return descriptor
    }
}
