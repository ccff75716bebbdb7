import Foundation
import StrataDatabase
import StrataFS
import StrataOverlay

#if canImport(Glibc)
    import Glibc
#endif

/// containerd's snapshotter: a set of filesystem trees named by key, each an Active (writable),
/// View (read-only) or Committed (immutable, may be a parent) snapshot over a committed parent.
///
/// Rules (containerd's): keys of all kinds share one space; `prepare` and `view` need a committed
/// parent (or none: the empty tree); only Active snapshots are committed, which removes the key and
/// creates `name` with the commit's labels; a snapshot with children cannot be removed. Every
/// change to the records is one transaction.
///
/// Its snapshots are directories under `ROOT/snapshots/<backend>/<id>`, its records
/// in the metadata database: containerd's native and overlay snapshotters, one implementation of
/// the rules with the backend (`Backends/`) plugged in.
///
/// Crash safety: a new snapshot's directory is built under a temporary name and renamed to its id
/// inside the transaction that records it; a removed snapshot's record goes first and its directory
/// after. A crash leaves at worst a directory without a record, which `cleanup` deletes.
public final class LocalSnapshotter: Sendable {
    /// The backend's name (`overlay`, `native`), as containerd names snapshotters.
    public let name: String
    /// The directory holding the snapshots' directories (by id), as a path for mounts.
    public let path: String
    let directory: Handle
    let metadata: MetadataDB
    let backend: any SnapshotBackend
    let records: SnapshotRecords
    /// The state root's lock, held (shared) for as long as the snapshotter is in use, so `gc`
    /// never runs between two of its steps.
    let rootLock: Handle?

    init(
        backend: any SnapshotBackend, directory: Handle, path: String, metadata: MetadataDB, lease: String? = nil,
        rootLock: Handle? = nil
    ) {
        self.backend = backend
        self.rootLock = rootLock
        self.name = backend.name
        self.directory = directory
        self.path = path
        self.metadata = metadata
        records = SnapshotRecords(snapshotter: backend.name, lease: lease)
    }

    /// Whether a snapshot holds only its own layer over its parents' (overlay) rather than a
    /// whole tree (native); only such snapshots can be stacked.
    public var stacksLayers: Bool { backend.stacksLayers }

    /// The same snapshotter, putting the snapshots it creates or commits in `lease` (containerd
    /// passes the lease in the call's context): they are then kept by the lease and by what
    /// references them, and are not garbage-collection roots of their own.
    public func leased(_ lease: String?) -> LocalSnapshotter {
        LocalSnapshotter(
            backend: backend, directory: directory, path: path, metadata: metadata, lease: lease, rootLock: rootLock)
    }

    public func stat(_ key: String) throws -> SnapshotInfo {
        try metadata.read { db in try records.info(db, records.get(db, key)) }
    }

    public func update(_ key: String, labels: [String: String?]) throws -> SnapshotInfo {
        try update(key, labels: labels, replacing: false)
    }

    /// With `replacing`, every label not in `labels` is removed too, in the same transaction.
    public func update(_ key: String, labels: [String: String?], replacing: Bool) throws -> SnapshotInfo {
        try metadata.write { db in
            let r = try records.get(db, key)
            try records.setLabels(db, r.id, labels, replace: replacing)
            return try records.info(db, records.get(db, key))
        }
    }

    public func usage(_ key: String) throws -> SnapshotUsage {
        let r = try metadata.read { db in try records.get(db, key) }
        if r.kind == .committed { return r.usage }
        return try measure(r.id).usage
    }

    public func mounts(_ key: String) throws -> [Mount] {
        try metadata.read { db in
            let r = try records.get(db, key)
            guard r.kind != .committed else { throw SnapshotError.notActive(key) }
            return backend.mounts(base: path, id: r.id, kind: r.kind, parents: try records.below(db, r).map(\.id))
        }
    }

    public func prepare(_ key: String, parent: String?, labels: [String: String]) throws -> [Mount] {
        try create(key, .active, parent: parent, labels: labels)
    }

    public func view(_ key: String, parent: String?, labels: [String: String]) throws -> [Mount] {
        try create(key, .view, parent: parent, labels: labels)
    }

    public func commit(_ name: String, key: String, labels: [String: String]) throws {
        let r = try metadata.read { db in try records.get(db, key) }
        guard r.kind == .active else { throw SnapshotError.notActive(key) }
        let (usage, whiteouts) = try measure(r.id)
        try metadata.write { db in
            _ = try records.commit(db, name: name, key: key, labels: labels, usage: usage, whiteouts: whiteouts)
        }
        FaultPoint.reach("snapshot.committed")
    }

    public func remove(_ key: String) throws {
        let r = try metadata.write { db in try records.remove(db, key) }
        FaultPoint.reach("snapshot.unrecorded")
        try removeDirectory(r.id)
    }

