import Foundation
import StrataChanges
import StrataFS
import StrataLayers
import StrataOverlay
import StrataSnapshots
import StrataStore

/// BuildKit's MergeOp and DiffOp over one snapshotter, kept as named refs.
///
/// `Merge(refs...)` is the refs' layers in order (a layer listed again is kept at its last place
/// only, which applying it again would give), and
/// a committed snapshot of them: overlay stacks the layers' own directories, native links their
/// files into a new tree; only layers that exist as blobs alone are unpacked. `Diff(lower,
/// upper)` is, when the lower's layers start the upper's chain, the upper's layers above them as
/// they are ("unmerge": no new blob, and deletions made in those layers stay deletions); else,
/// or with `simple`, one new layer from the differ. Either way `Merge(A, Diff(A, B))` has B's
/// tree. The two Diffs differ only when merged onto something other than the lower: a path that
/// an intermediate layer added and a later one deleted is deleted by the unmerge, left alone by
/// the simple diff, which never saw it.
public struct RefBuilder {
    public let root: StateRoot
    public let snapshotter: LocalSnapshotter
    /// How a simple diff's layer is written.
    public var options = DiffOptions()

    public init(root: StateRoot, snapshotter: LocalSnapshotter) {
        self.root = root
        self.snapshotter = snapshotter
    }

    public func merge(_ name: String, _ refs: [RefSpec]) throws -> Ref {
        try checkFree(name)
        let resolver = RefResolver(root: root, snapshotter: snapshotter)
        // Applying a layer again overrides all it did before, so each is kept at its last place.
        var layers: [RefLayer] = []
        for spec in refs {
            for l in try resolver.resolve(spec).layers {
                layers.removeAll { $0.isSame(as: l) }
                layers.append(l)
            }
        }
        return try store(Ref(name: name, kind: .merge, snapshotter: snapshotter.name, layers: layers, created: Date()))
    }

    public func diff(_ name: String, lower: RefSpec, upper: RefSpec, simple: Bool = false) throws -> Ref {
        try checkFree(name)
        let resolver = RefResolver(root: root, snapshotter: snapshotter)
        let (lo, up) = (try resolver.resolve(lower), try resolver.resolve(upper))
        let ancestor =
            lo.layers.count <= up.layers.count && zip(lo.layers, up.layers).allSatisfy { $0.isSame(as: $1) }
        var ref = Ref(name: name, kind: .diff, snapshotter: snapshotter.name, layers: [], created: Date())
        if ancestor && !simple {
            ref.diff = .unmerge
            ref.layers = Array(up.layers.dropFirst(lo.layers.count))
            // Layers that exist only as blobs stay so until a Merge needs their files.
            if ref.layers.contains(where: { $0.snapshot == nil }) {
                try RefRecords(root.metadata).put(ref)
                return ref
            }
            return try store(ref)
        }
        guard let upperTree = up.tree else { throw RefError.noTree(upper.description, Self.unpackHint) }
        guard lo.tree != nil || lo.layers.isEmpty else { throw RefError.noTree(lower.description, Self.unpackHint) }
        ref.diff = .simple
        let stacks = snapshotter.stacksLayers
        return try root.withLease(nil) { lease in
            var differ = SnapshotDiffer(root: root, snapshotter: snapshotter, options: options)
            differ.lease = lease
            let (d, _) = try differ.diff(upperTree, against: lo.tree.map { .snapshot($0) } ?? .scratch)
            // A copying backend links the layer's files from the upper tree; a stacking one needs the
            // layer as a directory of its own.
            ref.layers = [
                RefLayer(
                    descriptor: d, diffID: d.uncompressedDigest,
                    snapshot: stacks ? nil : upperTree, base: stacks ? nil : lo.tree)
            ]
            return try store(ref, lease: lease)
        }
    }

    static let unpackHint = "its layers are only blobs; unpack the image first (strata image unpack)"

    /// A valid name no ref has yet (checked again when the ref is recorded).
    private func checkFree(_ name: String) throws {
        try RefSpec.checkName(name)
        if (try? RefRecords(root.metadata).get(name)) != nil { throw RefError.alreadyExists(name) }
    }

    /// Builds the ref's snapshot and records the ref.
    private func store(_ ref: Ref, lease: String? = nil) throws -> Ref {
        let records = RefRecords(root.metadata)
        return try root.withLease(lease) { lease in
            var ref = ref
            let s = snapshotter.leased(lease)
            let key = "ref/\(ref.name)/\(UInt32.random(in: 0...UInt32.max))"
            ref.build = try snapshotter.stacksLayers ? stack(&ref.layers, as: key, s) : link(ref.layers, as: key, s)
            ref.snapshot = key
            try records.put(ref)
            return ref
        }
    }

