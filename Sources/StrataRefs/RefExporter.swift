import Foundation
import StrataContent
import StrataFS
import StrataLayers
import StrataOCI
import StrataSnapshots
import StrataStore
import StrataStreams

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a ref as an OCI image into an OCI layout directory: its layers as they are stored.
///
/// A layer whose blob exists (the ref's own record, or a blob labelled with its diffID) is copied
/// as it is, never recompressed; only a layer known by its snapshot alone is diffed, once: its
/// blob is recorded in the ref and its diffID on the snapshot. The config and manifest go into
/// the content store as well, so the image's blobs are all there.
public struct RefExporter {
    public let root: StateRoot
    public let snapshotter: LocalSnapshotter
    /// How a layer that has no blob yet is written.
    public var options = DiffOptions()
    public var platform = Platform.current

    public init(root: StateRoot, snapshotter: LocalSnapshotter) {
        self.root = root
        self.snapshotter = snapshotter
    }

    /// What an export wrote.
    public struct Result: Codable, Sendable {
        public var manifest: Descriptor
        /// Layers diffed for this export (0 when every blob existed).
        public var layersWritten: Int
    }

    /// Exports ref `name` as image `tag` of the layout at `path` (created when missing).
    public func export(_ name: String, to path: String, tag: String) throws -> Result {
        let records = RefRecords(root.metadata)
        var ref = try records.get(name)
        return try root.withLease(nil) { lease in
            let written = try ensureBlobs(&ref, lease: lease)
            if written > 0 { try records.put(ref, replace: true) }
            let layers = ref.layers.compactMap(\.descriptor)
            let config: [String: Any] = [
                "architecture": platform.architecture, "os": platform.os,
                "rootfs": ["type": "layers", "diff_ids": layers.compactMap { $0.uncompressedDigest?.description }],
                "history": layers.indices.map {
                    ["created_by": "strata ref \(ref.kind.rawValue) \(ref.name): layer \($0 + 1)"]
                },
            ]
            let configBytes = try ImageDocument.bytes(config)
            let configDescriptor = Descriptor(
                mediaType: MediaType.config, digest: try root.content.put(configBytes, lease: lease),
                size: Int64(configBytes.count))
            let manifestBytes = try ImageDocument.bytes(ImageManifest(config: configDescriptor, layers: layers))
            let target = Descriptor(
                mediaType: MediaType.manifest, digest: try root.content.put(manifestBytes, lease: lease),
                size: Int64(manifestBytes.count))
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            let layout = try Handle.openDirectory(path: path)
            try ImageLayout.initialize(layout)
            let blobs = try layout.openDirectory(Array("blobs".utf8)).openDirectory(Array("sha256".utf8))
            for d in layers + [configDescriptor, target] { try copy(d.digest, into: blobs) }
            try ImageLayout.setImage(tag, target, in: layout)
            return Result(manifest: target, layersWritten: written)
        }
    }

    /// Gives every layer of `ref` a stored blob; returns how many had to be diffed.
    private func ensureBlobs(_ ref: inout Ref, lease: String) throws -> Int {
        let resolver = RefResolver(root: root, snapshotter: snapshotter)
        var byDiffID: [Digest: ContentInfo]?
        var written = 0
        for i in ref.layers.indices {
            if let d = ref.layers[i].descriptor, (try? root.content.info(d.digest)) != nil { continue }
            if let diffID = ref.layers[i].diffID {
                if byDiffID == nil { byDiffID = try resolver.blobsByDiffID() }
                if let info = byDiffID?[diffID] {
                    ref.layers[i].descriptor = try resolver.describe(info)
                    continue
                }
            }
            guard let key = ref.layers[i].snapshot else { throw RefError.noLayerData(ref.name, i) }
            var differ = SnapshotDiffer(root: root, snapshotter: snapshotter, options: options)
            differ.lease = lease
            let base = ref.layers[i].base
            let (d, _) = try differ.diff(key, against: base.map { .snapshot($0) } ?? .scratch)
            ref.layers[i].descriptor = d
            ref.layers[i].diffID = d.uncompressedDigest
            if try snapshotter.stat(key).parent == base, let diffID = d.uncompressedDigest {
                _ = try snapshotter.update(key, labels: [Annotations.snapshotDiffID: diffID.description])
            }
            written += 1
        }
        return written
    }

    /// Copies a stored blob into a layout's `blobs/sha256` unless it is there already.
    private func copy(_ digest: Digest, into blobs: Handle) throws {
        let name = Array(digest.encoded.utf8)
        if try blobs.statIfExists(name) != nil { return }
        let source = try root.content.open(digest)
        try blobs.writeAtomically(name, mode: 0o644, replace: false) { file in _ = try file.copyData(from: source) }
    }
}
