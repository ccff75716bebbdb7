import CStrata
import Foundation
import StrataStreams
import Synchronization

/// A running stream-processor binary, with containerd's contract: the input on stdin (fed from
/// a `ByteSource` by a thread of its own, or written by the caller with `writeInput`), the output
/// read from stdout, the input media type in `STREAM_PROCESSOR_MEDIATYPE`, and the payload, when
/// there is one, on descriptor 3. Its stderr is kept (the last 4 KiB) for errors. Pipes are
/// asked for 1 MiB buffers.
///
/// The process runs in a process group of its own. `close` kills the group if the process still
/// runs and reaps it; `finish` kills what the process left running in its group. A `timeout`
/// kills a process still running after that long. The process is reaped exactly once, and never
/// signalled after, so no signal reaches a recycled pid. Descriptors are released only when no
/// thread can use them any more (`deinit`).
final class ExternalProcess: @unchecked Sendable {
    let processor: StreamProcessor
    private let pid: Int32
    private let output: Int32
    /// The process's stdin, when the caller writes it (no input source).
    private let input: Int32?
    private let state = Mutex(State())
    private let threads = DispatchGroup()
    private var timeoutSeconds: Double = 0

    private struct State {
        var stderr: [UInt8] = []
        var inputError: (any Error)?
        var inputCut = false
        var status: Int32?
        var timedOut = false
        var inputClosed = false
        /// `close` was called: the feeder stops reading the input.
        var closing = false
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
        var opened: [Int32] = []
        func pipe() throws -> (Int32, Int32) {
            var fds: [Int32] = [0, 0]
            let rc = strata_pipe(&fds, Int32(Self.pipeSize))
            guard rc == 0 else {
                for fd in opened { _ = strata_close(fd) }
                throw ProcessorError.spawn(id: processor.id, path: "a pipe for \(processor.path)", errno: -rc)
            }
            opened += fds
            return (fds[0], fds[1])
        }
        let stdin = try pipe()
        let stdout = try pipe()
        let stderr = try pipe()
        let fd3 = try payload.map { _ in try pipe() }
        // The processor's own `env` wins over what Strata inherited, as with containerd.
        let own = Set(processor.env.map { String($0.prefix { $0 != "=" }) } + ["STREAM_PROCESSOR_MEDIATYPE"])
        let environment =
            ProcessInfo.processInfo.environment.filter { !own.contains($0.key) }.map { "\($0.key)=\($0.value)" }
            + processor.env + ["STREAM_PROCESSOR_MEDIATYPE=\(mediaType)"]
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

    deinit {
        close()
        closeInput()
        _ = strata_close(output)
    }

    /// Reads the process's output; 0 at its end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = strata_read(output, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if n != -Int(EINTR) {
                throw ProcessorError.invalidOutput(
                    id: processor.id, reason: "reading its output: \(String(cString: strerror(Int32(-n))))",
                    stderr: stderrTail)
            }
        }
    }

    /// Writes `bytes` to the process's stdin (a process without an input source); false when the
    /// process no longer reads it (then `finish` says why).
    func writeInput(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let input, !state.withLock({ $0.inputClosed }) else { return false }
        return Self.writeAll(bytes, to: input)
    }

    /// Ends the process's input (a process without an input source). Only the thread that
    /// writes the input calls it, or `deinit`.
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
    /// exited 0 without refusing its input (a process that exits leaving input unread is seen
    /// when a write fails; what it left in the pipe's 1 MiB buffer cannot be seen).
    func finish() throws {
        let status = reap()
        threads.wait()
        let (err, inputError, inputCut, timedOut) = state.withLock {
            ($0.stderr, $0.inputError, $0.inputCut, $0.timedOut)
        }
        let tail = Self.tail(err)
        if let inputError { throw inputError }
        if timedOut {
            throw ProcessorError.timedOut(id: processor.id, seconds: timeoutSeconds, stderr: tail)
        }
        if status & 0x7F != 0 { throw ProcessorError.killed(id: processor.id, signal: status & 0x7F, stderr: tail) }
        let code = (status >> 8) & 0xFF
        if code != 0 { throw ProcessorError.exited(id: processor.id, status: code, stderr: tail) }
        if inputCut {
            throw ProcessorError.invalidOutput(
                id: processor.id, reason: "it exited before reading all its input", stderr: tail)
        }
    }

    /// What the process wrote on stderr so far (its end).
    var stderrTail: String { Self.tail(state.withLock { $0.stderr }) }

    /// Kills the process group if the process still runs, and reaps it.
    func close() {
        state.withLock { $0.closing = true }
        killGroup()
        _ = reap()
        threads.wait()
    }

    // MARK: - threads

    private func run(_ body: @escaping @Sendable () -> Void) {
        threads.enter()
        let group = threads
        Thread.detachNewThread {
            body()
            group.leave()
        }
    }

    /// Copies the input to the process's stdin, then closes it. A process that stops reading
    /// (EPIPE) ends the copy, but the input is still read to its end, so that digests over it
    /// are whole; `finish` then fails. An input error kills the process and is kept for `finish`.
    private func feed(_ input: ByteSource, into fd: Int32) {
        var open = true
        defer { if open { _ = strata_close(fd) } }
        var buffer = [UInt8](repeating: 0, count: Self.pipeSize)
        do {
            while true {
                let n = try buffer.withUnsafeMutableBytes { try input.read(into: $0) }
                if n == 0 { return }
                guard open else {
                    if state.withLock({ $0.closing }) { return }
                    continue
                }
                let written = buffer.withUnsafeBytes {
                    Self.writeAll(UnsafeRawBufferPointer(rebasing: $0[..<n]), to: fd)
                }
                if !written {
                    state.withLock { $0.inputCut = true }
                    _ = strata_close(fd)
                    open = false
                }
            }
        } catch {
            state.withLock { $0.inputError = error }
            killGroup()
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
        state.withLock { s in
            guard s.status == nil else { return }
            s.timedOut = true
            _ = kill(-pid, SIGKILL)
        }
    }

    /// Kills the process group unless the process has been reaped (under the lock that reaping
    /// takes, so the pid is still this process's).
    private func killGroup() {
        state.withLock { s in
            if s.status == nil { _ = kill(-pid, SIGKILL) }
        }
    }

    /// Waits for the process to exit, then, once, kills what it left in its group and reaps it
    /// (until then the exited process holds its pid and group id); its wait status.
    private func reap() -> Int32 {
        _ = strata_wait_exited(pid)
        return state.withLock { s in
            if let status = s.status { return status }
            _ = kill(-pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            s.status = status
            return status
        }
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

    private static func tail(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func withCStrings<T>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> T) -> T {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { for p in pointers { free(p) } }
        return body(pointers)
    }
}
