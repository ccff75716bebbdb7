import Foundation
import GRDB
import StrataDatabase

/// The stored refs: one row each in the `ref` table, the ref itself as JSON.
public struct RefRecords: Sendable {
    let metadata: MetadataDB

    public init(_ metadata: MetadataDB) { self.metadata = metadata }

    public func list() throws -> [Ref] {
        try metadata.read { db in try String.fetchAll(db, sql: "SELECT body FROM ref ORDER BY name").map(Self.decode) }
    }

    public func get(_ name: String) throws -> Ref {
        guard
            let body = try metadata.read({ db in
                try String.fetchOne(db, sql: "SELECT body FROM ref WHERE name = ?", arguments: [name])
            })
        else { throw RefError.notFound(name) }
        return try Self.decode(body)
    }

    /// Stores `ref`; a new name only unless `replace`.
    public func put(_ ref: Ref, replace: Bool = false) throws {
        let body = String(decoding: try JSONEncoder().encode(ref), as: UTF8.self)
        try metadata.write { db in
            if !replace, try Bool.fetchOne(db, sql: "SELECT 1 FROM ref WHERE name = ?", arguments: [ref.name]) != nil {
                throw RefError.alreadyExists(ref.name)
            }
            try db.execute(
                sql: "INSERT OR REPLACE INTO ref (name, snapshotter, created, body) VALUES (?, ?, ?, ?)",
                arguments: [ref.name, ref.snapshotter, Timestamp.now(), body])
        }
    }

    public func remove(_ name: String) throws {
        try metadata.write { db in
            try db.execute(sql: "DELETE FROM ref WHERE name = ?", arguments: [name])
            if db.changesCount == 0 { throw RefError.notFound(name) }
        }
    }

    private static func decode(_ body: String) throws -> Ref {
        try JSONDecoder().decode(Ref.self, from: Data(body.utf8))
    }
}
