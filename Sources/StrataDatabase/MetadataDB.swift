import Foundation
import GRDB

/// The state root's metadata database: blob records and labels, leases, and (with the
/// snapshotter) snapshot records, in one SQLite file so that garbage collection sees every
/// reference edge at once.
///
/// Guarantees: every change is one transaction; several processes may use one root at a time
/// (SQLite's WAL journal, and a busy timeout instead of an immediate "database is locked").
public final class MetadataDB: Sendable {
    public let pool: DatabasePool

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(60)
        configuration.foreignKeysEnabled = true
        pool = try DatabasePool(path: path, configuration: configuration)
        try Schema.migrator.migrate(pool)
    }

    public func read<T>(_ body: (Database) throws -> T) throws -> T { try pool.read(body) }

    /// Runs `body` as one immediate transaction: it sees and changes a consistent state, and
    /// its changes land whole or not at all.
    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.writeWithoutTransaction { db in
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            return result!
        }
    }
}
