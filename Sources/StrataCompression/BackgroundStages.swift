import Foundation

/// Moves a non-Sendable stage to the one background thread that uses it from then on.
private final class Confined<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// A bounded queue of byte chunks between two threads.
private final class ChunkQueue: @unchecked Sendable {
    let condition = NSCondition()
    var chunks: [[UInt8]] = []
    var ended = false
    var cancelled = false
    var failure: Error?
    /// Set by a background sink's thread when it has finished its downstream.
    var completed = false
    let depth: Int

    init(depth: Int) { self.depth = depth }

    /// Blocks while full; false once the other side has gone.
    func push(_ chunk: [UInt8]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while chunks.count >= depth && !cancelled { condition.wait() }
        if cancelled { return false }
        chunks.append(chunk)
        condition.broadcast()
        return true
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
/// before this source returns 0, so digests upstream are final by then.
public final class PrefetchingSource: ByteSource {
    private let queue: ChunkQueue
    private var current: [UInt8] = []
    private var offset = 0
    private var done = false

    public init(_ upstream: ByteSource, chunkSize: Int = 1 << 20, depth: Int = 4) {
        let queue = ChunkQueue(depth: depth)
        self.queue = queue
        let source = Confined(upstream)
        let thread = Thread {
            do {
                while true {
                    // A fresh chunk each time: it is handed over, not copied.
                    var chunk = [UInt8](repeating: 0, count: chunkSize)
                    var filled = 0
                    while filled < chunkSize {
                        let n = try chunk.withUnsafeMutableBytes {
                            try source.value.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...]))
                        }
                        if n == 0 { break }
                        filled += n
                    }
                    if filled == 0 { break }
                    if filled < chunkSize { chunk.removeLast(chunkSize - filled) }
                    if !queue.push(chunk) { return }
                    if filled < chunkSize { break }
                }
                queue.finish(nil)
            } catch {
                queue.finish(error)
            }
        }
        thread.start()
    }

    deinit { queue.cancel() }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while offset == current.count {
            if done { return 0 }
            queue.condition.lock()
            while queue.chunks.isEmpty && !queue.ended { queue.condition.wait() }
            if queue.chunks.isEmpty {
                let failure = queue.failure
                queue.condition.unlock()
                done = true
                if let failure { throw failure }
                return 0
            }
            current = queue.chunks.removeFirst()
            offset = 0
            queue.condition.broadcast()
            queue.condition.unlock()
        }
        let n = min(buffer.count, current.count - offset)
        current.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + n])) }
        offset += n
        return n
    }
}

/// Hands what is written to a background thread that feeds `downstream` (for example a
/// compressor and a digest), so that compressing overlaps with producing. `finish` waits for
/// the background thread to finish `downstream`, and reports any error it met.
public final class BackgroundSink: ByteSink {
    private let queue: ChunkQueue
    private var pending: [UInt8] = []
    private let chunkSize: Int

    public init(_ downstream: ByteSink, chunkSize: Int = 1 << 20, depth: Int = 4) {
        let queue = ChunkQueue(depth: depth)
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