    /// Overlay: each layer as a directory (blob-only layers unpacked into one), then stacked.
    private func stack(_ layers: inout [RefLayer], as key: String, _ s: LocalSnapshotter) throws -> Ref.Build {
        var build = Ref.Build.stacked
        let unpacker = ImageUnpacker(root: root, snapshotter: s)
        for i in layers.indices where layers[i].snapshot == nil {
            guard let d = layers[i].descriptor, let diffID = layers[i].diffID ?? d.uncompressedDigest else {
                throw RefError.noLayerData(key, i)
            }
            let name = "layer/\(diffID)"
            _ = try unpacker.unpackLayer(d, diffID: diffID, as: name, parent: nil, s)
            layers[i].snapshot = name
            build = .copy
        }
        if layers.isEmpty {
            _ = try s.prepare(key + "-new", parent: nil, labels: [:])
            try s.commit(key, key: key + "-new", labels: [:])
            return build
        }
        // An upper directory holds copy-ups that changed nothing; over its own parents they show
        // what is there anyway, elsewhere they would hide what the new layers under them hold.
        var stack: [String] = []  // top first
        for layer in layers {
            let key = layer.snapshot!
            let chain = try s.chain(key)
            stack.insert(Array(stack.prefix(chain.count)) == chain ? key : try cleaned(key, s), at: 0)
        }
        try s.stack(key, layers: stack.reversed(), labels: [:])
        return build
    }

    /// The layer of overlay snapshot `key` alone, as its blob would hold it: its real changes over
    /// its parents, linked (not copied) into a parentless snapshot `clean/<key>`.
    private func cleaned(_ key: String, _ s: LocalSnapshotter) throws -> String {
        let name = "clean/" + key
        if (try? s.stat(name))?.kind == .committed { return name }
        let active = name + "-new-\(UInt32.random(in: 0...UInt32.max))"
        _ = try s.prepare(active, parent: nil, labels: [:])
        do {
            let layers = try s.layers(key)
            guard let target = try s.layers(active).own, let upper = layers.own else {
                throw SnapshotError.notActive(key)
            }
            try s.withTree(layers.parent) { lower in
                var sink = LinkApplier(target: target, upper: upper)
                sink.overlayWhiteouts = true
                try UpperDirComparer(xattrPolicy: .all).compare(lower: lower, upper: upper, into: &sink)
                try sink.finish()
            }
            try s.commit(name, key: active, labels: [:])
        } catch SnapshotError.alreadyExists(let n) where n == name {
            try? s.remove(active)
        } catch {
            try? s.remove(active)
            throw error
        }
        return name
    }

    /// Native: a new tree with each layer's changes applied by hard links (blob-only layers
    /// unpacked into it).
    private func link(_ layers: [RefLayer], as key: String, _ s: LocalSnapshotter) throws -> Ref.Build {
        let active = key + "-new"
        _ = try s.prepare(active, parent: nil, labels: [:])
        do {
            guard let target = try s.layers(active).own else { throw SnapshotError.notActive(active) }
            var build = Ref.Build.hardlinks
            let unpacker = ImageUnpacker(root: root, snapshotter: s)
            for (i, layer) in layers.enumerated() {
                guard let upper = layer.snapshot else {
                    guard let d = layer.descriptor, let diffID = layer.diffID ?? d.uncompressedDigest else {
                        throw RefError.noLayerData(key, i)
                    }
                    try unpacker.apply(d, diffID: diffID, to: target, overlayLowers: nil)
                    build = .copy
                    continue
                }
                let own = try s.layers(upper)
                let copiedAt = layer.base == own.parent ? own.copiedAt : nil
                let copied = try s.withTree(layer.base) { lower in
                    try s.withTree(upper) { tree in
                        guard let tree else { throw SnapshotError.notFound(upper) }
                        var sink = LinkApplier(target: target, upper: tree)
                        _ = try TreeComparer(xattrPolicy: .all, copiedAt: copiedAt).compare(
                            lower: lower, upper: tree, into: &sink)
                        try sink.finish()
                        return sink.copied
                    }
                }
                if copied > 0 { build = .copy }
            }
            try s.commit(key, key: active, labels: [:])
            return build
        } catch {
            try? s.remove(active)
            throw error
        }
    }
}
