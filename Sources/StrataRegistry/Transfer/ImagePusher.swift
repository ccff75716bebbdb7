import Foundation
import StrataContent
import StrataOCI
import StrataStreams

/// Pushes an image of the store to a registry: blobs the repository lacks (checked with HEAD),
/// then child manifests by digest, then the image's manifest or index under the tag, each with
/// its media type. A blob the registry has is never sent again, and one recorded in another
/// repository of the same registry (`DistributionSource`) is mounted from there.
public struct ImagePusher: Sendable {
    public let content: ContentStore
    public let client: RegistryClient
    /// Called as each blob is settled.
    public var onBlob: (@Sendable (Descriptor, Outcome) -> Void)?
    /// Called as a blob's bytes go up: the blob and the bytes the registry has.
    public var onProgress: (@Sendable (Descriptor, Int64) -> Void)?

    public enum Outcome: String, Codable, Sendable {
        case uploaded, mounted, present
    }

    public init(content: ContentStore, client: RegistryClient) {
        self.content = content
        self.client = client
    }

    public struct Result: Codable, Sendable {
        public var target: Descriptor
        public var reference: String
        public var uploaded: Int
        /// Blobs the registry mounted from another repository.
        public var mounted: Int
        public var present: Int
    }

    public func push(_ name: String, to ref: ImageReference) async throws -> Result {
        let target = try content.image(name).target
        let blobs = try ImageGraph(content: content).blobs(of: target)
        try requireWhole(name, blobs)
        var seen = Set<Digest>()
        var result = Result(target: target, reference: ref.description, uploaded: 0, mounted: 0, present: 0)
        try await client.retrying { try await client.ping() }
        for d in blobs.reversed() where seen.insert(d.digest).inserted {
            if MediaType.isIndex(d.mediaType) || MediaType.isManifest(d.mediaType) {
                let bytes = try content.open(d.digest).readToEnd(limit: DocumentLimit.manifest)
                let tag = d.digest == target.digest ? (ref.tag ?? (ref.digest == nil ? "latest" : nil)) : nil
                let reference = tag ?? d.digest.description
                try await client.retrying { try await client.putManifest(ref.repository, reference, d, bytes) }
                continue
            }
            let outcome = try await push(d, to: ref)
            switch outcome {
            case .uploaded: result.uploaded += 1
            case .mounted: result.mounted += 1
            case .present: result.present += 1
            }
            try DistributionSource.record(d.digest, at: ref.host, ref.repository, in: content)
            onBlob?(d, outcome)
        }
        return result
    }

    private func push(_ d: Descriptor, to ref: ImageReference) async throws -> Outcome {
        let client = client
        if try await client.retrying({ try await client.blobExists(ref.repository, d.digest) }) { return .present }
        let sources = DistributionSource.repositories(of: d.digest, at: ref.host, in: content, except: ref.repository)
        var bytes: (@Sendable (Int64) -> Void)?
        if let progress = onProgress { bytes = { progress(d, $0) } }
        let upload = try await client.upload(
            ref.repository, d, from: try content.open(d.digest), mountFrom: sources, onProgress: bytes)
        if case .mounted = upload { return .mounted }
        return .uploaded
    }

    /// Every manifest an index names, and every blob a manifest names, must be there: a
    /// registry refuses an index or manifest whose children it lacks.
    private func requireWhole(_ name: String, _ blobs: [Descriptor]) throws {
        let have = Set(blobs.map(\.digest))
        var missing: [String] = []
        for d in blobs where MediaType.isIndex(d.mediaType) {
            for m in try ImageGraph(content: content).decode(ImageIndexDocument.self, d).manifests
            where !have.contains(m.digest) {
                let p = m.platform.map { "\($0.os)/\($0.architecture)" } ?? "no platform"
                missing.append("the manifest \(m.digest) (\(p))")
            }
        }
        for d in blobs where MediaType.isManifest(d.mediaType) {
            let manifest = try ImageGraph(content: content).decode(ImageManifest.self, d)
            for b in [manifest.config] + manifest.layers where !have.contains(b.digest) {
                missing.append("blob \(b.digest) of manifest \(d.digest)")
            }
        }
        if !missing.isEmpty { throw RegistryError.incomplete(image: name, missing: missing) }
    }
}
