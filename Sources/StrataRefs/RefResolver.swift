import StrataCompression
import StrataContent
import StrataFS
import StrataOCI
import StrataSnapshots
import StrataStore
import StrataStreams

/// What a ref argument stands for: its layers, bottom first, and the committed snapshot holding
/// its tree when there is one.
public struct ResolvedRef: Sendable {
    public var layers: [RefLayer]
    public var tree: String?
}

/// Turns ref arguments into layer chains.
struct RefResolver {
    let root: StateRoot
    let snapshotter: LocalSnapshotter

    func resolve(_ spec: RefSpec) throws -> ResolvedRef {
        switch spec {
        case .scratch:
            return ResolvedRef(layers: [], tree: nil)
        case .named(let name):
            let ref = try RefRecords(root.metadata).get(name)
            guard ref.snapshotter == snapshotter.name else {
                throw RefError.noTree(name, "it was made with the \(ref.snapshotter) snapshotter")
            }
            return ResolvedRef(layers: ref.layers, tree: ref.snapshot)
        case .image(let name):
            return try image(name)
        case .directory(let path):
            throw RefError.noTree(path, "a ref is made of snapshots, images and refs, not directories")
        case .snapshot(let key):
            let info = try snapshotter.stat(key)
            guard info.kind == .committed else { throw SnapshotError.notActive(key) }
            return ResolvedRef(layers: try snapshotLayers(key), tree: key)
        }
    }

    /// An image's layers: each with its blob, and with its chain ID snapshot when unpacked here.
    private func image(_ name: String) throws -> ResolvedRef {
        let record = try root.content.image(name)
        let (manifest, config) = try ImageGraph(content: root.content).rootFS(of: record.target)
        let diffIDs = config.rootfs.diffIDs
        let chain = config.chainIDs.map(\.description)
        var layers: [RefLayer] = []
        for (i, blob) in manifest.layers.enumerated() {
            var d = blob
            d.annotations = (d.annotations ?? [:]).merging([Annotations.uncompressed: diffIDs[i].description]) { $1 }
            let unpacked = (try? snapshotter.stat(chain[i]))?.kind == .committed
            layers.append(
                RefLayer(
                    descriptor: d, diffID: diffIDs[i], snapshot: unpacked ? chain[i] : nil,
                    base: i == 0 ? nil : chain[i - 1]))
        }
        return ResolvedRef(layers: layers, tree: layers.last?.snapshot)
    }

    /// A committed snapshot's layers: its chain of parents, a stacked snapshot's stack; each with
    /// its blob when its diffID label names one in the content store.
    func snapshotLayers(_ key: String) throws -> [RefLayer] {
        var keys: [String] = []  // top first
        var below: [RefLayer] = []  // a stacked snapshot's layers, bottom first
        var next: String? = key
        while let k = next {
            let info = try snapshotter.stat(k)
            let deps = try snapshotter.dependencies(k)
            if info.parent == nil && !deps.isEmpty {
                // Stacked: the layers of the ref that made it (each with the base its changes are
                // taken against); else its stack as is. Its own directory holds only directories
                // made to merge others.
                if let ref = try RefRecords(root.metadata).list().first(where: {
                    $0.snapshot == k && $0.snapshotter == snapshotter.name
                }) {
                    below = ref.layers
                } else {
                    keys += try deps.filter { try !isStacked($0) }
                }
                break
            }
            keys.append(k)
            next = info.parent
        }
        let byDiffID = try blobsByDiffID()
        return try below
            + keys.reversed().map { k in
                let info = try snapshotter.stat(k)
                let diffID = info.labels[Annotations.snapshotDiffID].flatMap(Digest.init(parsing:))
                return RefLayer(
                    descriptor: try diffID.flatMap { byDiffID[$0] }.map(describe), diffID: diffID, snapshot: k,
                    base: info.parent)
            }
    }

    private func isStacked(_ key: String) throws -> Bool {
        try snapshotter.stat(key).parent == nil && !snapshotter.dependencies(key).isEmpty
    }

    /// The stored blobs by the diffID they are labelled with.
    func blobsByDiffID() throws -> [Digest: ContentInfo] {
        var out: [Digest: ContentInfo] = [:]
        for info in try root.content.list() {
            if let d = info.labels[Annotations.uncompressed].flatMap(Digest.init(parsing:)) { out[d] = info }
        }
        return out
    }

    /// A layer blob's descriptor, its media type from its first bytes.
    func describe(_ info: ContentInfo) throws -> Descriptor {
        let file = try root.content.open(info.digest)
        var head = [UInt8](repeating: 0, count: 16)
        let n = try head.withUnsafeMutableBytes { try file.readFully(into: $0) }
        return Descriptor(
            mediaType: MediaType.layer(Compression.detect(Array(head.prefix(n)))), digest: info.digest,
            size: info.size, annotations: info.labels[Annotations.uncompressed].map { [Annotations.uncompressed: $0] })
    }
}
