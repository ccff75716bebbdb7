import Foundation
import StrataStreams

/// The OCI image documents Strata reads and writes, with the spec's field names. Docker's
/// schema-2 media types are read as their OCI equivalents.

/// Where an image runs.
public struct Platform: Codable, Hashable, Sendable {
    public var architecture: String
    public var os: String
    public var variant: String?

    public init(architecture: String, os: String, variant: String? = nil) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
    }

    /// `OS/ARCH`, as `linux/amd64` (empty parts, as in `linux//amd64`, are skipped); nil for
    /// anything else.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2 else { return nil }
        self.init(architecture: String(parts[1]), os: String(parts[0]))
    }

    /// This machine's, in Go's names as images use them.
    public static var current: Platform {
        #if arch(arm64)
            Platform(architecture: "arm64", os: "linux")
        #else
            Platform(architecture: "amd64", os: "linux")
        #endif
    }
}

/// An entry of an image index: a descriptor with the platform it serves.
public struct IndexEntry: Codable, Sendable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var platform: Platform?
    public var annotations: [String: String]?

    public init(_ d: Descriptor, platform: Platform? = nil, annotations: [String: String]? = nil) {
        mediaType = d.mediaType
        digest = d.digest
        size = d.size
        self.platform = platform
        self.annotations = annotations
    }

    public var descriptor: Descriptor {
        Descriptor(mediaType: mediaType, digest: digest, size: size, annotations: annotations)
    }
}

/// An image index (or an OCI layout's `index.json`).
public struct ImageIndexDocument: Codable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var manifests: [IndexEntry]

    public init(schemaVersion: Int = 2, mediaType: String? = MediaType.index, manifests: [IndexEntry]) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.manifests = manifests
    }
}

/// An image manifest.
public struct ImageManifest: Codable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]?

    public init(
        schemaVersion: Int = 2, mediaType: String? = MediaType.manifest, config: Descriptor, layers: [Descriptor],
        annotations: [String: String]? = nil
    ) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }
}

/// The part of an image configuration that unpacking needs: the layers' diffIDs.
public struct ImageConfigRootFS: Decodable, Sendable {
    public struct RootFS: Decodable, Sendable {
        public var type: String
        public var diffIDs: [Digest]

        enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }
    }

    public var rootfs: RootFS

    /// containerd's chain IDs: the first layer's diffID, then `sha256(parent + " " + diffID)`.
    public var chainIDs: [Digest] {
        var out: [Digest] = []
        for d in rootfs.diffIDs {
            out.append(out.last.map { Digest.sha256(Array("\($0) \(d)".utf8)) } ?? d)
        }
        return out
    }
}
