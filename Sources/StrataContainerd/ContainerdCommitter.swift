import Foundation
import StrataContainerdAPI
import StrataContent
import StrataFS
import StrataLayers
import StrataOCI
import StrataStreams

/// `nerdctl commit` with the overlay fast path: a container's changes as a new image in
/// containerd, made entirely through containerd's API (no change to its configuration).
///
/// The container's task, when running, is paused while its layer is computed and resumed on
/// every way out. The layer, the new config (the base image's, with the diffID and a history entry)
/// and the manifest are written to containerd's content store under a lease of their own, so
/// containerd's garbage collector cannot take them before the image record (Images.Create, or
/// Update of an image of that name) references them; the lease is deleted after, or on failure.
public struct ContainerdCommitter: Sendable {
    public var differ: ContainerdDiffer
    /// Pause a running task while the layer is computed (`nerdctl commit`'s default).
    public var pause = true
    /// The history entry's comment.
    public var message: String?
    /// The platform whose manifest is picked when the base image is an index.
    public var platform = Platform.current
    /// Each step as it is reached.
    public var onStage: (@Sendable (Stage) -> Void)?

    public init(differ: ContainerdDiffer) { self.differ = differ }

    public enum Stage: String, Sendable {
        case paused, diffed, resumed, stored, created
    }

    /// What a commit made.
    public struct Result: Codable, Sendable {
        public var image: String
        public var manifest: Descriptor
        public var config: Descriptor
        /// The layer, its diffID in `containerd.io/uncompressed`.
        public var layer: Descriptor
        public var method: DiffMethod
        public var fallback: String?
        public var snapshotter: String
        public var snapshot: String
        public var paused: Bool
        public var changedDuringDiff: [String]
    }

    /// Commits container `id`'s changes as image `name`.
    public func commit(container id: String, as name: String) async throws -> Result {
        let client = differ.client
        let snapshot = try await ContainerdSnapshot.of(container: id, client)
        guard let image = snapshot.image else { throw ContainerdResolveError.noImage(container: id) }
        let base = try await baseImage(image, client)
        let lease = try await ContainerdLease.create(client, expiry: .seconds(3600))
        let result: Swift.Result<Result, any Error>
        do {
            result = .success(
                try await snapshot.withTrees(client, lease: lease) { trees in
                    try await commit(snapshot, trees, over: base, as: name, lease: lease)
                })
        } catch {
            result = .failure(error)
        }
        // Best effort, in a task of its own (a cancelled commit still lets its blobs go): the
        // image holds what it needs, and a lease left behind expires within the hour.
        await Task { try? await lease.delete(client) }.value
        return try result.get()
    }

    private func commit(
        _ snapshot: ContainerdSnapshot, _ trees: ContainerdSnapshot.Trees, over base: BaseImage, as name: String,
        lease: ContainerdLease
    ) async throws -> Result {
        let client = differ.client
        let container = snapshot.container ?? snapshot.key
        guard trees.parent == base.chainID else {
            throw ContainerdResolveError.notOverImage(
                container: container, parent: trees.parent, image: base.name, chainID: base.chainID)
        }
        var differ = differ
        let pausing = pause
        if !pausing { differ.detectChanges = true }
        let stage = { (s: Stage) in
            onStage?(s)
            switch s {
            case .paused: FaultPoint.reach("containerd.paused")
            case .diffed: FaultPoint.reach("containerd.diffed")
            case .stored: FaultPoint.reach("containerd.stored")
            case .resumed, .created: break
            }
        }
        let pauser = TaskPause(client: client, container: container)
        let (computed, paused) = try await pauser.whilePaused(enabled: pausing) { paused in
            if paused { stage(.paused) }
            let computed = try await differ.compute(trees, output: nil)
            stage(.diffed)
            return computed
        }
        if paused { stage(.resumed) }
        try await differ.store(computed, lease: lease)

        let documents = try CommitDocuments(
            base: (base.config, base.manifest), layer: computed.layer, platform: platform,
            createdBy: "strata containerd commit \(container)", comment: message)
        let content = ContainerdContent(client)
        try await content.write(documents.config, as: documents.configDescriptor, lease: lease)
        // containerd's collector follows these labels, not the manifest's JSON.
        var refs = ["containerd.io/gc.ref.content.config": documents.configDescriptor.digest.description]
        for (i, l) in (base.manifest.layers + [computed.layer]).enumerated() {
            refs["containerd.io/gc.ref.content.l.\(i)"] = l.digest.description
        }
        try await content.write(documents.manifest, as: documents.manifestDescriptor, labels: refs, lease: lease)
        stage(.stored)
        try await ContainerdImages(client).set(name, to: documents.manifestDescriptor)
        stage(.created)
        return Result(
            image: name, manifest: documents.manifestDescriptor, config: documents.configDescriptor,
            layer: computed.layer, method: computed.method, fallback: computed.fallback,
            snapshotter: snapshot.snapshotter,
            snapshot: snapshot.key, paused: paused, changedDuringDiff: computed.changedDuringDiff)
    }

    /// The image a container was made from, for this platform: its manifest, its config's bytes,
    /// and the chain ID of its layers (the name containerd gives their unpacked snapshot).
    struct BaseImage {
        var name: String
        var manifest: ImageManifest
        var config: [UInt8]
        var chainID: String?
    }

    private func baseImage(_ name: String, _ client: ContainerdClient) async throws -> BaseImage {
        let content = ContainerdContent(client)
        var d = try await ContainerdImages(client).target(of: name)
        while MediaType.isIndex(d.mediaType) {
            let index = try ImageGraph.decode(ImageIndexDocument.self, try await content.document(d), of: d)
            d = try ImageGraph.pick(index, d, platform)
        }
        guard MediaType.isManifest(d.mediaType) else {
            throw ContentError.invalidImage("image \(name): \(d.digest) is a \(d.mediaType), not a manifest or index")
        }
        let manifest = try ImageGraph.decode(ImageManifest.self, try await content.document(d), of: d)
        let config = try await content.document(manifest.config)
        let rootfs = try ImageGraph.decode(ImageConfigRootFS.self, config, of: manifest.config)
        guard rootfs.rootfs.diffIDs.count == manifest.layers.count else {
            throw ContentError.invalidImage(
                "image \(name): config \(manifest.config.digest) lists \(rootfs.rootfs.diffIDs.count) diffIDs "
                    + "for \(manifest.layers.count) layers")
        }
        return BaseImage(
            name: name, manifest: manifest, config: config, chainID: rootfs.chainIDs.last?.description)
    }
}
