import Foundation
import StrataContent
import StrataOCI
import StrataStreams

/// Pulls an image into the store: the manifest (or index, then this platform's manifest), the
/// config and the layers it lacks, a few at once, each streamed into a resumable ingest named by
/// its digest and checked against it before it is stored. A pull killed half-way and run again
/// continues where each ingest stopped. The image is named only when all of it is stored.
///
/// With an unpack (StrataStore's `ImageUnpacker`, wired by the caller), the layers unpack while
/// the later ones download: the unpack runs on a thread of its own and waits, through the
/// function it is given, for each layer it must apply to be stored.
public struct ImagePuller: Sendable {
    public let content: ContentStore
    public let client: RegistryClient
    public var platform = Platform.current
    /// Layers downloaded at once.
    public var parallel = 3
    /// From an index, every platform's manifest and blobs (the unpack is still this platform's).
    public var allPlatforms = false
    /// Called as each blob is settled: downloaded (true) or already stored (false).
    public var onBlob: (@Sendable (Descriptor, Bool) -> Void)?
    /// Called as a blob's bytes arrive: the blob and the bytes stored so far.
    public var onProgress: (@Sendable (Descriptor, Int64) -> Void)?

    public init(content: ContentStore, client: RegistryClient) {
        self.content = content
        self.client = client
    }

    public struct Result: Codable, Sendable {
        public var name: String
        public var target: Descriptor
        public var manifest: Descriptor
        public var downloaded: Int
        public var present: Int
    }

    /// Unpacks the image `target` (its manifest for `platform`) while it downloads; before using
    /// a layer's blob it calls `awaitLayer`, which returns once the blob is stored or throws when
    /// the download failed.
    public typealias Unpack<U> =
        @Sendable (
            _ target: Descriptor, _ platform: Platform, _ awaitLayer: @escaping @Sendable (Descriptor) throws -> Void
        )
        throws -> U

    /// Pulls `ref` and names it `name`.
    public func pull(_ ref: ImageReference, as name: String) async throws -> Result {
        try await pull(ref, as: name, unpacking: nil as Unpack<Bool>?).0
    }

    /// Pulls `ref`, names it `name`, and runs `unpack` beside the downloads; returns what it did.
    public func pull<U: Sendable>(_ ref: ImageReference, as name: String, unpacking unpack: Unpack<U>?)
        async throws -> (Result, U?)
    {
        let client = client
        let (target, bytes) = try await client.retrying { try await client.manifest(ref.repository, ref.reference) }
        try store(bytes, target)
        var manifestDescriptor = target
        var manifestBytes = bytes
        while MediaType.isIndex(manifestDescriptor.mediaType) {
            let index = try JSONDecoder().decode(ImageIndexDocument.self, from: Data(manifestBytes))
            let chosen = try ImageGraph.pick(index, manifestDescriptor, platform).digest.description
            (manifestDescriptor, manifestBytes) = try await client.retrying {
                try await client.manifest(ref.repository, chosen)
            }
            try store(manifestBytes, manifestDescriptor)
        }
        guard MediaType.isManifest(manifestDescriptor.mediaType) else {
            throw RegistryError.protocolViolation("\(ref): \(manifestDescriptor.mediaType) is not an image manifest")
        }
        let manifest = try JSONDecoder().decode(ImageManifest.self, from: Data(manifestBytes))
        var result = Result(name: name, target: target, manifest: manifestDescriptor, downloaded: 0, present: 0)
        // The config first: the unpack reads the diffIDs from it.
        try await fetch([manifest.config], ref, nil, into: &result)
        let arrivals = LayerArrivals()
        async let unpacked = arrivals.unpack(unpack, target, platform: platform)
        do {
            try await fetch(manifest.layers, ref, arrivals, into: &result)
        } catch {
            arrivals.fail(error)
            _ = try? await unpacked
            throw error
        }
        if allPlatforms { try await fetchOtherPlatforms(target, bytes, except: manifestDescriptor, ref, &result) }
        try content.setImage(name, target)
        return (result, try await unpacked)
    }

