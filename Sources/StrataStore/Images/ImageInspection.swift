import StrataContent
import StrataOCI
import StrataStreams

/// What `strata image inspect` shows of an image: its target, the manifest this platform uses,
/// its config and layers with their diffIDs, and the config's history.
public struct ImageInspection: Codable, Sendable {
    public var name: String
    public var target: Descriptor
    public var manifest: Descriptor
    public var config: Descriptor
    public var layers: [Descriptor]
    public var diffIDs: [Digest]
    public var architecture: String?
    public var os: String?
    public var created: String?
    public var history: [History]

    /// One step of the image's making, as the config records it.
    public struct History: Codable, Sendable {
        public var created: String?
        public var createdBy: String?
        public var comment: String?
        public var emptyLayer: Bool?

        enum CodingKeys: String, CodingKey {
            case created, comment
            case createdBy = "created_by"
            case emptyLayer = "empty_layer"
        }
    }

    /// The config fields shown.
    struct ConfigSummary: Decodable {
        var rootfs: ImageConfigRootFS.RootFS
        var architecture: String?
        var os: String?
        var created: String?
        var history: [History]?
    }
}

extension ContentStore {
    /// Image `name` as `strata image inspect` shows it.
    public func inspect(_ name: String, platform: Platform = .current) throws -> ImageInspection {
        let target = try image(name).target
        let (manifestDescriptor, manifest) = try ImageGraph(content: self, platform: platform).manifest(of: target)
        let summary = try ImageGraph(content: self).decode(ImageInspection.ConfigSummary.self, manifest.config)
        return ImageInspection(
            name: name, target: target, manifest: manifestDescriptor, config: manifest.config, layers: manifest.layers,
            diffIDs: summary.rootfs.diffIDs, architecture: summary.architecture, os: summary.os,
            created: summary.created, history: summary.history ?? [])
    }
}
