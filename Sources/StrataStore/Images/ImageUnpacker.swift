import Foundation
import StrataArchive
import StrataContent
import StrataFS
import StrataLayers
import StrataOCI
import StrataProcessors
import StrataSnapshots
import StrataStreams

/// containerd's unpack: applies an image's layers into a chain of committed snapshots named by
/// chain ID, so that `prepare KEY CHAINID` gives a container its root.
///
/// A layer whose chain ID is already committed is skipped. Each other layer is applied into an
/// Active snapshot (`extract-<time>-<random> <chainID>`, under the unpack's lease) over the
/// previous one, its diffID checked, and committed as its chain ID; a layer that fails, or whose
/// diffID does not match the image's config, is discarded with its Active snapshot and nothing is
/// committed for it. Two unpacks of one image may race: the loser's commit finds the chain ID
/// taken and discards its own copy.
public struct ImageUnpacker: Sendable {
    public let root: StateRoot
    public let snapshotter: LocalSnapshotter
    public var lease: String?
    public var platform = Platform.current
    /// The stream processors for layers of other media types (nil: the root's `strata.toml`).
    public var processors: StreamProcessors?
    /// Called after each layer: its index, chain ID and whether it was applied (false: present).
    public var onLayer: (@Sendable (Int, Digest, Bool) -> Void)?
    /// Called before a layer is applied, to wait until its blob is stored (a pull that unpacks
    /// as it downloads); throwing ends the unpack.
    public var awaitLayer: (@Sendable (Descriptor) throws -> Void)?

    public init(root: StateRoot, snapshotter: LocalSnapshotter, lease: String? = nil) {
        self.root = root
        self.snapshotter = snapshotter
        self.lease = lease
    }

    /// What an unpack did.
    public struct Result: Codable, Sendable {
        /// The top snapshot: the image's root filesystem.
        public var chainID: Digest
        public var snapshotter: String
        public var layers: [Layer]

        public struct Layer: Codable, Sendable {
            public var digest: Digest
            public var diffID: Digest
            public var chainID: Digest
            public var applied: Bool
        }
    }

    /// Unpacks the image whose manifest or index is `target`.
    public func unpack(_ target: Descriptor) throws -> Result {
        let (manifest, config) = try ImageGraph(content: root.content, platform: platform).rootFS(of: target)
        let diffIDs = config.rootfs.diffIDs
        guard !diffIDs.isEmpty else {
            throw ContentError.invalidImage(
                "config \(manifest.config.digest) lists \(diffIDs.count) diffIDs for \(manifest.layers.count) layers")
        }
        // A lease keeps what the unpack makes until the image's label holds the chain.
        return try root.withLease(lease) { lease in
            try unpack(manifest, config, snapshotter.leased(lease))
        }
    }

    private func unpack(_ manifest: ImageManifest, _ config: ImageConfigRootFS, _ leased: LocalSnapshotter) throws
        -> Result
    {
        let diffIDs = config.rootfs.diffIDs
        let chainIDs = config.chainIDs  // once: each costs a digest of the one before
        guard let top = chainIDs.last else {
            throw ContentError.invalidImage("manifest for config \(manifest.config.digest) has no layers to unpack")
        }
        var layers: [Result.Layer] = []
        for (i, (layer, chainID)) in zip(manifest.layers, chainIDs).enumerated() {
            let parent = i == 0 ? nil : chainIDs[i - 1].description
            let applied = try unpackLayer(layer, diffID: diffIDs[i], chainID: chainID, parent: parent, leased)
            layers.append(Result.Layer(digest: layer.digest, diffID: diffIDs[i], chainID: chainID, applied: applied))
            onLayer?(i, chainID, applied)
        }
        try root.content.label(manifest.config.digest, [Annotations.gcSnapshotRef(snapshotter.name): top.description])
        return Result(chainID: top, snapshotter: snapshotter.name, layers: layers)
    }

    /// Applies one layer unless its chain ID is committed; true when it was applied.
    private func unpackLayer(
        _ layer: Descriptor, diffID: Digest, chainID: Digest, parent: String?, _ s: LocalSnapshotter
    ) throws -> Bool {
        try unpackLayer(layer, diffID: diffID, as: chainID.description, parent: parent, s)
    }

    /// Applies `layer` into a new snapshot `name` over `parent` unless `name` is committed; true
    /// when it was applied. On overlay every whiteout is kept, even with nothing under it.
    public func unpackLayer(
        _ layer: Descriptor, diffID: Digest, as name: String, parent: String?, _ s: LocalSnapshotter
    )
        throws -> Bool
    {
        if let info = try? s.stat(name), info.kind == .committed { return false }
        try awaitLayer?(layer)
        let key = "extract-\(Int64(Date().timeIntervalSince1970 * 1e9))-\(UInt32.random(in: 0...UInt32.max)) \(name)"
        _ = try s.prepare(key, parent: parent, labels: ["containerd.io/snapshot.ref": name])
        do {
            let dirs = try s.layers(key)
            guard let target = dirs.own else { throw SnapshotError.notActive(key) }
            try apply(layer, diffID: diffID, to: target, overlayLowers: dirs.isOverlayUpper ? dirs.lowers : nil)
            FaultPoint.reach("unpack.applied")
            try s.commit(name, key: key, labels: [Annotations.snapshotDiffID: diffID.description])
        } catch SnapshotError.alreadyExists(let n) where n == name {
            try? s.remove(key)  // another unpack committed it first
        } catch {
            try? s.remove(key)
            throw LayerUnpackError(layer: layer.digest, diffID: diffID, reason: error)
        }
        return true
    }

    /// Applies the stored blob `layer` onto `target`, checking its digest and diffID.
    public func apply(_ layer: Descriptor, diffID: Digest, to target: Handle, overlayLowers: [Handle]?) throws {
        try root.apply(layer, to: target, overlayLowers: overlayLowers, diffID: diffID, processors: processors)
    }
}

extension StateRoot {
    /// Applies the stored blob `layer` onto `target` (an overlay upper directory over
    /// `overlayLowers`, whose whiteouts then become overlayfs's, or a whole tree), checking the
    /// blob's digest and, when given, its diffID. The layer's media type chooses its processor
    /// chain: `processors`, or those the root's `strata.toml` declares.
    @discardableResult
    public func apply(
        _ layer: Descriptor, to target: Handle, overlayLowers: [Handle]?, diffID: Digest? = nil,
        processors: StreamProcessors? = nil
    ) throws -> ApplyResult {
        var options = ApplyOptions(overlayLowers: overlayLowers)
        options.writers = 2
        var applier = Applier(options: options, expectedDiffID: diffID)
        applier.mediaType = layer.mediaType
        applier.processors = try processors ?? StreamProcessors.chosen(config: nil, stateRoot: path)
        let result = try applier.apply(file: content.open(layer.digest), to: target)
        guard result.digest == layer.digest else {
            throw ContentError.digestMismatch(ref: target.displayPath, expected: layer.digest, actual: result.digest)
        }
        return result
    }
}

/// A layer that could not be unpacked; nothing was committed for it.
public struct LayerUnpackError: Error, CustomStringConvertible {
    public var layer: Digest
    public var diffID: Digest
    public var reason: any Error

    public var description: String { "layer \(layer) (diffID \(diffID)): \(reason); its snapshot was discarded" }
}
