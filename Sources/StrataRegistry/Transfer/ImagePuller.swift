import Foundation
import StrataCompression
import StrataContent
import StrataStore

/// Pulls an image into the store: the manifest (or index, then this platform's manifest), the
/// config and the layers it lacks, a few at once, each streamed into a resumable ingest named by
/// its digest and checked against it before it is stored. A pull killed half-way and run again
/// continues where each ingest stopped. The image is named only when all of it is stored.
public struct ImagePuller: Sendable {
    public let content: ContentStore
    public let client: RegistryClient
    public var platform = Platform.current
    /// Layers downloaded at once.
    public var parallel = 3
    /// Called as each blob is settled: downloaded (true) or already stored (false).
    public var onBlob: (@Sendable (Descriptor, Bool) -> Void)?

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

    public func pull(_ ref: ImageReference, as name: String) async throws -> Result {
        let (target, bytes) = try await client.manifest(ref.repository, ref.reference)
        try store(bytes, target)
        var manifestDescriptor = target
        var manifestBytes = bytes
        while MediaType.isIndex(manifestDescriptor.mediaType) {
            let index = try JSONDecoder().decode(ImageIndexDocument.self, from: Data(manifestBytes))
            let chosen = try ImageImporter.pick(index, manifestDescriptor, platform)
            (manifestDescriptor, manifestBytes) = try await client.manifest(ref.repository, chosen.digest.description)
            try store(manifestBytes, manifestDescriptor)
        }
        guard MediaType.isManifest(manifestDescriptor.mediaType) else {
            throw RegistryError.protocolViolation("\(ref): \(manifestDescriptor.mediaType) is not an image manifest")
        }
        let manifest = try JSONDecoder().decode(ImageManifest.self, from: Data(manifestBytes))
        let blobs = [manifest.config] + manifest.layers
        var result = Result(name: name, target: target, manifest: manifestDescriptor, downloaded: 0, present: 0)
        let missing = blobs.filter { (try? content.info($0.digest)) == nil }
        result.present = blobs.count - missing.count
        for d in blobs where !missing.contains(where: { $0.digest == d.digest }) { onBlob?(d, false) }
        let (store, registry, report, repository) = (content, client, onBlob, ref.repository)
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = missing.makeIterator()
            func start() {
                guard let d = next.next() else { return }
                group.addTask {
                    let writer = try store.writer(ref: "pull-\(d.digest)", total: d.size)
                    defer { writer.close() }
                    try await registry.download(repository, d, into: writer)
                    report?(d, true)
                }
            }
            for _ in 0..<parallel { start() }
            while try await group.next() != nil { start() }
        }
        result.downloaded = missing.count
        try content.setImage(name, target)
        return result
    }

    /// Stores a manifest or index, unless it is there.
    private func store(_ bytes: [UInt8], _ d: Descriptor) throws {
        if (try? content.info(d.digest)) != nil { return }
        _ = try content.put(bytes)
    }
}
