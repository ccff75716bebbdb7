import Foundation
import GRDB

/// A lease: containerd's way of keeping what an operation creates (ingests, blobs, snapshots)
/// from the garbage collector until the operation has linked it to a root, or been abandoned.
public struct Lease: Codable, Equatable, Sendable {
    public var id: String
    public var createdAt: Date
    /// After this time the lease no longer holds anything; nil: until it is removed.
    public var expiresAt: Date?
    public var labels: [String: String]
}

/// What a lease can hold.
public enum LeaseResourceKind: String, Codable, Sendable, CaseIterable {
    case content, ingest, snapshot
}

public struct LeaseResource: Codable, Equatable, Sendable {
    public var kind: LeaseResourceKind
    public var id: String

    public init(kind: LeaseResourceKind, id: String) {
        self.kind = kind
        self.id = id
    }
}

public enum LeaseError: Error, CustomStringConvertible, Equatable {
    case notFound(String)
    case alreadyExists(String)

    public var description: String {
        switch self {
        case .notFound(let id): return "lease \(id): not found"
        case .alreadyExists(let id): return "lease \(id): already exists"
        }
    }
}

/// Lease records in the metadata database.
public struct Leases: Sendable {
    let db: MetadataDB

    public init(_ db: MetadataDB) { self.db = db }

    /// Creates a lease (with a random ID unless one is given).
    public func create(id: String? = nil, labels: [String: String] = [:], expiresIn: TimeInterval? = nil) throws
        -> Lease
    {
        let id = id ?? Self.randomID()
        let now = Timestamp.now()
        // Saturated: an expiry past 2262 (or NaN, or negative) must not trap the conversion.
        let expires = expiresIn.map { seconds -> Int64 in
            let ns = (seconds * 1e9).rounded()
            guard ns.isFinite, ns > 0 else { return now }
            return ns >= Double(Int64.max - now) ? Int64.max : now + Int64(ns)
        }
        try db.write { db in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM lease WHERE id = ?", arguments: [id]) == nil else {
                throw LeaseError.alreadyExists(id)
            }
            try db.execute(
                sql: "INSERT INTO lease (id, created, expires) VALUES (?, ?, ?)", arguments: [id, now, expires])
            for (k, v) in labels {
                try db.execute(
                    sql: "INSERT INTO leaseLabel (lease, key, value) VALUES (?, ?, ?)", arguments: [id, k, v])
            }
        }
        return Lease(id: id, createdAt: Timestamp.date(now), expiresAt: expires.map(Timestamp.date), labels: labels)
    }

    public func list() throws -> [Lease] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT id, created, expires FROM lease ORDER BY id").map { row in
                let id: String = row["id"]
                let labels = try Row.fetchAll(
                    db, sql: "SELECT key, value FROM leaseLabel WHERE lease = ?", arguments: [id])
                return Lease(
                    id: id, createdAt: Timestamp.date(row["created"]),
                    expiresAt: (row["expires"] as Int64?).map(Timestamp.date),
                    labels: Dictionary(uniqueKeysWithValues: labels.map { ($0["key"], $0["value"]) }))
            }
        }
    }

    /// Removes the lease; what it held becomes collectable unless something else holds it.
    public func remove(_ id: String) throws {
        try db.write { db in
            try db.execute(sql: "DELETE FROM lease WHERE id = ?", arguments: [id])
            if db.changesCount == 0 { throw LeaseError.notFound(id) }
        }
    }

    public func add(_ lease: String, kind: LeaseResourceKind, id: String) throws {
        try db.write { db in try Self.add(db, lease, kind: kind, id: id) }
    }

    public func resources(_ lease: String) throws -> [LeaseResource] {
        try db.read { db in
            try Row.fetchAll(
                db, sql: "SELECT kind, id FROM leaseResource WHERE lease = ? ORDER BY kind, id", arguments: [lease]
            ).compactMap { row in
                LeaseResourceKind(rawValue: row["kind"]).map { LeaseResource(kind: $0, id: row["id"]) }
            }
        }
    }

    /// Records that `lease` holds a resource, inside the caller's transaction.
    public static func add(_ db: Database, _ lease: String, kind: LeaseResourceKind, id: String) throws {
        guard try Row.fetchOne(db, sql: "SELECT 1 FROM lease WHERE id = ?", arguments: [lease]) != nil else {
            throw LeaseError.notFound(lease)
        }
        try db.execute(
            sql: "INSERT OR IGNORE INTO leaseResource (lease, kind, id) VALUES (?, ?, ?)",
            arguments: [lease, kind.rawValue, id])
    }

    public static func remove(_ db: Database, _ lease: String, kind: LeaseResourceKind, id: String) throws {
        try db.execute(
            sql: "DELETE FROM leaseResource WHERE lease = ? AND kind = ? AND id = ?",
            arguments: [lease, kind.rawValue, id])
    }

    static func randomID() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<10).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }
}
