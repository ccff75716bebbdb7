import Foundation
import StrataContent

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

    static func descriptor(_ d: Descriptor, json: Bool) throws {
        if json { return try Output.json(d) }
        print("mediaType: \(d.mediaType)")
        print("digest:    \(d.digest)")
        print("size:      \(d.size)")
        if let diffID = d.uncompressedDigest { print("diffID:    \(diffID)") }
    }
}
