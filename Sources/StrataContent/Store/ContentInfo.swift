import Foundation
import StrataStreams

/// What the store knows of a blob: containerd's `content.Info`.
public struct ContentInfo: Codable, Equatable, Sendable {
    public var digest: Digest
    public var size: Int64
    public var createdAt: Date
    public var updatedAt: Date
    public var labels: [String: String]
}

/// An ingest in progress, or abandoned and resumable: containerd's `content.Status`.
public struct IngestStatus: Codable, Equatable, Sendable {
    public var ref: String
    /// Bytes written so far: where a resumed writer continues.
    public var offset: Int64
    /// The expected size, when the writer was told it.
    public var total: Int64?
    public var startedAt: Date
    public var updatedAt: Date
}

/// Label rules shared with containerd: keys up to 4096 bytes with key and value together, no empty key.
public enum Labels {
    public static func validate(_ labels: [String: String?]) throws(ContentError) {
        for (k, v) in labels {
            guard !k.isEmpty else { throw .invalidLabel("empty key") }
            guard k.utf8.count + (v?.utf8.count ?? 0) <= 4096 else {
                throw .invalidLabel("\(k): key and value exceed 4096 bytes")
            }
        }
    }
}
