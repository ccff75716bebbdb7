import Foundation
import StrataOCI
import StrataStreams

/// The two documents a commit adds to an image, built one way for `strata image commit` and
/// `strata containerd commit`: the base image's config with the new layer's diffID appended, a
/// history entry and the creation time (every other field kept as it is, unknown ones too), and a
/// manifest of the base's layers followed by the new one. With no base, a one-layer image for
/// `platform`.
public struct CommitDocuments: Sendable {
    public var config: [UInt8]
    public var configDescriptor: Descriptor
    public var manifest: [UInt8]
    public var manifestDescriptor: Descriptor

    /// `layer` must carry its diffID (`containerd.io/uncompressed`), as `Differ` writes it.
    public init(
        base: (config: [UInt8], manifest: ImageManifest)?, layer: Descriptor, platform: Platform, createdBy: String,
        comment: String?, now: Date = Date()
    ) throws {
        guard let diffID = layer.uncompressedDigest else {
            throw ContentError.invalidImage("layer \(layer.digest) has no diffID")
        }
        var config: [String: Any] =
            try base.map { try ImageDocument.object($0.config) }
            ?? ["architecture": platform.architecture, "os": platform.os, "config": [String: Any]()]
        let stamp = ISO8601DateFormatter().string(from: now)
        var rootfs = config["rootfs"] as? [String: Any] ?? ["type": "layers"]
        rootfs["diff_ids"] = (rootfs["diff_ids"] as? [String] ?? []) + [diffID.description]
        config["rootfs"] = rootfs
        var entry: [String: Any] = ["created": stamp, "created_by": createdBy]
        if let comment { entry["comment"] = comment }
        config["history"] = (config["history"] as? [[String: Any]] ?? []) + [entry]
        config["created"] = stamp
        self.config = try ImageDocument.bytes(config)
        configDescriptor = Descriptor(
            mediaType: MediaType.config, digest: Digest.sha256(self.config), size: Int64(self.config.count))
        var stacked = layer
        stacked.annotations = nil  // the diffID is the config's; a manifest's layer needs none
        let document = ImageManifest(
            schemaVersion: 2, mediaType: MediaType.manifest, config: configDescriptor,
            layers: (base?.manifest.layers ?? []) + [stacked], annotations: nil)
        manifest = try ImageDocument.bytes(document)
        manifestDescriptor = Descriptor(
            mediaType: MediaType.manifest, digest: Digest.sha256(manifest), size: Int64(manifest.count))
    }
}
