import Foundation
import StrataArchive
import StrataContent
import StrataFS
import StrataLayers
import StrataOCI
import StrataStreams

/// Writes one image of the store as an OCI archive: a tar of an image layout (`oci-layout`,
/// `index.json`, `blobs/sha256/...`) naming the image, which `ctr images import`, skopeo's
/// `oci-archive:` and `strata image import` read. Every blob the image reaches that the store
/// holds goes in (an index's other platforms only when their manifests were pulled); the file
/// appears only when complete.
public struct ImageExporter {
    public let content: ContentStore
    public var platform = Platform.current

    public init(content: ContentStore) { self.content = content }

    /// Exports image `name` to the archive at `path`; returns its target descriptor.
    @discardableResult
    public func export(_ name: String, to path: String) throws -> Descriptor {
        let target = try content.image(name).target
        let blobs = try ImageGraph(content: content, platform: platform).blobs(of: target)
        let entry = IndexEntry(
            target, annotations: [Annotations.refName: Self.tag(of: name), Annotations.containerdImageName: name])
        let index = ImageIndexDocument(manifests: [entry])
        let indexBytes = try ImageDocument.bytes(index)
        try AtomicFile.write(to: path) { file in
            let tar = TarWriter(HandleSink(file))
            try Self.add(tar, "oci-layout", Array(ImageLayout.version.utf8))
            try Self.add(tar, "index.json", indexBytes)
            for dir in ["blobs/", "blobs/sha256/"] {
                try tar.writeHeader(
                    TarHeader(name: Array(dir.utf8), typeflag: TarHeader.Kind.directory.rawValue, mode: 0o755))
            }
            var written = Set<Digest>()
            for d in blobs where written.insert(d.digest).inserted {
                let blob = try content.open(d.digest)
                try tar.writeHeader(
                    TarHeader(
                        name: Array("blobs/sha256/\(d.digest.encoded)".utf8),
                        typeflag: TarHeader.Kind.regular.rawValue, mode: 0o644, size: Int64(try blob.stat().size)))
                try tar.writeData(from: blob)
            }
            try tar.close()
        }
        return target
    }

    private static func add(_ tar: TarWriter, _ name: String, _ bytes: [UInt8]) throws {
        try tar.writeHeader(
            TarHeader(
                name: Array(name.utf8), typeflag: TarHeader.Kind.regular.rawValue, mode: 0o644,
                size: Int64(bytes.count)))
        try bytes.withUnsafeBytes { try tar.writeData($0) }
    }

    /// The tag of `docker.io/library/x:TAG` (the OCI layout's ref name), or the name itself.
    static func tag(of name: String) -> String {
        let last = name.split(separator: "/").last.map(String.init) ?? name
        guard let colon = last.lastIndex(of: ":") else { return name }
        return String(last[last.index(after: colon)...])
    }
}
