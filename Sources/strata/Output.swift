import Foundation
import StrataContent
import StrataFS
import StrataOCI
import StrataSnapshots

/// How the CLI prints: results on stdout (text or one JSON object), errors as one line on stderr.
enum Output {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("strata: error: \(message)\n".utf8))
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data("strata: \(message)\n".utf8))
    }

    static func warning(_ message: String) {
        FileHandle.standardError.write(Data("strata: warning: \(message)\n".utf8))
    }

    static func json<T: Encodable>(_ value: T) throws {
        StandardOutput.write(try JSONLine.encode(value))
    }

    /// One JSON object per line, for listings.
    static func jsonLines<T: Encodable>(_ values: [T]) throws {
        for v in values { try json(v) }
    }

    /// Mounts as `mount` would take them (`-t TYPE SOURCE -o OPTIONS`), or a JSON array.
    static func mounts(_ mounts: [Mount], json: Bool) throws {
        if json { return try Output.json(mounts) }
        for m in mounts { print("-t \(m.type) \(m.source) -o \(m.options.joined(separator: ","))") }
    }

    /// Labels as `k=v,k=v`, sorted; `-` when there are none.
    static func labels(_ labels: [String: String]) -> String {
        labels.isEmpty ? "-" : labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// What a removing command removed: `{"removed":[...]}` with `--json`, nothing otherwise.
    static func removed(_ names: [String], json: Bool) throws {
        struct Removed: Encodable { var removed: [String] }
        if json { try Output.json(Removed(removed: names)) }
    }

    static func descriptor(_ d: Descriptor, json: Bool) throws {
        if json { return try Output.json(d) }
        print("mediaType: \(d.mediaType)")
        print("digest:    \(d.digest)")
        print("size:      \(d.size)")
        if let diffID = d.uncompressedDigest { print("diffID:    \(diffID)") }
    }
}
