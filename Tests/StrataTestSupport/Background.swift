import Foundation

/// A command run in the background for a test that stops it or waits on it: in a session of
/// its own, stdin from /dev/null and its output in files (so no pipe of the test waits on it).
public final class Background {
    public let pid: Int32
    public let stdout: String
    public let stderr: String

    /// Starts `command`, its output in `OUTPUT.out` and `OUTPUT.err` (nil: discarded).
    public init(_ command: [String], output: String?) async throws {
        (stdout, stderr) = output.map { ($0 + ".out", $0 + ".err") } ?? ("/dev/null", "/dev/null")
        let started = try await Tool.check(
            "sh", ["-c", "setsid \"$@\" </dev/null >'\(stdout)' 2>'\(stderr)' & echo $!", "-"] + command)
        pid = Int32(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// Whether the process is still running (not gone, nor a zombie waiting to be reaped).
    public var isRunning: Bool {
        guard pid > 0, Foundation.kill(pid, 0) == 0 else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return !stat.contains(") Z ")
    }

    public func kill(_ signal: Int32 = SIGKILL) {
        if pid > 0 { _ = Foundation.kill(pid, signal) }
    }

    /// Waits until the process has ended (up to `seconds`); its stdout and stderr.
    public func wait(seconds: Double = 300) async throws -> (stdout: String, stderr: String) {
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let out = (try? String(contentsOfFile: stdout, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? ""
        return (out, err)
    }

    /// Waits (up to `seconds`) until `condition` holds; false if it never did.
    public static func until(seconds: Double = 60, _ condition: () -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline else { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}
