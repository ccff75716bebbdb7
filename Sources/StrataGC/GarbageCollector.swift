import Foundation
import StrataDatabase
import StrataFS
import StrataOCI
import StrataRefs
import StrataSnapshots
import StrataStore
import StrataStreams

/// containerd's garbage collector over a state root: marks what the roots reach, then removes
/// the rest.
///
/// Roots: the images in `index.json`; `strata ref` refs (their snapshot, layers and blobs);
/// snapshots created outside a lease (a user's, until removed); unexpired leases; blobs and snapshots labelled `containerd.io/gc.root`. Edges: an
/// index holds its manifests, a manifest its config and layers, a config's
/// `containerd.io/gc.ref.snapshot.<snapshotter>` label the unpacked chain, a snapshot its parent or the layers it stacks,
/// any `containerd.io/gc.ref.content*` label the blob it names, a lease what it holds. Removed:
/// unreached blobs and snapshots, expired leases, ingests no lease holds and no writer has open,
/// the temporary leases of processes that died, and the temporary directories a crash leaves. Runs with the root's lock held exclusively, so no
/// other process is between two steps meanwhile.
public struct GarbageCollector {
    public let root: StateRoot

    public init(root: StateRoot) { self.root = root }

    /// What a collection removed.
    public struct Report: Codable, Sendable {
        public var blobs = 0
        public var blobBytes: Int64 = 0
        public var snapshots = 0
        public var snapshotBytes: Int64 = 0
        public var ingests = 0
        public var leases = 0
        public var temporaryDirectories = 0
    }

    /// Collects, waiting up to `wait` seconds for other processes using the root to finish.
    public func collect(wait: TimeInterval = 60) throws -> Report {
        // containerd's partition is collected by containerd, through the gRPC services.
        guard root.owner == .strata else { throw StateRootError.ownedByContainerd(root.path) }
        return try root.exclusively(wait: wait) { try collectLocked() }
    }

    private func collectLocked() throws -> Report {
        var report = Report()
        report.leases = try expireLeases()
        let leases = try root.leases.list()
        var held: [LeaseResourceKind: Set<String>] = [:]
        for lease in leases {
            for r in try root.leases.resources(lease.id) { held[r.kind, default: []].insert(r.id) }
        }
        let snapshotters = try openSnapshotters()
        let blobs = try root.content.list()
        let labelsByDigest = Dictionary(uniqueKeysWithValues: blobs.map { ($0.digest, $0.labels) })

        // Mark.
        var liveBlobs = Set<Digest>()
        var liveSnapshots = Set<String>()  // "<snapshotter>/<key>"
        var pendingBlobs: [Digest] = []
        var pendingSnapshots: [String] = []
        pendingBlobs += try root.content.images().map(\.target.digest)
        pendingBlobs += (held[.content] ?? []).compactMap(Digest.init(parsing:))
        pendingBlobs += blobs.filter { $0.labels[Annotations.gcRoot] != nil }.map(\.digest)
        pendingSnapshots += held[.snapshot] ?? []
        var infos: [String: (snapshotter: LocalSnapshotter, info: SnapshotInfo)] = [:]  // by resource id
        var dependencies: [String: [String]] = [:]  // by resource id: the keys each depends on
        for s in snapshotters {
            for i in try s.list() {
                infos[s.resourceID(i.name)] = (s, i)
                dependencies[s.resourceID(i.name)] = try s.dependencies(i.name)
            }
            pendingSnapshots += try s.unleasedKeys().map(s.resourceID)
        }
        pendingSnapshots += infos.filter { $0.value.info.labels[Annotations.gcRoot] != nil }.map(\.key)
        for ref in try RefRecords(root.metadata).list() {
            let keys = [ref.snapshot] + ref.layers.flatMap { [$0.snapshot, $0.base] }
            pendingSnapshots += keys.compactMap { $0.map { ref.snapshotter + "/" + $0 } }
            pendingBlobs += ref.layers.compactMap(\.descriptor?.digest)
        }
        while !pendingBlobs.isEmpty || !pendingSnapshots.isEmpty {
            if let d = pendingBlobs.popLast() {
                guard liveBlobs.insert(d).inserted, let labels = labelsByDigest[d] else { continue }
                pendingBlobs += children(of: d)
                pendingBlobs += Self.contentRefs(labels)
                pendingSnapshots += Self.snapshotRefs(labels)
            } else if let id = pendingSnapshots.popLast() {
                guard liveSnapshots.insert(id).inserted, let (s, info) = infos[id] else { continue }
                pendingSnapshots += (dependencies[id] ?? []).map(s.resourceID)
                pendingBlobs += Self.contentRefs(info.labels)
            }
        }

        // Sweep: snapshots children first, then blobs, ingests and leftovers.
        for s in snapshotters {
            var doomed = infos.filter { $0.value.snapshotter === s && !liveSnapshots.contains($0.key) }.map(
                \.value.info)
            while !doomed.isEmpty {
                let parents = Set(doomed.flatMap { dependencies[s.resourceID($0.name)] ?? [] })
                let leaves = doomed.filter { !parents.contains($0.name) }
                if leaves.isEmpty { break }
                for leaf in leaves {
                    if leaf.kind == .committed { report.snapshotBytes += (try? s.usage(leaf.name).size) ?? 0 }
                    try s.remove(leaf.name)
                    report.snapshots += 1
                }
                let gone = Set(leaves.map(\.name))
                doomed.removeAll { gone.contains($0.name) }
            }
            report.temporaryDirectories += try s.cleanup()
        }
        for b in blobs where !liveBlobs.contains(b.digest) {
            try root.content.delete(b.digest)
            report.blobs += 1
            report.blobBytes += b.size
        }
        report.ingests = try root.content.removeAbandonedIngests(keeping: held[.ingest] ?? [])
        report.temporaryDirectories += try root.content.removeTemporaryFiles()
        return report
    }

