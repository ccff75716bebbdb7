import Foundation
import GRDB
import StrataDatabase
import StrataFS
import StrataStreams

#if canImport(Glibc)
    import Glibc
#endif

/// containerd's local content store, laid out as an OCI image layout so that other tools (skopeo,
/// umoci) read it directly: `oci-layout`, `index.json` and `blobs/sha256/<hex>` under `layout`;
/// ingests beside it, outside the layout. Blob records and labels live in the metadata database.
///
/// Guarantees: a blob file exists only with all its bytes, matching its name (it is written as an
/// ingest, checked, and renamed into place read-only); a blob's record and labels change in one
/// transaction; several processes may share the store.
public final class ContentStore: Sendable {
    public let layout: Handle
    let blobs: Handle
    let ingestDirectory: Handle
    let metadata: MetadataDB
    /// The state root's lock, held (shared) for as long as the store is in use.
    let rootLock: Handle?

    /// Opens the store in `layout` (the OCI image layout) and `ingests` (its writers' directory),
    /// creating what is missing; `rootLock` is kept open as long as the store.
    public init(layout: Handle, ingests: Handle, metadata: MetadataDB, rootLock: Handle? = nil) throws {
        self.layout = layout
        self.rootLock = rootLock
        ingestDirectory = ingests
        self.metadata = metadata
        try ImageLayout.initialize(layout)
        blobs = try layout.openDirectory(Array("blobs".utf8)).openDirectory(Array("sha256".utf8))
    }

    // MARK: Reading

    /// The blob's record; `notFound` when its file is absent.
    public func info(_ digest: Digest) throws -> ContentInfo {
        guard let meta = try blobs.statIfExists(Self.name(digest)) else { throw ContentError.notFound(digest) }
        return try metadata.read { db in try Self.info(db, digest, fileSize: Int64(meta.size), fileTime: meta) }
    }

    /// Every blob, sorted by digest.
    public func list() throws -> [ContentInfo] {
        let names = try blobs.sortedNames()
        return try metadata.read { db in
            try names.compactMap { name -> ContentInfo? in
                guard let d = Digest(parsing: "sha256:" + String(decoding: name, as: UTF8.self)),
                    let meta = try blobs.statIfExists(name), meta.type == .regular
                else { return nil }
                return try Self.info(db, d, fileSize: Int64(meta.size), fileTime: meta)
            }
        }
    }

    /// Opens the blob for reading.
    public func open(_ digest: Digest) throws -> Handle {
        guard try blobs.statIfExists(Self.name(digest)) != nil else { throw ContentError.notFound(digest) }
        return try blobs.open(Self.name(digest), flags: O_RDONLY | O_NOFOLLOW)
    }

    /// Sets (a value) or removes (nil) labels on a stored blob, in one transaction.
    @discardableResult
    /// With `replacing`, every label not in `changes` is removed too, in the same transaction.
    public func label(_ digest: Digest, _ changes: [String: String?], replacing: Bool = false) throws -> ContentInfo {
        try Labels.validate(changes)
        guard let meta = try blobs.statIfExists(Self.name(digest)) else { throw ContentError.notFound(digest) }
        return try metadata.write { db in
            if replacing {
                try db.execute(sql: "DELETE FROM blobLabel WHERE digest = ?", arguments: [digest.description])
            }
            try Self.record(db, digest, size: Int64(meta.size), labels: changes)
            return try Self.info(db, digest, fileSize: Int64(meta.size), fileTime: meta)
        }
    }

    /// Puts a stored blob in `lease`, which then keeps it from garbage collection.
    public func hold(_ digest: Digest, lease: String) throws {
        try Leases(metadata).add(lease, kind: .content, id: digest.description)
    }

    /// Removes the blob and its record.
    public func delete(_ digest: Digest) throws {
        let name = Self.name(digest)
        guard try blobs.statIfExists(name) != nil else { throw ContentError.notFound(digest) }
        let blobs = blobs
        try metadata.write { db in
            try db.execute(sql: "DELETE FROM blob WHERE digest = ?", arguments: [digest.description])
            try blobs.unlink(name)
        }
    }

    /// Removes the temporary files an interrupted rewrite of the layout's files left (names
    /// starting with `.`, as `Handle.writeAtomically` makes them); returns how many.
    public func removeTemporaryFiles() throws -> Int {
        var n = 0
        for dir in [layout, blobs] {
            for name in try dir.sortedNames() where name.first == UInt8(ascii: ".") {
                try dir.removeAll(name)
                n += 1
            }
        }
        return n
    }

    // MARK: Records

    static func name(_ d: Digest) -> [UInt8] { Array(d.encoded.utf8) }

    static func info(_ db: Database, _ d: Digest, fileSize: Int64, fileTime: FileMetadata) throws -> ContentInfo {
        let key = d.description
        let row = try Row.fetchOne(db, sql: "SELECT created, updated FROM blob WHERE digest = ?", arguments: [key])
        let labels = try Row.fetchAll(db, sql: "SELECT key, value FROM blobLabel WHERE digest = ?", arguments: [key])
        let fileNs = fileTime.modificationTime.nanosecondsSince1970
        return ContentInfo(
            digest: d, size: fileSize, createdAt: Timestamp.date(row?["created"] ?? fileNs),
            updatedAt: Timestamp.date(row?["updated"] ?? fileNs),
            labels: Dictionary(uniqueKeysWithValues: labels.map { ($0["key"], $0["value"]) }))
    }

    /// Creates or touches the blob's record and applies label changes.
    static func record(_ db: Database, _ d: Digest, size: Int64, labels: [String: String?]) throws {
        let now = Timestamp.now()
        try db.execute(
            sql: """
                INSERT INTO blob (digest, size, created, updated) VALUES (?, ?, ?, ?)
                ON CONFLICT(digest) DO UPDATE SET updated = excluded.updated
                """, arguments: [d.description, size, now, now])
        for (k, v) in labels {
            if let v {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO blobLabel (digest, key, value) VALUES (?, ?, ?)",
                    arguments: [d.description, k, v])
            } else {
                try db.execute(
                    sql: "DELETE FROM blobLabel WHERE digest = ? AND key = ?", arguments: [d.description, k])
            }
        }
    }
}
