/// A stage that consumes bytes: a compressor, a digester, a file. Stages are chained, each
/// passing what it produces to the next, so a layer is written in one pass over its data.
public protocol ByteSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Flushes everything buffered and finishes the stream (a compressor writes its trailer).
    /// Does not close a file the sink writes to.
    func finish() throws
}

/// A stage that produces bytes on demand: a file, a decompressor, a digester.
public protocol ByteSource: AnyObject {
    /// Reads up to `buffer.count` bytes; 0 means the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteSink {
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}

/// Collects everything written in memory (tests, small headers).
public final class MemorySink: ByteSink {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public func write(_ b: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: b) }
    public func finish() throws {}
}

/// Serves bytes from memory.
public final class MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset)
        if n > 0 {
            bytes.withUnsafeBytes { src in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<offset + n]))
            }
        }
        offset += n
        return n
    }
}

/// Counts bytes passing to the next sink.
public final class CountingSink: ByteSink {
    public private(set) var count: Int64 = 0
    let next: ByteSink
    public init(_ next: ByteSink) { self.next = next }
    public func write(_ b: UnsafeRawBufferPointer) throws {
        count += Int64(b.count)
        try next.write(b)
    }
    public func finish() throws { try next.finish() }
}

extension ByteSource {
    /// Reads to the end of the stream into `sink` (which is not finished); returns the bytes copied.
    @discardableResult
    public func copy(to sink: ByteSink, bufferSize: Int = 1 << 20) throws -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 64)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = try read(into: buffer)
            if n == 0 { return total }
            try sink.write(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
            total += Int64(n)
        }
    }

    /// Copies the source into `sink`, which must get exactly what was declared: at most `limit`
    /// bytes are read, and a source with even one byte more is `StreamError.tooLong` (found by
    /// asking for one byte past the limit), so a lying source costs `limit + 1` bytes, not its
    /// length. Returns the bytes copied (fewer when the source ends first).
    @discardableResult
    public func copy(to sink: ByteSink, limit: Int64, bufferSize: Int = 1 << 20) throws -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 64)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let room = limit - total  // never negative: total only grows up to limit
            let want = room >= Int64(bufferSize) ? bufferSize : Int(room) + 1
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]))
            if n == 0 { return total }
            guard Int64(n) <= limit - total else { throw StreamError.tooLong(limit: Int(clamping: limit)) }
            try sink.write(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
            total += Int64(n)
        }
    }

    /// Everything the source gives until its end; an error past `limit` bytes (for documents read
    /// whole, such as an image's JSON).
    public func readToEnd(chunk: Int = 65_536, limit: Int = Int.max) throws -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { return out }
            out.append(contentsOf: buffer[..<n])
            if out.count > limit { throw StreamError.tooLong(limit: limit) }
        }
    }

    /// Reads and drops `count` bytes; an error if the stream is shorter.
    public func skip(_ count: Int64) throws {
        var left = count
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 64)
        defer { buffer.deallocate() }
        while left > 0 {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<Int(min(left, 1 << 16))]))
            if n == 0 { throw StreamError.endedEarly(expected: count, read: count - left) }
            left -= Int64(n)
        }
    }
}

public enum StreamError: Error, CustomStringConvertible {
    case endedEarly(expected: Int64, read: Int64)
    case tooLong(limit: Int)

    public var description: String {
        switch self {
        case .endedEarly(let e, let r): return "the input ended after \(r) bytes, expected at least \(e)"
        case .tooLong(let limit): return "the input is longer than the \(limit) bytes allowed"
        }
    }
}
