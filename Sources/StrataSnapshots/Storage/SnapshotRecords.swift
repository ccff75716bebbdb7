import GRDB
import StrataDatabase

/// One row of the `snapshot` table.
struct SnapshotRecord: Equatable {
    var id: Int64
    var key: String
    var kind: SnapshotKind
    var parent: Int64?
    var created: Int64
    var updated: Int64
    var usage: SnapshotUsage
    /// Nanoseconds; see `SnapshotLayers.copiedAt`.
    var copiedAt: Int64?
    /// Created under a lease: kept by references only, not as a root of its own.
    var leased: Bool
    /// Overlay whiteouts in the committed layer (see `LocalSnapshotter.stack`).
    var whiteouts: Int64

    init(row: Row) {
        id = row["id"]
        key = row["key"]
        kind = SnapshotKind(rawValue: row["kind"]) ?? .view
        parent = row["parent"]
        created = row["created"]
        updated = row["updated"]
        usage = SnapshotUsage(inodes: row["inodes"], size: row["size"])
        copiedAt = row["copiedAt"]
        leased = row["leased"]
        whiteouts = row["whiteouts"]
    }
}

/// containerd's snapshot metastore rules over the `snapshot` tables, for one snapshotter's keys.
/// Every function runs inside the caller's transaction.
struct SnapshotRecords {
    let snapshotter: String
    /// The lease that holds what these records create, if any.
    var lease: String?

    /// A snapshot's id in leases: `<snapshotter>/<key>`, as containerd's.
    func leaseID(_ key: String) -> String { snapshotter + "/" + key }

    func find(_ db: Database, _ key: String) throws -> SnapshotRecord? {
        try Row.fetchOne(
            db, sql: "SELECT * FROM snapshot WHERE snapshotter = ? AND key = ?", arguments: [snapshotter, key]
        ).map(SnapshotRecord.init(row:))
    }

    func get(_ db: Database, _ key: String) throws -> SnapshotRecord {
        guard let r = try find(db, key) else { throw SnapshotError.notFound(key) }
        return r
    }

