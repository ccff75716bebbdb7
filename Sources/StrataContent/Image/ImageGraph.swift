import Foundation
import StrataFS
import StrataOCI

/// An image as the graph of documents it is in a content store (an index, its manifests, their
/// configs and layers), read for one platform. Every document is read through `decode`, which
/// refuses one larger than its `DocumentLimit` before reading it. Import, export, unpack, commit,
/// refs and push walk stored images through this one type; pull picks an index's entry with it.
public struct ImageGraph: Sendable {
    public let content: ContentStore
    public var platform: Platform

    public init(content: ContentStore, platform: Platform = .current) {
        self.content = content
        self.platform = platform
    }

    /// The manifest an image target stands for on this platform: the target itself, or the
    /// entry of its index that matches.
    public func manifest(of target: Descriptor) throws -> (Descriptor, ImageManifest) {
        var d = target
        while MediaType.isIndex(d.mediaType) {
            d = try Self.pick(decode(ImageIndexDocument.self, d), d, platform)
        }
        guard MediaType.isManifest(d.mediaType) else {
            throw ContentError.invalidImage("\(d.digest) is a \(d.mediaType), not an image manifest or index")
        }
        return (d, try decode(ImageManifest.self, d))
    }

    /// The entry of index `d` for `platform` (or its only entry).
    public static func pick(_ index: ImageIndexDocument, _ d: Descriptor, _ platform: Platform) throws -> Descriptor {
        let entries = index.manifests.filter { MediaType.isManifest($0.mediaType) || MediaType.isIndex($0.mediaType) }
        guard
            let entry = entries.first(where: { $0.platform.map { matches($0, platform) } ?? false })
                ?? (entries.count == 1 ? entries.first : nil)
        else {
            throw ContentError.invalidImage(
                "index \(d.digest) has no manifest for \(platform.os)/\(platform.architecture)")
        }
        return entry.descriptor
    }

    static func matches(_ p: Platform, _ want: Platform) -> Bool {
        p.os == want.os && p.architecture == want.architecture
    }

    /// Reads a stored JSON document, refused unread past its `DocumentLimit` (4 MiB for a
    /// manifest or index).
    public func decode<T: Decodable>(_ type: T.Type, _ d: Descriptor) throws -> T {
        try Self.decode(type, read(d), of: d)
    }

    /// The bytes of the stored document `d`, refused unread past its `DocumentLimit`.
    public func read(_ d: Descriptor) throws -> [UInt8] {
        let limit = DocumentLimit.bytes(for: d.mediaType)
        let tooLarge = ContentError.invalidImage(
            "\(d.digest) (\(d.mediaType)) is larger than the \(limit >> 20) MiB allowed for it")
        guard d.size <= limit else { throw tooLarge }
        do {
            return try content.open(d.digest).readToEnd(limit: limit)
        } catch let e as FSError where e.errno == .fileTooLarge {
            throw tooLarge
        }
    }

    /// `bytes`, the document `d`, decoded as `T`.
    public static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], of d: Descriptor) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw ContentError.invalidImage("\(d.digest) (\(d.mediaType)) cannot be read: \(error)")
        }
    }

    /// The manifest `target` stands for on this platform and its config's root filesystem,
    /// which must list one diffID per layer.
    public func rootFS(of target: Descriptor) throws -> (manifest: ImageManifest, config: ImageConfigRootFS) {
        let (_, manifest) = try manifest(of: target)
        let config = try decode(ImageConfigRootFS.self, manifest.config)
        let diffIDs = config.rootfs.diffIDs.count
        guard diffIDs == manifest.layers.count else {
            throw ContentError.invalidImage(
                "config \(manifest.config.digest) lists \(diffIDs) diffIDs for \(manifest.layers.count) layers")
        }
        return (manifest, config)
    }

    /// Every stored blob image `target` reaches, parents before children (an index's other
    /// platforms only when their manifests are stored).
    public func blobs(of target: Descriptor) throws -> [Descriptor] {
        var blobs: [Descriptor] = []
        try collect(target, into: &blobs, required: true)
        return blobs
    }

    /// `d` and what it references, depth first; a missing blob is an error when `required`
    /// (this platform's chain), skipped otherwise (an index's other platforms).
    private func collect(_ d: Descriptor, into blobs: inout [Descriptor], required: Bool) throws {
        guard (try? content.info(d.digest)) != nil else {
            if required { throw ContentError.notFound(d.digest) }
            return
        }
        blobs.append(d)
        if MediaType.isIndex(d.mediaType) {
            let index = try decode(ImageIndexDocument.self, d)
            let chosen = try? Self.pick(index, d, platform)
            for m in index.manifests {
                try collect(m.descriptor, into: &blobs, required: m.digest == chosen?.digest)
            }
        } else if MediaType.isManifest(d.mediaType) {
            let manifest = try decode(ImageManifest.self, d)
            for l in [manifest.config] + manifest.layers { try collect(l, into: &blobs, required: required) }
        }
    }
}
