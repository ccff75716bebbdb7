import Foundation

/// A helper server of the tests (a registry, a token service, a proxy) on 127.0.0.1, run in
/// the `Background`; ready once its port accepts connections; killed when released.
public final class LoopbackServer {
    public let port: String
    public let process: Background

    /// Runs `command` (which must listen on `port`) and waits up to 10 s for it to listen.
    public init(port: String, command: [String]) async throws {
        self.port = port
        process = try await Background(command, output: nil)
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

    deinit { process.kill() }

    /// A loopback port no one listens on now.
    public static func freePort() async throws -> String {
        try await Tool.check(
            "python3", ["-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"]
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
