import CStrata
import Foundation
import StrataCompression
import Synchronization

/// A running stream-processor binary, with containerd's contract: the input on stdin (fed from
/// a `ByteSource` by a thread of its own, or written by the caller with `writeInput`), the output
/// read from stdout, the input media type in
/// `STREAM_PROCESSOR_MEDIATYPE`, and the payload, when there is one, on descriptor 3. Its stderr
/// is kept (the last 4 KiB) for errors. Pipes are asked for 1 MiB buffers.
///
/// `close` kills the process (its whole process group) if it still runs and reaps it, so that
/// no child outlives the layer, however the layer ends; a `timeout` does the same to a process
/// still running after that long.
final class ExternalProcess: @unchecked Sendable {
    let processor: StreamProcessor
    private let pid: Int32
    private let output: Int32
    /// The process's stdin, when the caller writes it (no input source).
    private let input: Int32?
    private let state = Mutex(State())
    private let threads = DispatchGroup()

    private struct State {
        var stderr: [UInt8] = []
        var inputError: (any Error)?
        var status: Int32?
        var timedOut = false
        var closed = false
        var inputClosed = false
    }

    static let pipeSize = 1 << 20
    private static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    init(
        _ processor: StreamProcessor, input source: ByteSource?, mediaType: String, payload: [UInt8]?,
        timeout: Duration?
    ) throws {
        // A process that exits before reading all its input must give the feeder EPIPE, not
        // kill Strata with SIGPIPE.
        _ = Self.ignoreSIGPIPE
        self.processor = processor
        let stdin = try Self.pipe()
        let stdout = try Self.pipe()
        let stderr = try Self.pipe()
        let fd3 = try payload.map { _ in try Self.pipe() }
        var environment = ProcessInfo.processInfo.environment.filter { $0.key != "STREAM_PROCESSOR_MEDIATYPE" }
            .map { "\($0.key)=\($0.value)" }
        environment += processor.env + ["STREAM_PROCESSOR_MEDIATYPE=\(mediaType)"]
        let spawned = Self.withCStrings([processor.path] + processor.args) { argv in
            Self.withCStrings(environment) { envp in
                strata_spawn(processor.path, argv, envp, stdin.0, stdout.1, stderr.1, fd3?.0 ?? -1)
            }
        }
        for fd in [stdin.0, stdout.1, stderr.1, fd3?.0].compactMap({ $0 }) { _ = strata_close(fd) }
        guard spawned > 0 else {
            for fd in [stdin.1, stdout.0, stderr.0, fd3?.1].compactMap({ $0 }) { _ = strata_close(fd) }
            throw ProcessorError.spawn(id: processor.id, path: processor.path, errno: -spawned)
        }
        pid = spawned
        output = stdout.0
        if let source {
            input = nil
            let feeder = Confined(source)
            run { [self] in feed(feeder.value, into: stdin.1) }
        } else {
            input = stdin.1
        }
        run { [self] in collect(stderr.0) }
        if let fd3, let payload {
            run {
                payload.withUnsafeBytes { _ = Self.writeAll($0, to: fd3.1) }
                _ = strata_close(fd3.1)
            }
        }
        if let timeout { watch(timeout) }
    }

    deinit { close() }

