import Foundation
import StrataContent
import StrataLayers
import StrataOCI
import StrataSnapshots

/// `docker commit` for snapshots: the layer of an Active snapshot's changes over its parent
/// (`SnapshotDiffer`, so an overlay snapshot's upper directory alone), stacked on the image whose
/// unpacked chain is that parent, as a new image named in the store's index.
///
/// The base image's config is kept as it is (its environment, command, labels and every field
/// Strata does not know) but for the new diffID, a history entry and the creation time; its
/// layers are referenced as they are. A snapshot without a parent commits to a one-layer image.
public struct ImageCommitter {
    public let root: StateRoot
    public let snapshotter: LocalSnapshotter
    public var options = DiffOptions()
    public var lease: String?
    public var platform = Platform.current
    public var onProgress: ((LayerProgress) -> Void)?

    public init(root: StateRoot, snapshotter: LocalSnapshotter) {
        self.root = root
        self.snapshotter = snapshotter
    }

    /// What a commit made.
    public struct Result: Codable, Sendable {
        public var manifest: Descriptor
        public var layer: Descriptor
    }

    /// Commits snapshot `key` as image `name`, over image `base` (by default the image whose
    /// chain is the snapshot's parent, when exactly one is).
    public func commit(_ key: String, as name: String, base: String? = nil, message: String? = nil) throws -> Result {
        let info = try snapshotter.stat(key)
        guard info.kind == .active else { throw SnapshotError.notActive(key) }
        let baseImage = try base.map { try root.content.image($0).target } ?? findBase(of: info)
        return try root.withLease(lease) { lease in
            var differ = SnapshotDiffer(root: root, snapshotter: snapshotter, options: options)
            differ.lease = lease
            differ.onProgress = onProgress
            let (layer, _) = try differ.diff(key, against: .parent)
            var baseDocuments: (config: [UInt8], manifest: ImageManifest)?
            if let baseImage {
                let graph = ImageGraph(content: root.content, platform: platform)
                let (_, manifest) = try graph.manifest(of: baseImage)
                // Read once: checked as a root filesystem, then edited as an object.
                let baseConfig = try graph.read(manifest.config)
                guard
                    let baseChain = try ImageGraph.decode(ImageConfigRootFS.self, baseConfig, of: manifest.config)
                        .chainIDs.last, baseChain.description == info.parent
                else {
                    throw ImageError.notOverBase(key: key, parent: info.parent, image: base ?? "")
                }
                baseDocuments = (baseConfig, manifest)
            } else {
                guard info.parent == nil else { throw ImageError.noBase(key: key, parent: info.parent ?? "") }
            }
            let documents = try CommitDocuments(
                base: baseDocuments, layer: layer, platform: platform, createdBy: "strata image commit \(key)",
                comment: message)
            _ = try root.content.put(documents.config, lease: lease)
            _ = try root.content.put(documents.manifest, lease: lease)
            let target = documents.manifestDescriptor
            try root.content.setImage(name, target)
            return Result(manifest: target, layer: layer)
        }
    }

    /// The one image whose unpacked chain (the chain ID of all its layers) is the snapshot's
    /// parent; nil for a snapshot without one.
    private func findBase(of info: SnapshotInfo) throws -> Descriptor? {
        guard let parent = info.parent else { return nil }
        var found: [ImageRecord] = []
        for image in try root.content.images() {
            guard
                let (_, manifest) = try? ImageGraph(content: root.content, platform: platform).manifest(
                    of: image.target),
                let config = try? ImageGraph(content: root.content).decode(ImageConfigRootFS.self, manifest.config),
                config.chainIDs.last?.description == parent
            else { continue }
            if !found.contains(where: { $0.target.digest == image.target.digest }) { found.append(image) }
        }
        guard found.count == 1 else {
            throw ImageError.ambiguousBase(key: info.name, parent: parent, images: found.map(\.name))
        }
        return found[0].target
    }
}

/// Why an image could not be made from a snapshot.
public enum ImageError: Error, CustomStringConvertible {
    case ambiguousBase(key: String, parent: String, images: [String])
    case noBase(key: String, parent: String)
    case notOverBase(key: String, parent: String?, image: String)

    public var description: String {
        switch self {
        case .ambiguousBase(let key, let parent, let images) where images.isEmpty:
            return "snapshot \(key): no image has its parent \(parent) as its chain; name the base with --from"
        case .ambiguousBase(let key, let parent, let images):
            return "snapshot \(key): images \(images.joined(separator: ", ")) all have its parent \(parent) as "
                + "their chain; name the base with --from"
        case .noBase(let key, let parent):
            return "snapshot \(key): its parent \(parent) is no image's chain"
        case .notOverBase(let key, let parent, let image):
            return "snapshot \(key): its parent \(parent ?? "(none)") is not image \(image)'s chain"
        }
    }
}
