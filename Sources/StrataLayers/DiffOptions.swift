import StrataArchive
import StrataCompression
import StrataFS
import StrataProcessors

/// Everything that decides the bytes of a layer written by `Differ`.
public struct DiffOptions: Sendable {
    public var compression: Compression
    /// On the codec's usual scale (gzip 1–9, zstd 1–19); nil for its default.
    public var level: Int?
    /// Clamp entry times to this (`SOURCE_DATE_EPOCH`).
    public var sourceDateEpoch: FileTime?
    public var xattrs: XattrPolicy
    /// Keep nanosecond mtimes (`--mtime ns`) instead of whole seconds.
    public var nanosecondTimes: Bool
    /// A declared processor that encodes the tar stream instead of `compression` (its `returns`
    /// is the layer's media type), with its time limit and payload.
    public var compressor: StreamProcessor?
    public var compressorTimeout: Duration?
    public var compressorPayload: [UInt8]?

    /// Encodes with the declared processor `id` of `processors`, with its time limit and payload.
    public mutating func useCompressor(_ id: String, from processors: StreamProcessors) throws {
        guard let p = processors.processor(id: id) else {
            throw ProcessorError.unknownProcessor(id, configured: processors.processors.map(\.id))
        }
        compressor = p
        compressorTimeout = processors.timeout
        compressorPayload = processors.payloads[id]
    }

    public init(
        compression: Compression = .gzip, level: Int? = nil, sourceDateEpoch: FileTime? = nil,
        xattrs: XattrPolicy = .capability, nanosecondTimes: Bool = false
    ) {
        self.compression = compression
        self.level = level
        self.sourceDateEpoch = sourceDateEpoch
        self.xattrs = xattrs
        self.nanosecondTimes = nanosecondTimes
    }
}

/// Progress of a long operation, for a terminal display.
public struct LayerProgress: Sendable {
    public var entries: Int
    /// Uncompressed tar bytes written or read.
    public var bytes: Int64

    public init(entries: Int, bytes: Int64) {
        self.entries = entries
        self.bytes = bytes
    }
}
