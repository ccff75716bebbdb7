import StrataStreams

/// The compressions a layer may use, with detection from a stream's first bytes.
public enum Compression: String, Sendable, CaseIterable, Codable {
    case none
    case gzip
    case zstd

    /// The media-type suffix of a layer so compressed (`+gzip`, `+zstd`, or none).
    public var mediaTypeSuffix: String {
        switch self {
        case .none: return ""
        case .gzip: return "+gzip"
        case .zstd: return "+zstd"
        }
    }

    /// The levels `--level` accepts, on each codec's usual scale.
    public var levels: ClosedRange<Int> {
        switch self {
        case .none: return 0...0
        case .gzip: return 1...9
        case .zstd: return 1...19
        }
    }

    /// The level used when none is given.
    public var defaultLevel: Int {
        switch self {
        case .none: return 0
        case .gzip: return 6
        case .zstd: return 3
        }
    }

    /// Detects the compression from a stream's first bytes, as containerd does: gzip by
    /// `1F 8B 08`, zstd by its frame magic or a skippable frame, anything else uncompressed.
    public static func detect(_ prefix: some Collection<UInt8>) -> Compression {
        let p = Array(prefix.prefix(4))
        if p.count >= 3 && p[0] == 0x1F && p[1] == 0x8B && p[2] == 0x08 { return .gzip }
        if p.count >= 4 {
            let le = UInt32(p[0]) | UInt32(p[1]) << 8 | UInt32(p[2]) << 16 | UInt32(p[3]) << 24
            if le == 0xFD2F_B528 || le & 0xFFFF_FFF0 == 0x184D_2A50 { return .zstd }
        }
        return .none
    }

    /// A sink that compresses into `next`.
    public func compressor(level: Int?, into next: ByteSink) throws -> ByteSink {
        let level = level ?? defaultLevel
        switch self {
        case .none: return PassthroughSink(next)
        case .gzip: return try GzipCompressor(level: level, into: next)
        case .zstd: return try ZstdCompressor(level: level, into: next)
        }
    }

    /// A source that decompresses what `source` gives.
    public func decompressor(reading source: ByteSource) throws -> ByteSource {
        switch self {
        case .none: return source
        case .gzip: return try GzipDecompressor(source)
        case .zstd: return try ZstdDecompressor(source)
        }
    }
}

/// Errors of the codecs; each says what was wrong with the stream.
public enum CompressionError: Error, CustomStringConvertible, Equatable {
    case invalidLevel(Compression, Int)
    case corrupt(Compression, String)
    case truncated(Compression)
    case codec(Compression, String)

    public var description: String {
        switch self {
        case .invalidLevel(let c, let l):
            return
                "compression level \(l) is out of range for \(c.rawValue) (\(c.levels.lowerBound)-\(c.levels.upperBound))"
        case .corrupt(let c, let why): return "corrupt \(c.rawValue) stream: \(why)"
        case .truncated(let c): return "truncated \(c.rawValue) stream: it ends before its trailer"
        case .codec(let c, let why): return "\(c.rawValue) codec error: \(why)"
        }
    }
}

/// Passes bytes through unchanged.
final class PassthroughSink: ByteSink {
    let next: ByteSink
    init(_ next: ByteSink) { self.next = next }
    func write(_ b: UnsafeRawBufferPointer) throws { try next.write(b) }
    func finish() throws { try next.finish() }
}

extension Compression {
    /// The name of a compression that Strata recognises but does not read (bzip2, xz, lz4),
    /// so such a layer gets a clear error instead of a tar parse failure.
    public static func unsupportedFormat(_ prefix: some Collection<UInt8>) -> String? {
        let p = Array(prefix.prefix(6))
        if p.starts(with: [0x42, 0x5A, 0x68]) { return "bzip2" }
        if p.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return "xz" }
        if p.starts(with: [0x04, 0x22, 0x4D, 0x18]) { return "lz4" }
        if p.starts(with: [0x1F, 0x8B]) { return "gzip with an unknown method" }
        return nil
    }
}
