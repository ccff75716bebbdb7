import Foundation
import StrataArchive
import StrataCompression
import StrataFS
import StrataStreams

/// The patch file: a header, the data frames (zstd, each its own frame), the manifest (JSON),
/// its length (8 bytes, little-endian) and a trailer. Written front to back in one pass; read
/// from the trailer.
enum PatchFile {
    static let header = Array("STRATA-PATCH-v1\n".utf8)
    static let trailer = Array("STRATA-PATCH-END".utf8)
}

/// Writes a patch file: frames as the operations come, the manifest last.
final class PatchWriter {
    private let file: Handle
    private(set) var offset: Int64 = 0
    private(set) var frames: [Frame] = []

    init(_ file: Handle) throws {
        self.file = file
        try write(PatchFile.header)
    }

    /// Writes one frame of what `body` writes; returns its index.
    func frame(_ body: (ByteSink) throws -> Void) throws -> Int {
        let counted = CountingSink(HandleSink(file))
        let compressor = try Compression.zstd.compressor(level: 3, into: counted)
        let raw = DigestingSink(compressor)
        try body(raw)
        try raw.finish()
        frames.append(Frame(offset: offset, length: counted.count, size: raw.count, sha256: raw.digest))
        offset += counted.count
        return frames.count - 1
    }

    /// Writes the manifest (with the frames written) and the trailer; returns the manifest.
    @discardableResult
    func finish(_ manifest: PatchManifest) throws -> PatchManifest {
        var m = manifest
        m.frames = frames
        let json = Array(try JSONEncoder().encode(m))
        try write(json)
        try write(withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) })
        try write(PatchFile.trailer)
        return m
    }

    private func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try file.write($0) }
        offset += Int64(bytes.count)
    }
}

/// Reads a patch file: the manifest, then frames on demand, each checked against its digest.
public final class PatchReader {
    let file: Handle
    public let manifest: PatchManifest
    public let size: Int64

    public init(path: String) throws {
        let file = try Handle.openFile(path: path)
        self.file = file
        let size = Int64(try file.stat().size)
        self.size = size
        let tail = 8 + PatchFile.trailer.count
        guard size >= Int64(PatchFile.header.count + tail) else { throw PatchError.notAPatch(path) }
        var end = [UInt8](repeating: 0, count: tail)
        _ = try end.withUnsafeMutableBytes { try file.read(into: $0, at: size - Int64(tail)) }
        guard Array(end[8...]) == PatchFile.trailer else { throw PatchError.notAPatch(path) }
        let declared = end.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian }
        guard let length = Int64(exactly: declared), length > 0, length <= size - Int64(tail + PatchFile.header.count),
            length <= Self.maxManifest
        else {
            throw PatchError.notAPatch(path)
        }
        var json = [UInt8](repeating: 0, count: Int(length))
        _ = try json.withUnsafeMutableBytes { try file.read(into: $0, at: size - Int64(tail) - length) }
        do {
            manifest = try JSONDecoder().decode(PatchManifest.self, from: Data(json))
        } catch {
            throw PatchError.damaged("\(path): its manifest cannot be read (\(error))")
        }
        guard manifest.version == 1 else { throw PatchError.damaged("\(path): version \(manifest.version)") }
    }

    /// The largest manifest read (it is decoded whole).
    static let maxManifest: Int64 = 256 << 20

    /// Frame `i` of the manifest; an error naming it when it is not there or its extent is not
    /// inside the file.
    func frameInfo(_ i: Int) throws -> Frame {
        guard manifest.frames.indices.contains(i) else { throw PatchError.damaged("frame \(i) is not in the patch") }
        let f = manifest.frames[i]
        guard f.offset >= 0, f.length >= 0, f.size >= 0, f.offset <= size, f.length <= size - f.offset else {
            throw PatchError.damaged("frame \(i) lies outside the file")
        }
        return f
    }

    /// Streams frame `i`, decompressed, into `sink`; decompression stops at the frame's declared
    /// size (a stream that would write more is refused there), and a size or SHA-256 that differs
    /// from the manifest's is an error at the end (the caller discards what it wrote).
    func frame(_ i: Int, into sink: ByteSink) throws {
        let f = try frameInfo(i)
        let source = try Compression.zstd.decompressor(reading: RangeSource(file, from: f.offset, length: f.length))
        let raw = DigestingSink(sink)
        do { try source.copy(to: raw, limit: f.size) } catch StreamError.tooLong {
            throw PatchError.damaged("frame \(i) holds more than the \(f.size) bytes it declares")
        }
        guard raw.count == f.size, raw.digest == f.sha256 else {
            throw PatchError.damaged("frame \(i) does not match its SHA-256")
        }
    }

    /// Frame `i` whole in memory (a delta's operations), refused above `atMost` bytes: a delta
    /// is only ever stored when it is smaller than the file it rebuilds.
    func frame(_ i: Int, atMost: Int64) throws -> [UInt8] {
        guard try frameInfo(i).size <= atMost else {
            throw PatchError.damaged("frame \(i) is larger than the \(atMost) bytes of the file it rebuilds")
        }
        let sink = MemorySink()
        try frame(i, into: sink)
        return sink.bytes
    }
}

/// Reads `length` bytes of a file from `offset`, with `pread`.
final class RangeSource: ByteSource {
    private let file: Handle
    private var offset: Int64
    private var left: Int64

    init(_ file: Handle, from offset: Int64, length: Int64) {
        self.file = file
        self.offset = offset
        left = length
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard left > 0 else { return 0 }
        let want = Int(min(Int64(buffer.count), left))
        let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]), at: offset)
        guard n > 0 else { throw PatchError.damaged("the file ends inside a frame") }
        offset += Int64(n)
        left -= Int64(n)
        return n
    }
}

/// Why a patch cannot be made or applied.
public enum PatchError: Error, CustomStringConvertible {
    case notAPatch(String)
    case damaged(String)
    case wrongBase(path: String, expected: String, found: String)
    case unsupported(String)
    case contentMismatch(String)

    public var description: String {
        switch self {
        case .notAPatch(let p): return "\(p) is not a Strata patch"
        case .damaged(let why): return "the patch is damaged: \(why)"
        case .wrongBase(let p, let e, let f):
            return "the root is not the patch's base: \(p): expected \(e), found \(f); nothing was changed"
        case .unsupported(let why): return why
        case .contentMismatch(let p): return "\(p): the rebuilt file does not match the patch's SHA-256"
        }
    }
}
