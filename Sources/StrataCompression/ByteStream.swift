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
