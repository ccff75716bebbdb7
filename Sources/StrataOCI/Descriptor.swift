import StrataCompression
import StrataStreams

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

/// OCI media types Strata writes, and Docker's that it reads.
public enum MediaType {
    public static let layer = "application/vnd.oci.image.layer.v1.tar"
    public static let index = "application/vnd.oci.image.index.v1+json"
    public static let manifest = "application/vnd.oci.image.manifest.v1+json"
    public static let config = "application/vnd.oci.image.config.v1+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"

    public static func isIndex(_ t: String?) -> Bool { t == index || t == dockerManifestList }
    public static func isManifest(_ t: String?) -> Bool { t == manifest || t == dockerManifest }

    /// The layer media type for a compression: `...tar`, `...tar+gzip` or `...tar+zstd`.
    public static func layer(_ compression: Compression) -> String { layer + compression.mediaTypeSuffix }

    /// The compression of a layer of media type `t`, OCI's (non-distributable ones too) or
    /// Docker's; nil for a type that is not a tar layer Strata reads.
    public static func layerCompression(_ t: String) -> Compression? {
        let oci = ["application/vnd.oci.image.layer.v1.tar", "application/vnd.oci.image.layer.nondistributable.v1.tar"]
        for base in oci {
            for c in Compression.allCases where t == base + c.mediaTypeSuffix { return c }
        }
        switch t {
        case "application/vnd.docker.image.rootfs.diff.tar": return Compression.none
        case "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":
            return .gzip
        default: return nil
        }
    }
}

/// Fixed caps on image documents (JSON from outside: a registry, a layout, an archive), checked
/// before a byte of them is decoded, so that a hostile document costs at most this much memory.
public enum DocumentLimit {
    /// A manifest or an index: 4 MiB, the limit containerd sets on the manifests it fetches.
    public static let manifest = 4 << 20
    /// Anything else read whole (a config): 16 MiB.
    public static let other = 16 << 20
    /// A layout's `index.json`, which names every image of a store: 16 MiB.
    public static let layoutIndex = 16 << 20

    /// The cap for a document of media type `t`.
    public static func bytes(for t: String) -> Int {
        MediaType.isManifest(t) || MediaType.isIndex(t) ? manifest : other
    }
}

/// Annotation and label keys shared with containerd.
public enum Annotations {
    /// The digest of a layer's uncompressed tar stream (its diffID).
    public static let uncompressed = "containerd.io/uncompressed"
    /// On a snapshot holding one layer (an unpacked image's chain ID, a ref's layer): its diffID.
    public static let snapshotDiffID = "containerd.io/snapshot/diff-id"
    /// The name an image has in an OCI layout's `index.json`.
    public static let refName = "org.opencontainers.image.ref.name"
    /// The full name containerd gives an image in an archive's `index.json` (`ctr images import`).
    public static let containerdImageName = "io.containerd.image.name"
    /// Marks a blob or snapshot that garbage collection must keep.
    public static let gcRoot = "containerd.io/gc.root"
    /// On an image's config blob: the top snapshot of its unpacked chain, per snapshotter
    /// (`containerd.io/gc.ref.snapshot.<snapshotter>`), which the image holds.
    public static func gcSnapshotRef(_ snapshotter: String) -> String { "containerd.io/gc.ref.snapshot." + snapshotter }
}
