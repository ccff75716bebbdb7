import Foundation

/// How Strata writes and edits image documents (configs, manifests, indexes): keys sorted and
/// slashes unescaped, so the same document always has the same bytes and digest. A config is
/// edited as a JSON object so that every field Strata does not know is kept.
public enum ImageDocument {
    public static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    public static func bytes<T: Encodable>(_ document: T) throws -> [UInt8] { Array(try encoder.encode(document)) }

    public static func bytes(_ object: [String: Any]) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    public static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        guard let o = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw ContentError.invalidImage("an image config must be a JSON object")
        }
        return o
    }
}
