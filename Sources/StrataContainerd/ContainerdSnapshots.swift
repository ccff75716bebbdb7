import StrataContainerdAPI
import StrataFS
import StrataLayers
import StrataOverlay

/// A snapshot in one of containerd's snapshotters, and the mounts that show it and its parent's
/// tree, through the Containers and Snapshots APIs.
public struct ContainerdSnapshot: Sendable, Equatable {
    public var snapshotter: String
    public var key: String
    /// The container whose root filesystem it is, when one was named.
    public var container: String?
    /// The image the container was made from (the Containers API's `image`), if any.
    public var image: String?

    public init(snapshotter: String, key: String, container: String? = nil, image: String? = nil) {
        self.snapshotter = snapshotter
        self.key = key
        self.container = container
        self.image = image
    }

    var subject: String { "snapshot \(key) (\(snapshotter))" }

    /// The root filesystem snapshot of container `id` (Containers.Get).
    public static func of(container id: String, _ client: ContainerdClient) async throws -> ContainerdSnapshot {
        let request = Containerd_Services_Containers_V1_GetContainerRequest.with { $0.id = id }
        let c = try await client.call("Containers.Get", "container \(id)") {
            try await client.containers.get(request, metadata: client.metadata()).container
        }
        guard !c.snapshotKey.isEmpty, !c.snapshotter.isEmpty else {
            throw ContainerdResolveError.noSnapshot(container: id)
        }
        return ContainerdSnapshot(
            snapshotter: c.snapshotter, key: c.snapshotKey, container: id, image: c.image.isEmpty ? nil : c.image)
    }

    /// Container `name`'s snapshot, or else the snapshot key `name` in `snapshotter`.
    public static func resolve(_ name: String, snapshotter: String, _ client: ContainerdClient) async throws
        -> ContainerdSnapshot
    {
        do {
            return try await of(container: name, client)
        } catch let e as ContainerdError where e.isNotFound {
            return ContainerdSnapshot(snapshotter: snapshotter, key: name)
        }
    }

    /// The mounts of this snapshot's tree (`upper`) and of its parent's (`lower`, empty for a
    /// snapshot without one), for `MountsDiffer`. An overlay mount names its parent's layers in
    /// its `lowerdir` list, so their tree is read from those directories and containerd is asked
    /// for nothing more; otherwise (another snapshotter, a committed snapshot) Views are made
    /// under `lease`, for `withTrees` to remove.
    private func mounts(_ client: ContainerdClient, lease: ContainerdLease) async throws -> Trees {
        let info = try await call("Snapshots.Stat", client) {
            try await client.snapshots.stat(.init(snapshotter, key), metadata: client.metadata()).info
        }
        var views: [String] = []
        let upper: [Mount]
        if info.kind == .committed {
            let (view, mounts) = try await view(of: key, client, lease)
            views.append(view)
            upper = mounts
        } else {
            upper = try await call("Snapshots.Mounts", client) {
                try await client.snapshots.mounts(
                    .init(snapshotter, key), metadata: client.metadata()
                ).mounts.map(Mount.init)
            }
        }
        let parent = info.parent.isEmpty ? nil : info.parent
        guard let parent else { return Trees(upper: upper, lower: [], parent: nil, views: views) }
        if let dirs = OverlayDirectories(upper) {
            if dirs.upper != nil {
                return Trees(
                    upper: upper, lower: MountsDiffer.mounts(ofLayers: dirs.lowers), parent: parent, views: views)
            }
            if dirs.lowers.count >= 2 {
                let lower = MountsDiffer.mounts(ofLayers: Array(dirs.lowers.dropFirst()))
                return Trees(upper: upper, lower: lower, parent: parent, views: views)
            }
        }
        let (view, lower) = try await view(of: parent, client, lease)
        return Trees(upper: upper, lower: lower, parent: parent, views: views + [view])
    }

    /// What `mounts` found.
    struct Trees: Sendable {
        var upper: [Mount]
        var lower: [Mount]
        /// The parent snapshot's name; nil for a snapshot without one.
        var parent: String?
        /// Views made for the diff, removed after it.
        var views: [String]
    }

    /// Runs `body` with `mounts`' trees, then removes the Views made for them, whatever `body`
    /// did (in a task of its own: a cancelled caller still removes them).
    func withTrees<R>(_ client: ContainerdClient, lease: ContainerdLease, _ body: (Trees) async throws -> R)
        async throws -> R
    {
        let trees = try await mounts(client, lease: lease)
        let result: Result<R, any Error>
        do {
            result = .success(try await body(trees))
        } catch {
            result = .failure(error)
        }
        let snapshotter = snapshotter
        await Task {
            for k in trees.views {
                _ = try? await client.snapshots.remove(.init(snapshotter, k), metadata: client.metadata())
            }
        }.value
        return try result.get()
    }

    /// A View of the committed snapshot `parent` under `lease`: its key and mounts.
    private func view(of parent: String, _ client: ContainerdClient, _ lease: ContainerdLease) async throws
        -> (String, [Mount])
    {
        let request = Containerd_Services_Snapshots_V1_ViewSnapshotRequest.with {
            $0.snapshotter = snapshotter
            $0.key = "strata-view-\(UInt64.random(in: 0...UInt64.max))"
            $0.parent = parent
        }
        let mounts = try await call("Snapshots.View", client) {
            try await client.snapshots.view(request, metadata: client.metadata(lease: lease.id)).mounts.map(Mount.init)
        }
        return (request.key, mounts)
    }

    private func call<R>(_ name: String, _ client: ContainerdClient, _ body: () async throws -> R) async throws -> R {
        try await client.call(name, container.map { "container \($0), \(subject)" } ?? subject, body)
    }
}

/// A container whose snapshot cannot be diffed.
public enum ContainerdResolveError: Error, CustomStringConvertible {
    case noSnapshot(container: String)
    case noImage(container: String)
    case notOverImage(container: String, parent: String?, image: String, chainID: String?)

    public var description: String {
        switch self {
        case .noSnapshot(let c): return "container \(c) has no snapshot (its snapshotter or snapshot key is empty)"
        case .noImage(let c): return "container \(c) names no image to commit over"
        case .notOverImage(let c, let parent, let image, let chain):
            return "container \(c): its snapshot's parent \(parent ?? "(none)") is not image \(image)'s unpacked "
                + "chain \(chain ?? "(no layers)")"
        }
    }
}

/// The Snapshots API's requests that name one snapshot.
protocol SnapshotRequest {
    init()
    var snapshotter: String { get set }
    var key: String { get set }
}

extension SnapshotRequest {
    init(_ snapshotter: String, _ key: String) {
        self.init()
        self.snapshotter = snapshotter
        self.key = key
    }
}

extension Containerd_Services_Snapshots_V1_StatSnapshotRequest: SnapshotRequest {}
extension Containerd_Services_Snapshots_V1_MountsRequest: SnapshotRequest {}
extension Containerd_Services_Snapshots_V1_RemoveSnapshotRequest: SnapshotRequest {}
