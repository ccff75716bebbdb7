import Foundation

/// One JSON object per line, with sorted keys; times as RFC 3339 strings, as containerd prints them.
enum JSONLine {
    nonisolated(unsafe) static let rfc3339: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()

    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(rfc3339.string(from: date))
        }
        return Array(try encoder.encode(value)) + [0x0A]
    }
}

/// Raw bytes to stdout (paths are bytes, not always UTF-8).
enum StandardOutput {
    static func write(_ bytes: [UInt8]) {
        FileHandle.standardOutput.write(Data(bytes))
    }
}