    /// Reads the process's output; 0 at its end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = strata_read(output, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if n != -Int(EINTR) {
                throw ProcessorError.invalidOutput(id: processor.id, reason: "read: \(-n)", stderr: "")
            }
        }
    }

    /// Writes `bytes` to the process's stdin (a process without an input source); false when the
    /// process no longer reads it (then `finish` says why).
    func writeInput(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let input else { return false }
        return Self.writeAll(bytes, to: input)
    }

    /// Ends the process's input (a process without an input source).
    func closeInput() {
        guard let input,
            state.withLock({ s in
                defer { s.inputClosed = true }
                return !s.inputClosed
            })
        else { return }
        _ = strata_close(input)
    }

    /// After the output's end: waits for the process and its threads, and throws unless it
    /// exited 0 having read its input.
    func finish() throws {
        let status = reap()
        threads.wait()
        let (err, inputError, timedOut) = state.withLock { ($0.stderr, $0.inputError, $0.timedOut) }
        let tail = Self.tail(err)
        if timedOut {
            throw ProcessorError.timedOut(id: processor.id, seconds: timeoutSeconds, stderr: tail)
        }
        if status & 0x7F != 0 { throw ProcessorError.killed(id: processor.id, signal: status & 0x7F, stderr: tail) }
        let code = (status >> 8) & 0xFF
        if code != 0 { throw ProcessorError.exited(id: processor.id, status: code, stderr: tail) }
        if let inputError { throw inputError }
    }

    /// What the process wrote on stderr so far (its end).
    var stderrTail: String { Self.tail(state.withLock { $0.stderr }) }

    /// Kills the process group if it still runs, reaps it, and releases the descriptors.
    func close() {
        let first = state.withLock { s in
            defer { s.closed = true }
            return !s.closed
        }
        guard first else { return }
        closeInput()
        if state.withLock({ $0.status == nil }) { _ = kill(-pid, SIGKILL) }
        _ = reap()
        _ = strata_close(output)
        threads.wait()
    }

    // MARK: - threads

    private var timeoutSeconds: Double = 0

    private func run(_ body: @escaping @Sendable () -> Void) {
        threads.enter()
        let group = threads
        Thread.detachNewThread {
            body()
            group.leave()
        }
    }

    /// Copies the input to the process's stdin, then closes it. A process that stops reading
    /// (EPIPE) ends the copy; an input error is kept for `finish`.
    private func feed(_ input: ByteSource, into fd: Int32) {
        defer { _ = strata_close(fd) }
        var buffer = [UInt8](repeating: 0, count: Self.pipeSize)
        do {
            while true {
                let n = try buffer.withUnsafeMutableBytes { try input.read(into: $0) }
                if n == 0 { return }
                let written = buffer.withUnsafeBytes {
                    Self.writeAll(UnsafeRawBufferPointer(rebasing: $0[..<n]), to: fd)
                }
                guard written else { return }
            }
        } catch {
            state.withLock { $0.inputError = error }
            _ = kill(-pid, SIGKILL)
        }
    }

    private func collect(_ fd: Int32) {
        defer { _ = strata_close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { strata_read(fd, $0.baseAddress, $0.count) }
            if n == -Int(EINTR) { continue }
            if n <= 0 { return }
            state.withLock { s in
                s.stderr += buffer[..<n]
                if s.stderr.count > 4096 { s.stderr.removeFirst(s.stderr.count - 4096) }
            }
        }
    }

    private func watch(_ timeout: Duration) {
        let c = timeout.components
        timeoutSeconds = Double(c.seconds) + Double(c.attoseconds) / 1e18
        DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds) { [weak self] in self?.expire() }
    }

    /// The time limit has passed: a process still running is killed, and `finish` says why.
    private func expire() {
        let running = state.withLock { s -> Bool in
            guard s.status == nil, !s.closed else { return false }
            s.timedOut = true
            return true
        }
        if running { _ = kill(-pid, SIGKILL) }
    }

    /// Waits for the process once; its wait status.
    private func reap() -> Int32 {
        if let status = state.withLock({ $0.status }) { return status }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        state.withLock { $0.status = status }
        return status
    }

    // MARK: - helpers

    /// Writes all of `raw`; false when the reader has gone (EPIPE) or the write failed.
    private static func writeAll(_ raw: UnsafeRawBufferPointer, to fd: Int32) -> Bool {
        var done = 0
        while done < raw.count {
            let n = strata_write(fd, raw.baseAddress! + done, raw.count - done)
            if n == -Int(EINTR) { continue }
            if n <= 0 { return false }
            done += n
        }
        return true
    }

    private static func pipe() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        let rc = strata_pipe(&fds, Int32(pipeSize))
        guard rc == 0 else { throw ProcessorError.spawn(id: "-", path: "pipe", errno: -rc) }
        return (fds[0], fds[1])
    }

    private static func tail(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func withCStrings<T>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> T) -> T {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { for p in pointers { free(p) } }
        return body(pointers)
    }
}

/// Moves a non-Sendable stage to the one thread that uses it from then on.
final class Confined<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