    /// The blobs an index or manifest blob references (its config, layers, manifests). Only a
    /// blob that starts as a JSON object is read: a layer is never read past its first byte.
    private func children(of d: Digest) -> [Digest] {
        guard let file = try? root.content.open(d) else { return [] }
        var first: UInt8 = 0
        guard (try? withUnsafeMutableBytes(of: &first) { try file.read(into: $0) }) == 1, first == UInt8(ascii: "{"),
            (try? file.seek(to: 0)) != nil, let bytes = try? file.readToEnd(limit: DocumentLimit.other),
            let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        else { return [] }
        var out: [[String: Any]] = []
        if let config = object["config"] as? [String: Any] { out.append(config) }
        for key in ["layers", "manifests", "blobs"] { out += object[key] as? [[String: Any]] ?? [] }
        if let subject = object["subject"] as? [String: Any] { out.append(subject) }
        return out.compactMap { ($0["digest"] as? String).flatMap(Digest.init(parsing:)) }
    }

    static func contentRefs(_ labels: [String: String]) -> [Digest] {
        labels.filter { $0.key.hasPrefix("containerd.io/gc.ref.content") }.compactMap { Digest(parsing: $0.value) }
    }

    static func snapshotRefs(_ labels: [String: String]) -> [String] {
        let prefix = Annotations.gcSnapshotRef("")
        return labels.filter { $0.key.hasPrefix(prefix) }.map {
            String($0.key.dropFirst(prefix.count)) + "/" + $0.value
        }
    }

    private func expireLeases() throws -> Int {
        let now = Date()
        var n = 0
        for lease in try root.leases.list()
        where lease.expiresAt.map({ $0 <= now }) ?? false || StateRoot.isOrphaned(lease) {
            try root.leases.remove(lease.id)
            n += 1
        }
        return n
    }

    /// The snapshotters that have a directory in this root.
    private func openSnapshotters() throws -> [LocalSnapshotter] {
        guard try root.directory.statIfExists(Array("snapshots".utf8)) != nil else { return [] }
        let dir = try root.directory.openDirectory(Array("snapshots".utf8))
        return try LocalSnapshotter.backends.compactMap { name in
            try dir.statIfExists(Array(name.utf8)) == nil ? nil : try? root.snapshotter(name)
        }
    }
}
