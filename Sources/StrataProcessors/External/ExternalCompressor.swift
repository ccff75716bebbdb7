import Foundation
import StrataStreams

/// A declared processor used the other way: it compresses (or otherwise encodes) the tar stream
/// a layer writer produces, as `strata diff --compressor ID` asks. What is written goes to its
/// stdin; a thread copies its stdout into `next` (the blob's digest and file). `finish` ends its
/// input, waits for the last of its output and throws unless it exited 0; the layer's media type
/// is the processor's `returns`.
public final class ExternalCompressor: ByteSink {
    private let process: ExternalProcess
    private let copied = DispatchGroup()
    private let failure = FailureBox()

    public init(
        _ processor: StreamProcessor, mediaType: String, into next: ByteSink, timeout: Duration?, payload: [UInt8]?
    )
        throws
    {
        process = try ExternalProcess(processor, input: nil, mediaType: mediaType, payload: payload, timeout: timeout)
        let (process, failure, sink) = (process, failure, Confined(next))
        copied.enter()
        let group = copied
        Thread.detachNewThread {
            defer { group.leave() }
            var buffer = [UInt8](repeating: 0, count: ExternalProcess.pipeSize)
            do {
                while true {
                    let n = try buffer.withUnsafeMutableBytes { try process.read(into: $0) }
                    if n == 0 { break }
                    try buffer.withUnsafeBytes { try sink.value.write(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
                }
            } catch {
                failure.set(error)
                process.close()
            }
        }
        self.next = next
    }

    private let next: ByteSink

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if !process.writeInput(bytes) {
            // The process stopped reading: its exit status says why.
            process.closeInput()
            copied.wait()
            try failure.check()
            try process.finish()
            throw ProcessorError.invalidOutput(
                id: process.processor.id, reason: "it stopped reading its input", stderr: process.stderrTail)
        }
    }

    public func finish() throws {
        process.closeInput()
        copied.wait()
        try failure.check()
        try process.finish()
        try next.finish()
    }

    deinit {
        process.close()
        copied.wait()
    }
}

/// The copying thread's error, for the writer's thread.
private final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?
    func set(_ e: any Error) { lock.withLock { if error == nil { error = e } } }
    func check() throws { if let e = lock.withLock({ error }) { throw e } }
}
