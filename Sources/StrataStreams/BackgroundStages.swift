import DequeModule
import Foundation

/// Moves a non-Sendable stage to the one background thread that uses it from then on.
public final class Confined<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}

/// A bounded queue of chunks between two threads.
private final class ChunkQueue<Element>: @unchecked Sendable {
    let condition = NSCondition()
    var chunks: Deque<Element> = []
    var ended = false
    var cancelled = false
    var failure: Error?
    /// Set by a background sink's thread when it has finished its downstream.
    var completed = false
    let depth: Int

    init(depth: Int) { self.depth = depth }

    /// Blocks while full; false once the other side has gone.
    func push(_ chunk: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while chunks.count >= depth && !cancelled { condition.wait() }
        if cancelled { return false }
        chunks.append(chunk)
        condition.broadcast()
        return true
    }

    /// The next element, waiting for one; nil at the end, throwing the producer's error.
    func pop() throws -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while chunks.isEmpty && !ended { condition.wait() }
        guard let chunk = chunks.popFirst() else {
            if let failure { throw failure }
            return nil
        }
        condition.broadcast()
        return chunk
    }

    func finish(_ error: Error?) {
        condition.withLock {
            ended = true
            failure = error
            condition.broadcast()
        }
    }

    func cancel() {
        condition.withLock {
            cancelled = true
            condition.broadcast()
        }
    }
}

/// Reads its upstream (for example file → digest → decompressor → digest) on a background thread,
/// up to `depth` chunks ahead, so that decompressing and digesting overlap with the consumer's
/// work. Everything upstream runs on that thread only; it has read to the end of the stream
/// before this source ends, so digests upstream are final by then. Chunks are handed over, not
/// copied: `nextChunk` gives the consumer the very memory the upstream filled.
public final class PrefetchingSource: ChunkSource {
    private let queue: ChunkQueue<Chunk>
    private var cursor = ChunkCursor()
    private var done = false

    public init(_ upstream: ByteSource, chunkSize: Int = 1 << 20, depth: Int = 16) {
        let queue = ChunkQueue<Chunk>(depth: depth)
        self.queue = queue
        let source = Confined(upstream)
        let thread = Thread {
            do {
                if let chunks = source.value as? ChunkSource {
                    while let chunk = try chunks.nextChunk() {
                        if !queue.push(chunk) { return }
                    }
                } else {
                    while true {
                        let chunk = Chunk(capacity: chunkSize)
                        try chunk.fill(from: source.value)
                        if chunk.count == 0 { break }
                        if !queue.push(chunk) { return }
                        if chunk.count < chunkSize { break }
                    }
                }
                queue.finish(nil)
            } catch {
                queue.finish(error)
            }
        }
        thread.start()
    }

    deinit { queue.cancel() }

    /// Up to `count` bytes of what is left, without consuming them: how compression is detected
    /// before the stream is handed on. Chunks are full except the last, so this is `count`
    /// bytes unless the stream is shorter or `count` exceeds a chunk.
    public func peek(_ count: Int) throws -> [UInt8] { try cursor.peek(count, next: pull) }

    /// The rest of the current chunk, or the next one.
    public func nextChunk() throws -> Chunk? { try cursor.takeRest() ?? pull() }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try cursor.read(into: buffer, next: pull)
    }

    /// The next chunk from the background thread; nil once it has ended.
    private func pull() throws -> Chunk? {
        if done { return nil }
        guard let next = try queue.pop() else {
            done = true
            return nil
        }
        return next
    }
}

/// Hands what is written to a background thread that feeds `downstream` (for example a
/// compressor and a digest), so that compressing overlaps with producing. `finish` waits for
/// the background thread to finish `downstream`, and reports any error it met.
public final class BackgroundSink: ByteSink {
    private let queue: ChunkQueue<[UInt8]>
    private var pending: [UInt8] = []
    private let chunkSize: Int

    public init(_ downstream: ByteSink, chunkSize: Int = 1 << 20, depth: Int = 4) {
        let queue = ChunkQueue<[UInt8]>(depth: depth)
        self.queue = queue
        self.chunkSize = chunkSize
        pending.reserveCapacity(chunkSize)
        let sink = Confined(downstream)
        let thread = Thread {
            var failure: Error?
            queue.condition.lock()
            while true {
                while queue.chunks.isEmpty && !queue.ended && !queue.cancelled { queue.condition.wait() }
                if queue.cancelled || (queue.chunks.isEmpty && queue.ended) { break }
                let chunk = queue.chunks.removeFirst()
                queue.condition.broadcast()
                queue.condition.unlock()
                if failure == nil {
                    do { try chunk.withUnsafeBytes { try sink.value.write($0) } } catch { failure = error }
                }
                queue.condition.lock()
            }
            let drained = queue.ended && !queue.cancelled
            queue.condition.unlock()
            if drained && failure == nil {
                do { try sink.value.finish() } catch { failure = error }
            }
            queue.condition.withLock {
                queue.failure = failure
                queue.completed = true
                queue.condition.broadcast()
            }
        }
        thread.start()
    }

    deinit { queue.cancel() }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if let failure = queue.condition.withLock({ queue.failure }) { throw failure }
        var rest = bytes
        while !rest.isEmpty {
            let n = min(rest.count, chunkSize - pending.count)
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[..<n]))
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            if pending.count == chunkSize { flush() }
        }
    }

    private func flush() {
        guard !pending.isEmpty else { return }
        _ = queue.push(pending)
        pending = []
        pending.reserveCapacity(chunkSize)
    }

    public func finish() throws {
        flush()
        queue.finish(nil)
        let failure: Error? = queue.condition.withLock {
            while !queue.completed { queue.condition.wait() }
            return queue.failure
        }
        if let failure { throw failure }
    }
}
