import Foundation
import StrataCompression
import StrataFS

#if canImport(Glibc)
    import Glibc
#endif

/// An image the store names: an entry of the layout's `index.json` with a
/// `org.opencontainers.image.ref.name` annotation, as skopeo and umoci name them.
public struct ImageRecord: Codable, Sendable, Equatable {
    public var name: String
    /// The image's manifest or index.
    public var target: Descriptor
}

extension ContentStore {
    static let indexName = Array("index.json".utf8)

    /// Every entry of `index.json` (named or not: unnamed ones are still images gc keeps),
    /// sorted by name.
    public func images() throws -> [ImageRecord] {
        let document = try JSONDecoder().decode(ImageIndexDocument.self, from: Data(readIndex()))
        return document.manifests.map {
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
        var entry: [String: Any] = [
            "mediaType": target.mediaType, "digest": target.digest.description, "size": target.size,
        ]
        entry["annotations"] = (target.annotations ?? [:]).merging([Annotations.refName: name]) { $1 }
        try editIndex { manifests in
            manifests.removeAll { Self.refName($0) == name }
            manifests.append(entry)
        }
    }

    /// Removes the image `name` from `index.json`; its blobs stay until `gc`.
    public func removeImage(_ name: String) throws {
        var found = false
        try editIndex { manifests in
            let before = manifests.count
            manifests.removeAll { Self.refName($0) == name }
            found = manifests.count != before
        }
        if !found { throw ContentError.imageNotFound(name) }
    }

    private static func refName(_ entry: [String: Any]) -> String? {
        (entry["annotations"] as? [String: Any])?[Annotations.refName] as? String
    }

    private func readIndex() throws -> [UInt8] {
        let f = try layout.open(Self.indexName, flags: O_RDONLY | O_NOFOLLOW)
        return try f.readToEnd(limit: 16 << 20)
    }

    /// Rewrites `index.json` under an exclusive lock on the layout, keeping every field Strata
    /// does not know, and replaces it atomically.
    private func editIndex(_ body: (inout [[String: Any]]) throws -> Void) throws {
        let lock = try layout.openDirectory(Array(".".utf8))
        _ = try lock.lock(exclusive: true, wait: true)
        guard var document = try JSONSerialization.jsonObject(with: Data(readIndex())) as? [String: Any] else {
            throw ContentError.invalidImage("index.json is not a JSON object")
        }
        var manifests = document["manifests"] as? [[String: Any]] ?? []
        try body(&manifests)
        document["manifests"] = manifests
        let bytes = try JSONSerialization.data(
            withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
        try layout.writeAtomically(Self.indexName, contents: Array(bytes) + [0x0A])
        withExtendedLifetime(lock) {}
    }
}
