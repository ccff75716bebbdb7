import Foundation
import StrataContainerdAPI

/// A lease in containerd (its Leases API): what a client holds while it writes content that no
/// image references yet, so containerd's garbage collector keeps it. Strata's leases carry
/// `containerd.io/gc.expire`, so one left by a killed process ends by itself.
public struct ContainerdLease: Sendable {
    public let id: String

    /// The lease `id`, which exists already.
    public init(id: String) { self.id = id }

    /// Creates a lease named `id` (a fresh `strata-…` name when nil) that expires after `expiry`.
    public static func create(
        _ client: ContainerdClient, id: String? = nil, expiry: Duration = .seconds(24 * 3600)
    ) async throws -> ContainerdLease {
        let id = id ?? "strata-\(UInt64.random(in: 0...UInt64.max))"
        let expires = Date().addingTimeInterval(TimeInterval(expiry.components.seconds))
        let request = Containerd_Services_Leases_V1_CreateRequest.with {
            $0.id = id
            $0.labels = ["containerd.io/gc.expire": ISO8601DateFormatter().string(from: expires)]
        }
        _ = try await client.call("Leases.Create", "lease \(id)") {
            try await client.leases.create(request, metadata: client.metadata())
        }
        return ContainerdLease(id: id)
    }

    /// Adds the blob `digest` to the lease: a blob already stored is held by it too.
    public func hold(content digest: String, _ client: ContainerdClient) async throws {
        let request = Containerd_Services_Leases_V1_AddResourceRequest.with {
            $0.id = id
            $0.resource = .with {
                $0.id = digest
                $0.type = "content"
            }
        }
        _ = try await client.call("Leases.AddResource", "content \(digest) in lease \(id)") {
            try await client.leases.addResource(request, metadata: client.metadata())
        }
    }

    /// Deletes the lease; what only it held becomes collectable.
    public func delete(_ client: ContainerdClient) async throws {
        let request = Containerd_Services_Leases_V1_DeleteRequest.with { $0.id = id }
        _ = try await client.call("Leases.Delete", "lease \(id)") {
            try await client.leases.delete(request, metadata: client.metadata())
        }
    }
}
