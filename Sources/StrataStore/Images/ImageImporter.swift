import Foundation
import StrataArchive
import StrataCompression
import StrataContent
import StrataFS
import StrataOCI
import StrataStreams

/// Brings an image into the content store from an OCI image layout: a directory, or a tar archive
/// of one (as `skopeo copy ... oci-archive:` or `docker save` of an OCI image writes), plain or
/// compressed.
///
/// Every blob is checked against its digest as it is stored; blobs already stored are not copied.
/// From an image index only the entries for this platform are copied (as containerd's pull does),
/// or all of them with `allPlatforms` (containerd's `--all-platforms`).
/// The image is named in `index.json` last, so a failed import names nothing.
public struct ImageImporter {
    public let store: ContentStore
    public var lease: String?
    public var platform = Platform.current
    public var allPlatforms = false

    public init(store: ContentStore, lease: String? = nil) {
        self.store = store
        self.lease = lease
    }

    /// Imports the image of `path` named `source` (nil: `name`, or the source's only image) and
    /// names it `name` in the store. Returns its target: a manifest or an index.
    public func importImage(from path: String, as name: String, source: String? = nil) throws -> Descriptor {
        try importImage(from: path, named: name, source: source).target
    }

    /// Imports the image of `path` named `source` (nil: `name`, or the source's only image) as
    /// `name`, or, when nil, under the name the source gives it (containerd's
    /// `io.containerd.image.name`, else its OCI ref name).
    public func importImage(from path: String, named name: String?, source: String? = nil) throws -> ImageRecord {
        let entry: IndexEntry
        if let dir = try? Handle.openDirectory(path: path) {
            let blobs = try dir.openDirectory(Array("blobs".utf8)).openDirectory(Array("sha256".utf8))
            let index = try ImageLayout.index(of: dir, describedAs: "\(path): index.json", followingSymlink: true)
            entry = try select(index, name: source ?? name, explicit: source != nil, in: path)
            try copy(entry.descriptor, from: blobs)
        } else {
            let index = try ImageLayout.decodeIndex(importArchive(path), describedAs: "\(path): index.json")
            entry = try select(index, name: source ?? name, explicit: source != nil, in: path)
            try copy(entry.descriptor, from: nil)
        }
        guard
            let name = name ?? entry.annotations?[Annotations.containerdImageName]
                ?? entry.annotations?[Annotations.refName]
        else { throw ContentError.invalidImage("\(path): its image has no name; give one") }
        try store.setImage(name, entry.descriptor)
        return ImageRecord(name: name, target: entry.descriptor)
    }

    // MARK: Source

    /// The entry of a source `index.json` to import.
    /// `name` is matched against the ref name and containerd's image name; without a match (or a
    /// name) the source's only image is taken, unless `source` named one explicitly.
    private func select(_ index: ImageIndexDocument, name: String?, explicit: Bool = false, in path: String) throws
        -> IndexEntry
    {
        let named = index.manifests.filter {
            name != nil
                && ($0.annotations?[Annotations.refName] == name
                    || $0.annotations?[Annotations.containerdImageName] == name)
        }
        if let e = named.first { return e }
        if !explicit, index.manifests.count == 1 { return index.manifests[0] }
        let names = index.manifests.compactMap {
            $0.annotations?[Annotations.containerdImageName] ?? $0.annotations?[Annotations.refName]
        }
        throw ContentError.invalidImage(
            "\(path) has no image named \(name ?? "(none given)") (it names: "
                + "\(names.isEmpty ? "none" : names.joined(separator: ", ")))")
    }

    /// Stores `d` and what it references on this platform, reading missing blobs from `blobs`
    /// (nil: they must already be stored, as an archive's are).
    private func copy(_ d: Descriptor, from blobs: Handle?) throws {
        try copyBlob(d, from: blobs)
        if MediaType.isIndex(d.mediaType) {
            let index = try ImageGraph(content: store).decode(ImageIndexDocument.self, d)
            for m in allPlatforms ? index.manifests.map(\.descriptor) : [try ImageGraph.pick(index, d, platform)] {
                try copy(m, from: blobs)
            }
        } else if MediaType.isManifest(d.mediaType) {
            let manifest = try ImageGraph(content: store).decode(ImageManifest.self, d)
            for child in [manifest.config] + manifest.layers { try copyBlob(child, from: blobs) }
        }
    }

    private func copyBlob(_ d: Descriptor, from blobs: Handle?) throws {
        if (try? store.info(d.digest)) != nil {
            if let lease { try store.hold(d.digest, lease: lease) }
            return
        }
        guard let blobs, let file = try? blobs.open(Array(d.digest.encoded.utf8), flags: O_RDONLY | O_NOFOLLOW) else {
            throw ContentError.invalidImage("the source lacks blob \(d.digest) (\(d.mediaType))")
        }
        try ingest(d.digest, size: d.size, entry: "blobs/sha256/\(d.digest.encoded)") { offset in
            try file.seek(to: offset)
            return HandleSource(file)
        }
    }

    /// Stores every blob of a layout archive; returns its `index.json`.
    private func importArchive(_ path: String) throws -> [UInt8] {
        let file = try Handle.openFile(path: path)
        let raw = PrefetchingSource(HandleSource(file))
        let compression = Compression.detect(try raw.peek(10))
        let reader = TarReader(compression == .none ? raw : try compression.decompressor(reading: raw))
        var index: [UInt8]?
        while let h = try reader.next() {
            var name = h.nameString
            while name.hasPrefix("./") { name.removeFirst(2) }
            guard h.kind == .regular else { continue }
            if name == "index.json" {
                index = try reader.readToEnd(limit: DocumentLimit.layoutIndex)
            } else if name.hasPrefix("blobs/sha256/"), let d = Digest(parsing: "sha256:" + name.dropFirst(13)),
                (try? store.info(d)) == nil
            {
                try ingest(d, size: h.size, entry: "archive entry \(name)") { offset in
                    try reader.skip(offset)
                    return reader
                }
            }
        }
        guard let index else {
            throw ContentError.invalidImage("\(path) holds no index.json: not an OCI layout archive")
        }
        return index
    }

    /// Stores one blob of the source under the ref `import-<hex>`, checked against its digest and
    /// size. `open` gives the blob's bytes from `offset` on, where an interrupted import of the
    /// same blob stopped. At most `size` bytes are read (one more to find a longer source, which
    /// is refused naming `entry`): a source never costs more than its descriptor says.
    private func ingest(_ d: Digest, size: Int64, entry: String, _ open: (Int64) throws -> ByteSource) throws {
        guard size >= 0 else { throw ContentError.invalidImage("\(entry): size \(size) is negative") }
        let writer = try store.writer(ref: "import-\(d.encoded)", total: size, lease: lease)
        do {
            if writer.offset > size { try writer.truncate() }
            try open(writer.offset).copy(to: writer, limit: size - writer.offset)
            try writer.commit(size: size, expected: d)
        } catch ContentError.alreadyExists {
        } catch ContentError.digestMismatch(_, _, let actual) {
            throw ContentError.invalidImage("\(entry) holds bytes of digest \(actual), not \(d)")
        } catch StreamError.tooLong {
            writer.abort()
            throw ContentError.invalidImage("\(entry) is longer than the \(size) bytes its descriptor gives for \(d)")
        } catch {
            writer.abort()
            throw error
        }
    }
}

extension TarReader: ByteSource {}
