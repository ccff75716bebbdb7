import Foundation
import StrataCompression
import StrataContent
import StrataStore

/// Pushes an image of the store to a registry: blobs the repository lacks (checked with HEAD),
/// then child manifests by digest, then the image's manifest or index under the tag, each with
/// its media type. A blob the registry has is never sent again.
public struct ImagePusher: Sendable {
    public let content: ContentStore
    public let client: RegistryClient
    /// Called as each blob is settled: uploaded (true) or already there (false).
    public var onBlob: (@Sendable (Descriptor, Bool) -> Void)?

    public init(content: ContentStore, client: RegistryClient) {
        self.content = content
        self.client = client
    }

    public struct Result: Codable, Sendable {
        public var target: Descriptor
        public var reference: String
        public var uploaded: Int
        public var present: Int
    }

    public func push(_ name: String, to ref: ImageReference) async throws -> Result {
        let target = try content.image(name).target
        let blobs = try ImageExporter(content: content).blobs(of: target)
        var seen = Set<Digest>()
        var result = Result(target: target, reference: ref.description, uploaded: 0, present: 0)
        try await client.ping()
        for d in blobs.reversed() where seen.insert(d.digest).inserted {
            if MediaType.isIndex(d.mediaType) || MediaType.isManifest(d.mediaType) {
                let bytes = try content.open(d.digest).readToEnd(limit: 16 << 20)
                let tag = d.digest == target.digest ? (ref.tag ?? (ref.digest == nil ? "latest" : nil)) : nil
                try await client.putManifest(ref.repository, tag ?? d.digest.description, d, bytes)
                continue
            }
            if try await client.blobExists(ref.repository, d.digest) {
                result.present += 1
                onBlob?(d, false)
                continue
            }
            try await client.upload(ref.repository, d, from: try content.open(d.digest))
            result.uploaded += 1
            onBlob?(d, true)
        }
        return result
    }
}
