import StrataArchive
import StrataChanges
import StrataCompression
import StrataFS
import StrataOCI
import StrataOverlay
import StrataProcessors
import StrataStreams

#if canImport(Glibc)
    import Glibc
#endif

/// The differ: writes the OCI layer that turns one directory tree into another.
///
/// One pass over the data: the change stream feeds the tar writer, whose bytes are digested (the
/// diffID), compressed, and digested again (the blob digest) on their way to the output. The same
/// trees and options always give the same bytes.
public struct Differ {
    public var options: DiffOptions
    /// Called after each entry; throwing from it (a `CancellationError`, say) stops the diff, which
    /// then throws that error.
    public var onProgress: ((LayerProgress) throws -> Void)?

    public init(options: DiffOptions = DiffOptions()) { self.options = options }

    /// Writes the layer for `lower` (nil: the empty tree) → `upper` into `sink`, and returns its
    /// descriptor.
    public func write(lower: Handle?, upper: Handle, to sink: ByteSink) throws -> Descriptor {
        try write(.trees(lower: lower, upper: upper), to: sink)
    }

    /// Writes the layer of the changes `source` finds into `sink`, and returns its descriptor.
    public func write(_ source: ChangeSource, to sink: ByteSink) throws -> Descriptor {
        let blob = DigestingSink(sink)
        let compressor: ByteSink
        let mediaType: String
        if let external = options.compressor {
            compressor = try ExternalCompressor(
                external, mediaType: MediaType.layer, into: blob, timeout: options.compressorTimeout,
                payload: options.compressorPayload)
            mediaType = external.returns
        } else {
            compressor = try options.compression.compressor(level: options.level, into: blob)
            mediaType = MediaType.layer(options.compression)
        }
        // Compression and the blob digest run on a second thread. Uncompressed, the blob is the tar
        // stream, so one digest serves as both.
        let background = BackgroundSink(compressor)
        let diffID = options.compression == .none && options.compressor == nil ? nil : DigestingSink(background)
        let tar = TarWriter(diffID ?? background)
        var writer = LayerWriter(
            tar: tar, upperRoot: source.upper,
            options: LayerWriterOptions(
                sourceDateEpoch: options.sourceDateEpoch, nanosecondTimes: options.nanosecondTimes,
                xattrPolicy: options.xattrs))
        if let onProgress { writer.onProgress = { try onProgress(LayerProgress(entries: $0, bytes: $1)) } }
        switch source {
        case .trees(let lower, let upper, let copiedAt):
            try TreeComparer(xattrPolicy: options.xattrs, copiedAt: copiedAt)
                .compare(lower: lower, upper: upper, into: &writer)
        case .overlayUpper(let lower, let upper):
            try UpperDirComparer(xattrPolicy: options.xattrs).compare(lower: lower, upper: upper, into: &writer)
        }
        try writer.finish()
        return Descriptor(
            mediaType: mediaType, digest: blob.digest, size: blob.count,
            annotations: [Annotations.uncompressed: (diffID ?? blob).digest.description])
    }

    /// Writes the layer for the directories at `lower` and `upper` to the file `output`.
    /// The file appears whole or not at all: it is written beside its final name and renamed.
    public func write(lower: String?, upper: String, output: String) throws -> Descriptor {
        let upperRoot = try Handle.openDirectory(path: upper)
        let lowerRoot = try lower.map { try Handle.openDirectory(path: $0) }
        return try AtomicFile.write(to: output) { file in
            try write(lower: lowerRoot, upper: upperRoot, to: HandleSink(file))
        }
    }
}

/// Where a layer's changes come from.
public enum ChangeSource {
    /// Two trees walked together (`TreeComparer`); `copiedAt` when `upper` began as a copy of
    /// `lower` finished at that moment (a native snapshot), whose change times then serve as
    /// evidence.
    case trees(lower: Handle?, upper: Handle, copiedAt: FileTime? = nil)
    /// An overlayfs upper directory over its merged lower tree (`UpperDirComparer`).
    case overlayUpper(lower: Handle?, upper: Handle)

    /// The tree whose entries the layer carries.
    public var upper: Handle {
        switch self {
        case .trees(_, let upper, _), .overlayUpper(_, let upper): return upper
        }
    }
}