    func byID(_ db: Database, _ id: Int64) throws -> SnapshotRecord {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM snapshot WHERE id = ?", arguments: [id]) else {
            throw SnapshotError.notFound("#\(id)")
        }
        return SnapshotRecord(row: row)
    }

    /// The layers a stacked snapshot stacks, top first; empty for any other snapshot.
    func lowers(_ db: Database, of id: Int64) throws -> [SnapshotRecord] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT snapshot.* FROM snapshotLower JOIN snapshot ON snapshot.id = snapshotLower.lower
                WHERE snapshotLower.snapshot = ? ORDER BY snapshotLower.position
                """, arguments: [id]
        ).map(SnapshotRecord.init(row:))
    }

    /// The layers under `record`'s own, top first: its parents' directories, and where the chain
    /// reaches a stacked snapshot, that snapshot's own (empty but for fixes) and its stack.
    func below(_ db: Database, _ record: SnapshotRecord) throws -> [SnapshotRecord] {
        var out = try lowers(db, of: record.id)
        var next = record.parent
        while let id = next {
            let p = try byID(db, id)
            out.append(p)
            let stack = try lowers(db, of: p.id)
            if !stack.isEmpty { return out + stack }
            next = p.parent
        }
        return out
    }

    func info(_ db: Database, _ r: SnapshotRecord) throws -> SnapshotInfo {
        let labels = try Row.fetchAll(
            db, sql: "SELECT key, value FROM snapshotLabel WHERE snapshot = ?", arguments: [r.id])
        return SnapshotInfo(
            kind: r.kind, name: r.key, parent: try r.parent.map { try byID(db, $0).key },
            labels: Dictionary(uniqueKeysWithValues: labels.map { ($0["key"], $0["value"]) }),
            createdAt: Timestamp.date(r.created), updatedAt: Timestamp.date(r.updated))
    }

    /// The parent a new snapshot `key` would have (nil: the empty tree), after containerd's rules:
    /// the key is free, the parent exists and is committed.
    func checkNew(_ db: Database, key: String, parent: String?) throws -> SnapshotRecord? {
        if try find(db, key) != nil { throw SnapshotError.alreadyExists(key) }
        guard let parent else { return nil }
        guard let p = try find(db, parent) else { throw SnapshotError.notFound(parent) }
        guard p.kind == .committed else { throw SnapshotError.parentNotCommitted(key: key, parent: parent) }
        return p
    }

    /// A new Active or View snapshot over `parent`, which must be committed.
    func create(
        _ db: Database, key: String, kind: SnapshotKind, parent: String?, labels: [String: String],
        copiedAt: Int64? = nil
    ) throws -> SnapshotRecord {
        let parentID = try checkNew(db, key: key, parent: parent)?.id
        let now = Timestamp.now()
        try db.execute(
            sql: """
                INSERT INTO snapshot (snapshotter, key, kind, parent, created, updated, copiedAt, leased)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [snapshotter, key, kind.rawValue, parentID, now, now, copiedAt, lease != nil])
        if let lease { try Leases.add(db, lease, kind: .snapshot, id: leaseID(key)) }
        let r = try get(db, key)
        try setLabels(db, r.id, labels, replace: true, at: now)
        return r
    }

    /// A new Committed snapshot with no parent whose tree is `lowers` (ids, top first) stacked.
    func createStacked(_ db: Database, key: String, lowers: [Int64], labels: [String: String]) throws
        -> SnapshotRecord
    {
        let r = try create(db, key: key, kind: .active, parent: nil, labels: labels)
        try db.execute(
            sql: "UPDATE snapshot SET kind = ? WHERE id = ?", arguments: [SnapshotKind.committed.rawValue, r.id])
        for (position, lower) in lowers.enumerated() {
            try db.execute(
                sql: "INSERT INTO snapshotLower (snapshot, position, lower) VALUES (?, ?, ?)",
                arguments: [r.id, position, lower])
        }
        return try get(db, key)
    }

    /// Turns the Active snapshot `key` into the Committed `name`, created now: same id (so the
    /// same directory), the commit's labels replacing the old ones, as containerd does.
    func commit(
        _ db: Database, name: String, key: String, labels: [String: String], usage: SnapshotUsage, whiteouts: Int64
    ) throws -> SnapshotRecord {
        let r = try get(db, key)
        guard r.kind == .active else { throw SnapshotError.notActive(key) }
        if try find(db, name) != nil { throw SnapshotError.alreadyExists(name) }
        let now = Timestamp.now()
        try db.execute(
            sql: """
                UPDATE snapshot SET key = ?, kind = ?, created = ?, updated = ?, inodes = ?, size = ?, leased = leased OR ?,
                whiteouts = ? WHERE id = ?
                """,
            arguments: [
                name, SnapshotKind.committed.rawValue, now, now, usage.inodes, usage.size, lease != nil,
                whiteouts, r.id,
            ])
        if let lease { try Leases.add(db, lease, kind: .snapshot, id: leaseID(name)) }
        try setLabels(db, r.id, labels, replace: true, at: now)
        return try get(db, name)
    }

    /// Deletes the record of `key`; refused while other snapshots have it as their parent or in
    /// their stack.
    func remove(_ db: Database, _ key: String) throws -> SnapshotRecord {
        let r = try get(db, key)
        if try Row.fetchOne(db, sql: "SELECT 1 FROM snapshot WHERE parent = ?", arguments: [r.id]) != nil
            || Row.fetchOne(db, sql: "SELECT 1 FROM snapshotLower WHERE lower = ?", arguments: [r.id]) != nil
        {
            throw SnapshotError.hasChildren(key)
        }
        try db.execute(sql: "DELETE FROM snapshot WHERE id = ?", arguments: [r.id])
        return r
    }

    /// Changes labels and sets the update time (`at`, so that a new record's equals its creation).
    func setLabels(
        _ db: Database, _ id: Int64, _ labels: [String: String?], replace: Bool, at time: Int64 = Timestamp.now()
    ) throws {
        if replace { try db.execute(sql: "DELETE FROM snapshotLabel WHERE snapshot = ?", arguments: [id]) }
        for (k, v) in labels {
            if let v {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO snapshotLabel (snapshot, key, value) VALUES (?, ?, ?)",
                    arguments: [id, k, v])
            } else {
                try db.execute(sql: "DELETE FROM snapshotLabel WHERE snapshot = ? AND key = ?", arguments: [id, k])
            }
        }
        try db.execute(sql: "UPDATE snapshot SET updated = ? WHERE id = ?", arguments: [time, id])
    }

    func all(_ db: Database) throws -> [SnapshotRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM snapshot WHERE snapshotter = ? ORDER BY key", arguments: [snapshotter])
            .map(SnapshotRecord.init(row:))
    }

    /// Every id this snapshotter has a record for (directories without one are leftovers).
    func ids(_ db: Database) throws -> Set<Int64> {
        Set(try Int64.fetchAll(db, sql: "SELECT id FROM snapshot WHERE snapshotter = ?", arguments: [snapshotter]))
    }
}
