import StrataArchive
import StrataCompression
import StrataFS
import StrataProcessors
import StrataStreams

/// What applying a layer found.
public struct ApplyResult: Sendable {
    /// The digest of the uncompressed tar stream, every byte of it.
    public var diffID: Digest
    public var uncompressedSize: Int64
    /// The digest and size of the bytes read (the blob as stored).
    public var digest: Digest
    public var size: Int64
    public var compression: Compression
    public var entries: Int
    /// The processor chain's steps (processor IDs, `gzip`, `zstd`), when a media type chose one.
    public var steps: [String] = []
}

public enum ApplyError: Error, CustomStringConvertible {
    case unsupportedCompression(String)
    case diffIDMismatch(expected: Digest, actual: Digest)

    public var description: String {
        switch self {
        case .unsupportedCompression(let c):
            return "unsupported layer compression: \(c) (Strata reads gzip, zstd and uncompressed tar)"
        case .diffIDMismatch(let e, let a): return "diffID mismatch: expected \(e), got \(a)"
        }
    }
}

/// The applier: unpacks a layer onto a directory in place, as containerd's applier does.
///
/// Without a media type, or with a plain tar one, compression is detected from the stream's
/// bytes. With another media type, the layer goes through containerd's processor chain
/// (`ProcessorChain`: declared external processors first, then the built-in decompressors). The
/// diffID covers every byte of the final tar stream, including any after the end of the archive,
/// and is checked against `expectedDiffID` at the end. Nothing is ever written outside the root,
/// whatever the layer says, and no processor outlives the call.
public struct Applier {
    public var options: ApplyOptions
    public var expectedDiffID: Digest?
    /// Read, decompress, digest and parse the whole layer, but write nothing: checks a layer
    /// (and measures decompression) without touching a root.
    public var dryRun = false
    /// The layer's media type; nil: detect the compression from the bytes.
    public var mediaType: String?
    /// The declared stream processors, payloads and timeout, for a layer with a media type.
    public var processors = StreamProcessors()

    public init(options: ApplyOptions = ApplyOptions(), expectedDiffID: Digest? = nil) {
        self.options = options
        self.expectedDiffID = expectedDiffID
    }

    public func apply(_ layer: ByteSource, to root: Handle) throws -> ApplyResult {
        let blob = DigestingSource(layer)  // read on the prefetching thread, final once the reader ends
        // Reading and the blob digest, decompressing, the diffID, and unpacking each run on their
        // own thread, so a compressed layer costs little more than an uncompressed one.
        let stored = PrefetchingSource(blob)
        var chain: ProcessorChain?
        defer { chain?.close() }
        let compression: Compression
        let plain: DigestingSource?
        if let mediaType, !ProcessorChain.isPlainTar(mediaType) {
            let c = try ProcessorChain(input: stored, mediaType: mediaType, processors: processors)
            chain = c
            compression = c.compression
            plain = DigestingSource(PrefetchingSource(c.output))
        } else {
            let head = try stored.peek(10)
            compression = Compression.detect(head)
            if compression == .none, let name = Compression.unsupportedFormat(head) {
                throw ApplyError.unsupportedCompression(name)
            }
            // Uncompressed, the blob is the tar stream: one digest serves as both.
            plain =
                compression == .none
                ? nil : DigestingSource(PrefetchingSource(try compression.decompressor(reading: stored)))
        }
        do {
            var result = try unpack(plain.map { PrefetchingSource($0) } ?? stored, blob, plain, compression, to: root)
            result.steps = chain?.steps ?? []
            return result
        } catch {
            throw chain?.explain(error) ?? error
        }
    }

    private func unpack(
        _ tar: PrefetchingSource, _ blob: DigestingSource, _ plain: DigestingSource?, _ compression: Compression,
        to root: Handle
    ) throws -> ApplyResult {
        // The tar reader takes whole chunks from the last prefetching stage: no byte is copied
        // between reading (or inflating) and writing it to its file.
        let reader = TarReader(tar)
        var entries = 0
        if dryRun {
            while try reader.next() != nil { entries += 1 }
        } else {
            entries = try TarApplier(root: root, options: options).apply(reader)
        }
        try reader.drain()
        let result = ApplyResult(
            diffID: plain?.digest ?? blob.digest, uncompressedSize: plain?.count ?? blob.count, digest: blob.digest,
            size: blob.count, compression: compression, entries: entries)
        if let expectedDiffID, expectedDiffID != result.diffID {
            throw ApplyError.diffIDMismatch(expected: expectedDiffID, actual: result.diffID)
        }
        return result
    }

    /// Applies the layer file at `layer` onto the directory at `root`. A regular file is read
    /// through memory mappings (no copy between the page cache and the tar applier); it must not be
    /// truncated while it is applied. Anything else (a pipe, a device) is read.
    public func apply(layer: String, root: String) throws -> ApplyResult {
        try apply(file: Handle.openFile(path: layer), to: Handle.openDirectory(path: root))
    }

    /// Applies the open layer file `file` onto `root`, mapped when it is a regular file (which
    /// must not be truncated meanwhile), read otherwise.
    public func apply(file: Handle, to root: Handle) throws -> ApplyResult {
        let meta = try file.stat()
        let source: ByteSource =
            meta.type == .regular ? MappedFileSource(fd: file.fd, size: Int64(meta.size)) : HandleSource(file)
        return try withExtendedLifetime(file) { try apply(source, to: root) }
    }
}
