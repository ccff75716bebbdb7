import ArgumentParser
import Dispatch
import Foundation
import Synchronization

/// Waits for async library work from a command: `main` and the commands are synchronous, so the
/// work runs as a task and the calling thread waits for its result.
func runAsync<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    try started(body).wait().get()
}

/// `runAsync` for work that must tidy up when interrupted (a paused container resumed): SIGINT,
/// SIGTERM and SIGHUP cancel the task instead of killing the process; the command then fails with
/// the shell's code for that signal once the work has unwound.
func runAsyncCancellable<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let (task, wait) = started(body)
    let caught = Mutex<Int32?>(nil)
    let sources = [SIGINT, SIGTERM, SIGHUP].map { sig in
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler {
            caught.withLock { $0 = $0 ?? sig }
            task.cancel()
            // A second signal ends the process at once, tidy or not.
            for s in [SIGINT, SIGTERM, SIGHUP] { signal(s, SIG_DFL) }
        }
        source.resume()
        return source
    }
    let result = wait()
    for s in sources { s.cancel() }
    // Work that finished before a signal could stop it stands: the signal changed nothing.
    if let sig = caught.withLock({ $0 }), case .failure(let e) = result {
        Output.error(e is CancellationError ? "stopped by signal \(sig)" : "\(e)")
        throw ExitCode(128 + sig)
    }
    return try result.get()
}

/// Starts `body` as a task: the task, and a wait (on the calling thread) for its result.
private func started<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> (
    task: Task<Void, Never>, wait: () -> Result<T, any Error>
) {
    let box = ResultBox<T>()
    let task = Task {
        let r: Result<T, any Error>
        do { r = .success(try await body()) } catch { r = .failure(error) }
        box.set(r)
    }
    return (task, box.wait)
}

/// A task's result, set once by the task and waited for by the command's thread.
private final class ResultBox<T: Sendable>: Sendable {
    private let value = Mutex<Result<T, any Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    func set(_ r: Result<T, any Error>) {
        value.withLock { $0 = r }
        done.signal()
    }

    func wait() -> Result<T, any Error> {
        done.wait()
        return value.withLock { $0! }
    }
}
