import Foundation
import StrataFS
import StrataOCI

#if canImport(Glibc)
    import Glibc
#endif

/// The OCI image layout's fixed files: `oci-layout` (its version) and `index.json` (the images it
/// names), and the `blobs/sha256` directory.
public enum ImageLayout {
    public static let version = #"{"imageLayoutVersion":"1.0.0"}"#
    public static let emptyIndex =
        #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#

    /// Creates whatever of the layout is missing in `dir`; an existing layout is left as it is.
    public static func initialize(_ dir: Handle) throws {
        for (name, text) in [("oci-layout", version), ("index.json", emptyIndex)] {
            let n = Array(name.utf8)
            guard try dir.statIfExists(n) == nil else { continue }
            // Renamed without replacing, so concurrent openers agree on one file: a loser's goes.
            do {
                try dir.writeAtomically(n, contents: Array((text + "\n").utf8), replace: false)
            } catch {
                guard (error as? FSError)?.errno == .fileExists else { throw error }
            }
        }
        var parent = dir
        for name in ["blobs", "sha256"] {
            let n = Array(name.utf8)
            try parent.makeDirectoryIfMissing(n, mode: 0o755)
            parent = try parent.openDirectory(n)
        }
    }

    static let indexName = Array("index.json".utf8)

    /// Names `target` `name` in the layout's `index.json`, replacing any image of that name.
    public static func setImage(_ name: String, _ target: Descriptor, in dir: Handle) throws {
        var entry: [String: Any] = [
            "mediaType": target.mediaType, "digest": target.digest.description, "size": target.size,
        ]
        entry["annotations"] = (target.annotations ?? [:]).merging([Annotations.refName: name]) { $1 }
        try editIndex(in: dir) { manifests in
            manifests.removeAll { refName($0) == name }
            manifests.append(entry)
        }
    }

    static func refName(_ entry: [String: Any]) -> String? {
        (entry["annotations"] as? [String: Any])?[Annotations.refName] as? String
    }

    static func readIndex(_ dir: Handle, followingSymlink: Bool = false) throws -> [UInt8] {
        let flags = O_RDONLY | (followingSymlink ? 0 : O_NOFOLLOW)
        return try dir.open(indexName, flags: flags).readToEnd(limit: DocumentLimit.layoutIndex)
    }

    /// The `index.json` of the layout `dir`, no larger than `DocumentLimit.layoutIndex`, decoded;
    /// `name` calls it that in errors. A store's own is never a symlink; a source layout's may be.
    public static func index(of dir: Handle, describedAs name: String, followingSymlink: Bool = false) throws
        -> ImageIndexDocument
    {
        try decodeIndex(readIndex(dir, followingSymlink: followingSymlink), describedAs: name)
    }

    /// `bytes` decoded as an `index.json` (a layout's or a layout archive's), called `name` in errors.
    public static func decodeIndex(_ bytes: [UInt8], describedAs name: String) throws -> ImageIndexDocument {
        do {
            return try JSONDecoder().decode(ImageIndexDocument.self, from: Data(bytes))
        } catch {
            throw ContentError.invalidImage("\(name) cannot be read: \(error)")
        }
    }

    /// Rewrites `index.json` under an exclusive lock on the layout, keeping every field Strata
    /// does not know, and replaces it atomically. An index it cannot read whole (not an object,
    /// `manifests` not a list, an entry that is not an object) is refused and left as it is,
    /// never rewritten without the entries it could not read.
    static func editIndex(in dir: Handle, _ body: (inout [[String: Any]]) throws -> Void) throws {
        let lock = try dir.openDirectory(Array(".".utf8))
        _ = try lock.lock(exclusive: true, wait: true)
        let file = dir.displayPath + "/index.json"
        guard var document = try JSONSerialization.jsonObject(with: Data(readIndex(dir))) as? [String: Any] else {
            throw ContentError.invalidImage("\(file) is not a JSON object; left as it is")
        }
        var manifests: [[String: Any]] = []
        switch document["manifests"] {
        case nil: break
        case let entries as [Any]:
            for (n, entry) in entries.enumerated() {
                guard let object = entry as? [String: Any] else {
                    throw ContentError.invalidImage("\(file): manifests[\(n)] is not a JSON object; left as it is")
                }
                manifests.append(object)
            }
        default: throw ContentError.invalidImage("\(file): manifests is not a list; left as it is")
        }
        try body(&manifests)
        document["manifests"] = manifests
        let bytes = try JSONSerialization.data(
            withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
        try dir.writeAtomically(indexName, contents: Array(bytes) + [0x0A])
        withExtendedLifetime(lock) {}
    }
}

/// `LAYOUT:TAG`: an OCI layout directory and the name of an image in it, split at the last colon
/// (a directory may contain colons, a tag may not).
public struct LayoutReference: Sendable, Equatable {
    public var layout: String
    public var tag: String

    /// nil unless both parts are non-empty.
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex, text.index(after: colon) != text.endIndex
        else { return nil }
        layout = String(text[..<colon])
        tag = String(text[text.index(after: colon)...])
    }
}
