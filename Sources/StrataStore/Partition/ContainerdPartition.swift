import Foundation
import StrataFS
import StrataSnapshots

#if canImport(Glibc)
    import Glibc
#endif

extension StateRoot {
    /// Who decides what a state root keeps.
    public enum Owner: String, Sendable {
        /// Strata's commands: leases, refs, images and `gc` decide.
        case strata
        /// containerd, through `strata serve`: its own garbage collector decides, by removing what
        /// its database no longer lists; Strata's `gc` never runs here.
        case containerd
    }

    /// `ROOT/containerd`: what containerd creates through `strata serve` lives here, apart from
    /// the root's own snapshots and blobs, so that neither garbage collector removes what only the
    /// other knows is in use. Every gRPC call sees all of it, whatever its namespace. `create`
    /// makes it (the server); without it a missing partition is an error (the CLI reading it).
    public static func containerdPartition(of root: String, create: Bool) throws -> StateRoot {
        let path = root + "/containerd"
        guard create || FileManager.default.fileExists(atPath: path) else {
            throw StateRootError.noContainerdPartition(root)
        }
        return try StateRoot(path: path, owner: .containerd)
    }

    /// Whether a snapshot key or ingest ref of the partition belongs to containerd namespace
    /// `namespace` (nil: any): containerd names the keys and refs it makes `NAMESPACE/...`.
    public static func inNamespace(_ namespace: String?, _ keyOrRef: String) -> Bool {
        guard let namespace else { return true }
        return keyOrRef.hasPrefix(namespace + "/")
    }

    /// The snapshotter `strata serve` last served from this partition: what readers default to.
    public var servedSnapshotter: String? {
        guard let f = try? directory.open(Array("snapshotter".utf8), flags: O_RDONLY | O_NOFOLLOW),
            let bytes = try? f.readToEnd(limit: 64)
        else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The snapshotter someone reading this root means by `name`: that one, else on containerd's
    /// partition the one `strata serve` last served there, else the default (`snapshotter(nil)`).
    public func snapshotter(reading name: String?) throws -> LocalSnapshotter {
        try snapshotter(name ?? (owner == .containerd ? servedSnapshotter : nil))
    }

    /// Records the snapshotter a server uses here.
    public func recordServedSnapshotter(_ name: String) throws {
        guard servedSnapshotter != name else { return }
        try directory.writeAtomically(Array("snapshotter".utf8), contents: Array(name.utf8))
    }

    /// Checks the root's `owner` file against `owner`; a root without one is Strata's, and gets
    /// the file when containerd takes it.
    static func claim(_ directory: Handle, path: String, for owner: Owner) throws {
        let name = Array("owner".utf8)
        let recorded =
            try directory.statIfExists(name) == nil
            ? nil
            : String(
                decoding: try directory.open(name, flags: O_RDONLY | O_NOFOLLOW).readToEnd(limit: 64), as: UTF8.self)
        switch (recorded.flatMap(Owner.init(rawValue:)) ?? .strata, owner) {
        case (.containerd, .strata): throw StateRootError.ownedByContainerd(path)
        case (.strata, .containerd) where recorded == nil:
            try directory.writeAtomically(name, contents: Array(owner.rawValue.utf8))
        case (let actual, let wanted) where actual != wanted: throw StateRootError.notOwnedBy(path, wanted)
        default: break
        }
    }
}
