/// A block of bytes that moves between pipeline threads by reference, never by copy.
///
/// Whoever fills a chunk hands it on and does not touch it again; from then on it is read-only,
/// which is what makes sharing it between threads safe. Readers keep a chunk alive for as long as
/// they hold a `ChunkSlice` of it.
public final class Chunk: @unchecked Sendable {
    public let memory: UnsafeMutableRawBufferPointer
    /// How many bytes at the start of `memory` are filled.
    public internal(set) var count: Int
    private let release: (@Sendable (UnsafeMutableRawBufferPointer) -> Void)?

    /// Allocates `capacity` bytes, uninitialised: filling them is the producer's first job.
    public init(capacity: Int) {
        memory = .allocate(byteCount: capacity, alignment: 64)
        count = 0
        release = nil
    }

    /// Wraps memory that someone else owns (a file mapping, say), already filled; `release` gives
    /// it back when the last holder lets go.
    public init(
        wrapping memory: UnsafeMutableRawBufferPointer,
        release: @escaping @Sendable (UnsafeMutableRawBufferPointer) -> Void
    ) {
        self.memory = memory
        count = memory.count
        self.release = release
    }

    deinit {
        if let release { release(memory) } else { memory.deallocate() }
    }

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: memory[..<count]) }

    /// Appends `more`, which must fit.
    public func append(_ more: UnsafeRawBufferPointer) {
        precondition(more.count <= memory.count - count, "chunk overflow")
        UnsafeMutableRawBufferPointer(rebasing: memory[count...]).copyMemory(from: more)
        count += more.count
    }

    /// Drops the first `n` bytes, moving the rest to the front (only while no one else holds it).
    public func removeFirst(_ n: Int) {
        precondition(n <= count)
        if n < count { memory.baseAddress!.copyMemory(from: memory.baseAddress! + n, byteCount: count - n) }
        count -= n
    }

    /// Reads from `source` until `minimum` bytes are filled (all of them by default), the chunk is
    /// full or the source ends; returns the bytes read, 0 only at the end of the source.
    @discardableResult
    public func fill(from source: ByteSource, minimum: Int = .max) throws -> Int {
        let before = count
        while count < memory.count && count < minimum {
            let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: memory[count...]))
            if n == 0 { break }
            count += n
        }
        return count - before
    }
}

/// Part of a chunk, holding the chunk alive: what a write-behind thread needs to write later.
public struct ChunkSlice: @unchecked Sendable {
    public let chunk: Chunk
    public let range: Range<Int>

    public init(_ chunk: Chunk, _ range: Range<Int>) {
        self.chunk = chunk
        self.range = range
    }

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: chunk.memory[range]) }
}

/// A source that can hand over whole filled chunks, so a consumer reads its bytes in place.
public protocol ChunkSource: ByteSource {
    /// The next chunk (never empty), or nil at the end of the stream.
    func nextChunk() throws -> Chunk?
}

/// The partly read chunk of a `ChunkSource` that is also read byte by byte: `read(into:)` copies
/// from it, and the next `nextChunk` hands on what is left of it before any new chunk.
struct ChunkCursor {
    private var current: Chunk?
    private var position = 0

    /// The unread rest of the current chunk (copied only when part of it was read), or nil.
    mutating func takeRest() -> Chunk? {
        defer { current = nil }
        guard let c = current, position < c.count else { return nil }
        guard position > 0 else { return c }
        let rest = Chunk(capacity: c.count - position)
        rest.append(UnsafeRawBufferPointer(rebasing: c.bytes[position...]))
        return rest
    }

    /// Up to `count` unread bytes of the current chunk, loading one from `next` when there is none.
    mutating func peek(_ count: Int, next: () throws -> Chunk?) rethrows -> [UInt8] {
        guard try load(next) else { return [] }
        return Array(current!.bytes[position...].prefix(count))
    }

    /// Copies from the current chunk, taking the next from `next` once it is used up; 0 at the end.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer, next: () throws -> Chunk?) rethrows -> Int {
        guard buffer.count > 0, try load(next) else { return 0 }
        let c = current!
        let n = min(buffer.count, c.count - position)
        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: c.bytes[position..<position + n]))
        position += n
        return n
    }

    /// Makes sure unread bytes are at hand; false at the end of the source.
    private mutating func load(_ next: () throws -> Chunk?) rethrows -> Bool {
        if let c = current, position < c.count { return true }
        current = try next()
        position = 0
        return current != nil
    }
}
