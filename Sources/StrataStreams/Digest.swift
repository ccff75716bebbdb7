import Crypto

/// A content digest in the OCI form `algorithm:hex`. Strata produces and checks `sha256` only.
public struct Digest: Hashable, Sendable, CustomStringConvertible, Codable, Comparable {
    public let algorithm: String
    public let encoded: String

    public init(algorithm: String = "sha256", encoded: String) {
        self.algorithm = algorithm
        self.encoded = encoded
    }

    /// Parses `sha256:<64 lowercase hex>`; nil for anything else.
    public init?(parsing s: String) {
        let parts = s.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[0] == "sha256", parts[1].count == 64,
            parts[1].utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { return nil }
        self.init(algorithm: String(parts[0]), encoded: String(parts[1]))
    }

    public var description: String { "\(algorithm):\(encoded)" }

    public static func < (a: Digest, b: Digest) -> Bool { a.description < b.description }

    public init(from decoder: Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let d = Digest(parsing: s) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "bad digest \(s)"))
        }
        self = d
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    /// The SHA-256 digest of `bytes`.
    public static func sha256(_ bytes: some Sequence<UInt8>) -> Digest {
        var h = SHA256()
        h.update(data: Array(bytes))
        return Digest(encoded: hex(h.finalize()))
    }

    /// The SHA-256 digest of bytes in memory (a mapped file), without copying them.
    public static func sha256(_ bytes: UnsafeRawBufferPointer) -> Digest {
        var h = SHA256()
        h.update(bufferPointer: bytes)
        return Digest(encoded: hex(h.finalize()))
    }

    public static func hex(_ d: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in d {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Computes SHA-256 over everything written, passing the bytes on unchanged.
public final class DigestingSink: ByteSink {
    private var hasher = SHA256()
    public private(set) var count: Int64 = 0
    let next: ByteSink?

    public init(_ next: ByteSink?) { self.next = next }

    public func write(_ b: UnsafeRawBufferPointer) throws {
        hasher.update(bufferPointer: b)
        count += Int64(b.count)
        try next?.write(b)
    }

    public func finish() throws { try next?.finish() }

    /// The digest of what was written so far.
    public var digest: Digest { Digest(encoded: Digest.hex(hasher.finalize())) }
}

/// Computes SHA-256 over everything read through it. Read by chunks, it passes its source's
/// chunks on without copying them.
public final class DigestingSource: ChunkSource {
    private var hasher = SHA256()
    public private(set) var count: Int64 = 0
    let source: ByteSource

    public init(_ source: ByteSource) { self.source = source }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try source.read(into: buffer)
        if n > 0 {
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<n]))
            count += Int64(n)
        }
        return n
    }

    public func nextChunk() throws -> Chunk? {
        let chunk: Chunk
        if let chunks = source as? ChunkSource {
            guard let next = try chunks.nextChunk() else { return nil }
            chunk = next
        } else {
            chunk = Chunk(capacity: 1 << 20)
            guard try chunk.fill(from: source) > 0 else { return nil }
        }
        hasher.update(bufferPointer: chunk.bytes)
        count += Int64(chunk.count)
        return chunk
    }

    public var digest: Digest { Digest(encoded: Digest.hex(hasher.finalize())) }
}
