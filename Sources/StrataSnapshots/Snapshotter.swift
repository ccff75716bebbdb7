/// containerd's snapshotter: a set of filesystem trees named by key, each an Active (writable),
/// View (read-only) or Committed (immutable, may be a parent) snapshot over a committed parent.
///
/// Rules (containerd's): keys of all kinds share one space; `prepare` and `view` need a committed
/// parent (or none: the empty tree); only Active snapshots are committed, which removes the key and
/// creates `name` with the commit's labels; a snapshot with children cannot be removed. Every
/// change to the records is one transaction.
public protocol Snapshotter: Sendable {
    /// The backend's name (`overlay`, `native`), as containerd names snapshotters.
    var name: String { get }
    func stat(_ key: String) throws -> SnapshotInfo
    /// Sets (a value) or removes (nil) labels: the only mutable property.
    func update(_ key: String, labels: [String: String?]) throws -> SnapshotInfo
    /// The snapshot's own disk use, without its parents (walked for an Active snapshot).
    func usage(_ key: String) throws -> SnapshotUsage
    /// How to mount an Active snapshot or a View.
    func mounts(_ key: String) throws -> [Mount]
    func prepare(_ key: String, parent: String?, labels: [String: String]) throws -> [Mount]
    func view(_ key: String, parent: String?, labels: [String: String]) throws -> [Mount]
    func commit(_ name: String, key: String, labels: [String: String]) throws
    func remove(_ key: String) throws
    /// Every snapshot, sorted by key.
    func list() throws -> [SnapshotInfo]
}
