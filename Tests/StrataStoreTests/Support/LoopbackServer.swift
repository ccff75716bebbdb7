import Foundation
import StrataTestSupport

/// A helper server of the tests (a registry, a token service) on 127.0.0.1: started in a
/// session of its own with its output nowhere, so that no pipe of the test waits on it; ready
/// once its port accepts connections; killed when released.
final class LoopbackServer {
    let port: String
    let pid: Int32

    /// Runs `command` (which must listen on `port`) and waits up to 10 s for it to listen.
    init(port: String, command: [String]) async throws {
        self.port = port
        let started = try await Tool.check(
            "sh", ["-c", "setsid \"$@\" </dev/null >/dev/null 2>&1 & echo $!", "-"] + command)
        pid = Int32(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        let ready = """
            import socket, sys, time
            for _ in range(200):
                try:
                    socket.create_connection(('127.0.0.1', \(port)), 0.2).close(); sys.exit(0)
                except OSError:
                    time.sleep(0.05)
            sys.exit(1)
            """
        try await Tool.check("python3", ["-c", ready])
    }

    deinit {
        if pid > 0 { kill(pid, SIGKILL) }
    }

    /// A loopback port no one listens on now.
    static func freePort() async throws -> String {
        try await Tool.check(
            "python3", ["-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"]
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
