import Foundation
import StrataFS
import StrataOCI
import StrataStreams

#if canImport(Glibc)
    import Glibc
#endif

/// An image the store names: an entry of the layout's `index.json` with a
/// `org.opencontainers.image.ref.name` annotation, as skopeo and umoci name them.
public struct ImageRecord: Codable, Sendable, Equatable {
    public var name: String
    /// The image's manifest or index.
    public var target: Descriptor

    public init(name: String, target: Descriptor) {
        self.name = name
        self.target = target
    }
}

extension ContentStore {

    /// Every entry of `index.json` (named or not: unnamed ones are still images gc keeps),
    /// sorted by name.
    public func images() throws -> [ImageRecord] {
        try ImageLayout.index(of: layout, describedAs: "\(layout.displayPath)/index.json").manifests.map {
            ImageRecord(name: $0.annotations?[Annotations.refName] ?? "", target: $0.descriptor)
        }.sorted { $0.name < $1.name }
    }

    public func image(_ name: String) throws -> ImageRecord {
        guard let i = try images().first(where: { $0.name == name }) else { throw ContentError.imageNotFound(name) }
        return i
    }

    /// Names `target` `name` in `index.json`, replacing any image of that name. The target's
    /// blob must be stored.
    public func setImage(_ name: String, _ target: Descriptor) throws {
        guard try blobs.statIfExists(Self.name(target.digest)) != nil else {
            throw ContentError.notFound(target.digest)
        }
        try ImageLayout.setImage(name, target, in: layout)
    }

    /// Removes the image `name` from `index.json`; its blobs stay until `gc`.
    public func removeImage(_ name: String) throws {
        var found = false
        try ImageLayout.editIndex(in: layout) { manifests in
            let before = manifests.count
            manifests.removeAll { ImageLayout.refName($0) == name }
            found = manifests.count != before
        }
        if !found { throw ContentError.imageNotFound(name) }
    }

    /// Stores `bytes` (a config, a manifest) as a blob and returns its digest.
    public func put(_ bytes: [UInt8], lease: String? = nil) throws -> Digest {
        let digest = Digest.sha256(bytes)
        let writer = try self.writer(ref: "put-\(digest.encoded)-\(UInt32.random(in: 0...UInt32.max))", lease: lease)
        do {
            try bytes.withUnsafeBytes { try writer.write($0) }
            try writer.commit(size: Int64(bytes.count), expected: digest)
        } catch ContentError.alreadyExists {
            if let lease { try hold(digest, lease: lease) }
        } catch {
            writer.abort()
            throw error
        }
        return digest
    }
}
