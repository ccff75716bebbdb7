import GRPCCore
import Logging
import StrataContainerdAPI
import StrataFS
import StrataLayers
import StrataOCI
import StrataOverlay
import StrataProcessors
import StrataSnapshots
import StrataStore
import SwiftProtobuf

/// containerd's `containerd.services.diff.v1.Diff` (a differ and an applier) over the
/// partition. Mounts that are the partition's own snapshots take the snapshot fast paths (an
/// overlay upper directory is the change set; a layer is applied straight into the upper
/// directory); other mounts are mounted and walked. Layers are read from and written to the
/// partition's content store. Media types Strata does not handle are Unimplemented, so
/// containerd tries its next differ.
struct DiffService: Containerd_Services_Diff_V1_Diff.SimpleServiceProtocol {
    let root: StateRoot
    let snapshotter: LocalSnapshotter
    let pool: BlockingPool
    let gate: CleanupGate
    let trees: MountedTrees
    let logger: Logger
    let processors: StreamProcessors

    func apply(request: Containerd_Services_Diff_V1_ApplyRequest, context: ServerContext) async throws
        -> Containerd_Services_Diff_V1_ApplyResponse
    {
        let additions = try Strata_Containerd_V2_ApplyRequestAdditions(serializedBytes: request.unknownFields.data)
        let layer = try Descriptor(request.diff)
        // containerd's payloads reach a processor as it sends them: the marshalled Any.
        var processors = processors
        processors.payloads = try request.payloads.mapValues { try $0.serializedBytes() }
        guard
            MediaType.layerCompression(layer.mediaType) != nil
                || processors.processor(accepting: layer.mediaType) != nil
        else {
            throw RPCError(code: .unimplemented, message: "media type \(layer.mediaType): not a layer Strata applies")
        }
        let (root, s, gate, trees, chain) = (root, snapshotter, gate, trees, processors)
        let mounts = request.mounts.map(Mount.init)
        let result = try await pool.run {
            try gate.shared {
                let apply = { (target: Handle, lowers: [Handle]?) throws -> ApplyResult in
                    let r = try root.apply(layer, to: target, overlayLowers: lowers, processors: chain)
                    if additions.syncFs { try target.syncFilesystem() }
                    return r
                }
                if let own = try Self.snapshot(mounted: mounts, in: s), own.kind == .active {
                    let dirs = try s.layers(own.name)
                    guard let target = dirs.own else { throw SnapshotError.notActive(own.name) }
                    logger.debug("apply \(layer.digest) into snapshot \(own.name)")
                    return try apply(target, dirs.isOverlayUpper ? dirs.lowers : nil)
                }
                logger.debug("apply \(layer.digest) onto mounts")
                return try trees.with(mounts, readOnly: false) { try apply($0, nil) }
            }
        }
        return .with {
            $0.applied = .with { d in
                d.mediaType = MediaType.layer
                d.digest = result.diffID.description
                d.size = result.uncompressedSize
            }
        }
    }

    func diff(request: Containerd_Services_Diff_V1_DiffRequest, context: ServerContext) async throws
        -> Containerd_Services_Diff_V1_DiffResponse
    {
        let additions = try Strata_Containerd_V2_DiffRequestAdditions(serializedBytes: request.unknownFields.data)
        let mediaType = request.mediaType.isEmpty ? MediaType.layer(.gzip) : request.mediaType
        guard let compression = MediaType.layerCompression(mediaType) else {
            throw RPCError(code: .unimplemented, message: "media type \(mediaType): not a layer Strata writes")
        }
        var options = DiffOptions(compression: compression)
        if additions.hasSourceDateEpoch {
            options.sourceDateEpoch = try Self.time(additions.sourceDateEpoch, field: "source_date_epoch")
        }
        let (root, s, gate, trees, logger) = (root, snapshotter, gate, trees, logger)
        let (left, right) = (request.left.map(Mount.init), request.right.map(Mount.init))
        let layer = try await pool.run { [options] in
            var differ = SnapshotDiffer(root: root, snapshotter: s, options: options)
            differ.labels = request.labels
            differ.ref = request.ref.nonEmpty
            return try gate.shared {
                // A View of the snapshot's own parent against the snapshot: its own changes.
                if let upper = try Self.snapshot(mounted: right, in: s), upper.kind == .active,
                    let lower = try Self.snapshot(mounted: left, in: s), lower.kind == .view,
                    lower.parent == upper.parent
                {
                    let (layer, method) = try differ.diff(upper.name, against: .parent)
                    logger.debug(
                        "diff of snapshot \(upper.name) against its parent: \(method.rawValue), \(layer.digest)")
                    return layer
                }
                guard !left.isEmpty, !right.isEmpty else { throw RequestError("no mounts given") }
                // Mounts of another snapshotter (containerd's overlayfs): its upper directory
                // alone, when the mounts prove it holds exactly the changes.
                let outcome = try MountsDiffer(trees: trees).diff(upper: right, over: left) { try differ.store($0) }
                if let why = outcome.fallback { logger.debug("diff of mounts: \(why); walking both trees") }
                if let dir = outcome.upperDirectory {
                    logger.debug("diff of mounts: overlay upper directory \(dir), \(outcome.result.digest)")
                } else {
                    logger.debug("diff of mounts: walked both trees, \(outcome.result.digest)")
                }
                return outcome.result
            }
        }
        var d = ProtoDescriptor(layer)
        d.mediaType = mediaType
        return .with { $0.diff = d }
    }

    /// A request's timestamp as a `FileTime`, in the range protobuf's Timestamp allows (years 1
    /// to 9999, nanos 0 to 999,999,999), so nothing later multiplies or converts it out of range;
    /// InvalidArgument naming `field` otherwise.
    static func time(_ t: Google_Protobuf_Timestamp, field: String) throws -> FileTime {
        guard (-62_135_596_800...253_402_300_799).contains(t.seconds) else {
            throw RequestError("\(field).seconds: \(t.seconds) is outside years 1 to 9999")
        }
        guard (0...999_999_999).contains(t.nanos) else {
            throw RequestError("\(field).nanos: \(t.nanos) is outside 0 to 999999999")
        }
        return FileTime(seconds: t.seconds, nanoseconds: UInt32(t.nanos))
    }

    /// The partition's Active snapshot or View whose mounts are exactly `mounts`.
    static func snapshot(mounted mounts: [Mount], in s: LocalSnapshotter) throws -> SnapshotInfo? {
        guard !mounts.isEmpty else { return nil }
        return try s.list().first { $0.kind != .committed && (try? s.mounts($0.name)) == mounts }
    }
}