    /// Stores the blobs the store lacks, `parallel` at once in the given order, telling
    /// `arrivals` of each as it is stored, and counts them in `result`.
    private func fetch(
        _ blobs: [Descriptor], _ ref: ImageReference, _ arrivals: LayerArrivals?, into result: inout Result
    ) async throws {
        let (store, registry, report, progress) = (content, client, onBlob, onProgress)
        var missing: [Descriptor] = []
        for d in blobs {
            if (try? content.info(d.digest)) != nil {
                arrivals?.stored(d.digest)
                report?(d, false)
                result.present += 1
            } else if !missing.contains(where: { $0.digest == d.digest }) {
                missing.append(d)
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = missing.makeIterator()
            func start() {
                guard let d = next.next() else { return }
                group.addTask {
                    let writer = try store.writer(ref: "pull-\(d.digest)", total: d.size)
                    defer { writer.close() }
                    var bytes: (@Sendable (Int64) -> Void)?
                    if let progress { bytes = { progress(d, $0) } }
                    try await registry.download(ref.repository, d, into: writer, onProgress: bytes)
                    try DistributionSource.record(d.digest, at: ref.host, ref.repository, in: store)
                    arrivals?.stored(d.digest)
                    report?(d, true)
                }
            }
            for _ in 0..<parallel { start() }
            while try await group.next() != nil { start() }
        }
        result.downloaded += missing.count
    }

    /// The manifests of index `target` other than `chosen`, and their blobs.
    private func fetchOtherPlatforms(
        _ target: Descriptor, _ bytes: [UInt8], except chosen: Descriptor, _ ref: ImageReference,
        _ result: inout Result
    ) async throws {
        guard MediaType.isIndex(target.mediaType) else { return }
        let client = client
        let index = try JSONDecoder().decode(ImageIndexDocument.self, from: Data(bytes))
        for m in index.manifests where m.digest != chosen.digest && MediaType.isManifest(m.mediaType) {
            let digest = m.digest.description
            let (d, body) = try await client.retrying { try await client.manifest(ref.repository, digest) }
            try store(body, d)
            let manifest = try JSONDecoder().decode(ImageManifest.self, from: Data(body))
            try await fetch([manifest.config] + manifest.layers, ref, nil, into: &result)
        }
    }

    /// Stores a manifest or index, unless it is there.
    private func store(_ bytes: [UInt8], _ d: Descriptor) throws {
        if (try? content.info(d.digest)) != nil { return }
        _ = try content.put(bytes)
    }
}

/// The layers stored so far, for an unpack running on its own thread beside the downloads: it
/// waits for each layer it must apply, or for the downloads' failure.
final class LayerArrivals: @unchecked Sendable {
    private let condition = NSCondition()
    private var stored = Set<Digest>()
    private var failure: (any Error)?

    func stored(_ digest: Digest) {
        condition.lock()
        stored.insert(digest)
        condition.broadcast()
        condition.unlock()
    }

    func fail(_ error: any Error) {
        condition.lock()
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    func wait(_ digest: Digest) throws {
        condition.lock()
        defer { condition.unlock() }
        while !stored.contains(digest) {
            if let failure { throw failure }
            condition.wait()
        }
    }

    /// Runs `unpack`, if any, on a thread of its own (it blocks, on the filesystem and on
    /// arrivals).
    func unpack<U: Sendable>(_ unpack: ImagePuller.Unpack<U>?, _ target: Descriptor, platform: Platform) async throws
        -> U?
    {
        guard let unpack else { return nil }
        let wait: @Sendable (Descriptor) throws -> Void = { [self] in try self.wait($0.digest) }
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Swift.Result { try unpack(target, platform, wait) }) }
        }
    }
}
