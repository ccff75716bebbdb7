import AsyncHTTPClient
import NIOCore
import NIOPosix

extension RegistryClient {
    /// Runs `body` again while it fails for a reason that may pass (the registry restarting, a
    /// dropped connection, a 5xx or 429 answer), backing off from 0.25 s to 4 s, for up to
    /// `patience`; any other error, or the last transient one, is thrown. `body` must be safe to
    /// run again: uploads resume from the session's reported offset, downloads from the ingest's.
    func retrying<T>(_ body: () async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + patience
        var pause = Duration.milliseconds(250)
        while true {
            do {
                return try await body()
            } catch {
                guard Self.isTransient(error), ContinuousClock.now + pause < deadline else { throw error }
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(4))
            }
        }
    }

    /// Whether an error may pass on its own: transport failures and the registry's 5xx, 408, 429.
    static func isTransient(_ error: any Error) -> Bool {
        if case RegistryError.status(_, _, let status, _) = error {
            return status >= 500 || [408, 429].contains(status)
        }
        return error is HTTPClientError || error is IOError || error is ChannelError || error is NIOConnectionError
    }
}
