import GRPCCore
import StrataContainerdAPI

/// A container's task paused for the length of some work, as `nerdctl commit` pauses it: only a
/// running task is paused (one already paused is left so, a stopped one needs nothing), and it is
/// resumed on every way out, an error or a cancellation (the CLI's signals) included, also when
/// the pause call itself failed or was cut short, since containerd may have paused it anyway.
struct TaskPause {
    let client: ContainerdClient
    let container: String

    /// How long a resume may take before the task is reported left paused.
    static let resumeTimeout = Duration.seconds(30)

    /// The task's status; nil when the container has no task.
    func status() async throws -> Containerd_V1_Types_Status? {
        do {
            return try await client.call("Tasks.Get", "task of container \(container)") {
                try await client.tasks.get(.with { $0.containerID = container }, metadata: client.metadata()).process
                    .status
            }
        } catch let e as ContainerdError where e.isNotFound {
            return nil
        }
    }

    /// Runs `body` with the task paused when `enabled` and it is running; `body` and the result
    /// say whether it was.
    func whilePaused<R>(enabled: Bool, _ body: (Bool) async throws -> R) async throws -> (R, paused: Bool) {
        guard enabled, try await status() == .running else { return (try await body(false), false) }
        let result: R
        do {
            try await client.call("Tasks.Pause", "task of container \(container)") {
                _ = try await client.tasks.pause(.with { $0.containerID = container }, metadata: client.metadata())
            }
            result = try await body(true)
        } catch {
            try? await resume()
            throw error
        }
        try await resume()
        return (result, true)
    }

    /// Resumes the task, in a task of its own (a cancelled caller must still resume it) and
    /// within `resumeTimeout`.
    private func resume() async throws {
        let (client, container) = (client, container)
        var options = CallOptions.defaults
        options.timeout = Self.resumeTimeout
        try await Task { [options] in
            try await client.call("Tasks.Resume", "task of container \(container)") {
                _ = try await client.tasks.resume(
                    .with { $0.containerID = container }, metadata: client.metadata(), options: options)
            }
        }.value
    }
}