    public func list() throws -> [SnapshotInfo] {
        try metadata.read { db in try records.all(db).map { try records.info(db, $0) } }
    }

    /// How leases and gc name snapshot `key` of this snapshotter: `<snapshotter>/<key>`, as
    /// containerd's.
    public func resourceID(_ key: String) -> String { records.leaseID(key) }

    /// The keys of snapshots created outside any lease: a user's, which garbage collection keeps
    /// until they are removed.
    public func unleasedKeys() throws -> Set<String> {
        try metadata.read { db in Set(try records.all(db).filter { !$0.leased }.map(\.key)) }
    }

    /// Deletes directories that no record names (a mount a killed process left in one detached
    /// first): what a crash between two steps leaves.
    @discardableResult
    public func cleanup() throws -> Int {
        let known = try metadata.read { db in try records.ids(db) }
        var removed = 0
        for entry in try directory.sortedNames() {
            let text = String(decoding: entry, as: UTF8.self)
            if let id = Int64(text), known.contains(id) { continue }
            Mounter.detachAll(under: path + "/" + text)
            try directory.removeAll(entry)
            removed += 1
        }
        return removed
    }

    // MARK: Directories

    private func create(_ key: String, _ kind: SnapshotKind, parent: String?, labels: [String: String]) throws
        -> [Mount]
    {
        guard (1...1024).contains(key.utf8.count), !key.utf8.contains(0) else { throw SnapshotError.invalidKey(key) }
        // The directory is built outside any transaction (a native copy can take long), then
        // recorded and renamed into place in one, which checks the rules again.
        let parents = try metadata.read { db -> [Int64] in
            guard let p = try records.checkNew(db, key: key, parent: parent) else { return [] }
            return [p.id] + (try records.below(db, p).map(\.id))
        }
        let temp = Array("new-\(getpid())-\(UInt32.random(in: 0...UInt32.max))".utf8)
        try directory.makeDirectory(temp, mode: 0o755)
        do {
            try backend.populate(
                directory.openDirectory(temp), kind: kind,
                parents: try parents.map { try directory.openDirectory(Array(String($0).utf8)) })
            FaultPoint.reach("snapshot.populated")
            let copiedAt =
                backend.copiesParent && kind == .active && !parents.isEmpty
                ? try ChangeClock.settle(in: directory).nanosecondsSince1970 : nil
            return try metadata.write { db in
                let r = try records.create(
                    db, key: key, kind: kind, parent: parent, labels: labels, copiedAt: copiedAt)
                guard try records.below(db, r).map(\.id) == parents else {
                    throw SnapshotError.unavailable("snapshot \(key): its parent changed while it was prepared")
                }
                // A directory already named by the new id is a crash's leftover: the id was handed
                // out in a transaction that never committed.
                let idName = Array(String(r.id).utf8)
                if try directory.statIfExists(idName) != nil { try directory.removeAll(idName) }
                try directory.rename(temp, to: idName, in: directory, noReplace: true)
                FaultPoint.reach("snapshot.renamed")  // the transaction is not committed yet
                return backend.mounts(base: path, id: r.id, kind: kind, parents: parents)
            }
        } catch {
            try? directory.removeAll(temp)
            throw error
        }
    }

    private func removeDirectory(_ id: Int64) throws {
        let name = Array(String(id).utf8)
        let doomed = Array("rm-\(id)".utf8)
        guard try directory.statIfExists(name) != nil else { return }
        try directory.rename(name, to: doomed, in: directory)
        FaultPoint.reach("snapshot.remove-renamed")
        try directory.removeAll(doomed)
    }

    /// The snapshot's own inodes and allocated bytes (hardlinked inodes once), as containerd's
    /// `fs.DiskUsage`, and how many overlay whiteouts (0/0 character devices) it holds.
    private func measure(_ id: Int64) throws -> (usage: SnapshotUsage, whiteouts: Int64) {
        var dir = try directory.openDirectory(Array(String(id).utf8))
        if let contents = backend.contents { dir = try dir.openDirectory(contents) }
        var seen = Set<UInt64>()
        var usage = SnapshotUsage()
        var whiteouts: Int64 = 0
        var pending = [dir]
        while let d = pending.popLast() {
            for name in try d.sortedNames() {
                let m = try d.stat(name)
                if m.linkCount > 1 && m.type != .directory && !seen.insert(m.inode).inserted { continue }
                usage.inodes += 1
                usage.size += Int64(m.allocatedBytes)
                if m.type == .directory { pending.append(try d.openDirectory(name)) }
                if OverlayUpper.isWhiteout(m) { whiteouts += 1 }
            }
        }
        return (usage, whiteouts)
    }
}
