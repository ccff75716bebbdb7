import GRPCCore
import GRPCNIOTransportHTTP2Posix
import StrataContainerdAPI

/// A connection to a containerd daemon's gRPC socket, working in one namespace: every call
/// carries containerd's `containerd-namespace` header (and `containerd-lease` when it writes
/// under a lease), and every failure is a `ContainerdError` naming the call and what it was about.
///
/// Only v1 messages that containerd 2.x still serves are used, so the same client works on
/// containerd 1.6 through 2.x.
public struct ContainerdClient: Sendable {
    /// containerd's default socket.
    public static let defaultAddress = "/run/containerd/containerd.sock"

    public let address: String
    public let namespace: String
    let grpc: GRPCClient<HTTP2ClientTransport.Posix>

    /// Connects to the unix socket at `address`, runs `body` with a client for `namespace`, and
    /// closes the connection when it returns or throws.
    public static func with<R: Sendable>(
        address: String = defaultAddress, namespace: String = "default",
        _ body: (ContainerdClient) async throws -> R
    ) async throws -> R {
        // A daemon that is not there fails the first call rather than being waited for; responses
        // (Content.Read chunks, image documents) stay far below the 16 MiB allowed.
        let everyMethod = MethodConfig(
            names: [MethodConfig.Name(service: "")], waitForReady: false, maxResponseMessageBytes: 16 << 20)
        let transport = try HTTP2ClientTransport.Posix(
            target: .unixDomainSocket(path: address), transportSecurity: .plaintext,
            serviceConfig: ServiceConfig(methodConfig: [everyMethod]))
        // The connections run in a task of their own, not the caller's: a cancelled caller (a
        // signal) must still be able to resume a task it paused and delete its lease.
        let grpc = GRPCClient(transport: transport)
        let connections = Task { try await grpc.runConnections() }
        let result: Result<R, any Error>
        do {
            result = .success(try await body(ContainerdClient(address: address, namespace: namespace, grpc: grpc)))
        } catch {
            result = .failure(error)
        }
        grpc.beginGracefulShutdown()
        _ = await connections.result
        return try result.get()
    }

    /// The headers of a call: the namespace, and the lease its writes are held by.
    func metadata(lease: String? = nil) -> Metadata {
        var m = Metadata()
        m.addString(namespace, forKey: "containerd-namespace")
        if let lease { m.addString(lease, forKey: "containerd-lease") }
        return m
    }

    /// Runs the call `name` (`Service.Method`) about `subject` ("container c1"), its failure
    /// named.
    func call<R>(_ name: String, _ subject: String, _ body: () async throws -> R) async throws -> R {
        do {
            return try await body()
        } catch let e as RPCError {
            throw ContainerdError(call: name, subject: subject, code: e.code, message: e.message, address: address)
        }
    }

    var containers: Containerd_Services_Containers_V1_Containers.Client<HTTP2ClientTransport.Posix> {
        .init(wrapping: grpc)
    }
    var tasks: Containerd_Services_Tasks_V1_Tasks.Client<HTTP2ClientTransport.Posix> { .init(wrapping: grpc) }
    var snapshots: Containerd_Services_Snapshots_V1_Snapshots.Client<HTTP2ClientTransport.Posix> {
        .init(wrapping: grpc)
    }
    var content: Containerd_Services_Content_V1_Content.Client<HTTP2ClientTransport.Posix> { .init(wrapping: grpc) }
    var leases: Containerd_Services_Leases_V1_Leases.Client<HTTP2ClientTransport.Posix> { .init(wrapping: grpc) }
    var images: Containerd_Services_Images_V1_Images.Client<HTTP2ClientTransport.Posix> { .init(wrapping: grpc) }
}

/// A containerd call that failed: which call, about what, and containerd's status.
public struct ContainerdError: Error, CustomStringConvertible, Sendable {
    /// `Service.Method`, as containerd names it (`Containers.Get`).
    public var call: String
    /// What the call was about: `container c1`, `snapshot c1 (overlayfs)`.
    public var subject: String
    public var code: RPCError.Code
    public var message: String
    public var address: String

    public var isNotFound: Bool { code == .notFound }
    public var isAlreadyExists: Bool { code == .alreadyExists }

    public var description: String {
        if code == .unavailable {
            return "containerd at \(address) is unavailable (\(call) of \(subject)): \(message)"
        }
        return "containerd \(call) of \(subject): \(code): \(message)"
    }
}
