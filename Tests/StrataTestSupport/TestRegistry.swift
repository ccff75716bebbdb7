import Foundation

/// A private `docker-registry serve` (distribution 2.8) on a free loopback port, with its own
/// config and storage and a fixed `http.secret` (so upload sessions survive a restart);
/// stopped when released.
public final class TestRegistry {
    private(set) var server: LoopbackServer
    public let address: String
    private let config: String

    /// `auth` is the config's `auth:` section (none: anonymous access).
    public init(_ t: TempDirectory, auth: String? = nil) async throws {
        let port = try await LoopbackServer.freePort()
        address = "127.0.0.1:\(port)"
        config = t.at("registry.yml")
        let yaml = """
            version: 0.1
            log:
              level: error
            storage:
              filesystem:
                rootdirectory: \(t.directory("registry-storage"))
            http:
              addr: \(address)
              secret: strata-test-secret
            """
            + (auth ?? "")
        try yaml.write(toFile: config, atomically: true, encoding: .utf8)
        server = try await LoopbackServer(port: port, command: ["docker-registry", "serve", config])
    }

    /// Kills the registry (SIGKILL) and leaves it down.
    public func stop() { server.process.kill() }

    /// Starts it again on the same port, storage and secret.
    public func start() async throws {
        server = try await LoopbackServer(port: server.port, command: ["docker-registry", "serve", config])
    }
}
