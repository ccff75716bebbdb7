import Dispatch
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import StrataFS
import StrataProcessors
import StrataSnapshots
import StrataStore

#if canImport(Glibc)
    import Glibc
#endif

/// `strata serve`: containerd's Snapshots, Content and Diff services on a unix socket, over the
/// containerd partition of a state root, for containerd's `proxy_plugins` and its Go clients.
///
/// One server per partition (a lock says so). At start it finishes what a killed server left:
/// snapshot directories without records and mounts under `tmp/` go; ingests stay, resumable.
/// SIGTERM or SIGINT stops accepting calls, lets those in flight finish, and returns.
public struct ContainerdServer: Sendable {
    public var root: String
    public var address: String
    /// `overlay` or `native`; by default overlay where it mounts.
    public var snapshotter: String?
    /// Threads for the stores' blocking work: the calls that can run at once.
    public var threads = 16
    /// Where the server says what it does: each diff and apply at `debug`.
    public var logger = Logger(label: "strata.serve")
    /// The stream processors the Diff service applies layers of other media types with (the
    /// Apply request's payloads are added to them).
    public var processors = StreamProcessors()

    /// containerd's clients allow 16 MiB messages; so does the server.
    public static let maxMessageSize = 16 << 20

    public init(root: String, address: String, snapshotter: String? = nil) {
        self.root = root
        self.address = address
        self.snapshotter = snapshotter
    }

    /// Serves until SIGTERM or SIGINT; `ready` runs once the socket accepts connections.
    public func run(ready: @Sendable (_ backend: String) -> Void = { _ in }) async throws {
        let partition = try StateRoot.containerdPartition(of: root, create: true)
        let lock = try partition.directory.open(
            Array("serve.lock".utf8), flags: O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode: 0o600)
        guard try lock.lock(exclusive: true, wait: false) else {
            throw ServeError("state root \(root): another strata serve is using its containerd partition")
        }
        let snapshots = try partition.snapshotter(snapshotter)
        try partition.recordServedSnapshotter(snapshots.name)
        let trees = try Self.recover(partition, snapshots)

        let pool = BlockingPool(threads: threads)
        let gate = CleanupGate()
        let fd = try UnixListener.listen(at: address)
        defer { unlink(address) }
        let server = GRPCServer(
            transport: .http2NIOPosix(
                listeningSocketDescriptor: Int(fd), transportSecurity: .plaintext,
                config: Self.transportConfig),
            services: [
                SnapshotsService(snapshotter: snapshots, pool: pool, gate: gate),
                ContentService(store: partition.content, pool: pool),
                DiffService(
                    root: partition, snapshotter: snapshots, pool: pool, gate: gate, trees: trees, logger: logger,
                    processors: processors),
            ])
        let signals = [SIGTERM, SIGINT].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { server.beginGracefulShutdown() }
            source.resume()
            return source
        }
        defer { for s in signals { s.cancel() } }
        ready(snapshots.name)
        try await server.serve()
        try await pool.shutdown()
        withExtendedLifetime(lock) {}
    }

    /// As containerd's own (grpc-go) server behaves on its socket: 16 MiB messages, windows
    /// that let a blob stream at memory speed, and the pings grpc-go clients send to size those
    /// windows answered as grpc-go's server answers them (`PingResponder`, which closes a flood).
    static var transportConfig: HTTP2ServerTransport.Posix.Config {
        .defaults {
            $0.rpc.maxRequestPayloadSize = maxMessageSize
            $0.http2.targetWindowSize = maxMessageSize
            $0.channelDebuggingCallbacks.onAcceptTCPConnection = { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(PingResponder(), position: .first)
                }
            }
        }
    }

    /// Removes what a killed server left; returns where calls mount trees (`tmp/`).
    private static func recover(_ partition: StateRoot, _ snapshots: LocalSnapshotter) throws -> MountedTrees {
        try snapshots.cleanup()
        let name = Array("tmp".utf8)
        let path = partition.path + "/tmp"
        if try partition.directory.statIfExists(name) != nil {
            Mounter.detachAll(under: path)
            try partition.directory.removeAll(name)
        }
        try partition.directory.makeDirectory(name, mode: 0o700)
        return MountedTrees(scratch: try partition.directory.openDirectory(name), scratchPath: path)
    }
}
