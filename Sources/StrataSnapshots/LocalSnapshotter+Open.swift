import StrataDatabase
import StrataFS

extension LocalSnapshotter {
    /// The backends, by containerd's names.
    public static let backends = SnapshotBackends.names

    /// Opens the backend `name` in `root/snapshots/<name>`, where `rootPath` is `root`'s path
    /// (mount options name directories by path); `rootLock` is kept open as long as the snapshotter.
    public static func open(
        _ name: String, root: Handle, rootPath: String, metadata: MetadataDB, rootLock: Handle? = nil
    ) throws -> LocalSnapshotter {
        guard backends.contains(name) else { throw SnapshotBackends.unknown(name) }
        var dir = root
        for component in ["snapshots", name] {
            let n = Array(component.utf8)
            try dir.makeDirectoryIfMissing(n, mode: 0o700)
            dir = try dir.openDirectory(n)
        }
        let path = rootPath + "/snapshots/" + name
        let backend = try SnapshotBackends.named(name, at: path)
        return LocalSnapshotter(backend: backend, directory: dir, path: path, metadata: metadata, rootLock: rootLock)
    }
}
