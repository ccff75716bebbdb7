import GRPCCore
import StrataContainerdAPI
import StrataSnapshots
import SwiftProtobuf

/// containerd's `containerd.services.snapshots.v1.Snapshots` over one of the partition's
/// snapshotters. The request's `snapshotter` field (containerd's name for the proxy) is not
/// used: a server serves one backend.
struct SnapshotsService: Containerd_Services_Snapshots_V1_Snapshots.SimpleServiceProtocol {
    let snapshotter: LocalSnapshotter
    let pool: BlockingPool
    let gate: CleanupGate

    func prepare(request: Containerd_Services_Snapshots_V1_PrepareSnapshotRequest, context: ServerContext)
        async throws -> Containerd_Services_Snapshots_V1_PrepareSnapshotResponse
    {
        let (s, gate) = (snapshotter, gate)
        let mounts = try await pool.run {
            try gate.shared { try s.prepare(request.key, parent: request.parent.nonEmpty, labels: request.labels) }
        }
        return .with { $0.mounts = mounts.map(ProtoMount.init) }
    }

    func view(request: Containerd_Services_Snapshots_V1_ViewSnapshotRequest, context: ServerContext) async throws
        -> Containerd_Services_Snapshots_V1_ViewSnapshotResponse
    {
        let (s, gate) = (snapshotter, gate)
        let mounts = try await pool.run {
            try gate.shared { try s.view(request.key, parent: request.parent.nonEmpty, labels: request.labels) }
        }
        return .with { $0.mounts = mounts.map(ProtoMount.init) }
    }

    func mounts(request: Containerd_Services_Snapshots_V1_MountsRequest, context: ServerContext) async throws
        -> Containerd_Services_Snapshots_V1_MountsResponse
    {
        let s = snapshotter
        let mounts = try await pool.run { try s.mounts(request.key) }
        return .with { $0.mounts = mounts.map(ProtoMount.init) }
    }

    /// containerd 2.2's `parent` (a rebase on commit) is accepted only when it is the snapshot's
    /// own parent: Strata does not advertise the `rebase` capability, so clients do not ask.
    func commit(request: Containerd_Services_Snapshots_V1_CommitSnapshotRequest, context: ServerContext)
        async throws -> Google_Protobuf_Empty
    {
        let (s, gate) = (snapshotter, gate)
        let additions = try Strata_Containerd_V2_CommitSnapshotRequestAdditions(
            serializedBytes: request.unknownFields.data)
        try await pool.run {
            try gate.shared {
                if !additions.parent.isEmpty, try s.stat(request.key).parent != additions.parent {
                    throw RPCError(
                        code: .failedPrecondition,
                        message: "snapshot \(request.key): cannot be committed onto \(additions.parent), "
                            + "another parent than its own (no rebase)")
                }
                try s.commit(request.name, key: request.key, labels: request.labels)
            }
        }
        return Google_Protobuf_Empty()
    }

    func remove(request: Containerd_Services_Snapshots_V1_RemoveSnapshotRequest, context: ServerContext)
        async throws -> Google_Protobuf_Empty
    {
        let (s, gate) = (snapshotter, gate)
        try await pool.run { try gate.shared { try s.remove(request.key) } }
        return Google_Protobuf_Empty()
    }

    func stat(request: Containerd_Services_Snapshots_V1_StatSnapshotRequest, context: ServerContext) async throws
        -> Containerd_Services_Snapshots_V1_StatSnapshotResponse
    {
        let s = snapshotter
        let info = try await pool.run { try s.stat(request.key) }
        return .with { $0.info = SnapshotInfoMessage(info) }
    }

    func update(request: Containerd_Services_Snapshots_V1_UpdateSnapshotRequest, context: ServerContext)
        async throws -> Containerd_Services_Snapshots_V1_UpdateSnapshotResponse
    {
        let s = snapshotter
        let info = try await pool.run {
            let key = request.info.name
            let update = try LabelUpdate(
                labels: request.info.labels, mask: request.updateMask.paths, object: "snapshot \(key)")
            return try s.update(key, labels: update.changes, replacing: update.replacing)
        }
        return .with { $0.info = SnapshotInfoMessage(info) }
    }

    func list(
        request: Containerd_Services_Snapshots_V1_ListSnapshotsRequest,
        response: RPCWriter<Containerd_Services_Snapshots_V1_ListSnapshotsResponse>, context: ServerContext
    ) async throws {
        let s = snapshotter
        try await pool.list(
            request.filters, { try s.list().map(SnapshotInfoMessage.init) },
            send: { batch in try await response.write(.with { $0.info = batch }) })
    }

    func usage(request: Containerd_Services_Snapshots_V1_UsageRequest, context: ServerContext) async throws
        -> Containerd_Services_Snapshots_V1_UsageResponse
    {
        let s = snapshotter
        let usage = try await pool.run { try s.usage(request.key) }
        return .with {
            $0.size = usage.size
            $0.inodes = usage.inodes
        }
    }

    /// Deletes what a crash or a half-done call left (directories without a record), as
    /// containerd's garbage collector asks after removing snapshots.
    func cleanup(request: Containerd_Services_Snapshots_V1_CleanupRequest, context: ServerContext) async throws
        -> Google_Protobuf_Empty
    {
        let (s, gate) = (snapshotter, gate)
        _ = try await pool.run { try gate.exclusive { try s.cleanup() } }
        return Google_Protobuf_Empty()
    }
}

extension String {
    /// nil for the empty string: proto3's absent field.
    var nonEmpty: String? { isEmpty ? nil : self }
}
