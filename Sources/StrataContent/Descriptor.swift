import StrataCompression

/// An OCI content descriptor: what a blob is, its digest and its size, plus annotations.
/// Field names and JSON keys are the OCI image spec's.
public struct Descriptor: Codable, Hashable, Sendable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var annotations: [String: String]?

    public init(mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
    }

    /// The layer's uncompressed digest (diffID), from the `containerd.io/uncompressed` annotation.
    public var uncompressedDigest: Digest? {
        annotations?[Annotations.uncompressed].flatMap(Digest.init(parsing:))
    }
}

/// OCI media types Strata writes.
public enum MediaType {
    public static let layer = "application/vnd.oci.image.layer.v1.tar"

    /// The layer media type for a compression: `...tar`, `...tar+gzip` or `...tar+zstd`.
    public static func layer(_ compression: Compression) -> String { layer + compression.mediaTypeSuffix }
}

/// Annotation and label keys shared with containerd.
public enum Annotations {
    /// The digest of a layer's uncompressed tar stream (its diffID).
    public static let uncompressed = "containerd.io/uncompressed"
}
